"""The slice of OData query options the Graph fake understands, as Graph documents them."""

from __future__ import annotations

import re
from typing import Any

__all__ = ["ODataQueryError", "apply_filter", "apply_search", "needs_advanced", "project"]


class ODataQueryError(ValueError):
    """The query is invalid or unsupported (Graph answers 400)."""


CLAUSE = re.compile(
    r"^(?P<field>[\w/]+)\s+(?P<op>eq|ne|ge|le|gt|lt)\s+(?P<value>'(?:[^']|'')*'|true|false|null|[\w:.+-]+)$",
    re.I,
)
STARTS = re.compile(
    r"^(?P<fn>startswith|endswith)\((?P<field>[\w/]+),\s*'(?P<value>(?:[^']|'')*)'\)$", re.I
)
ANY = re.compile(
    r"^(?P<field>\w+)/any\((?P<v>\w+):(?P=v)\s+eq\s+'(?P<value>(?:[^']|'')*)'\)$", re.I
)


def _get(obj: dict[str, Any], path: str) -> Any:
    value: Any = obj
    for part in path.split("/"):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _literal(raw: str) -> Any:
    if raw.startswith("'"):
        return raw[1:-1].replace("''", "'")
    low = raw.lower()
    if low in ("true", "false"):
        return low == "true"
    if low == "null":
        return None
    try:
        return int(raw)
    except ValueError:
        return raw  # a date/time literal, compared as ISO text


def _split_and(expr: str) -> list[str]:
    parts, depth, quote, start = [], 0, False, 0
    i = 0
    while i < len(expr):
        c = expr[i]
        if c == "'":
            quote = not quote
        elif not quote and c == "(":
            depth += 1
        elif not quote and c == ")":
            depth -= 1
        elif not quote and depth == 0 and expr[i : i + 5].lower() == " and ":
            parts.append(expr[start:i].strip())
            start = i + 5
            i += 4
        i += 1
    parts.append(expr[start:].strip())
    return parts


def needs_advanced(expr: str) -> bool:
    """ne, not and endsWith are advanced queries on directory objects."""
    return bool(re.search(r"\s(ne)\s|\bnot\b|endswith\(", expr, re.I))


def _match(obj: dict[str, Any], clause: str) -> bool:
    if m := STARTS.match(clause):
        value = str(_get(obj, m["field"]) or "").casefold()
        want = m["value"].replace("''", "'").casefold()
        return value.startswith(want) if m["fn"].lower() == "startswith" else value.endswith(want)
    if m := ANY.match(clause):
        return m["value"].replace("''", "'") in (obj.get(m["field"]) or [])
    if m := CLAUSE.match(clause):
        have, want, op = _get(obj, m["field"]), _literal(m["value"]), m["op"].lower()
        if isinstance(have, str) and isinstance(want, str):
            have, want = have.casefold(), want.casefold()
        if op == "eq":
            return bool(have == want)
        if op == "ne":
            return bool(have != want)
        if have is None:
            return False
        return bool(
            {"ge": have >= want, "le": have <= want, "gt": have > want, "lt": have < want}[op]
        )
    raise ODataQueryError(f"Invalid filter clause: {clause!r}")


def apply_filter(items: list[dict[str, Any]], expr: str) -> list[dict[str, Any]]:
    """The items matching a conjunction of simple clauses."""
    clauses = _split_and(expr)
    return [o for o in items if all(_match(o, c) for c in clauses)]


def apply_search(items: list[dict[str, Any]], expr: str) -> list[dict[str, Any]]:
    """``"property:text"`` terms, matched as Graph's tokenized search does (prefix of a word)."""
    terms = re.findall(r'"([^":]+):([^"]*)"', expr)
    if not terms:
        raise ODataQueryError('Syntax error: the $search value must be "property:text"')

    def hit(o: dict[str, Any], prop: str, text: str) -> bool:
        words = re.split(r"[\s@._-]+", str(o.get(prop) or "").casefold())
        return any(w.startswith(text.casefold()) for w in words)

    return [o for o in items if any(hit(o, p, t) for p, t in terms)]


def project(obj: dict[str, Any], select: str | None) -> dict[str, Any]:
    """``$select``: only the named properties (plus @odata.type on mixed collections)."""
    if not select:
        return dict(obj)
    names = [s.strip() for s in select.split(",") if s.strip()]
    out = {k: obj.get(k) for k in names}
    if "@odata.type" in obj:
        out["@odata.type"] = obj["@odata.type"]
    return out
