"""Rich text: Notion's inline text items, their limits, and inline markdown for them."""

from __future__ import annotations

import re
from typing import Any

__all__ = [
    "MAX_RICH_TEXT",
    "MAX_TEXT",
    "escape",
    "item_href",
    "item_text",
    "merge_items",
    "plain_text",
    "rich_text",
    "rich_text_to_markdown",
]

Block = dict[str, Any]
MAX_TEXT = 2000  # characters in one rich-text item's text.content
MAX_RICH_TEXT = 100  # items in one rich_text array
_ANNOTATIONS = ("bold", "italic", "strikethrough", "code")


def rich_text(content: str, link: str | None = None, **annotations: bool) -> list[Block]:
    """Rich-text items for ``content``, split so no item exceeds Notion's 2,000 characters."""
    items: list[Block] = []
    for start in range(0, max(len(content), 1), MAX_TEXT):
        item: Block = {
            "type": "text",
            "text": {"content": content[start : start + MAX_TEXT], "link": {"url": link}}
            if link
            else {"content": content[start : start + MAX_TEXT]},
        }
        if any(annotations.values()):
            item["annotations"] = {k: v for k, v in annotations.items() if v}
        items.append(item)
    return items if content else []


def merge_items(items: list[Block]) -> list[Block]:
    """Adjacent items with the same style and link joined into one."""
    out: list[Block] = []
    last_style: tuple[Any, ...] | None = None
    for item in items:
        style = _style(item) if item.get("type", "text") == "text" else None
        if out and style is not None and style == last_style:
            prev = out[-1]
            joined = item_text(prev) + item_text(item)
            out[-1] = {
                **prev,
                "plain_text": joined,
                "text": {**prev.get("text", {}), "content": joined},
            }
        else:
            out.append(item)
        last_style = style
    return out


def item_text(item: Block) -> str:
    """The text of one rich-text item (request or response shape)."""
    if "plain_text" in item:
        return str(item["plain_text"])
    if item.get("type", "text") == "text":
        return str(item.get("text", {}).get("content", ""))
    if item.get("type") == "equation":
        return str(item.get("equation", {}).get("expression", ""))
    return ""


def item_href(item: Block) -> str | None:
    """The link of one rich-text item, if any."""
    if item.get("href"):
        return str(item["href"])
    link = item.get("text", {}).get("link") if item.get("type", "text") == "text" else None
    return str(link["url"]) if link and link.get("url") else None


def _style(item: Block) -> tuple[Any, ...]:
    ann = item.get("annotations") or {}
    return (*(bool(ann.get(k)) for k in _ANNOTATIONS), item_href(item))


def plain_text(items: list[Block]) -> str:
    """The plain text of rich-text items."""
    return "".join(item_text(i) for i in items)


_LINE_START = re.compile(r"^(\s*)(#{1,6}(?=\s|$)|>|[-+](?=\s|$)|=+\s*$|-{3,}\s*$)")
_ORDERED = re.compile(r"^(\s*\d+)([.)])(?=\s|$)")
_LINE_HEAD = re.compile(r"(?m)^\s*[#>+=\-\d]")


_SPECIAL = re.compile(r"[\\*`\[\]~_&]")


def escape(text: str) -> str:
    """``text`` with the characters markdown would read as inline syntax escaped."""
    if not _SPECIAL.search(text):
        return text
    text = re.sub(r"([\\*`\[\]])", r"\\\1", text)
    text = text.replace("~~", r"\~\~")
    text = re.sub(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])", r"\\_", text)
    text = re.sub(r"&(?=#?\w+;)", r"\\&", text)
    return text


def _escape_line_starts(text: str) -> str:
    if not _LINE_HEAD.search(text):
        return text
    lines = (_LINE_START.sub(r"\1\\\2", line, count=1) for line in text.split("\n"))
    return "\n".join(_ORDERED.sub(r"\1\\\2", line, count=1) for line in lines)


def rich_text_to_markdown(items: list[Block]) -> str:
    """Inline markdown for rich-text items."""
    out: list[str] = []
    for item in merge_items(items):
        text = item_text(item)
        if not text:
            continue
        if item.get("type") == "equation":
            out.append(f"${text}$")
            continue
        bold, italic, strike, code, href = _style(item)
        core = text.strip()
        lead, trail = text[: len(text) - len(text.lstrip())], text[len(text.rstrip()) :]
        if not core:
            out.append(text)
            continue
        if code:
            fence = "``" if "`" in core else "`"
            pad = " " if core.startswith("`") or core.endswith("`") else ""
            core = f"{fence}{pad}{core}{pad}{fence}"
        else:
            core = escape(core)
        if italic:
            core = f"*{core}*"
        if bold:
            core = f"**{core}**"
        if strike:
            core = f"~~{core}~~"
        if href:
            core = f"[{core}]({href.replace(' ', '%20').replace(')', '%29')})"
        out.append(lead + core + trail)
    return _escape_line_starts("".join(out))
