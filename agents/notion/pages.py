"""Reading and writing page content within Notion's limits.

Writes go in requests of at most 100 blocks and 1,000 block elements, with at most two levels
of nesting per request; deeper or longer children are appended to their parent block once it
exists. Reads follow ``next_cursor`` and recurse into ``has_children`` within a budget.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agents.notion.client import Notion
from agents.notion.richtext import plain_text

__all__ = [
    "Budget",
    "append_blocks",
    "create_page",
    "delete_blocks",
    "page_url",
    "read_children",
    "title_of",
    "to_request",
]

Block = dict[str, Any]
MAX_CHILDREN = 100
MAX_ELEMENTS = 1000
MAX_NESTING = 2
_NO_DESCENT = ("child_page", "child_database")


def title_of(obj: dict[str, Any]) -> str:
    """The title of a page, database, data source or child_page block."""
    if isinstance(obj.get("title"), list):
        return plain_text(obj["title"])
    for prop in (obj.get("properties") or {}).values():
        if isinstance(prop, dict) and prop.get("type") == "title":
            return plain_text(prop.get("title") or [])
    kind = obj.get("type", "")
    if kind in _NO_DESCENT:
        return str(obj[kind].get("title", ""))
    return ""


def page_url(obj: dict[str, Any]) -> str:
    """The object's URL (built from its ID when the response has none)."""
    return str(obj.get("url") or f"https://www.notion.so/{str(obj.get('id', '')).replace('-', '')}")


@dataclass
class Budget:
    """How many more blocks a read may fetch, and whether it had to stop early."""

    remaining: int
    count: int = 0
    truncated: bool = False

    def take(self) -> None:
        """Account for one fetched block."""
        self.remaining -= 1
        self.count += 1


async def read_children(
    notion: Notion,
    block_id: str,
    what: str,
    *,
    max_depth: int,
    budget: Budget,
    cursor: str | None = None,
    depth: int = 1,
) -> tuple[list[Block], str | None]:
    """The children of ``block_id`` with their own children nested in ``block[type]``.

    Returns the blocks and, when the budget ran out first, the cursor to continue from.
    """
    blocks: list[Block] = []
    while True:
        if budget.remaining <= 0:
            budget.truncated = True
            return blocks, cursor
        page = await notion.call(
            what,
            notion.sdk.blocks.children.list,
            block_id=block_id,
            start_cursor=cursor,
            page_size=min(MAX_CHILDREN, max(budget.remaining, 1)),
        )
        for block in page.get("results", []):
            budget.take()
            kind = block.get("type", "")
            if block.get("has_children") and kind not in _NO_DESCENT:
                if depth < max_depth or kind == "table":
                    nested, _ = await read_children(
                        notion,
                        block["id"],
                        what,
                        max_depth=max_depth,
                        budget=budget,
                        depth=depth + 1,
                    )
                    block.setdefault(kind, {})["children"] = nested
                else:
                    budget.truncated = True
            blocks.append(block)
        cursor = page.get("next_cursor") if page.get("has_more") else None
        if not cursor:
            return blocks, None


def _children(block: Block) -> list[Block]:
    return list((block.get(block.get("type", "")) or {}).get("children") or [])


def _elements(block: Block) -> int:
    return 1 + sum(_elements(c) for c in _children(block))


def _fits(block: Block, level: int = 0) -> bool:
    kids = _children(block)
    if not kids:
        return True
    return (
        level < MAX_NESTING and len(kids) <= MAX_CHILDREN and all(_fits(c, level + 1) for c in kids)
    )


def _with_children(block: Block, children: list[Block]) -> Block:
    kind = block["type"]
    payload = {k: v for k, v in block[kind].items() if k != "children"}
    if children:
        payload["children"] = children
    return {"type": kind, kind: payload}


def _shape(block: Block) -> tuple[Block, list[Block]]:
    """The block as one request may carry it, and the children to append once it exists."""
    kids = _children(block)
    if _fits(block):
        return block, []
    if all(not _children(c) for c in kids):
        return _with_children(block, kids[:MAX_CHILDREN]), kids[MAX_CHILDREN:]
    return _with_children(block, []), kids


def _chunks(shaped: list[tuple[Block, list[Block]]]) -> list[list[tuple[Block, list[Block]]]]:
    chunks: list[list[tuple[Block, list[Block]]]] = []
    size = 0
    for item in shaped:
        n = _elements(item[0])
        if not chunks or len(chunks[-1]) >= MAX_CHILDREN or size + n > MAX_ELEMENTS:
            chunks.append([])
            size = 0
        chunks[-1].append(item)
        size += n
    return chunks


async def append_blocks(
    notion: Notion,
    parent_id: str,
    blocks: list[Block],
    what: str,
    *,
    position: dict[str, Any] | None = None,
) -> tuple[int, list[str]]:
    """Append ``blocks`` under ``parent_id``; return the blocks written and the new top IDs.

    ``position`` (``{"type": "start"}`` or ``after_block``) applies to the first request; each
    later request goes after the last block written, so the content stays in order.
    """
    written = 0
    ids: list[str] = []
    for chunk in _chunks([_shape(b) for b in blocks]):
        extra = {"position": position} if position else {}
        page = await notion.call(
            what,
            notion.sdk.blocks.children.append,
            block_id=parent_id,
            children=[b for b, _ in chunk],
            **extra,
        )
        created = page.get("results", [])
        for (block, rest), new in zip(chunk, created, strict=False):
            written += _elements(block)
            ids.append(new["id"])
            if rest:
                more, _ = await append_blocks(notion, new["id"], rest, what)
                written += more
        if position and position.get("type") != "end" and ids:
            position = {"type": "after_block", "after_block": {"id": ids[-1]}}
    return written, ids


async def create_page(
    notion: Notion,
    what: str,
    *,
    parent: dict[str, Any],
    properties: dict[str, Any],
    blocks: list[Block],
    icon: str | None = None,
) -> tuple[dict[str, Any], int]:
    """Create a page with ``blocks``: as many as one request allows, then appends."""
    first: list[Block] = []
    elements = 0
    for block in blocks:
        n = _elements(block)
        if len(first) >= MAX_CHILDREN or elements + n > MAX_ELEMENTS or not _fits(block):
            break
        first.append(block)
        elements += n
    extra: dict[str, Any] = {"icon": {"type": "emoji", "emoji": icon}} if icon else {}
    page = await notion.call(
        what,
        notion.sdk.pages.create,
        parent=parent,
        properties=properties,
        children=first,
        **extra,
    )
    written = elements
    if len(first) < len(blocks):
        more, _ = await append_blocks(notion, page["id"], blocks[len(first) :], what)
        written += more
    return page, written


async def delete_blocks(notion: Notion, ids: list[str], what: str) -> int:
    """Move blocks to the trash (DELETE is idempotent, so a retried delete is harmless)."""
    for block_id in ids:
        await notion.call(what, notion.sdk.blocks.delete, block_id=block_id)
    return len(ids)


_TEXT_KEEP = {
    "to_do": ("checked",),
    "code": ("language",),
    "heading_1": ("is_toggleable",),
    "heading_2": ("is_toggleable",),
    "heading_3": ("is_toggleable",),
}
_TEXT_BLOCKS = frozenset(
    "paragraph heading_1 heading_2 heading_3 bulleted_list_item numbered_list_item to_do quote "
    "toggle callout code".split()
)


def _request_rich_text(items: list[Block]) -> list[Block]:
    out: list[Block] = []
    for item in items:
        kind = item.get("type", "text")
        ann = {k: v for k, v in (item.get("annotations") or {}).items() if v and v != "default"}
        if kind == "equation":
            new: Block = {"type": "equation", "equation": dict(item.get("equation", {}))}
        else:
            text = item.get("text", {}).get("content") if kind == "text" else None
            content = str(text if text is not None else item.get("plain_text", ""))
            href = item.get("href") or ((item.get("text") or {}).get("link") or {}).get("url")
            new = {"type": "text", "text": {"content": content}}
            if href:
                new["text"]["link"] = {"url": href}
        if ann:
            new["annotations"] = ann
        out.append(new)
    return out


def to_request(block: Block) -> Block | None:
    """The request form of a fetched block (metadata dropped), or None if it cannot be
    re-created through the API (synced blocks, uploaded files, …)."""
    kind = str(block.get("type", ""))
    payload = block.get(kind) or {}
    new: Block
    if kind in _TEXT_BLOCKS:
        new = {"rich_text": _request_rich_text(payload.get("rich_text", []))}
        new.update({k: payload[k] for k in _TEXT_KEEP.get(kind, ()) if k in payload})
        if kind == "callout" and (payload.get("icon") or {}).get("type") == "emoji":
            new["icon"] = {"type": "emoji", "emoji": payload["icon"]["emoji"]}
    elif kind == "divider":
        new = {}
    elif kind == "table":
        new = {k: payload.get(k) for k in ("table_width", "has_column_header", "has_row_header")}
    elif kind == "table_row":
        new = {"cells": [_request_rich_text(c) for c in payload.get("cells", [])]}
    elif kind == "equation":
        new = {"expression": payload.get("expression", "")}
    elif kind in ("bookmark", "embed") and payload.get("url"):
        new = {"url": payload["url"]}
    elif kind in _NO_DESCENT:
        link = {"url": page_url(block)}
        label = f"{kind.replace('_', ' ')}: {payload.get('title', '')}"
        return {
            "type": "paragraph",
            "paragraph": {
                "rich_text": [{"type": "text", "text": {"content": label, "link": link}}]
            },
        }
    else:
        return None
    children = [c for c in (to_request(k) for k in payload.get("children") or []) if c]
    if children:
        new["children"] = children
    return {"type": kind, kind: new}
