"""Context agent tools for ranked recall: search (ids and snippets), then a timeline around a
result, then ``get_document`` for the one document needed in full."""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import Context
from pydantic import BaseModel, Field

from agents.context.app import Kind, noise, registry, run_on_store
from agents.store import search
from agents.store.timeref import require_time

__all__ = ["Hit", "SearchResults", "Timeline", "TimelineEntry", "search_documents", "timeline"]

Project = Annotated[str, Field(description="Only this project id")]
Machine = Annotated[str, Field(description="Only documents from this machine id")]


class Hit(BaseModel):
    """One ranked result: read it in full with get_document(id)."""

    id: str
    kind: str
    title: str
    snippet: str = Field(description="Matching words in [brackets]")
    project: str
    machine: str
    updated_at: str
    score: float = Field(description="BM25 relevance, higher is better")


class SearchResults(BaseModel):
    """Best match first."""

    hits: list[Hit]


class TimelineEntry(BaseModel):
    """A document changed near the anchor."""

    id: str
    kind: str
    title: str
    project: str
    machine: str
    updated_at: str
    anchor: bool = Field(description="This is the document the timeline is centred on")


class Timeline(BaseModel):
    """Oldest first."""

    entries: list[TimelineEntry]


def _time(value: str) -> str | None:
    return require_time(value) if value else None


@registry.tool(read_only=True)
async def search_documents(
    ctx: Context,
    query: Annotated[
        str,
        Field(
            description='Words or "a phrase"',
            min_length=1,
            max_length=1000,
        ),
    ],
    kind: Kind = "",
    project: Project = "",
    machine: Machine = "",
    since: Annotated[str, Field(description="Changed since: 2h, 7d, ISO")] = "",
    until: Annotated[str, Field(description="Changed before: 2h, 7d, ISO")] = "",
    limit: Annotated[int, Field(description="Maximum number of results", ge=1, le=50)] = 10,
) -> SearchResults:
    """Ranked search of all documents (agent calls only with kind=agent_output): ids and
    snippets; then timeline or get_document."""
    start, end = _time(since), _time(until)
    hits = await run_on_store(
        ctx,
        lambda s: search.search(
            s,
            query,
            kind=kind or None,
            project=project or None,
            machine=machine or None,
            since=start,
            until=end,
            exclude=noise(kind),
            limit=limit,
        ),
    )
    return SearchResults(hits=[Hit(**h.as_dict()) for h in hits])


@registry.tool(read_only=True)
async def timeline(
    ctx: Context,
    id: Annotated[str, Field(description="Document id to centre on")] = "",
    at: Annotated[str, Field(description="Or a time: 2h, 7d, ISO")] = "",
    before: Annotated[int, Field(description="Documents before", ge=0, le=50)] = 5,
    after: Annotated[int, Field(description="Documents after", ge=0, le=50)] = 5,
    kind: Kind = "",
    project: Project = "",
    machine: Machine = "",
) -> Timeline:
    """Documents changed just before and after one (or a time; default now), oldest first."""
    moment = _time(at)
    entries = await run_on_store(
        ctx,
        lambda s: search.timeline(
            s,
            id or None,
            at=moment,
            before=before,
            after=after,
            kind=kind or None,
            project=project or None,
            machine=machine or None,
            exclude=noise(kind),
        ),
    )
    return Timeline(entries=[TimelineEntry(**e.as_dict()) for e in entries])
