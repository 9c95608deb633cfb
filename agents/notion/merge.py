"""The merge behind consolidation: deterministic and extractive, N source pages → one body.

Pages whose titles normalise the same are versions of one document (the most recently edited
is the base); sections with the same heading are combined in order of first appearance;
duplicate blocks are dropped by ``(type, normalised text)``; a to-do stays checked if any copy
was. The target starts with a provenance quote carrying the consolidation id, which is how a
re-run finds and refreshes the same target instead of creating another.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from agents.notion.markdown import block_text
from agents.notion.richtext import plain_text, rich_text

__all__ = [
    "LINK_BACK_PREFIX",
    "MARKER_PREFIX",
    "Merged",
    "Source",
    "consolidation_id",
    "is_link_back",
    "link_back_block",
    "marker_id",
    "merge",
    "normalize_title",
    "provenance_block",
]

Block = dict[str, Any]
Dedupe = Literal["normalized", "exact", "none"]
Strategy = Literal["by_heading", "concatenate"]
MARKER_PREFIX = "consolidation id: "
LINK_BACK_PREFIX = "Consolidated into "
_HEADINGS = ("heading_1", "heading_2", "heading_3")
_COPY_SUFFIX = re.compile(
    r"(\s*[-–—(]?\s*(copy|draft|old|new|v\d+|\(\d+\)|\d+)\)?\s*$)"
    r"|(\s*[-–—(]?\s*\d{4}-\d{2}-\d{2}\)?\s*$)",
    re.IGNORECASE,
)


@dataclass
class Source:
    """One source page, read recursively."""

    id: str
    title: str
    url: str
    last_edited_time: str
    blocks: list[Block]


@dataclass
class Merged:
    """The merged body (request blocks) and what the merge did."""

    blocks: list[Block]
    blocks_in: int = 0
    duplicates_removed: int = 0
    sections_merged: int = 0
    title_groups: list[list[str]] = field(default_factory=list)


def normalize_title(title: str) -> str:
    """Lowercase, collapse whitespace, strip "copy", "(1)", "v2", a trailing date and such."""
    text = re.sub(r"\s+", " ", title).strip().casefold()
    while True:
        stripped = _COPY_SUFFIX.sub("", text).strip()
        if stripped == text or not stripped:
            return text
        text = stripped


def _normalize_text(text: str) -> str:
    return re.sub(r"[\s.,;:!?]+$", "", re.sub(r"\s+", " ", text).strip().casefold())


def consolidation_id(source_ids: list[str], target_title: str) -> str:
    """``sha1(sorted source ids + target title)``, shortened: stable across re-runs."""
    digest = hashlib.sha1(
        "\n".join([*sorted(source_ids), target_title]).encode(), usedforsecurity=False
    )
    return digest.hexdigest()[:16]


def _key(block: Block, mode: Dedupe) -> str | None:
    kind = block.get("type", "")
    if kind in (*_HEADINGS, "divider") or mode == "none":
        return None
    text = block_text(block)
    payload = dict(block.get(kind) or {})
    payload.pop("checked", None)
    children = payload.pop("children", [])
    if not text and not children and kind == "paragraph":
        return None
    body = text if mode == "exact" else _normalize_text(text)
    nested = "|".join(_key(c, mode) or "" for c in children)
    if not text:
        return f"{kind}:{json.dumps(payload, sort_keys=True)}:{nested}"
    return f"{kind}:{body}:{nested}"


def _heading_key(block: Block) -> str:
    return _normalize_text(block_text(block))


def _is_empty_paragraph(block: Block) -> bool:
    payload = block.get("paragraph") or {}
    is_paragraph = block.get("type") == "paragraph"
    return is_paragraph and not block_text(block) and not payload.get("children")


def _count(blocks: list[Block]) -> int:
    return sum(1 + _count((b.get(b.get("type", "")) or {}).get("children") or []) for b in blocks)


def merge(
    sources: list[Source],
    *,
    strategy: Strategy,
    dedupe: Dedupe,
    merge_same_titles: bool,
) -> Merged:
    """Merge ``sources`` (request-form blocks) into one body."""
    result = Merged(blocks=[])
    groups: dict[str, list[Source]] = {}
    for src in sources:
        key = normalize_title(src.title) if merge_same_titles else src.id
        groups.setdefault(key, []).append(src)
        result.blocks_in += _count(src.blocks)
    sections: dict[str, tuple[Block, list[Block]]] = {}
    for versions in groups.values():
        versions.sort(key=lambda s: s.last_edited_time, reverse=True)
        result.title_groups.append([s.id for s in versions])
        base = versions[0]
        body = [b for v in versions for b in v.blocks if not _is_empty_paragraph(b)]
        if strategy == "concatenate":
            urls = ", ".join(v.url for v in versions)
            head = _heading(base.title)
            intro = {"type": "paragraph", "paragraph": {"rich_text": rich_text(f"Source: {urls}")}}
            sections[f"page:{base.id}"] = (head, [intro, *body])
            continue
        current = f"page:{_normalize_text(base.title)}"
        if current not in sections:
            sections[current] = (_heading(base.title), [])
        elif body and body[0].get("type") not in _HEADINGS:
            result.sections_merged += 1
        for block in body:
            if block.get("type") in _HEADINGS:
                current = _heading_key(block)
                if current in sections:
                    result.sections_merged += 1
                else:
                    sections[current] = (block, [])
                continue
            sections[current][1].append(block)
    seen: dict[str, Block] = {}
    for heading, content in sections.values():
        kept = [_dedupe(b, dedupe, seen, result) for b in content]
        kept_blocks = [b for b in kept if b is not None]
        if kept_blocks or (heading.get("type") in _HEADINGS and not _is_page_heading(heading)):
            result.blocks.extend([heading, *kept_blocks])
    result.blocks = [{k: v for k, v in b.items() if not k.startswith("_")} for b in result.blocks]
    return result


def _is_page_heading(block: Block) -> bool:
    return bool(block.get("_page_heading"))


def _heading(title: str) -> Block:
    return {
        "type": "heading_2",
        "heading_2": {"rich_text": rich_text(title or "Untitled")},
        "_page_heading": True,
    }


def _dedupe(block: Block, mode: Dedupe, seen: dict[str, Block], result: Merged) -> Block | None:
    key = _key(block, mode)
    if key is None:
        return block
    if key in seen:
        result.duplicates_removed += _count([block])
        if block.get("type") == "to_do" and block["to_do"].get("checked"):
            seen[key]["to_do"]["checked"] = True
        return None
    copy = {"type": block["type"], block["type"]: dict(block[block["type"]])}
    seen[key] = copy
    return copy


def provenance_block(cid: str, sources: list[Source], when: datetime | None = None) -> Block:
    """The quote that opens the target: count, date, consolidation id, source links."""
    day = (when or datetime.now(UTC)).date().isoformat()
    text = f"Consolidated from {len(sources)} pages on {day} · {MARKER_PREFIX}{cid}"
    children = [
        {
            "type": "bulleted_list_item",
            "bulleted_list_item": {
                "rich_text": [
                    *rich_text(s.title or "Untitled", s.url),
                    *rich_text(f" (last edited {s.last_edited_time})"),
                ]
            },
        }
        for s in sources
    ]
    return {"type": "quote", "quote": {"rich_text": rich_text(text), "children": children}}


def marker_id(block: Block) -> str | None:
    """The consolidation id in a provenance quote, if ``block`` is one."""
    if block.get("type") != "quote":
        return None
    match = re.search(re.escape(MARKER_PREFIX) + r"([0-9a-f]{16})", block_text(block))
    return match.group(1) if match else None


def link_back_block(title: str, url: str) -> Block:
    """The paragraph prepended to a source: "Consolidated into <target>"."""
    return {
        "type": "paragraph",
        "paragraph": {
            "rich_text": [
                *rich_text(LINK_BACK_PREFIX),
                *rich_text(title or "Untitled", url),
            ]
        },
    }


def is_link_back(block: Block, url: str | None = None) -> bool:
    """Whether ``block`` is a link-back paragraph (to ``url`` when given)."""
    if block.get("type") != "paragraph":
        return False
    items = block["paragraph"].get("rich_text", [])
    if not plain_text(items).startswith(LINK_BACK_PREFIX):
        return False
    links = [i.get("href") or ((i.get("text") or {}).get("link") or {}).get("url") for i in items]
    return url is None or url in links
