"""Context agent tools over the environment's store: documents, sessions, outputs, history,
snapshots."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

import anyio.to_thread
from mcp.server.mcpserver import Context
from pydantic import Field

from agents.context.models import (
    Diff,
    DiffEntry,
    Document,
    DocumentList,
    DocumentSummary,
    History,
    HistoryEntry,
    OutputList,
    OutputSummary,
    SessionView,
    SnapshotInfo,
    SnapshotList,
)
from agents.context.app import MAX_LABEL, Kind, Limit, noise, registry, run_on_store
from agents.store import sessions, snapshots, views
from agents.store.access import check_remote_delete, check_remote_write
from agents.store.store import ContextStore


@registry.tool(read_only=True)
async def get_document(
    ctx: Context,
    id: Annotated[str, Field(description="Document id, e.g. session:01J… or preference:theme")],
    at: Annotated[
        str, Field(description="Optional: a snapshot id/label, a revision hash or a time (2h)")
    ] = "",
) -> Document:
    """Get one document (its body, revision and lineage), now or as it was at a point."""
    envelope = await run_on_store(ctx, lambda s: s.get(id, at or None))
    return Document(**views.document(envelope))


@registry.tool(read_only=True)
async def list_documents(
    ctx: Context,
    kind: Kind = "",
    prefix: Annotated[str, Field(description="Only ids starting with this")] = "",
    limit: Limit = 50,
) -> DocumentList:
    """List documents, newest first."""
    found = await run_on_store(
        ctx,
        lambda s: s.list(kind or None, prefix=prefix or None, exclude=noise(kind), limit=limit),
    )
    return DocumentList(documents=[DocumentSummary(**views.summary(e)) for e in found])


@registry.tool(idempotent=True)
async def put_document(
    ctx: Context,
    id: Annotated[str, Field(description="Document id, <prefix>:<name>, e.g. preference:editor")],
    kind: Annotated[str, Field(description="Document kind; its JSON Schema checks the body")],
    body: Annotated[dict[str, Any], Field(description="The document body")],
    expect_revision: Annotated[
        str, Field(description="Optional: write only if the head is still this revision")
    ] = "",
) -> DocumentSummary:
    """Create or replace a document (a new revision; history keeps the old ones). Plain kinds
    only (session, preference, project): the others are written through the CLI."""
    check_remote_write(id, kind)
    envelope = await run_on_store(ctx, lambda s: s.put(id, kind, body, expect_head=expect_revision or None))
    return DocumentSummary(**views.summary(envelope))


@registry.tool(destructive=True, idempotent=True)
async def delete_document(
    ctx: Context, id: Annotated[str, Field(description="Document id")]
) -> DocumentSummary:
    """Delete a document (a tombstone revision: history and rollback keep it). Plain kinds
    only, as put_document."""

    def delete(s: ContextStore) -> Any:
        check_remote_delete(s, id)
        return s.delete(id)

    return DocumentSummary(**views.summary(await run_on_store(ctx, delete)))


@registry.tool()
async def save_session(
    ctx: Context,
    title: Annotated[str, Field(description="Session title; required for a new session")] = "",
    session_id: Annotated[str, Field(description="Update this session; empty: new")] = "",
    status: Annotated[
        Literal["", "active", "paused", "completed", "archived"], Field(description="Status")
    ] = "",
    summary: Annotated[str, Field(description="Where the work stands")] = "",
    key_decisions: Annotated[list[str] | None, Field(description="Decisions made")] = None,
    current_tasks: Annotated[list[str] | None, Field(description="What is next")] = None,
    references: Annotated[list[str] | None, Field(description="Links, files, ids")] = None,
    project: Annotated[str, Field(description="Project name")] = "",
    append: Annotated[bool, Field(description="Add to the lists instead of replacing")] = False,
) -> SessionView:
    """Save the working session: summary, key decisions, current tasks, references."""
    fields: dict[str, Any] = {
        "title": title or None,
        "status": status or None,
        "summary": summary or None,
        "key_decisions": key_decisions,
        "current_tasks": current_tasks,
        "references": references,
        "project": {"name": project} if project else None,
    }
    envelope = await run_on_store(
        ctx,
        lambda s: sessions.save_session(s, fields, ref=session_id or None, append=append),
    )
    return SessionView.of(envelope)


@registry.tool(read_only=True)
async def restore_session(
    ctx: Context,
    session_id: Annotated[str, Field(description="Session id, or 'latest'")] = "latest",
) -> SessionView:
    """Restore a session: its summary, decisions, tasks and references, to continue the work."""
    envelope = await run_on_store(ctx, lambda s: sessions.find_session(s, session_id))
    return SessionView.of(envelope)


@registry.tool(read_only=True)
async def list_sessions(
    ctx: Context,
    status: Annotated[
        Literal["", "active", "paused", "completed", "archived"], Field(description="Filter")
    ] = "",
    limit: Limit = 20,
) -> DocumentList:
    """List saved sessions, most recently updated first."""
    where = {"status": status} if status else None
    found = await run_on_store(ctx, lambda s: s.list("session", where=where, limit=limit))
    return DocumentList(documents=[DocumentSummary(**views.summary(e)) for e in found])


@registry.tool(read_only=True)
async def recent_outputs(
    ctx: Context,
    agent: Annotated[str, Field(description="Only this agent, e.g. notion")] = "",
    status: Annotated[Literal["", "ok", "error"], Field(description="Only this status")] = "",
    tool: Annotated[str, Field(description="Only this tool")] = "",
    limit: Limit = 20,
) -> OutputList:
    """List the agents' most recent tool calls (inputs redacted) with their outputs."""
    where = {k: v for k, v in (("agent", agent), ("status", status), ("handler", tool)) if v}

    def fetch(s: ContextStore) -> list[Any]:
        found = s.list("agent_output", where=where, limit=limit + (0 if agent else 50))
        if not agent:  # this agent's own reads are noise unless asked for
            found = [e for e in found if e.body["agent"] != "context"]
        return found[:limit]

    found = await run_on_store(ctx, fetch)
    return OutputList(outputs=[OutputSummary(**views.output_view(e)) for e in found])


@registry.tool(read_only=True)
async def document_history(
    ctx: Context, id: Annotated[str, Field(description="Document id")]
) -> History:
    """Show every revision of a document, oldest first."""
    revisions = await run_on_store(ctx, lambda s: s.history(id))
    return History(id=id, revisions=[HistoryEntry(**r.as_dict()) for r in revisions])


@registry.tool(read_only=True)
async def diff(
    ctx: Context,
    a: Annotated[str, Field(description="From: a snapshot id/label, 'latest' or a time (2h)")],
    b: Annotated[str, Field(description="To: like a, or 'working'")] = "working",
    kind: Kind = "",
    id: Annotated[str, Field(description="Only this document")] = "",
) -> Diff:
    """Show what changed between two points: per document, with a readable body diff."""
    kinds = {kind} if kind else None
    ids = {id} if id else None
    found = await run_on_store(ctx, lambda s: snapshots.diff(s, a, b, kinds=kinds, ids=ids))
    return Diff(a=a, b=b, documents=[DiffEntry(**d.as_dict(), text=d.text) for d in found])


@registry.tool()
async def snapshot(
    ctx: Context,
    label: Annotated[str, Field(description="Optional label", max_length=MAX_LABEL)] = "",
) -> SnapshotInfo:
    """Take a snapshot of every document's current revision (cheap; for diff and rollback)."""
    snap = await run_on_store(ctx, lambda s: snapshots.create_snapshot(s, label or None))
    return SnapshotInfo(**snap.as_dict())


@registry.tool(read_only=True)
async def list_snapshots(ctx: Context, limit: Limit = 20) -> SnapshotList:
    """List snapshots, newest first."""
    found = await run_on_store(ctx, lambda s: snapshots.log(s, limit))
    return SnapshotList(snapshots=[SnapshotInfo(**x.as_dict()) for x in found])
