"""Tool errors a model can act on: "did you mean" for unknown names, and argument errors that name
the parameter, what it takes and what it got, in place of pydantic's text and its links."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError

__all__ = [
    "arguments_message",
    "suggest",
    "unknown_arguments_message",
    "unknown_tool_message",
]

_SHOWN_NAME = 60
_JSON_TYPES = {
    bool: "boolean",
    int: "integer",
    float: "number",
    str: "string",
    list: "array",
    dict: "object",
    type(None): "null",
}
_BOUNDS = (
    ("minimum", "≥"),
    ("exclusiveMinimum", ">"),
    ("maximum", "≤"),
    ("exclusiveMaximum", "<"),
)


def _shown(name: str) -> str:
    return repr(name if len(name) <= _SHOWN_NAME else f"{name[:_SHOWN_NAME]}…")


def _norm(name: str) -> str:
    return name.lower().replace("-", "").replace("_", "").replace(" ", "")


def suggest(name: str, candidates: Iterable[str], limit: int = 3) -> list[str]:
    """The candidates ``name`` most likely meant, best first: the same name spelt differently
    (case, ``-``/``_``), names it begins or ends (``search`` → ``search_workspace``, ``parent`` →
    ``parent_page_id``, ``id`` → ``page_id``), names that are a part of it (``text_value`` →
    ``text``), then near misspellings (``usr`` → ``user``)."""
    pool = sorted(set(candidates) - {name})
    if not name or len(name) > 200:
        return []
    key = _norm(name)
    found: list[str] = [c for c in pool if _norm(c) == key]
    if len(key) >= 2:
        parts = [c for c in pool if c not in found and _affix(key, _norm(c), c, name.lower())]
        # the shortest first: `search` means search_workspace before search_workspace_pages
        found += sorted(parts, key=len)
    found += [
        c for c in difflib.get_close_matches(name, pool, n=limit, cutoff=0.7) if c not in found
    ]
    return found[:limit]


def _affix(key: str, norm: str, candidate: str, lowered: str) -> bool:
    words = candidate.lower().replace("-", "_").split("_")
    if norm.startswith(key) or norm.endswith(key) or lowered in words:
        return True
    # the caller's name holds a whole candidate: `text_value` -> `text`, `pageid` -> `page_id`
    return len(norm) >= 3 and (key.startswith(norm) or key.endswith(norm))


def _did_you_mean(options: list[str]) -> str:
    if not options:
        return ""
    if len(options) == 1:
        return f"; did you mean {options[0]!r}?"
    return f"; did you mean {', '.join(repr(o) for o in options[:-1])} or {options[-1]!r}?"


def unknown_tool_message(tool: str, known: Iterable[str]) -> str:
    """``tool`` does not exist: the nearest real names, then every tool of the agent."""
    names = sorted(known)
    hint = _did_you_mean(suggest(tool, names))
    # as sent, not repr(): the caller recognises its own text, invisible characters included
    shown = tool if len(tool) <= 100 else f"{tool[:100]}…"
    return f"unknown tool '{shown}'{hint or '.'} Tools of this agent: {', '.join(names)}"


def unknown_arguments_message(tool: str, unknown: list[str], known: frozenset[str]) -> str:
    """``tool`` does not take ``unknown``: say which, suggest the nearest known names, list
    what it takes."""
    shown = [_shown(k) for k in unknown[:10]]
    more = f" and {len(unknown) - 10} more" if len(unknown) > 10 else ""
    noun = "parameter" if len(unknown) == 1 else "parameters"
    message = f"{tool} has no {noun} {', '.join(shown)}{more}"
    hints = {k: close[0] for k in unknown[:10] if (close := suggest(k, known, limit=1))}
    if hints:
        pairs = ", ".join(f"{v!r} instead of {_shown(k)}" for k, v in hints.items())
        message += f"; did you mean {pairs}?"
    else:
        message += "."
    return f"{message} It takes: {', '.join(sorted(known)) or 'no parameters'}"


def json_type(value: object) -> str:
    """The JSON name of ``value``'s type (``string``, ``integer``, ``null``...)."""
    for kind, name in _JSON_TYPES.items():
        if type(value) is kind:
            return name
    return type(value).__name__


def describe(schema: dict[str, Any]) -> str:
    """What a parameter's JSON schema admits, in words: ``integer ≥ 1``, ``one of 'a', 'b'``,
    ``array of string or null``."""
    if "anyOf" in schema or "oneOf" in schema:
        return " or ".join(describe(s) for s in schema.get("anyOf", schema.get("oneOf", [])))
    if "enum" in schema:
        return "one of " + ", ".join(repr(v) for v in schema["enum"])
    if "const" in schema:
        return repr(schema["const"])
    kind = schema.get("type", "any value")
    if isinstance(kind, list):
        kind = " or ".join(kind)
    text = str(kind)
    if kind == "array" and isinstance(schema.get("items"), dict) and schema["items"]:
        text = f"array of {describe(schema['items'])}"
    bounds = [f"{sign} {schema[key]}" for key, sign in _BOUNDS if key in schema]
    if "minLength" in schema or "maxLength" in schema:
        bounds.append(f"length {schema.get('minLength', 0)}..{schema.get('maxLength', '')}")
    if "minItems" in schema or "maxItems" in schema:
        bounds.append(f"{schema.get('minItems', 0)}..{schema.get('maxItems', '')} items")
    if "pattern" in schema:
        bounds.append(f"matching {schema['pattern']}")
    return f"{text} {', '.join(bounds)}".rstrip()


def _got(value: object) -> str:
    kind = json_type(value)
    if isinstance(value, bool | int | float) and len(repr(value)) <= 20:
        return f"{kind} {value!r}"
    return kind


def arguments_message(tool: str, exc: ValidationError, schema: dict[str, Any] | None) -> str:
    """The arguments of a call to ``tool`` failed validation: one clause per parameter, naming
    it, what it expects (from the tool's input schema) and the type of what it got. Pydantic's
    own text is kept only for its reason (``Input should be ...``), never its links."""
    props: dict[str, Any] = (schema or {}).get("properties", {})
    by_param: dict[str, list[dict[str, Any]]] = {}
    for err in exc.errors(include_url=False):
        param = str(err["loc"][0]) if err["loc"] else ""
        by_param.setdefault(param, []).append(dict(err))
    clauses = []
    for param, errors in by_param.items():
        first = errors[0]
        if not param:  # about the arguments as a whole (a model validator)
            clauses.append(f"the arguments: {str(first['msg']).removeprefix('Value error, ')}")
            continue
        expects = describe(props[param]) if param in props else None
        if first["type"] == "missing":
            clauses.append(
                f"parameter {_shown(param)} is required" + (f" ({expects})" if expects else "")
            )
            continue
        where = _shown(".".join(str(p) for p in first["loc"]))
        msg = str(first["msg"]).removeprefix("Value error, ")
        clause = (
            f"parameter {where} {msg.removeprefix('Input ')}"
            if msg.startswith("Input ")
            else f"parameter {where}: {msg}"
        )
        expected = f"expects {expects}, " if expects else ""
        clause += f" ({expected}got {_got(first.get('input'))})"
        if len(errors) > 1:
            clause += f" (and {len(errors) - 1} more in {_shown(param)})"
        clauses.append(clause)
    return f"{tool}: invalid arguments: " + "; ".join(clauses)
