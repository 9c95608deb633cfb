"""Markdown ↔ Notion blocks for the common block types.

Parsing uses markdown-it-py (CommonMark plus GFM strikethrough and tables); rendering is ours.
Supported both ways: headings, paragraphs, bulleted and numbered lists (nested), to-dos,
fenced code, quotes, dividers, tables, links, and inline bold, italic, strikethrough and
code. Request blocks keep their children inside the type payload (``block[type]["children"]``),
as Notion's append endpoint expects; the page reader stores fetched children the same way.
"""

from __future__ import annotations

import re
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.tree import SyntaxTreeNode

from agents.notion.richtext import (
    MAX_RICH_TEXT,
    MAX_TEXT,
    escape,
    item_href,
    item_text,
    merge_items,
    plain_text,
    rich_text,
    rich_text_to_markdown,
)

__all__ = [
    "block_text",
    "blocks_to_markdown",
    "inline_to_rich_text",
    "markdown_to_blocks",
    "table_block",
    "text_blocks",
]

Block = dict[str, Any]
_MD = MarkdownIt("commonmark", {"html": False}).enable(["strikethrough", "table"])
# fmt: off
_LANGUAGES = {
    "py": "python", "js": "javascript", "ts": "typescript", "sh": "shell", "zsh": "shell",
    "console": "shell", "yml": "yaml", "cpp": "c++", "cs": "c#", "csharp": "c#",
    "fsharp": "f#", "rb": "ruby", "rs": "rust", "kt": "kotlin", "ps1": "powershell",
    "pwsh": "powershell", "md": "markdown", "dockerfile": "docker", "objc": "objective-c",
    "text": "plain text", "txt": "plain text", "plaintext": "plain text", "golang": "go",
    "tex": "latex", "jsonc": "json", "proto": "protobuf", "vb": "visual basic",
}
_NOTION_LANGUAGES = set(
    "abap arduino bash basic c clojure coffeescript c++ c# css dart diff docker elixir elm "
    "erlang flow fortran f# gherkin glsl go graphql groovy haskell html java javascript json "
    "julia kotlin latex less lisp livescript lua makefile markdown markup matlab mermaid nix "
    "objective-c ocaml pascal perl php powershell prolog protobuf python r reason ruby rust "
    "sass scala scheme scss shell sql swift typescript verilog vhdl xml yaml".split()
) | {"plain text", "visual basic", "vb.net", "java/c/c++/c#", "webassembly"}
# fmt: on


# --- markdown → blocks -------------------------------------------------------------------


def inline_to_rich_text(markdown: str) -> list[Block]:
    """Rich text for one line of inline markdown (bold, italic, code, links, strikethrough)."""
    tokens = _MD.parseInline(markdown.strip())
    if not tokens or not tokens[0].children:
        return []
    node = SyntaxTreeNode(tokens)
    return _inline(node.children[0] if node.children else node)


def _inline(node: SyntaxTreeNode) -> list[Block]:
    items: list[Block] = []

    def walk(n: SyntaxTreeNode, link: str | None, ann: dict[str, bool]) -> None:
        for child in n.children:
            kind = child.type
            if kind == "text":
                items.extend(rich_text(child.content, link, **ann))
            elif kind == "code_inline":
                items.extend(rich_text(child.content, link, **{**ann, "code": True}))
            elif kind in ("softbreak", "hardbreak"):
                items.extend(rich_text("\n", link, **ann))
            elif kind == "strong":
                walk(child, link, {**ann, "bold": True})
            elif kind == "em":
                walk(child, link, {**ann, "italic": True})
            elif kind == "s":
                walk(child, link, {**ann, "strikethrough": True})
            elif kind == "link":
                walk(child, str(child.attrs.get("href", "")) or link, ann)
            elif kind == "image":
                alt = "".join(c.content for c in child.children) or str(child.attrs.get("src"))
                items.extend(rich_text(alt, str(child.attrs.get("src", "")) or None, **ann))
            else:
                items.extend(rich_text(child.content, link, **ann))

    walk(node, None, {})
    merged = merge_items(items)
    return [piece for item in merged for piece in _resplit(item)]


def _resplit(item: Block) -> list[Block]:
    content = item_text(item)
    if len(content) <= MAX_TEXT:
        item.pop("plain_text", None)
        return [item]
    ann = {k: v for k, v in (item.get("annotations") or {}).items() if v}
    return rich_text(content, item_href(item), **ann)


def _block(kind: str, text: list[Block], **extra: Any) -> list[Block]:
    """One block, or several when ``text`` has more items than one rich_text array may hold."""
    chunks = [text[i : i + MAX_RICH_TEXT] for i in range(0, len(text), MAX_RICH_TEXT)] or [[]]
    return [{"type": kind, kind: {"rich_text": chunk, **extra}} for chunk in chunks]


def text_blocks(text: str) -> list[Block]:
    """Paragraph blocks for plain text (no markdown), one per blank-line separated paragraph."""
    paragraphs = [p.strip("\n") for p in re.split(r"\n\s*\n", text) if p.strip()]
    return [b for p in paragraphs for b in _block("paragraph", rich_text(p))]


def markdown_to_blocks(markdown: str) -> list[Block]:
    """Notion request blocks for ``markdown``."""
    root = SyntaxTreeNode(_MD.parse(markdown))
    return _blocks(root.children)


def _blocks(nodes: list[SyntaxTreeNode]) -> list[Block]:
    out: list[Block] = []
    for node in nodes:
        out.extend(_node(node))
    return out


def _node(node: SyntaxTreeNode) -> list[Block]:
    kind = node.type
    if kind == "heading":
        level = min(int(node.tag[1]), 3)
        return _block(f"heading_{level}", _inline(node.children[0]))
    if kind == "paragraph":
        return _block("paragraph", _inline(node.children[0]))
    if kind in ("bullet_list", "ordered_list"):
        return [b for item in node.children for b in _list_item(item, kind)]
    if kind == "blockquote":
        first, rest = _first_text(node.children)
        blocks = _block("quote", first)
        if rest:
            blocks[-1]["quote"]["children"] = _blocks(rest)
        return blocks
    if kind in ("fence", "code_block"):
        lang = _language(node.info.strip().split(" ")[0] if kind == "fence" else "")
        code = node.content.removesuffix("\n")
        return _block("code", rich_text(code), language=lang)
    if kind == "hr":
        return [{"type": "divider", "divider": {}}]
    if kind == "table":
        return [_table(node)]
    return _block("paragraph", rich_text(node.content)) if node.content else []


def _first_text(children: list[SyntaxTreeNode]) -> tuple[list[Block], list[SyntaxTreeNode]]:
    """The rich text of a leading paragraph (the item's own text) and the remaining nodes."""
    if children and children[0].type == "paragraph":
        return _inline(children[0].children[0]), children[1:]
    return [], children


_TODO = re.compile(r"^\[([ xX])\]\s+")


def _list_item(item: SyntaxTreeNode, list_kind: str) -> list[Block]:
    first, rest = _first_text(item.children)
    kind = "bulleted_list_item" if list_kind == "bullet_list" else "numbered_list_item"
    extra: dict[str, Any] = {}
    raw = item.children[0].children[0].content if first else ""
    todo = _TODO.match(raw) if kind == "bulleted_list_item" else None
    if todo:
        kind, extra = "to_do", {"checked": todo.group(1) != " "}
        first = _strip_prefix(first, len(todo.group(0)) - (len(raw) - len(raw.lstrip())))
    blocks = _block(kind, first, **extra)
    if rest:
        blocks[-1][kind]["children"] = _blocks(rest)
    return blocks


def _strip_prefix(items: list[Block], count: int) -> list[Block]:
    """Drop the first ``count`` characters of rich text (the ``[ ] `` of a to-do)."""
    out: list[Block] = []
    for item in items:
        content = item["text"]["content"]
        if count >= len(content):
            count -= len(content)
            continue
        out.append({**item, "text": {**item["text"], "content": content[count:]}})
        count = 0
    return out


def _table(node: SyntaxTreeNode) -> Block:
    return table_block(
        [
            [_inline(cell.children[0]) if cell.children else [] for cell in tr.children]
            for section in node.children
            for tr in section.children
        ]
    )


def table_block(rows: list[list[list[Block]]]) -> Block:
    """A table block whose first row is the column header (cells are rich text)."""
    width = max((len(r) for r in rows), default=1)
    children = [
        {"type": "table_row", "table_row": {"cells": r[:width] + [[]] * (width - len(r))}}
        for r in rows
    ]
    table = {"table_width": width, "has_column_header": True, "has_row_header": False}
    return {"type": "table", "table": {**table, "children": children}}


def _language(info: str) -> str:
    lang = _LANGUAGES.get(info.lower(), info.lower())
    return lang if lang in _NOTION_LANGUAGES else "plain text"


# --- blocks → markdown -------------------------------------------------------------------


def block_text(block: Block) -> str:
    """The plain text of a block (empty for dividers and other text-less blocks)."""
    payload = block.get(block.get("type", ""), {}) or {}
    if "rich_text" in payload:
        return plain_text(payload["rich_text"])
    if "title" in payload and isinstance(payload["title"], str):
        return payload["title"]
    return ""


def blocks_to_markdown(blocks: list[Block]) -> str:
    """Markdown for blocks whose children (if any) sit in ``block[type]["children"]``."""
    return "\n".join(_render(blocks, "")).strip("\n") + ("\n" if blocks else "")


_LIST_GROUP = {"bulleted_list_item": "-", "to_do": "-", "numbered_list_item": "1."}


def _render(blocks: list[Block], indent: str) -> list[str]:
    lines: list[str] = []
    number = 0
    prev: str | None = None
    for i, block in enumerate(blocks):
        kind = block.get("type", "")
        number = number + 1 if kind == "numbered_list_item" and prev == kind else 1
        group = _LIST_GROUP.get(kind)
        if i and (group is None or group != _LIST_GROUP.get(prev or "")):
            lines.append("")
        lines.extend(indent + line if line else "" for line in _render_one(block, number))
        prev = kind
    return lines


def _render_one(block: Block, number: int) -> list[str]:
    kind = block.get("type", "")
    payload: Block = block.get(kind) or {}
    children: list[Block] = payload.get("children") or []
    text = rich_text_to_markdown(payload.get("rich_text", []))
    if kind in ("bulleted_list_item", "numbered_list_item", "to_do", "toggle"):
        marker = {"numbered_list_item": f"{number}. ", "to_do": "- "}.get(kind, "- ")
        if kind == "to_do":
            marker += "[x] " if payload.get("checked") else "[ ] "
        pad = " " * (len(marker) if kind != "to_do" else 2)
        head = (marker + text).split("\n")
        lines = [head[0], *(pad + line for line in head[1:])]
        return lines + _render(children, pad) if children else lines
    if kind.startswith("heading_"):
        lines = ["#" * int(kind[-1]) + " " + text.replace("\n", " ")]
    elif kind == "paragraph":
        lines = text.split("\n") if text else []
    elif kind in ("quote", "callout"):
        icon = (payload.get("icon") or {}).get("emoji", "")
        body = f"{icon} {text}" if icon else text
        lines = [f"> {line}".rstrip() for line in body.split("\n")]
    elif kind == "code":
        code = plain_text(payload.get("rich_text", []))
        lang = payload.get("language", "plain text")
        fence = "````" if "```" in code else "```"
        lines = [fence + ("" if lang == "plain text" else lang), *code.split("\n"), fence]
    elif kind == "divider":
        lines = ["---"]
    elif kind == "table":
        lines = _render_table(payload, children)
        children = []
    elif kind in ("child_page", "child_database"):
        what = "child page" if kind == "child_page" else "child database"
        link = f"https://www.notion.so/{str(block.get('id', '')).replace('-', '')}"
        lines = [f"[{what}: {escape(payload.get('title', ''))}]({link})"]
    elif kind in ("image", "file", "pdf", "video", "audio", "bookmark", "embed", "link_preview"):
        url = payload.get("url") or (payload.get(payload.get("type", ""), {}) or {}).get("url")
        label = plain_text(payload.get("caption", [])) or kind
        lines = [f"[{escape(label)}]({url})" if url else f"<!-- {kind} -->"]
    elif kind == "equation":
        lines = ["$$", payload.get("expression", ""), "$$"]
    else:
        lines = [f"<!-- unsupported block: {kind} -->"]
    return [*lines, "", *_render(children, "")] if children else lines


def _cell(items: list[Block]) -> str:
    return rich_text_to_markdown(items).replace("\n", " ").replace("|", "\\|")


def _render_table(payload: Block, rows: list[Block]) -> list[str]:
    cells = [[_cell(c) for c in r.get("table_row", {}).get("cells", [])] for r in rows]
    if not cells:
        return []
    width = max(payload.get("table_width", 0), *(len(r) for r in cells))
    cells = [r + [""] * (width - len(r)) for r in cells]
    lines = ["| " + " | ".join(cells[0]) + " |", "|" + "---|" * width]
    return lines + ["| " + " | ".join(r) + " |" for r in cells[1:]]
