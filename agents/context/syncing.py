"""Context agent tools for sync: the ``agents sync`` verbs over MCP (status, pull/push/sync,
conflicts, resolve), against the environment's ``CONTEXT_REMOTE``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

import anyio.to_thread
from mcp.server.mcpserver import Context
from pydantic import Field

from agents.context.app import registry, store_of
from agents.context.models import (
    ConflictEntry,
    ConflictList,
    MachineHead,
    SyncOutcome,
    SyncStatus,
)
from agents.core.runtime import runtime_of
from agents.core.settings import EnvLayers
from agents.store import conflicts
from agents.store.store import ContextStore
from agents.sync.config import open_configured_remote
from agents.sync.engine import Syncer, SyncReport, resolve
from agents.sync.remote import Remote

__all__ = [
    "list_conflicts",
    "outcome_of",
    "resolve_conflict",
    "status_of",
    "sync_now",
    "sync_status",
    "with_remote",
]

T = TypeVar("T")


async def with_remote(store: ContextStore, layers: EnvLayers, fn: Callable[[Syncer], T]) -> T:
    """Run ``fn`` with a syncer on the environment's remote, in a worker thread."""

    def work() -> T:
        remote: Remote = open_configured_remote(layers)
        try:
            return fn(Syncer(store, remote, actor="sync"))
        finally:
            remote.close()

    return await anyio.to_thread.run_sync(work)


async def _with_remote(ctx: Context, fn: Callable[[Syncer], T]) -> T:
    return await with_remote(store_of(ctx), runtime_of(ctx).layers, fn)


def status_of(data: dict[str, Any]) -> SyncStatus:
    """A syncer's ``status()`` as the tools and the HTTP API return it."""
    return SyncStatus(
        remote=data["remote"],
        machine=data["machine"],
        documents=data["documents"],
        unpushed=data["unpushed"],
        conflicts=data["conflicts"],
        machines=[MachineHead(**m) for m in data["machines"]],
        behind=data.get("behind", []),
    )


def outcome_of(report: SyncReport) -> SyncOutcome:
    """A pull, push or sync report as the tools and the HTTP API return it."""
    p, s = report.pull, report.push
    return SyncOutcome(
        operation=report.operation,
        summary=report.summary(),
        pulled=p.changed if p else 0,
        merged=p.merged if p else 0,
        needs_review=[
            c["doc_id"] for c in (p.conflicts if p else []) if c["resolution"] == "needs_review"
        ],
        pushed=s.changed if s and s.pushed else 0,
        snapshot=s.snapshot if s else None,
        record=report.record,
    )


@registry.tool(read_only=True)
async def sync_status(ctx: Context) -> SyncStatus:
    """Show this machine against the remote: unpushed changes, machines not pulled yet, and
    conflicts waiting for review."""
    return status_of(await _with_remote(ctx, lambda s: s.status()))


@registry.tool()
async def sync_now(
    ctx: Context,
    direction: Annotated[
        Literal["sync", "pull", "push"],
        Field(description="pull (bring others' changes here), push (publish ours), or sync"),
    ] = "sync",
) -> SyncOutcome:
    """Sync the context store with its remote; conflicting edits are merged by rule or left
    for review, never dropped."""
    return outcome_of(await _with_remote(ctx, lambda s: getattr(s, direction)()))


@registry.tool(read_only=True)
async def list_conflicts(
    ctx: Context,
    include_settled: Annotated[
        bool, Field(description="Also auto-resolved and resolved conflicts")
    ] = False,
) -> ConflictList:
    """List conflicts between machines' edits, oldest first."""
    store = store_of(ctx)
    found = await anyio.to_thread.run_sync(
        lambda: conflicts.conflicts(store, None if include_settled else "needs_review")
    )
    return ConflictList(conflicts=[ConflictEntry(**c.as_dict()) for c in found])


@registry.tool()
async def resolve_conflict(
    ctx: Context,
    id: Annotated[str, Field(description="The document id in conflict")],
    take: Annotated[
        str, Field(description="local, remote, or a revision hash (at least 8 hex digits)")
    ],
) -> ConflictList:
    """Settle a document's conflicts by taking one side; push afterwards to share it."""
    store = store_of(ctx)
    await anyio.to_thread.run_sync(lambda: resolve(store, id, take, actor="agent:context"))
    found = await anyio.to_thread.run_sync(lambda: conflicts.conflicts(store, "needs_review"))
    return ConflictList(conflicts=[ConflictEntry(**c.as_dict()) for c in found])
