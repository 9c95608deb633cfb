"""Splicing one member into JSON text keeps every other byte."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agents.claude.jsontext import (
    JsonTextError,
    delete_member,
    dumps_indented,
    dumps_new,
    parse,
    set_member,
)

ORIGINAL = """{
  "numStartups": 184,
  "tipsHistory": {"a": 1, "b": 2},
  "weird":   1e5,
  "escaped": "caf\\u00e9",
  "mcpServers": {
    "notion": {
      "command": "npx"
    }
  },
  "projects": {}
}
"""


def test_replacing_a_member_leaves_the_rest_of_the_text_byte_for_byte() -> None:
    """Odd spacing, 1e5 and \\u escapes outside the member survive."""
    out = set_member(ORIGINAL, ("mcpServers", "notion"), {"command": "uvx", "args": ["x"]})
    assert out == ORIGINAL.replace(
        '{\n      "command": "npx"\n    }',
        '{\n      "command": "uvx",\n      "args": [\n        "x"\n      ]\n    }',
    )


def test_a_new_member_is_appended_in_the_files_indentation() -> None:
    """Added after the last member of its object."""
    out = set_member(ORIGINAL, ("mcpServers", "github"), {"url": "u"})
    assert json.loads(out)["mcpServers"] == {"notion": {"command": "npx"}, "github": {"url": "u"}}
    assert '    },\n    "github": {\n      "url": "u"\n    }\n  },' in out
    assert out.startswith('{\n  "numStartups": 184,\n  "tipsHistory": {"a": 1, "b": 2},')


def test_missing_parents_are_created_inside_an_empty_object() -> None:
    """projects[/p].mcpServers.pg in an empty projects map."""
    out = set_member(ORIGINAL, ("projects", "/p", "mcpServers", "pg"), {"command": "pg"})
    assert json.loads(out)["projects"] == {"/p": {"mcpServers": {"pg": {"command": "pg"}}}}
    assert '  "projects": {\n    "/p": {\n      "mcpServers": {' in out


@pytest.mark.parametrize("key", ["numStartups", "escaped", "projects"])
def test_deleting_a_member_keeps_valid_json_and_its_neighbours(key: str) -> None:
    """First, middle and last members."""
    out = delete_member(ORIGINAL, (key,))
    expected = json.loads(ORIGINAL)
    del expected[key]
    assert json.loads(out) == expected
    assert '"weird":   1e5' in out


def test_deleting_the_only_member_leaves_an_empty_object() -> None:
    """mcpServers.notion was alone."""
    out = delete_member(ORIGINAL, ("mcpServers", "notion"))
    assert json.loads(out)["mcpServers"] == {}
    assert delete_member(out, ("mcpServers", "absent")) == out


def test_one_line_json_stays_on_one_line_and_crlf_and_bom_are_kept() -> None:
    """Windows-edited files keep their newline style and byte-order mark."""
    assert set_member('{"a": 1}', ("b",), 2) == '{"a": 1, "b": 2}'
    crlf = '\ufeff{\r\n  "a": 1\r\n}\r\n'
    out = set_member(crlf, ("b",), {"c": 1})
    assert out == '\ufeff{\r\n  "a": 1,\r\n  "b": {\r\n    "c": 1\r\n  }\r\n}\r\n'


def test_a_document_that_starts_with_a_byte_order_mark_parses() -> None:
    """Windows editors save ``settings.json`` with a BOM; it is read, not skipped."""
    assert parse('\ufeff{"model": "opus"}') == {"model": "opus"}


def test_invalid_json_is_an_error_that_says_where() -> None:
    """Never a silent rewrite of a half-written file."""
    with pytest.raises(JsonTextError, match="line 2 column 1"):
        set_member('{"a": 1,\n', ("b",), 2)
    with pytest.raises(JsonTextError, match="not a JSON object"):
        parse("[1, 2]")
    with pytest.raises(JsonTextError, match="'a' is not an object"):
        set_member('{"a": 1}', ("a", "b"), 2)


@pytest.mark.parametrize(
    ("text", "path", "value", "expected"),
    [
        # a tab-indented file keeps its tabs, a file with no indent gets two spaces
        ('{\n\t"a": 1\n}\n', ("b",), {"c": 1}, '{\n\t"a": 1,\n\t"b": {\n\t\t"c": 1\n\t}\n}\n'),
        ('{\n"a": 1\n}', ("b",), [1], '{\n"a": 1,\n"b": [\n  1\n]\n}'),
        # compact JSON as another tool writes it
        ('{"a":1,"b":{"c":2}}', ("b", "c"), 3, '{"a":1,"b":{"c":3}}'),
        ('{"a":1,"b":2}', ("b",), 3, '{"a":1,"b":3}'),
        # an empty one-line object, non-ASCII keys and values as they are
        ("{}", ("b",), 2, '{"b": 2}'),
        ('{"a": 1}', ("é",), "ü", '{"a": 1, "é": "ü"}'),
        ('{\n  "a": 1\n}', ("b",), ["ü"], '{\n  "a": 1,\n  "b": [\n    "ü"\n  ]\n}'),
        # a missing parent below an existing one: the existing one keeps its members
        ('{"a": {"keep": 1}}', ("a", "b", "c"), 2, '{"a": {"keep": 1, "b": {"c": 2}}}'),
    ],
)
def test_a_member_is_set_in_the_files_own_style(
    text: str, path: tuple[str, ...], value: object, expected: str
) -> None:
    """Indent unit, spacing and characters as the file already has them."""
    assert set_member(text, path, value) == expected


def test_deleting_keeps_the_byte_order_mark_and_the_only_member_leaves_braces() -> None:
    assert delete_member('\ufeff{"a": 1, "b": 2}', ("b",)) == '\ufeff{"a": 1}'
    assert delete_member('{"a": 1}', ("a",)) == "{}"


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(JSON, st.sampled_from(["  ", "    ", "\t", ""]))
def test_indented_json_is_the_text_json_dumps_writes(value: object, indent: str) -> None:
    """Non-finite floats included (``NaN``, ``Infinity``, as json.dumps writes them)."""
    assert dumps_indented(value, indent) == json.dumps(value, indent=indent, ensure_ascii=False)


def test_indented_json_does_not_go_through_the_pure_python_encoder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The standard library has no C encoder for indented output; a new file's JSON is
    written without its generator-per-level encoder (a plan writes several)."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the pure-Python encoder was used")

    monkeypatch.setattr(json.encoder, "_make_iterencode", refuse)
    doc = {"mcpServers": {"s": {"command": "npx", "args": ["-y", 1, 2.5, None, True]}}}
    assert json.loads(dumps_new(doc)) == doc
    assert dumps_new(doc).startswith('{\n  "mcpServers": {\n    "s": {\n      "command"')
