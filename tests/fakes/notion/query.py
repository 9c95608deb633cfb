"""Data source query filters and sorts, as the fake evaluates them."""

from __future__ import annotations

from typing import Any

from tests.fakes.notion.store import Obj, invalid, plain

_TEXT = {"title", "rich_text", "url", "email", "phone_number"}


def _value(row: Obj, prop: Obj) -> Any:
    kind = prop["type"]
    raw = prop.get(kind)
    if kind in ("title", "rich_text"):
        return plain(raw or [])
    if kind in ("select", "status"):
        return raw["name"] if raw else None
    if kind == "multi_select":
        return [o["name"] for o in raw or []]
    if kind == "date":
        return raw["start"] if raw else None
    if kind in ("people", "relation"):
        return [r["id"] for r in raw or []]
    return raw


def _compare(kind: str, actual: Any, op: str, expected: Any) -> bool:
    if op == "is_empty":
        return actual in (None, "", [])
    if op == "is_not_empty":
        return actual not in (None, "", [])
    if kind in _TEXT:
        a, e = str(actual or ""), str(expected)
        return {
            "equals": a == e,
            "does_not_equal": a != e,
            "contains": e.casefold() in a.casefold(),
            "does_not_contain": e.casefold() not in a.casefold(),
            "starts_with": a.casefold().startswith(e.casefold()),
            "ends_with": a.casefold().endswith(e.casefold()),
        }[op]
    if kind in ("multi_select", "people", "relation"):
        return (expected in actual) == (op == "contains")
    if kind == "date" and actual is not None:
        a, e = str(actual)[:10], str(expected)[:10]
        return {
            "equals": a == e,
            "before": a < e,
            "after": a > e,
            "on_or_before": a <= e,
            "on_or_after": a >= e,
        }[op]
    if op == "equals":
        return bool(actual == expected)
    if op == "does_not_equal":
        return bool(actual != expected)
    if actual is None:
        return False
    return bool(
        {
            "greater_than": actual > expected,
            "less_than": actual < expected,
            "greater_than_or_equal_to": actual >= expected,
            "less_than_or_equal_to": actual <= expected,
        }[op]
    )


def matches(row: Obj, flt: Obj, schema: Obj) -> bool:
    """Whether ``row`` passes the Notion filter ``flt``."""
    if "and" in flt:
        return all(matches(row, f, schema) for f in flt["and"])
    if "or" in flt:
        return any(matches(row, f, schema) for f in flt["or"])
    if "timestamp" in flt:
        kind = flt["timestamp"]
        ((op, expected),) = flt[kind].items()
        return _compare("date", row[kind], op, expected)
    name = str(flt.get("property"))
    column = schema.get(name) or next((c for c in schema.values() if c["id"] == name), None)
    if column is None:
        raise invalid(f"Could not find property with name or id: {name}")
    kinds = [k for k in flt if k != "property"]
    allowed = {column["type"], "rich_text"} if column["type"] == "title" else {column["type"]}
    if len(kinds) != 1 or kinds[0] not in allowed:
        raise invalid(
            f"body failed validation: filter on {name!r} should use the {column['type']} key"
        )
    condition = flt[kinds[0]]
    if not isinstance(condition, dict) or len(condition) != 1:
        raise invalid(f"body failed validation: filter.{kinds[0]} should have one condition")
    ((op, expected),) = condition.items()
    return _compare(column["type"], _value(row, row["properties"][column["name"]]), op, expected)


def sort_rows(rows: list[Obj], sorts: list[Obj], schema: Obj) -> list[Obj]:
    """``rows`` ordered by ``sorts`` (first sort most significant)."""
    for spec in reversed(sorts):
        reverse = spec.get("direction") == "descending"
        if "timestamp" in spec:
            rows = sorted(rows, key=lambda r, k=spec["timestamp"]: r[k], reverse=reverse)
            continue
        column = schema.get(str(spec.get("property")))
        if column is None:
            raise invalid(f"Could not find sort property with name or id: {spec.get('property')}")

        found: Obj = column

        def key(r: Obj, c: Obj = found) -> tuple[bool, Any]:
            value = _value(r, r["properties"][c["name"]])
            return (value is None, value if value is not None else 0)

        rows = sorted(rows, key=key, reverse=reverse)
    return rows
