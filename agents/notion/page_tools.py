"""Notion agent tools for pages: search, list, read, create, update and append, markdown in and
out."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from pydantic import Field

from agents.core.errors import InputError
from agents.core.recorder import annotate_call
from agents.notion.app import registry
from agents.notion.client import Notion, client_of, notion_id
from agents.notion.databases import (
    encode_values,
    plain_value,
    resolve_data_source,
)
from agents.notion.markdown import blocks_to_markdown, markdown_to_blocks
from agents.notion.models import (
    BlocksAdded,
    ObjectList,
    ObjectRef,
    PageContent,
    PageWritten,
    UpdateResult,
    parent_of,
)
from agents.notion.pages import (
    Budget,
    append_blocks,
    delete_blocks,
    page_url,
    read_children,
    title_of,
)
from agents.notion.pages import (
    create_page as write_page,
)
from agents.notion.richtext import rich_text

_SUBPAGES = ("child_page", "child_database")
Ctx = Context[Any, Any]

PageId = Annotated[str, Field(description="Page ID or Notion URL")]
Markdown = Annotated[str, Field(description="Content as markdown")]
Cursor = Annotated[str | None, Field(description="next_cursor of a previous call")]


def _wrote(kind: str, ident: str) -> None:
    annotate_call(write=True, target=f"{kind}:{ident}")


@registry.tool(read_only=True)
async def search_workspace(
    ctx: Ctx,
    query: Annotated[str, Field(description="Words in the title; empty lists everything")] = "",
    object_type: Annotated[
        Literal["any", "page", "data_source"], Field(description="Only pages or data sources")
    ] = "any",
    sort: Annotated[
        Literal["last_edited_desc", "last_edited_asc"], Field(description="By last edit time")
    ] = "last_edited_desc",
    limit: Annotated[int, Field(ge=1, le=100, description="Results to return")] = 20,
    cursor: Cursor = None,
) -> ObjectList:
    """Search page and database titles shared with the integration (titles only, not content).

    Databases appear as their data sources. Pages not shared with the integration are invisible.
    """
    notion = client_of(ctx)
    direction = "descending" if sort == "last_edited_desc" else "ascending"
    args: dict[str, Any] = {"sort": {"timestamp": "last_edited_time", "direction": direction}}
    if query:
        args["query"] = query
    if object_type != "any":
        args["filter"] = {"property": "object", "value": object_type}
    found = await notion.collect(
        f"search {query!r}", notion.sdk.search, limit=limit, cursor=cursor, **args
    )
    refs = [ObjectRef.of(r) for r in found.results[:limit] if not r.get("in_trash")]
    return ObjectList(results=refs, next_cursor=found.next_cursor, has_more=found.has_more)


@registry.tool(read_only=True)
async def list_pages(
    ctx: Ctx,
    parent_page_id: Annotated[
        str | None, Field(description="List this page's sub-pages; omit for recent pages")
    ] = None,
    limit: Annotated[int, Field(ge=1, le=100, description="Pages to return")] = 50,
    cursor: Cursor = None,
) -> ObjectList:
    """List a page's sub-pages, or the most recently edited pages shared with the integration."""
    notion = client_of(ctx)
    if parent_page_id is None:
        found = await notion.collect(
            "page list",
            notion.sdk.search,
            limit=limit,
            cursor=cursor,
            filter={"property": "object", "value": "page"},
            sort={"timestamp": "last_edited_time", "direction": "descending"},
        )
        refs = [ObjectRef.of(p) for p in found.results[:limit]]
        return ObjectList(results=refs, next_cursor=found.next_cursor, has_more=found.has_more)
    parent = notion_id(parent_page_id, "parent_page_id")
    refs, more, next_cursor = [], True, cursor
    while more and len(refs) < limit:
        window = await notion.collect(
            f"page {parent_page_id!r}",
            notion.sdk.blocks.children.list,
            block_id=parent,
            limit=100,
            cursor=next_cursor,
        )
        for block in window.results:
            if block.get("type") in ("child_page", "child_database"):
                refs.append(
                    ObjectRef(
                        id=block["id"],
                        object=block["type"].removeprefix("child_"),
                        title=title_of(block),
                        url=page_url(block),
                        parent=f"page:{parent}",
                        last_edited_time=block.get("last_edited_time"),
                    )
                )
        more, next_cursor = window.has_more, window.next_cursor
    return ObjectList(results=refs, next_cursor=next_cursor if more else None, has_more=more)


@registry.tool(read_only=True)
async def get_page(
    ctx: Ctx,
    page_id: PageId,
    max_depth: Annotated[int, Field(ge=1, le=10, description="Levels of nesting to read")] = 3,
    max_blocks: Annotated[int, Field(ge=1, le=5000, description="Blocks to read at most")] = 1000,
    include_properties: Annotated[bool, Field(description="Also return the properties")] = True,
    cursor: Annotated[str | None, Field(description="next_cursor of a truncated read")] = None,
) -> PageContent:
    """Read a page: its properties and its content as markdown (nested blocks included).

    Child pages and databases appear as links and are not descended into. When the page is
    longer than max_blocks, call again with the returned next_cursor.
    """
    notion = client_of(ctx)
    ident = notion_id(page_id, "page_id")
    what = f"page {page_id!r}"
    page = await notion.call(what, notion.sdk.pages.retrieve, page_id=ident)
    budget = Budget(remaining=max_blocks)
    blocks, next_cursor = await read_children(
        notion, ident, what, max_depth=max_depth, budget=budget, cursor=cursor
    )
    props = (page.get("properties") or {}) if include_properties else {}
    return PageContent(
        id=page["id"],
        title=title_of(page),
        url=page_url(page),
        parent=parent_of(page),
        in_trash=bool(page.get("in_trash")),
        last_edited_time=page.get("last_edited_time"),
        properties={name: plain_value(p) for name, p in props.items()},
        markdown=blocks_to_markdown(blocks),
        block_count=budget.count,
        truncated=budget.truncated,
        next_cursor=next_cursor,
    )


@registry.tool()
async def create_page(
    ctx: Ctx,
    title: Annotated[str, Field(min_length=1, description="Page title")],
    parent_page_id: Annotated[str | None, Field(description="Create under this page")] = None,
    database_id: Annotated[
        str | None, Field(description="Or: create as a row of this database or data source")
    ] = None,
    markdown: Markdown = "",
    icon: Annotated[str | None, Field(description="An emoji")] = None,
    properties: Annotated[
        dict[str, Any] | None, Field(description="Row values by column name (database rows only)")
    ] = None,
) -> PageWritten:
    """Create a page from markdown under a page, or as a database row."""
    notion = client_of(ctx)
    parent, props = await _parent_and_properties(
        notion, title, parent_page_id, database_id, properties
    )
    page, written = await write_page(
        notion,
        f"new page {title!r}",
        parent=parent,
        properties=props,
        blocks=markdown_to_blocks(markdown),
        icon=icon,
    )
    _wrote("page", page["id"])
    return PageWritten(id=page["id"], title=title, url=page_url(page), blocks_written=written)


async def _parent_and_properties(
    notion: Notion,
    title: str,
    parent_page_id: str | None,
    database_id: str | None,
    values: dict[str, Any] | None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    if (parent_page_id is None) == (database_id is None):
        raise InputError("parent_page_id, database_id: pass exactly one of them")
    if parent_page_id is not None:
        if values:
            raise InputError("properties: only database rows have properties; use database_id")
        parent = {"type": "page_id", "page_id": notion_id(parent_page_id, "parent_page_id")}
        return parent, {"title": {"title": rich_text(title)}}
    assert database_id is not None
    source = await resolve_data_source(notion, database_id, "database_id")
    schema = source.get("properties") or {}
    title_column = next((n for n, p in schema.items() if p.get("type") == "title"), "title")
    props = encode_values(schema, values or {}, "properties")
    props[title_column] = {"title": rich_text(title)}
    return {"type": "data_source_id", "data_source_id": source["id"]}, props


@registry.tool(destructive=True)
async def update_page(
    ctx: Ctx,
    page_id: PageId,
    mode: Annotated[
        Literal["append", "prepend", "replace", "set_properties", "trash", "restore"],
        Field(description="append/prepend/replace content, set_properties, trash or restore"),
    ],
    markdown: Annotated[str | None, Field(description="Content for append/prepend/replace")] = None,
    title: Annotated[str | None, Field(description="New title (any mode)")] = None,
    properties: Annotated[
        dict[str, Any] | None, Field(description="Row values (set_properties)")
    ] = None,
    max_delete: Annotated[
        int, Field(ge=0, description="replace refuses to remove more top-level blocks than this")
    ] = 100,
) -> UpdateResult:
    """Change a page: add or replace its content, set its title or row values, trash or restore it.

    replace writes the new content first and then removes the old blocks (sub-pages are kept).
    Trash is reversible with restore; the API cannot delete a page permanently.
    """
    notion = client_of(ctx)
    ident = notion_id(page_id, "page_id")
    what = f"page {page_id!r}"
    if mode in ("append", "prepend", "replace") and markdown is None:
        raise InputError(f"markdown: required when mode is {mode!r}")
    page = await notion.call(what, notion.sdk.pages.retrieve, page_id=ident)
    result = UpdateResult(
        page_id=ident, url=page_url(page), mode=mode, in_trash=bool(page.get("in_trash"))
    )
    update: dict[str, Any] = {}
    if title is not None or properties:
        update["properties"] = await _page_properties(notion, page, title, properties)
    if mode in ("trash", "restore"):
        update["in_trash"] = mode == "trash"
    if mode == "set_properties" and not update:
        raise InputError("title or properties: set_properties needs at least one of them")
    old: list[str] = []
    if mode == "replace":
        listing = await notion.collect(what, notion.sdk.blocks.children.list, block_id=ident)
        old = [b["id"] for b in listing.results if b["type"] not in _SUBPAGES]
        if len(old) > max_delete:
            raise InputError(
                f"max_delete: replace would remove {len(old)} blocks; pass max_delete={len(old)} "
                "to confirm, or append instead"
            )
    if mode in ("append", "prepend", "replace"):
        position = {"type": "start"} if mode == "prepend" else None
        result.blocks_written, _ = await append_blocks(
            notion, ident, markdown_to_blocks(markdown or ""), what, position=position
        )
        result.blocks_removed = await delete_blocks(notion, old, what)
    if update:
        page = await notion.call(what, notion.sdk.pages.update, page_id=ident, **update)
        result.in_trash = bool(page.get("in_trash"))
    _wrote("page", ident)
    return result


async def _page_properties(
    notion: Notion, page: dict[str, Any], title: str | None, values: dict[str, Any] | None
) -> dict[str, Any]:
    parent = page.get("parent") or {}
    props: dict[str, Any] = {}
    if values:
        if parent.get("type") != "data_source_id":
            raise InputError("properties: this page is not a database row; only title can be set")
        source = await resolve_data_source(notion, parent["data_source_id"], "page_id")
        props = encode_values(source.get("properties") or {}, values, "properties")
    if title is not None:
        names = [n for n, p in page.get("properties", {}).items() if p.get("type") == "title"]
        props[names[0] if names else "title"] = {"title": rich_text(title)}
    return props


@registry.tool()
async def add_block(
    ctx: Ctx,
    page_id: Annotated[str, Field(description="Page or block ID or URL to add content to")],
    markdown: Annotated[str, Field(min_length=1, description="Content as markdown")],
    after_block_id: Annotated[
        str | None, Field(description="Insert after this child block instead of at the end")
    ] = None,
    at_start: Annotated[bool, Field(description="Insert before the first block")] = False,
) -> BlocksAdded:
    """Add markdown content (headings, lists, to-dos, code, quotes, tables…) to a page or block."""
    notion = client_of(ctx)
    ident = notion_id(page_id, "page_id")
    if after_block_id and at_start:
        raise InputError("after_block_id, at_start: pass one, not both")
    position: dict[str, Any] | None = None
    if after_block_id:
        after = notion_id(after_block_id, "after_block_id")
        position = {"type": "after_block", "after_block": {"id": after}}
    elif at_start:
        position = {"type": "start"}
    blocks = markdown_to_blocks(markdown)
    if not blocks:
        raise InputError("markdown: holds no content")
    written, ids = await append_blocks(
        notion, ident, blocks, f"page or block {page_id!r}", position=position
    )
    _wrote("block", ident)
    return BlocksAdded(page_id=ident, blocks_written=written, block_ids=ids)
