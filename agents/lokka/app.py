"""The Lokka agent's registry, ``connect`` and shared helpers; the tools live in the area
modules and :mod:`agents.lokka.tools` declares them."""

from __future__ import annotations

import re
from typing import Any, cast

from mcp.server.mcpserver import Context

from agents.core.registry import ToolRegistry
from agents.core.runtime import runtime_of
from agents.core.settings import EnvLayers
from agents.lokka.client import Lokka
from agents.lokka.models import Page
from agents.lokka.settings import load_settings

__all__ = ["INSTRUCTIONS", "connect", "listing", "lokka", "registry"]

registry = ToolRegistry("lokka")

INSTRUCTIONS = (
    "Microsoft 365 (Graph) and Azure administration for one pinned tenant. Listings return at "
    "most `limit` items and a next_cursor. Every write is a dry run that returns the exact "
    "request unless confirm=true; show the dry run to the user and confirm only on their "
    "say-so. Protected accounts, groups and roles are refused."
)
ADVANCED = re.compile(r"\b(ne|not|endswith)\b|\$count", re.I)


def connect(layers: EnvLayers) -> Lokka:
    """Validate the settings and build the client object (no import of the SDKs, no network)."""
    return Lokka(load_settings(layers))


def lokka(ctx: Context[Any, Any]) -> Lokka:
    """The agent's client, or a "not configured" error naming what to set."""
    return cast(Lokka, runtime_of(ctx).require_client())


async def listing(
    ctx: Context[Any, Any],
    path: str,
    *,
    select: list[str] | None,
    default_select: str | None,
    limit: int,
    cursor: str | None,
    filter: str | None = None,
    search: str | None = None,
    count: bool = False,
    orderby: str | None = None,
    extra: dict[str, Any] | None = None,
    top: bool = True,
    directory: bool = True,
) -> Page:
    """List a Graph collection with $select/$filter/$search/$top/$count and a cursor.

    Directory objects need ``ConsistencyLevel: eventual`` (and ``$count=true``) for
    $search, $count and advanced filters (ne, not, endsWith, $orderby with $filter).
    """
    client = lokka(ctx)
    if search and not search.startswith('"'):
        search = f'"{search}"' if ":" in search else f'"displayName:{search}"'
    advanced = bool(filter and ADVANCED.search(filter)) or bool(filter and orderby)
    eventual = directory and (count or bool(search) or advanced)
    query: dict[str, Any] = {
        "$select": ",".join(select) if select else default_select,
        "$filter": filter,
        "$search": search,
        "$orderby": orderby,
        "$count": "true" if count or (eventual and not search) else None,
        "$top": min(limit, 999) if top else None,
        **(extra or {}),
    }
    return await client.page(path, query, limit=limit, cursor=cursor, eventual=eventual)
