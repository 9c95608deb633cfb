"""The fuzz oracle: whether a tool call is malformed for its input schema, and whether an agent's
answer to it is acceptable (a clear tool error naming what is wrong, never a crash or traceback).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator

__all__ = ["JSON_TYPES", "Call", "branches", "judge", "offending", "types_of"]

JSON_TYPES = ("string", "integer", "number", "boolean", "null", "array", "object")
BOOL_WORDS = {"0", "off", "f", "false", "n", "no", "1", "on", "t", "true", "y", "yes"}
_TRACEBACK = re.compile(r"Traceback \(most recent call last\)|File \"[^\"]+\", line \d+")


@dataclass(frozen=True)
class Call:
    """One tool call, with what was done to it (for the report of a failing example)."""

    tool: str
    arguments: dict[str, Any]
    faults: tuple[str, ...]

    def __repr__(self) -> str:
        text = json.dumps(self.arguments, ensure_ascii=True, default=repr)
        if len(text) > 600:
            text = f"{text[:300]}…({len(text)} chars)…{text[-200:]}"
        return f"Call({self.tool!r}, faults={self.faults!r}, arguments={text})"


def branches(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The alternatives of a parameter's schema (``anyOf``), or the schema itself."""
    return list(schema["anyOf"]) if "anyOf" in schema else [schema]


def types_of(schema: dict[str, Any]) -> set[str]:
    """The JSON types a parameter's schema admits (all of them when it names none)."""
    found = {b.get("type", "any") for b in branches(schema)}
    return set(JSON_TYPES) if "any" in found else found


def _readings(value: Any, kind: str | None) -> list[Any]:
    """``value`` and what pydantic's lax mode may read it as for a field of JSON type ``kind``
    (a generous superset: the oracle must never call a call malformed that the agent accepts)."""
    out = [value]
    if kind in ("integer", "number"):
        if isinstance(value, bool):
            out.append(int(value))
        elif isinstance(value, str):
            try:
                number = float(value.strip().replace("_", ""))
            except ValueError:
                number = math.nan
            if math.isfinite(number):
                out.append(int(number) if number.is_integer() else number)
        elif isinstance(value, float) and value.is_integer():
            out.append(int(value))
    elif kind == "boolean":
        if isinstance(value, int | float) and not isinstance(value, bool) and value in (0, 1):
            out.append(bool(value))
        elif isinstance(value, str) and value.strip().lower() in BOOL_WORDS:
            out.append(value.strip().lower() in {"1", "on", "t", "true", "y", "yes"})
    return out


def _fits(value: Any, schema: dict[str, Any]) -> bool:
    """Whether some lax reading of ``value`` is valid against ``schema`` (jsonschema decides)."""
    for branch in branches(schema):
        kind = branch.get("type")
        if kind == "array" and isinstance(value, list):
            bounds = {k: v for k, v in branch.items() if k != "items"}
            items = branch.get("items", {})
            if Draft202012Validator(bounds).is_valid(value) and all(
                _fits(item, items) for item in value
            ):
                return True
        elif kind == "object" and isinstance(value, dict):
            extra = branch.get("additionalProperties", True)
            if not isinstance(extra, dict) or all(_fits(v, extra) for v in value.values()):
                return True
        elif any(Draft202012Validator(branch).is_valid(r) for r in _readings(value, kind)):
            return True
    return False


def offending(schema: dict[str, Any], arguments: dict[str, Any]) -> set[str]:
    """The parameters of a call that no lenient reading makes valid against the tool's input
    ``schema``: missing required ones, and those whose value fits no branch of their schema even
    after the SDK's JSON-in-a-string pre-parse and pydantic's lax conversions ("5" for 5, "true"
    for true). Empty means the call is valid, unknown properties aside (see :func:`judge`)."""
    props: dict[str, Any] = schema.get("properties", {})
    bad = {name for name in schema.get("required", []) if name not in arguments}
    for name, value in arguments.items():
        if name not in props:
            continue
        readings = [value]
        if isinstance(value, str):
            try:
                parsed = json.loads(value)
            except (ValueError, RecursionError):
                parsed = value
            if not isinstance(parsed, str | int | float):
                readings.append(parsed)
        if not any(_fits(r, props[name]) for r in readings):
            bad.add(name)
    return bad


def _names(text: str, name: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text) is not None


def judge(call: Call, schema: dict[str, Any] | None, is_error: bool, text: str) -> str:
    """Check one answer; return ``malformed``, ``valid_ok`` or ``valid_error``.

    Raises:
        AssertionError: the answer is a traceback, a bare crash error, a success of a malformed
            call, or an error that does not name the offending parameters.
    """
    where = f"{call!r} answered is_error={is_error}: {text[:800]!r}"
    assert not _TRACEBACK.search(text), f"a traceback leaked: {where}"
    if is_error:
        detail = text.removeprefix(f"Error executing tool {call.tool}").lstrip(": ").strip()
        assert detail, f"a bare crash error (see the agent log): {where}"
        assert "internal error" not in detail.lower(), f"a generic error: {where}"
    if schema is None:  # an unknown tool
        assert is_error and _names(text, call.tool), f"unknown tool not named: {where}"
        return "malformed"
    unknown = [name for name in call.arguments if name not in schema.get("properties", {})]
    if unknown:  # refused before any other check, naming each as repr() shows it
        assert is_error, f"a call with unknown parameters {unknown} succeeded: {where}"
        shown = [repr(n if len(n) <= 60 else f"{n[:60]}…") for n in unknown[:10]]
        assert all(s in text for s in shown), f"the error does not name {shown}: {where}"
        return "malformed"
    bad = offending(schema, call.arguments)
    if not bad:
        return "valid_error" if is_error else "valid_ok"
    assert is_error, f"a malformed call succeeded (offending: {sorted(bad)}): {where}"
    missing = sorted(name for name in bad if not _names(text, name))
    assert not missing, f"the error does not name {missing}: {where}"
    return "malformed"
