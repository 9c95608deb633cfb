"""Readable differences between two document bodies: JSON paths plus text diffs."""

from __future__ import annotations

import difflib
import json
from typing import Any

__all__ = ["body_changes", "render_body_diff"]

_MISSING = object()


def _lines(value: Any, path: str = "") -> list[str]:
    """One line per leaf (``/a/b: value``); multi-line strings expanded as indented text."""
    if isinstance(value, dict) and value:
        out: list[str] = []
        for key in sorted(value):
            out += _lines(value[key], f"{path}/{key}")
        return out
    if isinstance(value, list) and value:
        out = []
        for i, item in enumerate(value):
            out += _lines(item, f"{path}/{i}")
        return out
    if isinstance(value, str) and "\n" in value:
        return [f"{path or '/'}: |", *(f"    {line}" for line in value.split("\n"))]
    return [f"{path or '/'}: {json.dumps(value, ensure_ascii=False)}"]


def render_body_diff(old: Any, new: Any, old_name: str = "a", new_name: str = "b") -> str:
    """A unified diff of the two bodies, one leaf per line, text fields as text."""
    a = [] if old is _MISSING or old is None else _lines(old)
    b = [] if new is _MISSING or new is None else _lines(new)
    return "\n".join(difflib.unified_diff(a, b, old_name, new_name, lineterm="", n=2))


def body_changes(old: Any, new: Any, path: str = "") -> list[dict[str, Any]]:
    """Field-level changes as ``{op: added|removed|modified, path, old, new}`` (JSON pointer)."""
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[dict[str, Any]] = []
        for key in sorted(old.keys() | new.keys()):
            sub = f"{path}/{key}"
            if key not in new:
                out.append({"op": "removed", "path": sub, "old": old[key]})
            elif key not in old:
                out.append({"op": "added", "path": sub, "new": new[key]})
            else:
                out += body_changes(old[key], new[key], sub)
        return out
    if old == new and type(old) is type(new):
        return []
    return [{"op": "modified", "path": path or "/", "old": old, "new": new}]
