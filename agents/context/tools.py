"""The context agent's tools, in the order ``tools/list`` shows them, and its ``SPEC``."""

from __future__ import annotations

from agents import __version__
from agents.context import documents, recall, syncing
from agents.context.api import api_routes
from agents.context.app import INSTRUCTIONS, connect, registry
from agents.core.runtime import AgentSpec
from agents.core.toolsets import Toolset, check_toolsets

__all__ = ["SPEC", "TOOLSETS"]


TOOLSETS = (
    Toolset(
        "core",
        "Sessions, documents, ranked search and timeline, recent agent calls",
        ("get_document", "list_documents", "put_document", "save_session", "restore_session", "list_sessions", "search_documents", "timeline", "recent_outputs",),
        default=True,
    ),
    Toolset(
        "history",
        "Revisions, diffs, snapshots, deletes",
        ("delete_document", "document_history", "diff", "snapshot", "list_snapshots",),
    ),
    Toolset(
        "sync",
        "Sync with the remote: status, pull/push, conflicts",
        ("sync_status", "sync_now", "list_conflicts", "resolve_conflict",),
    ),
)

SPEC = AgentSpec(
    name="context",
    registry=registry.declare(documents, recall, syncing),
    connect=connect,
    http_routes=api_routes,
    version=__version__,
    instructions=INSTRUCTIONS,
    toolsets=TOOLSETS,
)
check_toolsets(SPEC.registry, SPEC.toolsets)
