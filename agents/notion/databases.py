"""Databases under API 2025-09-03: a database holds data sources; a data source holds the
schema and the rows. Plain values are converted by each column's type, both ways."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from agents.core.errors import InputError, NotFoundError
from agents.notion.client import Notion, notion_id
from agents.notion.markdown import inline_to_rich_text
from agents.notion.pages import title_of
from agents.notion.richtext import plain_text, rich_text_to_markdown

__all__ = [
    "READ_ONLY",
    "column_types",
    "encode_values",
    "plain_value",
    "resolve_data_source",
    "schema_from_columns",
    "sorts_for",
    "where_filter",
]

READ_ONLY = frozenset(
    "formula rollup created_time created_by last_edited_time last_edited_by unique_id "
    "verification button".split()
)
_COLUMN_ALIASES = {"text": "rich_text", "phone": "phone_number", "person": "people"}
_CREATABLE = frozenset(
    "title rich_text number checkbox select multi_select date url email phone_number people "
    "files created_time last_edited_time created_by last_edited_by".split()
)
_TRUE = {"true", "yes", "y", "1", "x", "on", "checked", "done"}
_FALSE = {"false", "no", "n", "0", "", "off", "unchecked"}


async def resolve_data_source(notion: Notion, ref: str, param: str) -> dict[str, Any]:
    """The data source named by ``ref``: a data source ID, or a database with exactly one.

    Raises:
        InputError: The database has several data sources (they are listed) or none.
        NotFoundError: Neither a database nor a data source has that ID.
    """
    ident = notion_id(ref, param)
    try:
        database = await notion.call(
            f"database {ref!r}", notion.sdk.databases.retrieve, database_id=ident
        )
    except NotFoundError:
        return await notion.call(
            f"database or data source {ref!r}",
            notion.sdk.data_sources.retrieve,
            data_source_id=ident,
        )
    sources = database.get("data_sources") or []
    if len(sources) != 1:
        listed = ", ".join(f"{s.get('name') or '(untitled)'} ({s['id']})" for s in sources)
        raise InputError(
            f"{param}: database {title_of(database)!r} has {len(sources)} data sources"
            + (f": {listed}; pass one of their IDs" if sources else "")
        )
    return await notion.call(
        f"data source {sources[0]['id']!r}",
        notion.sdk.data_sources.retrieve,
        data_source_id=sources[0]["id"],
    )


def column_types(source: dict[str, Any]) -> dict[str, str]:
    """Column name → type of a data source."""
    return {name: str(p.get("type")) for name, p in (source.get("properties") or {}).items()}


def _column(schema: dict[str, Any], name: str, param: str) -> dict[str, Any]:
    if name in schema:
        return {**schema[name], "name": name}
    for key, prop in schema.items():
        if key.casefold() == name.strip().casefold():
            return {**prop, "name": key}
    raise InputError(
        f"{param}: no column named {name!r}; the columns are {', '.join(sorted(schema))}"
    )


def _items(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value if str(v).strip()]
    return [v.strip() for v in str(value).split(",") if v.strip()]


def _iso(value: Any, param: str) -> str:
    text = str(value).strip()
    try:
        (datetime if "T" in text or " " in text else date).fromisoformat(text)
    except ValueError:
        raise InputError(
            f"{param}: {text!r} is not an ISO date; use YYYY-MM-DD or YYYY-MM-DDTHH:MM"
        ) from None
    return text


def _bool(value: Any, param: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE | _FALSE:
        return text in _TRUE
    raise InputError(f"{param}: {value!r} is not true or false")


def _encode(kind: str, value: Any, param: str) -> Any:
    if kind in ("title", "rich_text"):
        return inline_to_rich_text(str(value)) if value not in (None, "") else []
    if kind == "number":
        if value in (None, ""):
            return None
        try:
            return float(value) if "." in str(value) or "e" in str(value).lower() else int(value)
        except (TypeError, ValueError):
            raise InputError(f"{param}: {value!r} is not a number") from None
    if kind == "checkbox":
        return _bool(value, param)
    if kind in ("select", "status"):
        return {"name": str(value).strip()} if value not in (None, "") else None
    if kind == "multi_select":
        return [{"name": v} for v in _items(value)]
    if kind == "date":
        if value in (None, ""):
            return None
        start, _, end = str(value).partition("/")
        return {"start": _iso(start, param), **({"end": _iso(end, param)} if end else {})}
    if kind in ("url", "email", "phone_number"):
        return str(value).strip() or None
    if kind in ("people", "relation"):
        return [{"id": notion_id(v, param)} for v in _items(value)]
    if kind == "files":
        urls = _items(value)
        return [{"name": u[-100:], "type": "external", "external": {"url": u}} for u in urls]
    raise InputError(f"{param}: columns of type {kind} cannot be set through this tool")


def encode_values(schema: dict[str, Any], values: dict[str, Any], param: str) -> dict[str, Any]:
    """Notion property values for plain ``values`` keyed by column name.

    Raises:
        InputError: An unknown column, a computed column, or a value its type cannot hold.
    """
    out: dict[str, Any] = {}
    for name, value in values.items():
        column = _column(schema, name, param)
        kind = str(column.get("type"))
        where = f"{param}[{column['name']!r}]"
        if kind in READ_ONLY:
            raise InputError(f"{where}: {kind} columns are computed by Notion and cannot be set")
        out[column["name"]] = {kind: _encode(kind, value, where)}
    return out


def _person(user: dict[str, Any]) -> str:
    return str(user.get("name") or user.get("id", ""))


def plain_value(prop: dict[str, Any]) -> Any:
    """A JSON-friendly value for one property value (text as markdown)."""
    kind = prop.get("type", "")
    value = prop.get(kind)
    if kind == "title":
        return plain_text(value or [])
    if kind == "rich_text":
        return rich_text_to_markdown(value or [])
    if kind in ("select", "status"):
        return value.get("name") if value else None
    if kind == "multi_select":
        return [v.get("name") for v in value or []]
    if kind == "date":
        if not value:
            return None
        return value["start"] + (f"/{value['end']}" if value.get("end") else "")
    if kind == "people":
        return [_person(u) for u in value or []]
    if kind in ("created_by", "last_edited_by"):
        return _person(value or {})
    if kind == "relation":
        return [r.get("id") for r in value or []]
    if kind == "files":
        return [(f.get(f.get("type", "")) or {}).get("url", f.get("name")) for f in value or []]
    if kind in ("formula", "rollup") and isinstance(value, dict):
        inner = value.get(value.get("type", ""))
        if isinstance(inner, list):
            return [plain_value(v) for v in inner]
        return plain_value({"type": value.get("type"), value.get("type", ""): inner})
    if kind == "unique_id" and value:
        prefix = value.get("prefix")
        return f"{prefix}-{value.get('number')}" if prefix else value.get("number")
    return value


def where_filter(
    schema: dict[str, Any], where: dict[str, Any], match: Literal["exact", "contains"], param: str
) -> dict[str, Any] | None:
    """A Notion filter requiring every column in ``where`` to match its value."""
    conditions: list[dict[str, Any]] = []
    for name, value in where.items():
        column = _column(schema, name, param)
        kind = str(column.get("type"))
        at = f"{param}[{column['name']!r}]"
        text_op = "contains" if match == "contains" else "equals"
        condition: dict[str, Any]
        if kind in ("title", "rich_text", "url", "email", "phone_number"):
            condition = {text_op: str(value)}
        elif kind == "number":
            condition = {"equals": _encode("number", value, at)}
        elif kind == "checkbox":
            condition = {"equals": _bool(value, at)}
        elif kind in ("select", "status"):
            condition = {"equals": str(value)} if value not in (None, "") else {"is_empty": True}
        elif kind == "multi_select":
            condition = {"contains": str(value)}
        elif kind == "date":
            condition = {"equals": _iso(value, at)}
        elif kind in ("people", "relation"):
            condition = {"contains": notion_id(str(value), at)}
        else:
            raise InputError(f"{at}: cannot match {kind} columns by value; use filter instead")
        conditions.append({"property": column["name"], kind: condition})
    if not conditions:
        return None
    return conditions[0] if len(conditions) == 1 else {"and": conditions}


def sorts_for(schema: dict[str, Any], sort_by: str, descending: bool) -> list[dict[str, Any]]:
    """Notion sorts for a column name or ``created_time``/``last_edited_time``."""
    direction = "descending" if descending else "ascending"
    if sort_by in ("created_time", "last_edited_time"):
        return [{"timestamp": sort_by, "direction": direction}]
    column = _column(schema, sort_by, "sort_by")
    return [{"property": column["name"], "direction": direction}]


def schema_from_columns(columns: dict[str, str], param: str) -> dict[str, Any]:
    """Notion property schema for ``{"Name": "title", "Status": "select: Todo, Done"}``.

    A ``Name`` title column is added when none is given.
    """
    schema: dict[str, Any] = {}
    for name, spec in columns.items():
        kind, _, options = str(spec).partition(":")
        kind = _COLUMN_ALIASES.get(kind.strip().lower(), kind.strip().lower())
        at = f"{param}[{name!r}]"
        if not name.strip():
            raise InputError(f"{param}: column names cannot be empty")
        if kind not in _CREATABLE:
            raise InputError(
                f"{at}: unknown column type {spec!r}; use one of {', '.join(sorted(_CREATABLE))} "
                "(select and multi_select take options: 'select: A, B')"
            )
        config: dict[str, Any] = {}
        if kind in ("select", "multi_select"):
            config = {"options": [{"name": o} for o in _items(options)]}
        schema[name.strip()] = {kind: config}
    titles = [n for n, v in schema.items() if "title" in v]
    if len(titles) > 1:
        raise InputError(f"{param}: only one column can be the title; got {', '.join(titles)}")
    if not titles:
        if "Name" in schema:
            raise InputError(f"{param}: make one column the title, e.g. 'Name': 'title'")
        schema = {"Name": {"title": {}}, **schema}
    return schema
