"""State and JSON shapes of the fake Notion workspace (API version 2025-09-03).

Objects are kept in their response shape. Request validation follows Notion's documented
limits: 2,000 characters per text item, 100 items per rich-text array, 100 children per
array, two levels of nesting and 1,000 block elements per request.
"""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

Obj = dict[str, Any]

TEXT_BLOCKS = {
    "paragraph",
    "heading_1",
    "heading_2",
    "heading_3",
    "bulleted_list_item",
    "numbered_list_item",
    "to_do",
    "quote",
    "toggle",
    "callout",
    "code",
}
OTHER_BLOCKS = {"divider", "table", "table_row", "equation", "bookmark", "embed", "image"}
# The keys a block request may carry, at its top level and in its type's object (Notion's
# "block object request" per type); anything else is a validation_error "should be not present".
BLOCK_KEYS = {"object", "type"}
_TEXT_KEYS = {"rich_text", "color", "children"}
PAYLOAD_KEYS: dict[str, set[str]] = {
    **dict.fromkeys(("paragraph", "bulleted_list_item", "numbered_list_item"), _TEXT_KEYS),
    **dict.fromkeys(("quote", "toggle"), _TEXT_KEYS),
    **{f"heading_{n}": _TEXT_KEYS | {"is_toggleable"} for n in (1, 2, 3)},
    "to_do": _TEXT_KEYS | {"checked"},
    "callout": _TEXT_KEYS | {"icon"},
    "code": {"rich_text", "language", "caption"},
    "divider": set(),
    "table": {"table_width", "has_column_header", "has_row_header", "children"},
    "table_row": {"cells"},
    "equation": {"expression"},
    "bookmark": {"url", "caption"},
    "embed": {"url", "caption"},
    "image": {"type", "external", "file_upload", "caption"},
}
LANGUAGES = set(
    "abap arduino bash basic c clojure coffeescript c++ c# css dart diff docker elixir elm "
    "erlang flow fortran f# gherkin glsl go graphql groovy haskell html java javascript json "
    "julia kotlin latex less lisp livescript lua makefile markdown markup matlab mermaid nix "
    "objective-c ocaml pascal perl php powershell prolog protobuf python r reason ruby rust "
    "sass scala scheme scss shell sql swift typescript verilog vhdl xml yaml".split()
) | {"plain text", "visual basic", "vb.net", "java/c/c++/c#", "webassembly"}
PROPERTY_TYPES = set(
    "title rich_text number checkbox select multi_select status date url email phone_number "
    "people files relation created_time last_edited_time created_by last_edited_by formula "
    "rollup unique_id".split()
)
ANNOTATIONS = {"bold", "italic", "strikethrough", "underline", "code", "color"}
USER = {"object": "user", "id": "9a1f0c3e-1111-4a7b-8c3d-0000000000b0"}


class ApiError(Exception):
    """An error answer: status, Notion code and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def invalid(message: str) -> ApiError:
    return ApiError(400, "validation_error", message)


def new_id() -> str:
    return str(uuid.uuid4())


def url_of(ident: str) -> str:
    return f"https://www.notion.so/{ident.replace('-', '')}"


def norm_id(value: Any) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise invalid(f"path failed validation: {value!r} should be a valid uuid") from None


def full_rich_text(items: Any, where: str) -> list[Obj]:
    if not isinstance(items, list):
        raise invalid(f"body failed validation: {where} should be an array")
    if len(items) > 100:
        raise invalid(
            f"body failed validation: {where}.length should be ≤ `100`, instead was `{len(items)}`."
        )
    out = []
    for i, item in enumerate(items):
        at = f"{where}[{i}]"
        kind = item.get("type", "text")
        ann = {
            "bold": False,
            "italic": False,
            "strikethrough": False,
            "underline": False,
            "code": False,
            "color": "default",
        }
        extra = set(item.get("annotations") or {}) - ANNOTATIONS
        if extra:
            raise invalid(
                f"body failed validation: {at}.annotations has unknown keys {sorted(extra)}"
            )
        ann.update(item.get("annotations") or {})
        if kind == "text":
            text = item.get("text") or {}
            content = text.get("content")
            if not isinstance(content, str):
                raise invalid(f"body failed validation: {at}.text.content should be a string")
            if len(content) > 2000:
                raise invalid(
                    f"body failed validation: {at}.text.content.length should be ≤ `2000`, "
                    f"instead was `{len(content)}`."
                )
            link = text.get("link")
            href = link.get("url") if isinstance(link, dict) else None
            out.append(
                {
                    "type": "text",
                    "text": {"content": content, "link": {"url": href} if href else None},
                    "annotations": ann,
                    "plain_text": content,
                    "href": href,
                }
            )
        elif kind == "equation":
            expr = (item.get("equation") or {}).get("expression", "")
            out.append(
                {
                    "type": "equation",
                    "equation": {"expression": expr},
                    "annotations": ann,
                    "plain_text": expr,
                    "href": None,
                }
            )
        else:
            raise invalid(f"body failed validation: {at}.type {kind!r} is not supported here")
    return out


def plain(items: list[Obj]) -> str:
    return "".join(i.get("plain_text", "") for i in items)


class Store:
    """The workspace: pages, blocks, databases, data sources and their order."""

    def __init__(self) -> None:
        self.pages: dict[str, Obj] = {}
        self.blocks: dict[str, Obj] = {}
        self.children: dict[str, list[str]] = {}
        self.databases: dict[str, Obj] = {}
        self.data_sources: dict[str, Obj] = {}
        self._now = datetime(2026, 1, 1, tzinfo=UTC)

    def tick(self) -> str:
        """A strictly increasing timestamp (one second per write keeps ordering stable)."""
        self._now += timedelta(seconds=1)
        return self._now.isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def _meta(self, obj: str, ident: str, parent: Obj) -> Obj:
        now = self.tick()
        return {
            "object": obj,
            "id": ident,
            "created_time": now,
            "last_edited_time": now,
            "created_by": USER,
            "last_edited_by": USER,
            "parent": parent,
            "in_trash": False,
            "archived": False,
        }

    def touch(self, ident: str) -> None:
        for table in (self.pages, self.blocks, self.databases, self.data_sources):
            if ident in table:
                table[ident]["last_edited_time"] = self.tick()

    def container(self, ident: str) -> Obj:
        """A page or block that can hold children (404 otherwise)."""
        obj = self.pages.get(ident) or self.blocks.get(ident)
        if obj is None:
            raise ApiError(
                404,
                "object_not_found",
                f"Could not find block with ID: {ident}. "
                "Make sure the relevant pages and databases are shared with your integration.",
            )
        return obj

    # --- blocks ----------------------------------------------------------------------

    def _block_type(self, req: Obj, at: str) -> str:
        if not isinstance(req, dict):
            raise invalid(f"body failed validation: {at} should be an object")
        kind = req.get("type") or next((k for k in req if k in TEXT_BLOCKS | OTHER_BLOCKS), None)
        if kind not in TEXT_BLOCKS | OTHER_BLOCKS or kind not in req:
            raise invalid(
                f"body failed validation: {at} should be a supported block, e.g. paragraph"
            )
        for key in req:
            if key not in BLOCK_KEYS and key != kind:
                raise invalid(f"body failed validation: {at}.{key} should be not present")
        payload = req[kind]
        if not isinstance(payload, dict):
            raise invalid(f"body failed validation: {at}.{kind} should be an object")
        for key in payload:
            if key not in PAYLOAD_KEYS[str(kind)]:
                raise invalid(f"body failed validation: {at}.{kind}.{key} should be not present")
        return str(kind)

    def check_children(self, items: Any, at: str, level: int = 0) -> int:
        """Validate a children array (limits, nesting); return its element count."""
        if not isinstance(items, list) or not items:
            raise invalid(f"body failed validation: {at} should be a non-empty array")
        if len(items) > 100:
            raise invalid(
                f"body failed validation: {at}.length should be ≤ `100`, "
                f"instead was `{len(items)}`."
            )
        total = 0
        for i, req in enumerate(items):
            kind = self._block_type(req, f"{at}[{i}]")
            kids = (req.get(kind) or {}).get("children")
            total += 1
            if kids:
                if level >= 2:
                    raise invalid(
                        f"body failed validation: {at}[{i}].{kind}.children nests more "
                        "than two levels in one request"
                    )
                total += self.check_children(kids, f"{at}[{i}].{kind}.children", level + 1)
        if level == 0 and total > 1000:
            raise invalid(
                f"body failed validation: {at} has {total} block elements; the limit is 1000"
            )
        return total

    def make_block(self, req: Obj, parent: Obj, at: str) -> Obj:
        kind = self._block_type(req, at)
        payload = copy.deepcopy(req.get(kind) or {})
        kids = payload.pop("children", None) or []
        if kind in TEXT_BLOCKS:
            payload["rich_text"] = full_rich_text(
                payload.get("rich_text", []), f"{at}.{kind}.rich_text"
            )
            payload.setdefault("color", "default")
            if kind == "to_do":
                payload["checked"] = bool(payload.get("checked", False))
            if kind.startswith("heading_"):
                payload.setdefault("is_toggleable", False)
            if kind == "code" and payload.get("language", "plain text") not in LANGUAGES:
                raise invalid(
                    f"body failed validation: {at}.code.language should be one of the "
                    "supported languages"
                )
            if kind == "code":
                payload.setdefault("language", "plain text")
                payload.setdefault("caption", [])
        elif kind == "table":
            width = payload.get("table_width")
            if not isinstance(width, int) or width < 1 or not kids:
                raise invalid(
                    f"body failed validation: {at}.table needs table_width and children rows"
                )
            if any(len((r.get("table_row") or {}).get("cells", [])) != width for r in kids):
                raise invalid(
                    f"body failed validation: {at}.table rows must have table_width cells"
                )
        elif kind == "table_row":
            payload["cells"] = [
                full_rich_text(c, f"{at}.table_row.cells[{j}]")
                for j, c in enumerate(payload.get("cells", []))
            ]
        ident = new_id()
        ptype = "page_id" if parent["object"] == "page" else "block_id"
        block = {
            **self._meta("block", ident, {"type": ptype, ptype: parent["id"]}),
            "has_children": bool(kids),
            "type": kind,
            kind: payload,
        }
        self.blocks[ident] = block
        self.children[ident] = []
        for j, kid in enumerate(kids):
            child = self.make_block(kid, block, f"{at}.{kind}.children[{j}]")
            self.children[ident].append(child["id"])
        return block

    def append(
        self, parent_id: str, items: Any, position: Obj | None, after: str | None
    ) -> list[Obj]:
        parent = self.container(parent_id)
        if parent.get("in_trash"):
            raise invalid(
                "Can't edit block that is archived. You must unarchive the block before editing."
            )
        self.check_children(items, "body.children")
        order = self.children.setdefault(parent_id, [])
        index = len(order)
        if after is not None or (position or {}).get("type") == "after_block":
            target = norm_id(after or (position or {}).get("after_block", {}).get("id"))
            if target not in order:
                raise invalid(
                    f"body failed validation: block {target} is not a child of {parent_id}"
                )
            index = order.index(target) + 1
        elif (position or {}).get("type") == "start":
            index = 0
        elif position is not None and position.get("type") != "end":
            raise invalid(
                "body failed validation: body.position.type should be start, end or after_block"
            )
        created = [
            self.make_block(req, parent, f"body.children[{i}]") for i, req in enumerate(items)
        ]
        order[index:index] = [b["id"] for b in created]
        if parent["object"] == "block":
            parent["has_children"] = True
        self.touch(parent_id)
        return created

    def live_children(self, parent_id: str) -> list[Obj]:
        self.container(parent_id)
        blocks = (self.blocks[i] for i in self.children.get(parent_id, []))
        out = []
        for b in blocks:
            if b["in_trash"]:
                continue
            b["has_children"] = b["type"] in ("child_page", "child_database") or any(
                not self.blocks[k]["in_trash"] for k in self.children.get(b["id"], [])
            )
            out.append(b)
        return out

    def trash(self, ident: str, value: bool) -> None:
        for table in (self.pages, self.blocks, self.databases):
            if ident in table:
                table[ident]["in_trash"] = table[ident]["archived"] = value
                table[ident]["last_edited_time"] = self.tick()
