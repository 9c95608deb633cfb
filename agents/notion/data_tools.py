"""Notion agent tools for databases, document import and consolidation."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from pydantic import Field

from agents.core.errors import InputError
from agents.core.recorder import annotate_call
from agents.notion import consolidate as consolidation
from agents.notion.app import registry
from agents.notion.client import Notion, client_of, notion_id
from agents.notion.databases import (
    column_types,
    encode_values,
    plain_value,
    resolve_data_source,
    schema_from_columns,
    sorts_for,
    where_filter,
)
from agents.notion.documents import Format, load_document
from agents.notion.markdown import markdown_to_blocks
from agents.notion.merge import Dedupe, Strategy
from agents.notion.models import (
    ConsolidationResult,
    DatabaseCreated,
    EntryResult,
    ImportResult,
    QueryResult,
    Row,
)
from agents.notion.pages import append_blocks, create_page, page_url, title_of
from agents.notion.richtext import rich_text

__all__ = [
    "add_database_entry",
    "consolidate_pages",
    "create_database",
    "parse_document",
    "query_database",
]

Ctx = Context[Any, Any]
DatabaseId = Annotated[
    str,
    Field(description="Database or data source ID or URL (a database must have one data source)"),
]
Values = Annotated[
    dict[str, Any],
    Field(description='Column name → plain value, e.g. {"Status": "Done", "Tags": "a, b"}'),
]


@registry.tool()
async def create_database(
    ctx: Ctx,
    title: Annotated[str, Field(min_length=1, description="Database title")],
    parent_page_id: Annotated[str, Field(description="Page to create the database in")],
    columns: Annotated[
        dict[str, str] | None,
        Field(
            description="Column name → type: title, text, number, checkbox, date, url, email, "
            'phone, people, files, "select: A, B", "multi_select: A, B". A "Name" title '
            "column is added when none is given."
        ),
    ] = None,
    description: Annotated[str, Field(description="Description (markdown inline)")] = "",
    inline: Annotated[bool, Field(description="Show the database inline in the page")] = False,
) -> DatabaseCreated:
    """Create a database (with one data source holding the columns) in a page."""
    notion = client_of(ctx)
    parent = notion_id(parent_page_id, "parent_page_id")
    schema = schema_from_columns(columns or {}, "columns")
    extra: dict[str, Any] = {"description": rich_text(description)} if description else {}
    database = await notion.call(
        f"page {parent_page_id!r}",
        notion.sdk.databases.create,
        parent={"type": "page_id", "page_id": parent},
        title=rich_text(title),
        is_inline=inline,
        initial_data_source={"properties": schema},
        **extra,
    )
    sources = database.get("data_sources") or []
    annotate_call(write=True, target=f"database:{database['id']}")
    return DatabaseCreated(
        id=database["id"],
        data_source_id=sources[0]["id"] if sources else "",
        title=title,
        url=page_url(database),
        columns={name: next(iter(spec)) for name, spec in schema.items()},
    )


async def _find_row(
    notion: Notion, source: dict[str, Any], column: str, value: Any
) -> dict[str, Any] | None:
    schema = source.get("properties") or {}
    flt = where_filter(schema, {column: value}, "exact", "dedupe_on")
    found = await notion.call(
        f"data source {source['id']!r}",
        notion.sdk.data_sources.query,
        data_source_id=source["id"],
        filter=flt,
        page_size=1,
    )
    rows = found.get("results") or []
    return rows[0] if rows else None


@registry.tool()
async def add_database_entry(
    ctx: Ctx,
    database_id: DatabaseId,
    values: Values,
    markdown: Annotated[str, Field(description="Page body of the row, as markdown")] = "",
    dedupe_on: Annotated[
        str | None,
        Field(description="A column; if a row already has the same value there, return it"),
    ] = None,
) -> EntryResult:
    """Add a row to a database; values are converted by each column's type."""
    notion = client_of(ctx)
    source = await resolve_data_source(notion, database_id, "database_id")
    schema = source.get("properties") or {}
    props = encode_values(schema, values, "values")
    if not any(p.get("type") == "title" for p in schema.values() if p) or not props:
        raise InputError("values: give at least one value (usually the title column)")
    if dedupe_on is not None:
        if dedupe_on not in values:
            raise InputError(f"dedupe_on: {dedupe_on!r} must be one of the columns in values")
        existing = await _find_row(notion, source, dedupe_on, values[dedupe_on])
        if existing is not None:
            return EntryResult(id=existing["id"], url=page_url(existing), created=False)
    page, _ = await create_page(
        notion,
        f"data source {source['id']!r}",
        parent={"type": "data_source_id", "data_source_id": source["id"]},
        properties=props,
        blocks=markdown_to_blocks(markdown),
    )
    annotate_call(write=True, target=f"page:{page['id']}")
    return EntryResult(id=page["id"], url=page_url(page), created=True)


@registry.tool(read_only=True)
async def query_database(
    ctx: Ctx,
    database_id: DatabaseId,
    where: Annotated[
        dict[str, Any] | None,
        Field(description='Column → value every row must match, e.g. {"Status": "Done"}'),
    ] = None,
    match: Annotated[
        Literal["exact", "contains"], Field(description="How text columns in where match")
    ] = "exact",
    filter: Annotated[
        dict[str, Any] | None, Field(description="A raw Notion filter object (advanced)")
    ] = None,
    sort_by: Annotated[
        str | None, Field(description="Column name, created_time or last_edited_time")
    ] = None,
    descending: Annotated[bool, Field(description="Sort order of sort_by")] = True,
    limit: Annotated[int, Field(ge=1, le=500, description="Rows to return")] = 50,
    cursor: Annotated[str | None, Field(description="next_cursor of a previous call")] = None,
) -> QueryResult:
    """Query a database's rows with simple matches (where), a raw filter, and a sort."""
    notion = client_of(ctx)
    source = await resolve_data_source(notion, database_id, "database_id")
    schema = source.get("properties") or {}
    conditions = [c for c in (where_filter(schema, where or {}, match, "where"), filter) if c]
    args: dict[str, Any] = {}
    if conditions:
        args["filter"] = conditions[0] if len(conditions) == 1 else {"and": conditions}
    if sort_by:
        args["sorts"] = sorts_for(schema, sort_by, descending)
    found = await notion.collect(
        f"data source {source['id']!r}",
        notion.sdk.data_sources.query,
        data_source_id=source["id"],
        limit=limit,
        cursor=cursor,
        **args,
    )
    rows = [
        Row(
            id=r["id"],
            url=page_url(r),
            title=title_of(r),
            values={n: plain_value(p) for n, p in (r.get("properties") or {}).items()},
        )
        for r in found.results[:limit]
    ]
    return QueryResult(
        data_source_id=source["id"],
        columns=column_types(source),
        rows=rows,
        next_cursor=found.next_cursor,
        has_more=found.has_more,
    )


@registry.tool(reads_files=True)
async def parse_document(
    ctx: Ctx,
    path: Annotated[
        str, Field(description="Absolute path of a .md, .txt, .csv, .pdf or .xlsx file")
    ],
    target: Annotated[
        Literal["page", "blocks", "rows"],
        Field(description="page: a new page; blocks: append to page_id; rows: database rows"),
    ] = "page",
    parent_page_id: Annotated[str | None, Field(description="For page: the parent page")] = None,
    page_id: Annotated[str | None, Field(description="For blocks: the page to append to")] = None,
    database_id: Annotated[
        str | None, Field(description="For rows (CSV/Excel): the database or data source")
    ] = None,
    title: Annotated[str | None, Field(description="For page: title (default: file name)")] = None,
    format: Annotated[
        Format | None, Field(description="Override the format from the suffix")
    ] = None,
    sheet: Annotated[str | None, Field(description="Excel sheet (default: the first)")] = None,
    max_rows: Annotated[int, Field(ge=1, le=5000, description="rows: refuse larger tables")] = 500,
) -> ImportResult:
    """Import a local Markdown, text, CSV, PDF or Excel file into Notion.

    As a new page, as blocks appended to a page, or (CSV and Excel) as database rows whose
    header names the columns. Tables become Notion tables in pages. Rows are all checked
    before the first is written.
    """
    notion = client_of(ctx)
    doc = load_document(path, fmt=format, sheet=sheet, policy=notion.imports)
    result = ImportResult(format=doc.format, target=target, warnings=doc.warnings)
    if target == "page":
        if parent_page_id is None:
            raise InputError("parent_page_id: required when target is 'page'")
        page_title = title or doc.title
        page, result.blocks_written = await create_page(
            notion,
            f"new page {page_title!r}",
            parent={"type": "page_id", "page_id": notion_id(parent_page_id, "parent_page_id")},
            properties={"title": {"title": rich_text(page_title)}},
            blocks=doc.blocks,
        )
        result.page_id, result.url = page["id"], page_url(page)
    elif target == "blocks":
        if page_id is None:
            raise InputError("page_id: required when target is 'blocks'")
        ident = notion_id(page_id, "page_id")
        result.blocks_written, _ = await append_blocks(
            notion, ident, doc.blocks, f"page {page_id!r}"
        )
        result.page_id = ident
    else:
        await _import_rows(notion, doc.header, doc.rows, database_id, max_rows, result)
    annotate_call(write=True, target=f"{target}:{result.page_id or database_id}")
    return result


async def _import_rows(
    notion: Notion,
    header: list[str],
    rows: list[list[Any]],
    database_id: str | None,
    max_rows: int,
    result: ImportResult,
) -> None:
    if database_id is None:
        raise InputError("database_id: required when target is 'rows'")
    if not header:
        raise InputError("target: 'rows' needs a CSV or Excel file with a header row")
    if len(rows) > max_rows:
        raise InputError(f"max_rows: the file has {len(rows)} rows; raise max_rows to import them")
    source = await resolve_data_source(notion, database_id, "database_id")
    schema = source.get("properties") or {}
    encoded = [
        encode_values(schema, dict(zip(header, row, strict=False)), f"row {n}")
        for n, row in enumerate(rows, start=2)
    ]
    parent = {"type": "data_source_id", "data_source_id": source["id"]}
    for props in encoded:
        await notion.call(
            f"data source {source['id']!r}",
            notion.sdk.pages.create,
            parent=parent,
            properties=props,
        )
        result.rows_created += 1
    result.page_id, result.url = source["id"], page_url(source)


@registry.tool(destructive=True)
async def consolidate_pages(
    ctx: Ctx,
    target_title: Annotated[str, Field(min_length=1, description="Title of the consolidated page")],
    page_ids: Annotated[list[str] | None, Field(description="Source pages (IDs or URLs)")] = None,
    search_query: Annotated[str | None, Field(description="Or: pages whose title matches")] = None,
    database_id: Annotated[str | None, Field(description="Or: rows of this database")] = None,
    where: Annotated[
        dict[str, Any] | None, Field(description="With database_id: rows matching these values")
    ] = None,
    target_parent_page_id: Annotated[
        str | None, Field(description="Create (or refresh) the target under this page")
    ] = None,
    target_page_id: Annotated[str | None, Field(description="Or: refresh this page")] = None,
    strategy: Annotated[
        Strategy,
        Field(description="by_heading merges same-named sections; concatenate keeps pages apart"),
    ] = "by_heading",
    dedupe: Annotated[
        Dedupe, Field(description="How duplicate blocks are recognised")
    ] = "normalized",
    merge_same_titles: Annotated[
        bool, Field(description="Treat same-titled pages as versions")
    ] = True,
    source_action: Annotated[
        Literal["none", "link_back", "trash"],
        Field(description="After the target is verified: link sources to it, or trash them"),
    ] = "link_back",
    preamble_markdown: Annotated[
        str | None, Field(description="Markdown put before the merge")
    ] = None,
    max_sources: Annotated[int, Field(ge=1, le=100, description="At most this many pages")] = 20,
    max_blocks_per_source: Annotated[
        int, Field(ge=1, le=5000, description="At most this many blocks read per page")
    ] = 1000,
    dry_run: Annotated[bool, Field(description="Only plan and preview (the default)")] = True,
) -> ConsolidationResult:
    """Merge pages into one: same titles and same-heading sections combined, duplicates dropped.

    A dry run (the default) returns the plan and a markdown preview. A real run creates the
    target, or refreshes the one an earlier run made, verifies it, and only then links back to
    or trashes the sources (trash is reversible). No text is generated: the result is extractive.
    """
    notion = client_of(ctx)
    req = consolidation.Request(
        page_ids=page_ids or [],
        search_query=search_query,
        database_id=database_id,
        where=where or {},
        target_title=target_title,
        target_parent_page_id=target_parent_page_id,
        target_page_id=target_page_id,
        strategy=strategy,
        dedupe=dedupe,
        merge_same_titles=merge_same_titles,
        source_action=source_action,
        preamble_markdown=preamble_markdown,
        max_sources=max_sources,
        max_blocks_per_source=max_blocks_per_source,
        dry_run=dry_run,
    )
    result = await consolidation.consolidate(notion, req)
    if result.target is not None:
        annotate_call(write=True, target=f"page:{result.target.id}")
    return result
