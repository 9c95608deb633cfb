"""Edit one member of a JSON document in place, keeping every other byte of the text.

Claude Code rewrites ``~/.claude.json`` constantly and users hand-edit ``settings.json``; we
manage only some keys of them. Re-serialising the whole file would reformat keys we do not own,
so edits are spliced into the original text at the span of the member they change, serialised in
the file's own indentation and newline style.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from json.encoder import encode_basestring
from typing import Any

__all__ = ["JsonTextError", "delete_member", "dumps_new", "get_member", "parse", "set_member"]

_DECODER = json.JSONDecoder()
_WS = " \t\r\n"
_BOM = "\ufeff"


class JsonTextError(ValueError):
    """The text is not a JSON object, or a path goes through a value that is not an object."""


@dataclass(frozen=True)
class _Member:
    key: str
    key_start: int
    value_start: int
    value_end: int


def _skip_ws(text: str, i: int) -> int:
    while i < len(text) and text[i] in _WS:
        i += 1
    return i


def _members(text: str, start: int) -> tuple[list[_Member], int]:
    """The members of the object whose ``{`` is at ``start``, and the index of its ``}``."""
    if text[start] != "{":
        raise JsonTextError(f"expected an object at offset {start}")
    members: list[_Member] = []
    i = _skip_ws(text, start + 1)
    if text[i] == "}":
        return members, i
    while True:
        if text[i] != '"':
            raise JsonTextError(f"expected a key at offset {i}")
        key, j = _DECODER.raw_decode(text, i)
        j = _skip_ws(text, j)
        if text[j] != ":":
            raise JsonTextError(f"expected ':' at offset {j}")
        vstart = _skip_ws(text, j + 1)
        _, vend = _DECODER.raw_decode(text, vstart)
        members.append(_Member(key, i, vstart, vend))
        i = _skip_ws(text, vend)
        if text[i] == "}":
            return members, i
        if text[i] != ",":
            raise JsonTextError(f"expected ',' or '}}' at offset {i}")
        i = _skip_ws(text, i + 1)


def parse(text: str) -> dict[str, Any]:
    """The document as a dict; raises :class:`JsonTextError` with line and column if invalid."""
    try:
        value = json.loads(text.removeprefix(_BOM))
    except json.JSONDecodeError as exc:
        raise JsonTextError(f"invalid JSON at line {exc.lineno} column {exc.colno}") from exc
    if not isinstance(value, dict):
        raise JsonTextError("the top level is not a JSON object")
    return value


def dumps_new(doc: Any) -> str:
    """A new JSON file (or a member shown as one) in Claude's own style: two-space indent,
    UTF-8, final newline."""
    return dumps_indented(doc, "  ") + "\n"


class _UnusualError(Exception):
    """A value :func:`_indented` leaves to :func:`json.dumps` (a non-string key, a type JSON
    does not have)."""


def dumps_indented(value: Any, indent: str) -> str:
    """``json.dumps(value, indent=indent, ensure_ascii=False)``, the same text, without the
    standard library's pure-Python encoder (it has no C one for indented output): leaves go
    through the C string encoder."""
    try:
        return _indented(value, indent, "\n")
    except _UnusualError:
        return json.dumps(value, indent=indent, ensure_ascii=False)


def _indented(value: Any, indent: str, newline: str) -> str:
    if isinstance(value, str):
        return encode_basestring(value)
    if isinstance(value, dict):
        if not value:
            return "{}"
        inner = newline + indent
        items = []
        for k, v in value.items():
            if not isinstance(k, str):
                raise _UnusualError
            items.append(encode_basestring(k) + ": " + _indented(v, indent, inner))
        return "{" + inner + ("," + inner).join(items) + newline + "}"
    if isinstance(value, list | tuple):
        if not value:
            return "[]"
        inner = newline + indent
        return (
            "["
            + inner
            + ("," + inner).join([_indented(v, indent, inner) for v in value])
            + newline
            + "]"
        )
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float) and value == value and value not in (_INF, -_INF):
        return float.__repr__(value)
    raise _UnusualError  # NaN, infinities and other types: as json.dumps writes (or refuses) them


_INF = float("inf")


def get_member(doc: dict[str, Any], path: tuple[str, ...], default: Any = None) -> Any:
    """The value at ``path`` in a parsed document, or ``default`` when a key is missing."""
    cur: Any = doc
    for key in path:
        if not isinstance(cur, dict) or key not in cur:
            return default
        cur = cur[key]
    return cur


def _style(text: str) -> tuple[str | None, str]:
    """(indent unit or None for one-line JSON, newline)."""
    newline = "\r\n" if "\r\n" in text else "\n"
    first = text.find("\n")
    if first < 0:
        return None, newline
    rest = text[first + 1 :]
    indent = rest[: len(rest) - len(rest.lstrip(" \t"))]
    return indent or "  ", newline


def _leading(text: str, i: int) -> str:
    """The leading whitespace of the line that holds offset ``i``."""
    start = text.rfind("\n", 0, i) + 1
    line = text[start:i]
    return line[: len(line) - len(line.lstrip(" \t"))]


def _dump(value: Any, indent: str | None, base: str, newline: str) -> str:
    if indent is None:
        return json.dumps(value, ensure_ascii=False)
    return dumps_indented(value, indent).replace("\n", newline + base)


def _locate(text: str, path: tuple[str, ...]) -> tuple[int, list[_Member], int]:
    """Walk ``path[:-1]``; return (object start, its members, its end)."""
    start = _skip_ws(text, 0)
    members, end = _members(text, start)
    for key in path[:-1]:
        found = [m for m in members if m.key == key]
        if not found:
            raise KeyError(key)
        m = found[-1]
        if text[m.value_start] != "{":
            raise JsonTextError(f"{key!r} is not an object")
        start = m.value_start
        members, end = _members(text, start)
    return start, members, end


def set_member(text: str, path: tuple[str, ...], value: Any) -> str:
    """``text`` with the member at ``path`` set to ``value``; missing parents are created.

    Raises:
        JsonTextError: The text is not a JSON object or a parent on the path is not one.
    """
    bom = _BOM if text.startswith(_BOM) else ""
    body = text.removeprefix(_BOM)
    parse(body)
    indent, newline = _style(body)
    for cut in range(len(path), 0, -1):
        try:
            start, members, end = _locate(body, path[:cut])
        except KeyError:
            continue
        # wrap the value in the objects that are missing between path[:cut] and the leaf
        leaf: Any = value
        for key in reversed(path[cut:]):
            leaf = {key: leaf}
        return bom + _put(body, start, members, end, path[cut - 1], leaf, indent, newline)
    raise JsonTextError("empty path")


def _put(
    text: str,
    start: int,
    members: list[_Member],
    end: int,
    key: str,
    value: Any,
    indent: str | None,
    newline: str,
) -> str:
    found = [m for m in members if m.key == key]
    if found:
        m = found[-1]
        base = _leading(text, m.key_start)
        new = _dump(value, indent, base, newline)
        return text[: m.value_start] + new + text[m.value_end :]
    key_text = json.dumps(key, ensure_ascii=False)
    if indent is None:
        sep = ", " if members else ""
        return text[:end] + f"{sep}{key_text}: {_dump(value, None, '', newline)}" + text[end:]
    if members:
        base = _leading(text, members[-1].key_start)
        entry = f",{newline}{base}{key_text}: {_dump(value, indent, base, newline)}"
        cut = members[-1].value_end
        return text[:cut] + entry + text[cut:]
    outer = _leading(text, start)
    base = outer + indent
    inner = f"{newline}{base}{key_text}: {_dump(value, indent, base, newline)}{newline}{outer}"
    return text[: start + 1] + inner + text[end:]


def delete_member(text: str, path: tuple[str, ...]) -> str:
    """``text`` without the member at ``path`` (unchanged when it is absent)."""
    bom = _BOM if text.startswith(_BOM) else ""
    body = text.removeprefix(_BOM)
    parse(body)
    try:
        start, members, end = _locate(body, path)
    except KeyError:
        return text
    idx = [i for i, m in enumerate(members) if m.key == path[-1]]
    if not idx:
        return text
    i = idx[-1]
    m = members[i]
    if len(members) == 1:
        return bom + body[: start + 1] + body[end:]
    if i > 0:
        cut_from = members[i - 1].value_end
        return bom + body[:cut_from] + body[m.value_end :]
    return bom + body[: m.key_start] + body[members[1].key_start :]
