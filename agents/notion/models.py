"""What the Notion tools return: compact, typed results (their output schemas)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from agents.notion.pages import page_url, title_of

__all__ = [
    "BlocksAdded",
    "ConsolidationResult",
    "ConsolidationStats",
    "DatabaseCreated",
    "EntryResult",
    "ImportResult",
    "ObjectList",
    "ObjectRef",
    "PageContent",
    "PageWritten",
    "QueryResult",
    "Row",
    "SourceAction",
    "UpdateResult",
    "parent_of",
]


def parent_of(obj: dict[str, Any]) -> str:
    """``page:<id>``, ``data_source:<id>``, ``database:<id>``, ``block:<id>`` or ``workspace``."""
    parent = obj.get("parent") or {}
    kind = str(parent.get("type", ""))
    if kind in ("workspace", ""):
        return "workspace"
    return f"{kind.removesuffix('_id')}:{parent[kind]}"


class ObjectRef(BaseModel):
    """A page or data source in a listing."""

    id: str
    object: str = Field(description="page or data_source")
    title: str
    url: str
    parent: str = Field(description="page:<id>, data_source:<id>, database:<id> or workspace")
    last_edited_time: str | None = None

    @classmethod
    def of(cls, obj: dict[str, Any]) -> ObjectRef:
        """The reference of a page or data source response."""
        return cls(
            id=obj["id"],
            object=obj.get("object", "page"),
            title=title_of(obj),
            url=page_url(obj),
            parent=parent_of(obj),
            last_edited_time=obj.get("last_edited_time"),
        )


class ObjectList(BaseModel):
    """One window of results; pass ``next_cursor`` as ``cursor`` for the next."""

    results: list[ObjectRef]
    next_cursor: str | None = None
    has_more: bool = False


class PageContent(BaseModel):
    """A page with its content as markdown."""

    id: str
    title: str
    url: str
    parent: str
    in_trash: bool
    last_edited_time: str | None
    properties: dict[str, Any] = Field(description="Property name → plain value")
    markdown: str
    block_count: int = Field(description="Blocks read, nested ones included")
    truncated: bool = Field(description="max_blocks or max_depth stopped the read early")
    next_cursor: str | None = Field(
        default=None, description="Pass as cursor to read the top-level blocks that follow"
    )


class PageWritten(BaseModel):
    """A page that was created."""

    id: str
    title: str
    url: str
    blocks_written: int


class DatabaseCreated(BaseModel):
    """A database and its (first) data source."""

    id: str
    data_source_id: str
    title: str
    url: str
    columns: dict[str, str] = Field(description="Column name → type")


class BlocksAdded(BaseModel):
    """Blocks appended to a page or block."""

    page_id: str
    blocks_written: int = Field(description="Blocks written, nested ones included")
    block_ids: list[str] = Field(description="IDs of the new top-level blocks")


class EntryResult(BaseModel):
    """A database row (a page in a data source)."""

    id: str
    url: str
    created: bool = Field(description="False when dedupe_on found an existing row")


class Row(BaseModel):
    """One row of a data source."""

    id: str
    url: str
    title: str
    values: dict[str, Any]


class QueryResult(BaseModel):
    """Rows of a data source."""

    data_source_id: str
    columns: dict[str, str] = Field(description="Column name → type")
    rows: list[Row]
    next_cursor: str | None = None
    has_more: bool = False


class UpdateResult(BaseModel):
    """What update_page changed."""

    page_id: str
    url: str
    mode: str
    blocks_written: int = 0
    blocks_removed: int = 0
    in_trash: bool = False


class ImportResult(BaseModel):
    """Where a document went."""

    format: str
    target: str
    page_id: str | None = None
    url: str | None = None
    blocks_written: int = 0
    rows_created: int = 0
    warnings: list[str] = Field(default_factory=list)


class ConsolidationStats(BaseModel):
    """What the merge did."""

    blocks_in: int
    blocks_out: int
    duplicates_removed: int
    sections_merged: int
    title_groups: list[list[str]] = Field(description="Source IDs merged as one document")


class SourceAction(BaseModel):
    """What happened to one source after the target was verified."""

    id: str
    action: str
    ok: bool
    error: str | None = None


class ConsolidationResult(BaseModel):
    """The outcome (or, with dry_run, the plan) of a consolidation."""

    dry_run: bool
    consolidation_id: str
    target: ObjectRef | None
    refreshed: bool = Field(description="An existing target was refreshed, not created")
    sources: list[ObjectRef]
    stats: ConsolidationStats
    source_actions: list[SourceAction] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    markdown_preview: str | None = Field(default=None, description="First ~4,000 characters")
