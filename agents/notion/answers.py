"""Notion's answers checked at the boundary: the shape the tools read, or a clear error.

A vendor answer is input like any other. Every answer passes :func:`checked` before a tool
reads it: a JSON object, and for each object inside it (pages, blocks, databases, data
sources, lists, users, rich text) the fields the tools rely on, of the right type: an ``id``
string, ``results`` a list of objects, ``properties`` a map of objects, a block's payload an
object, rich text a list of objects. Anything else is an :class:`UnexpectedAnswerError`
naming where the answer went wrong, never a ``KeyError`` deep in a tool.
"""

from __future__ import annotations

from typing import Any

from agents.core.errors import UpstreamError

__all__ = ["UnexpectedAnswerError", "checked"]

WITH_ID = {"page", "block", "database", "data_source", "user", "comment"}
RICH = ("rich_text", "caption", "cells")
MAX_DEPTH = 64


class UnexpectedAnswerError(UpstreamError):
    """Notion answered with JSON that is not the object it documents."""


def _bad(what: str, where: str, why: str) -> UnexpectedAnswerError:
    return UnexpectedAnswerError(
        f"Notion's answer while working on {what} is not what its API documents: {where} "
        f"{why}; nothing was done with it. Try again; if it persists, check NOTION_BASE_URL",
        code="unexpected_answer",
    )


def checked(answer: Any, what: str) -> dict[str, Any]:
    """``answer`` if it has the shape the tools read (see the module docstring).

    Raises:
        UnexpectedAnswerError: It does not; the message says where.
    """
    if not isinstance(answer, dict):
        raise _bad(what, "the answer", f"is {type(answer).__name__}, not a JSON object")
    kind = answer.get("object")
    if not isinstance(kind, str) or kind == "error":
        raise _bad(what, "the answer's object", "does not name a Notion object")
    _walk(answer, what, "answer", 0)
    return answer


def _rich(value: Any, what: str, where: str) -> None:
    items = value if isinstance(value, list) else None
    if items is None or not all(isinstance(i, dict) for i in items):
        raise _bad(what, where, "is not a list of rich text objects")
    for i, item in enumerate(items):
        if "plain_text" in item and not isinstance(item["plain_text"], str):
            raise _bad(what, f"{where}[{i}].plain_text", "is not text")


def _column(d: dict[str, Any], key: str) -> bool:
    """Whether ``d[key]`` is a column's schema (an object, e.g. ``"title": {}``) rather than a
    value (a list): data sources describe each column by its type's object."""
    return d.get("type") == key and isinstance(d.get(key), dict)


def _object(d: dict[str, Any], what: str, where: str) -> None:
    kind = d.get("object")
    if kind is not None and not isinstance(kind, str):
        raise _bad(what, f"{where}.object", "is not a string")
    if kind in WITH_ID and not (isinstance(d.get("id"), str) and d["id"]):
        raise _bad(what, f"{where}.id", f"is missing from a {kind}")
    if kind == "list":
        if not isinstance(d.get("results"), list):
            raise _bad(what, f"{where}.results", "is not a list")
        if not all(isinstance(r, dict) for r in d["results"]):
            raise _bad(what, f"{where}.results", "holds something that is not an object")
        if not isinstance(d.get("next_cursor"), str | None):
            raise _bad(what, f"{where}.next_cursor", "is neither text nor null")
    if kind == "block":
        btype = d.get("type")
        if not isinstance(btype, str) or not isinstance(d.get(btype, {}), dict):
            raise _bad(what, f"{where}.type", "does not name the block's payload object")
    for key in ("properties", "parent", "annotations", "text"):
        if key in d and not isinstance(d[key], dict):
            raise _bad(what, f"{where}.{key}", "is not an object")
    if isinstance(d.get("properties"), dict) and not all(
        isinstance(p, dict) for p in d["properties"].values()
    ):
        raise _bad(what, f"{where}.properties", "holds a property that is not an object")
    for key in ("data_sources", "children", "multi_select", "people", "relation", "files"):
        if key in d and _column(d, key):
            continue
        if key in d and not (isinstance(d[key], list) and all(isinstance(i, dict) for i in d[key])):
            raise _bad(what, f"{where}.{key}", "is not a list of objects")
    for key in RICH:
        if key in d and key != "cells" and not _column(d, key):
            _rich(d[key], what, f"{where}.{key}")
    if "cells" in d:
        cells = d["cells"]
        if not isinstance(cells, list):
            raise _bad(what, f"{where}.cells", "is not a list")
        for i, cell in enumerate(cells):
            _rich(cell, what, f"{where}.cells[{i}]")
    if "title" in d and (kind in ("database", "data_source") or d.get("type") == "title"):
        if not _column(d, "title"):
            _rich(d["title"], what, f"{where}.title")
    for key in ("has_more", "has_children", "in_trash", "archived", "checked"):
        if key in d and not isinstance(d[key], bool | None):
            raise _bad(what, f"{where}.{key}", "is not true or false")
    for key in ("url", "type", "plain_text", "next_cursor", "last_edited_time", "created_time"):
        if key in d and not isinstance(d[key], str | None):
            raise _bad(what, f"{where}.{key}", "is not text")


def _walk(value: Any, what: str, where: str, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise _bad(what, where, f"nests deeper than {MAX_DEPTH} levels")
    if isinstance(value, dict):
        _object(value, what, where)
        for k, v in value.items():
            if isinstance(v, dict | list):
                _walk(v, what, f"{where}.{k}", depth + 1)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            if isinstance(v, dict | list):
                _walk(v, what, f"{where}[{i}]", depth + 1)
