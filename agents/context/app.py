"""The context agent's registry, ``connect`` and the helpers its tools share; the tools live in
:mod:`agents.context.documents` and :mod:`agents.context.syncing`, and
:mod:`agents.context.tools` declares them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar, cast

import anyio.to_thread
from mcp.server.mcpserver import Context
from pydantic import Field

from agents.core.errors import NotFoundError
from agents.core.registry import ToolRegistry
from agents.core.runtime import runtime_of
from agents.core.settings import EnvLayers
from agents.store.config import open_store
from agents.store.store import ContextStore

__all__ = [
    "INSTRUCTIONS",
    "Kind",
    "Limit",
    "connect",
    "noise",
    "registry",
    "run_on_store",
    "store_of",
]

registry = ToolRegistry("context")
T = TypeVar("T")

INSTRUCTIONS = (
        "The user's shared context store: sessions (what a piece of work is about, decisions, "
        "next tasks), preferences, MCP server and Claude file documents, and every recorded "
        "tool call of the Notion, Fizzy and Lokka agents. Use restore_session at the start of "
        "work and save_session when decisions or tasks change. Over MCP only sessions, "
        "preferences and projects are written; the rest through the CLI."
)

# Labels come back in every list_snapshots answer: a megabyte one would weigh on all of them.
MAX_LABEL = 200
Limit = Annotated[int, Field(description="Maximum number of results", ge=1, le=500)]
Kind = Annotated[
    str, Field(description="Only this kind (session, preference…); agent outputs only if named")
]


def connect(layers: EnvLayers) -> ContextStore:
    """Open the environment's store (local disk only, no network)."""
    return open_store(layers, actor="agent:context")


def noise(kind: str) -> set[str]:
    # Recorded calls outnumber everything else; recent_outputs is their tool.
    return set() if kind else {"agent_output"}


def store_of(ctx: Context) -> ContextStore:
    """The store of the context agent answering ``ctx`` (a "not configured" error otherwise)."""
    return cast(ContextStore, runtime_of(ctx).require_client())


# how to find what was not found, in this agent's tool names (the CLI names its verbs)
_HINTS = {
    "document": "list_documents or search_documents shows what exists",
    "snapshot": "list_snapshots lists them",
    "session": "save one with save_session",
}


async def run_on_store(ctx: Context, fn: Callable[[ContextStore], T]) -> T:
    """``fn(store)`` on a worker thread (SQLite calls block); "not found" errors say where to
    look."""
    store = store_of(ctx)
    try:
        return await anyio.to_thread.run_sync(fn, store)
    except NotFoundError as exc:
        raise exc.hinted(_HINTS) from None
