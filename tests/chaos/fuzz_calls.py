"""Hypothesis strategies of tool calls drawn from an MCP tool's input schema: malformed ones (one
hard fault each) and hostile but possibly valid ones (soft faults only)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

from tests.chaos.fuzz_oracle import JSON_TYPES, Call, branches, offending, types_of

__all__ = [
    "DEEP",
    "GARBAGE",
    "HUGE",
    "SPECIALS",
    "hostile_calls",
    "hostile_text",
    "malformed_calls",
]

# Characters that break naive code: NUL, zero-width and BOM, bidi overrides and marks,
# astral-plane emoji and symbols, combining marks, noncharacters, quoting and injection bait.
SPECIALS = (
    "\x00",
    "\u200b",
    "\u200c",
    "\u200d",
    "\u2060",
    "\ufeff",
    "\u202e",
    "\u202b",
    "\u200f",
    "\u061c",
    "\u05d0\u05d1\u05d2",
    "\U0001f600",
    "\U0001f469\u200d\U0001f4bb",
    "\U0001d54f",
    "\U0010ffff",
    "e\u0301",
    "\ufffd",
    "\uffff",
    "\ufdd0",
    "\r\n",
    "\t",
    "'",
    '"',
    "\\",
    "%s%n",
    "{0}",
    "${x}",
    "../../etc/passwd",
    "<script>",
    "' OR 1=1 --",
)
HUGE_BYTES = (100_000, 1_000_000)  # one huge string per call at most: the SDK refuses > 4 MiB
# The MCP client's serializer refuses JSON nested deeper than about 250 levels, and the
# agents' JSON-RPC parser about as deep (test_fuzz sends deeper nesting over raw HTTP).
MAX_DEPTH = 200


def hostile_text(min_size: int = 0, max_size: int = 8) -> st.SearchStrategy[str]:
    """Short strings of any code point but surrogates, rich in NUL, bidi and zero-width chars."""
    piece = st.one_of(
        st.text(st.characters(codec="utf-8"), min_size=1, max_size=6), st.sampled_from(SPECIALS)
    )
    return st.lists(piece, min_size=min_size, max_size=max_size).map("".join)


def _repeat(unit: str, size: int) -> str:
    per = len(json.dumps(unit, ensure_ascii=False).encode()) - 2  # escapes count on the wire
    return unit * max(1, size // per)


def _nest(leaf: Any, depth: int, shape: str) -> Any:
    value = leaf
    for level in range(depth):
        as_list = shape == "list" or (shape == "mixed" and level % 2 == 0)
        value = [value] if as_list else {"k": value}
    return value


HUGE = st.builds(_repeat, hostile_text(min_size=1), st.integers(*HUGE_BYTES))
NUMBERS = st.one_of(
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([10**40, -(10**400), 2**63, 1e308, -0.0, 5e-324]),
)
SCALARS = st.one_of(st.none(), st.booleans(), NUMBERS, hostile_text())
GARBAGE = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(hostile_text(), inner, max_size=4),
    max_leaves=12,
)
DEEP = st.builds(
    _nest, SCALARS, st.integers(16, MAX_DEPTH), st.sampled_from(("list", "dict", "mixed"))
)
_BY_TYPE: dict[str, st.SearchStrategy[Any]] = {
    "string": hostile_text(),
    "integer": NUMBERS,
    "number": NUMBERS,
    "boolean": st.booleans(),
    "null": st.none(),
    "array": st.lists(GARBAGE, max_size=4),
    "object": st.dictionaries(hostile_text(), GARBAGE, max_size=4),
}


_ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_PRINTABLE = st.characters(min_codepoint=32, max_codepoint=126)


def _main_branch(schema: dict[str, Any]) -> dict[str, Any]:
    found = [b for b in branches(schema) if b.get("type") != "null"]
    return found[0] if found else {}


def _valid(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """A small value valid against ``schema`` (the base a fault is then put into)."""
    b = _main_branch(schema)
    kind = b.get("type")
    if "enum" in b:
        return st.sampled_from(b["enum"])
    if kind == "string" and "pattern" in b:
        return st.from_regex(b["pattern"], fullmatch=True, alphabet=_PRINTABLE)
    if kind == "string":
        low = b.get("minLength", 0)
        return st.text(_ALNUM, min_size=low, max_size=min(b.get("maxLength", 12), max(low, 12)))
    if kind == "integer":
        low = b.get("minimum", -5)
        return st.integers(low, b.get("maximum", low + 50))
    if kind == "boolean":
        return st.booleans()
    if kind == "array":
        return st.lists(_valid(b.get("items", {})), max_size=min(b.get("maxItems", 3), 3))
    if kind == "object":
        return st.dictionaries(st.text(_ALNUM, min_size=1, max_size=8), st.text(_ALNUM), max_size=3)
    return st.text(_ALNUM, max_size=8)


def _violation(schema: dict[str, Any]) -> st.SearchStrategy[Any] | None:
    """A value of the right type that breaks a constraint of ``schema``, if it has one."""
    b = _main_branch(schema)
    if "enum" in b:
        return hostile_text(min_size=1).filter(lambda s: s not in b["enum"])
    options: list[st.SearchStrategy[Any]] = []
    if "minimum" in b:
        options.append(st.integers(max_value=b["minimum"] - 1))
    if "maximum" in b:
        options.append(st.integers(min_value=b["maximum"] + 1))
    if b.get("minLength", 0) > 0:
        options.append(st.text(_ALNUM, max_size=b["minLength"] - 1))
    if "maxLength" in b:
        options.append(st.text(_ALNUM, min_size=b["maxLength"] + 1, max_size=b["maxLength"] + 9))
    if "pattern" in b:
        options.append(hostile_text(min_size=1))
    if "maxItems" in b:
        size = b["maxItems"] + 1
        options.append(st.lists(_valid(b.get("items", {})), min_size=size, max_size=size + 2))
    return st.one_of(options) if options else None


def _faults(schema: dict[str, Any]) -> list[tuple[str, str]]:
    """The (fault, parameter) pairs that make a call of this tool malformed."""
    out = [("missing", name) for name in schema.get("required", [])]
    for name, prop in schema.get("properties", {}).items():
        types = types_of(prop)
        b = _main_branch(prop)
        if set(JSON_TYPES) - types:
            out.append(("wrong_type", name))
        if "null" not in types:
            out.append(("null", name))
        if "object" not in types:
            out.append(("deep", name))
        if _violation(prop) is not None:
            out.append(("constraint", name))
        if "string" not in types or {"enum", "pattern", "maxLength"} & set(b):
            out.append(("huge", name))
    return out


def _base(draw: st.DrawFn, schema: dict[str, Any]) -> dict[str, Any]:
    props: dict[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", []))
    return {
        name: draw(_valid(prop))
        for name, prop in props.items()
        if name in required or draw(st.booleans())
    }


def _break(draw: st.DrawFn, schema: dict[str, Any], args: dict[str, Any]) -> tuple[str, str]:
    """Put one hard fault into ``args``; return it and the parameter it broke."""
    props: dict[str, Any] = schema["properties"]
    kind, name = draw(st.sampled_from(_faults(schema)))
    if kind == "missing":
        args.pop(name, None)
    elif kind == "wrong_type":
        wrong = sorted(set(JSON_TYPES) - types_of(props[name]))
        args[name] = draw(st.one_of([_BY_TYPE[t] for t in wrong]))
    elif kind == "null":
        args[name] = None
    elif kind == "deep":
        args[name] = draw(DEEP)
    elif kind == "constraint":
        args[name] = draw(_violation(props[name]))  # type: ignore[arg-type]
    else:
        args[name] = draw(HUGE)
    return kind, name


def _soften(
    draw: st.DrawFn, schema: dict[str, Any], args: dict[str, Any], spare: str, huge: bool, n: int
) -> list[str]:
    """Put ``n`` soft faults into ``args``, leaving parameter ``spare`` alone; at most one huge
    string when ``huge``."""
    props: dict[str, Any] = schema.get("properties", {})
    strings = [k for k, p in props.items() if k != spare and "string" in types_of(p)]
    nullable = [k for k, p in props.items() if k != spare and "null" in types_of(p)]
    faults = []
    for _ in range(n):
        soft = draw(st.sampled_from(("hostile", "extra", "nullable")))
        if soft == "hostile" and strings:
            name = draw(st.sampled_from(strings))
            if huge and draw(st.integers(0, 19)) == 0:
                args[name], huge = draw(HUGE), False
            else:
                args[name] = draw(hostile_text())
        elif soft == "nullable" and nullable:
            name = draw(st.sampled_from(nullable))
            args[name] = None
        else:
            soft, name = "extra", draw(hostile_text(min_size=1).filter(lambda k: k not in props))
            args[name] = draw(st.one_of(GARBAGE, DEEP, hostile_text()))
        faults.append(f"{soft}:{name[:40]}")
    return faults


@st.composite
def _malformed(draw: st.DrawFn, schemas: dict[str, dict[str, Any]]) -> Call:
    names = sorted(n for n, schema in schemas.items() if _faults(schema))
    if draw(st.integers(0, 99)) == 0:  # an unknown tool, now and then
        suffix = draw(st.sampled_from(["_v2", "s", "\u200b", " ", "\x00", ".", "\U0001f600"]))
        return Call(draw(st.sampled_from(names)) + suffix, {}, ("unknown_tool",))
    tool = draw(st.sampled_from(names))
    args = _base(draw, schemas[tool])
    kind, name = _break(draw, schemas[tool], args)
    soft = _soften(draw, schemas[tool], args, name, kind != "huge", draw(st.integers(0, 3)))
    return Call(tool, args, (f"{kind}:{name}", *soft))


@st.composite
def _hostile(draw: st.DrawFn, schemas: dict[str, dict[str, Any]]) -> Call:
    tool = draw(st.sampled_from(sorted(schemas)))
    args = _base(draw, schemas[tool])
    soft = _soften(draw, schemas[tool], args, "", True, draw(st.integers(1, 3)))
    return Call(tool, args, tuple(soft))


def malformed_calls(schemas: dict[str, dict[str, Any]]) -> st.SearchStrategy[Call]:
    """Malformed calls of the tools in ``schemas`` (name -> input schema) that have parameters.

    Each call carries one hard fault: a missing required parameter, a wrong type, a null, deep
    nesting, a broken constraint (enum, range, length, pattern, item count) or a huge string
    where none fits; plus up to three soft faults elsewhere (hostile or huge strings, nulls
    where allowed, unknown properties holding garbage). One call in a hundred names an unknown
    tool. Calls that a lenient reading still makes valid (``"5"`` for an integer) are left out.
    """
    return _malformed(schemas).filter(
        lambda call: call.tool not in schemas or bool(offending(schemas[call.tool], call.arguments))
    )


def hostile_calls(schemas: dict[str, dict[str, Any]]) -> st.SearchStrategy[Call]:
    """Calls of the tools in ``schemas`` carrying only soft faults, so that many fit the schema
    and reach the handlers: hostile strings (NUL, bidi, zero-width, astral, one in twenty
    huge), nulls where allowed and unknown properties holding garbage or deep nesting."""
    return _hostile(schemas)
