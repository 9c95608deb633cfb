"""Plain values ↔ Notion property values by column type; where → filters; column specs."""

from __future__ import annotations

import pytest

from agents.core.errors import InputError
from agents.notion.databases import encode_values, plain_value, schema_from_columns, where_filter

SCHEMA = {
    name: {"id": name[:2], "type": kind, kind: {}}
    for name, kind in [
        ("Name", "title"),
        ("Done", "checkbox"),
        ("Due", "date"),
        ("Owner", "people"),
        ("Formula", "formula"),
        ("Site", "url"),
    ]
}


def test_values_are_encoded_by_column_type_with_case_insensitive_names() -> None:
    """Dates accept a start/end interval; people take IDs; checkboxes take yes/no."""
    props = encode_values(
        SCHEMA,
        {"done": "no", "Due": "2026-01-02/2026-01-05", "Owner": "0f0f0f0f0f0f4f0f8f0f0f0f0f0f0f0f"},
        "values",
    )
    assert props == {
        "Done": {"checkbox": False},
        "Due": {"date": {"start": "2026-01-02", "end": "2026-01-05"}},
        "Owner": {"people": [{"id": "0f0f0f0f-0f0f-4f0f-8f0f-0f0f0f0f0f0f"}]},
    }


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"Formula": 1}, "values['Formula']: formula columns are computed by Notion"),
        ({"Due": "next week"}, "values['Due']: 'next week' is not an ISO date"),
        ({"Done": "maybe"}, "values['Done']: 'maybe' is not true or false"),
    ],
)
def test_bad_values_are_refused_naming_the_column(values: dict[str, object], message: str) -> None:
    """Computed columns, unparseable dates and non-booleans."""
    with pytest.raises(InputError, match=message.replace("[", r"\[").replace("(", r"\(")):
        encode_values(SCHEMA, values, "values")


def test_plain_values_flatten_notion_property_values() -> None:
    """Selects to names, dates to ISO strings, formulas to their result, ids with prefixes."""
    assert plain_value({"type": "select", "select": {"name": "Done"}}) == "Done"
    assert plain_value({"type": "date", "date": {"start": "2026-01-01", "end": None}}) == (
        "2026-01-01"
    )
    assert plain_value({"type": "formula", "formula": {"type": "number", "number": 4}}) == 4
    assert plain_value({"type": "unique_id", "unique_id": {"prefix": "T", "number": 7}}) == "T-7"
    assert plain_value({"type": "people", "people": [{"id": "u1", "name": "Ann"}]}) == ["Ann"]


def test_where_compiles_one_condition_per_column_and_refuses_unfilterable_ones() -> None:
    """Text columns honour match; formulas need a raw filter."""
    assert where_filter(SCHEMA, {"Name": "x"}, "contains", "where") == {
        "property": "Name",
        "title": {"contains": "x"},
    }
    with pytest.raises(InputError, match="use filter instead"):
        where_filter(SCHEMA, {"Formula": 1}, "exact", "where")


def test_column_specs_build_a_schema_with_exactly_one_title() -> None:
    """A Name title is added when missing; two titles are refused."""
    assert schema_from_columns({"Tags": "multi_select: a, b"}, "columns") == {
        "Name": {"title": {}},
        "Tags": {"multi_select": {"options": [{"name": "a"}, {"name": "b"}]}},
    }
    with pytest.raises(InputError, match="only one column can be the title"):
        schema_from_columns({"A": "title", "B": "title"}, "columns")
