"""consolidate_pages: resolve and read the sources, merge, write or refresh the target, verify
it, and only then link back to or trash the sources."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from agents.core.errors import AgentError, InputError, UpstreamError
from agents.notion.client import Notion, notion_id
from agents.notion.databases import resolve_data_source, where_filter
from agents.notion.markdown import blocks_to_markdown, markdown_to_blocks
from agents.notion.merge import (
    Dedupe,
    Source,
    Strategy,
    consolidation_id,
    is_link_back,
    link_back_block,
    marker_id,
    merge,
    provenance_block,
)
from agents.notion.models import (
    ConsolidationResult,
    ConsolidationStats,
    ObjectRef,
    SourceAction,
)
from agents.notion.pages import (
    Budget,
    append_blocks,
    create_page,
    delete_blocks,
    page_url,
    read_children,
    title_of,
    to_request,
)
from agents.notion.richtext import rich_text

__all__ = ["Request", "consolidate"]

SourceActionKind = Literal["none", "link_back", "trash"]
PREVIEW_CHARS = 4000
_KEEP = ("child_page", "child_database")


@dataclass
class Request:
    """The parameters of one consolidation (see the consolidate_pages tool)."""

    page_ids: list[str]
    search_query: str | None
    database_id: str | None
    where: dict[str, Any]
    target_title: str
    target_parent_page_id: str | None
    target_page_id: str | None
    strategy: Strategy
    dedupe: Dedupe
    merge_same_titles: bool
    source_action: SourceActionKind
    preamble_markdown: str | None
    max_sources: int
    max_blocks_per_source: int
    dry_run: bool


async def _candidates(notion: Notion, req: Request) -> list[str]:
    ids = [notion_id(p, "page_ids") for p in req.page_ids]
    if req.search_query:
        found = await notion.collect(
            f"search {req.search_query!r}",
            notion.sdk.search,
            query=req.search_query,
            filter={"property": "object", "value": "page"},
            limit=req.max_sources * 3,
        )
        ids += [p["id"] for p in found.results if not p.get("in_trash")]
    if req.database_id:
        source = await resolve_data_source(notion, req.database_id, "database_id")
        flt = where_filter(source.get("properties") or {}, req.where, "exact", "where")
        extra: dict[str, Any] = {"filter": flt} if flt else {}
        rows = await notion.collect(
            f"data source {source['id']!r}",
            notion.sdk.data_sources.query,
            data_source_id=source["id"],
            limit=req.max_sources * 3,
            **extra,
        )
        ids += [r["id"] for r in rows.results]
    if not (req.page_ids or req.search_query or req.database_id):
        raise InputError("page_ids, search_query or database_id: name the pages to consolidate")
    return list(dict.fromkeys(ids))


async def _read_source(
    notion: Notion, page_id: str, req: Request, warnings: list[str]
) -> Source | None:
    what = f"page {page_id!r}"
    page = await notion.call(what, notion.sdk.pages.retrieve, page_id=page_id)
    title = title_of(page)
    if page.get("in_trash"):
        warnings.append(f"{title!r} ({page_id}) is in the trash; skipped")
        return None
    budget = Budget(remaining=req.max_blocks_per_source)
    blocks, _ = await read_children(notion, page_id, what, max_depth=3, budget=budget)
    if budget.truncated:
        warnings.append(f"{title!r} was read only in part (max_blocks_per_source, depth 3)")
    own = [b for b in blocks if b.get("type") not in _KEEP]
    if own and marker_id(own[0]):
        warnings.append(f"{title!r} ({page_id}) is itself a consolidation; skipped")
        return None
    converted = [to_request(b) for b in blocks if not is_link_back(b)]
    if None in converted:
        warnings.append(f"{title!r}: blocks that the API cannot re-create were left out")
    return Source(
        id=page["id"],
        title=title,
        url=page_url(page),
        last_edited_time=str(page.get("last_edited_time", "")),
        blocks=[b for b in converted if b is not None],
    )


async def _top_level(notion: Notion, block_id: str, what: str) -> list[dict[str, Any]]:
    listing = await notion.collect(what, notion.sdk.blocks.children.list, block_id=block_id)
    return listing.results


async def _existing_target(notion: Notion, parent_id: str, title: str, cid: str) -> str | None:
    what = f"page {parent_id!r}"
    for block in await _top_level(notion, parent_id, what):
        if block.get("type") != "child_page" or block["child_page"].get("title") != title:
            continue
        first = [
            b for b in await _top_level(notion, block["id"], what) if b.get("type") not in _KEEP
        ]
        if first and marker_id(first[0]) == cid:
            return str(block["id"])
    return None


async def _write_target(
    notion: Notion,
    req: Request,
    target_id: str | None,
    parent_id: str | None,
    body: list[dict[str, Any]],
) -> dict[str, Any]:
    what = f"target page {req.target_title!r}"
    title_prop = {"title": {"title": rich_text(req.target_title)}}
    if target_id is None:
        assert parent_id is not None
        page, _ = await create_page(
            notion, what, parent={"page_id": parent_id}, properties=title_prop, blocks=body
        )
        return page
    page = await notion.call(what, notion.sdk.pages.retrieve, page_id=target_id)
    if page.get("in_trash") or title_of(page) != req.target_title:
        page = await notion.call(
            what, notion.sdk.pages.update, page_id=target_id, properties=title_prop, in_trash=False
        )
    old = [b["id"] for b in await _top_level(notion, target_id, what) if b["type"] not in _KEEP]
    await append_blocks(notion, target_id, body, what)
    await delete_blocks(notion, old, what)
    return page


async def _verify(
    notion: Notion, page: dict[str, Any], body: list[dict[str, Any]], cid: str
) -> None:
    found = [
        b
        for b in await _top_level(notion, page["id"], f"target page {page['id']!r}")
        if b.get("type") not in _KEEP
    ]
    if len(found) != len(body) or not found or marker_id(found[0]) != cid:
        raise UpstreamError(
            f"the target {page_url(page)} was written but holds {len(found)} top-level blocks "
            f"where {len(body)} were expected; the sources were left untouched. Run the "
            "consolidation again to refresh the target.",
            code="verification_failed",
        )


async def _act(notion: Notion, src: Source, req: Request, target: dict[str, Any]) -> SourceAction:
    what = f"source page {src.id!r}"
    try:
        if req.source_action == "trash":
            await notion.call(what, notion.sdk.pages.update, page_id=src.id, in_trash=True)
        elif req.source_action == "link_back":
            first = await notion.call(
                what, notion.sdk.blocks.children.list, block_id=src.id, page_size=1
            )
            blocks = first.get("results", [])
            if not (blocks and is_link_back(blocks[0], page_url(target))):
                link = link_back_block(req.target_title, page_url(target))
                await append_blocks(notion, src.id, [link], what, position={"type": "start"})
    except AgentError as exc:
        return SourceAction(id=src.id, action=req.source_action, ok=False, error=str(exc))
    return SourceAction(id=src.id, action=req.source_action, ok=True)


async def consolidate(notion: Notion, req: Request) -> ConsolidationResult:
    """Run (or, with ``dry_run``, plan) one consolidation."""
    if req.target_page_id and req.target_parent_page_id:
        raise InputError("target_page_id, target_parent_page_id: pass one, not both")
    if not req.dry_run and not (req.target_page_id or req.target_parent_page_id):
        raise InputError(
            "target_parent_page_id or target_page_id is required when dry_run is false"
        )
    if not req.target_title.strip():
        raise InputError("target_title: give the target page a title")
    target_id = notion_id(req.target_page_id, "target_page_id") if req.target_page_id else None
    parent_id = (
        notion_id(req.target_parent_page_id, "target_parent_page_id")
        if req.target_parent_page_id
        else None
    )
    warnings: list[str] = []
    sources: list[Source] = []
    for page_id in await _candidates(notion, req):
        if page_id == target_id:
            continue
        if len(sources) >= req.max_sources:
            warnings.append(
                f"more than max_sources={req.max_sources} pages matched; the rest were skipped"
            )
            break
        source = await _read_source(notion, page_id, req, warnings)
        if source is not None:
            sources.append(source)
    if not sources:
        raise InputError("no sources left to consolidate (trashed, digests, or none matched)")
    cid = consolidation_id([s.id for s in sources], req.target_title)
    merged = merge(
        sources, strategy=req.strategy, dedupe=req.dedupe, merge_same_titles=req.merge_same_titles
    )
    preamble = markdown_to_blocks(req.preamble_markdown) if req.preamble_markdown else []
    body = [provenance_block(cid, sources), *preamble, *merged.blocks]
    if target_id is None and parent_id is not None:
        target_id = await _existing_target(notion, parent_id, req.target_title, cid)
    result = ConsolidationResult(
        dry_run=req.dry_run,
        consolidation_id=cid,
        target=None,
        refreshed=target_id is not None,
        sources=[
            ObjectRef(
                id=s.id,
                object="page",
                title=s.title,
                url=s.url,
                parent="",
                last_edited_time=s.last_edited_time,
            )
            for s in sources
        ],
        stats=ConsolidationStats(
            blocks_in=merged.blocks_in,
            blocks_out=sum(_count(b) for b in body),
            duplicates_removed=merged.duplicates_removed,
            sections_merged=merged.sections_merged,
            title_groups=merged.title_groups,
        ),
        warnings=warnings,
    )
    if req.dry_run:
        result.markdown_preview = blocks_to_markdown(body)[:PREVIEW_CHARS]
        return result
    page = await _write_target(notion, req, target_id, parent_id, body)
    await _verify(notion, page, body, cid)
    result.target = ObjectRef.of(page)
    if req.source_action != "none":
        result.source_actions = [await _act(notion, s, req, page) for s in sources]
    return result


def _count(block: dict[str, Any]) -> int:
    kids = (block.get(block.get("type", "")) or {}).get("children") or []
    return 1 + sum(_count(c) for c in kids)
