"""Database tools against the fake: data sources, schema-typed values, filters, sorts."""

from __future__ import annotations

import pytest

from tests.contract.notion.conftest import Agent, call, fail
from tests.fakes.notion import FakeNotion

pytestmark = [pytest.mark.anyio, pytest.mark.contract]

COLUMNS = {
    "Name": {"title": {}},
    "Done": {"checkbox": {}},
    "Status": {"select": {"options": [{"name": "Todo"}, {"name": "Done"}]}},
    "Points": {"number": {}},
    "Tags": {"multi_select": {"options": []}},
    "Due": {"date": {}},
    "Notes": {"rich_text": {}},
}


def row(name: str, done: bool = False, status: str = "Todo", points: int = 1) -> dict[str, object]:
    return {
        "Name": {"title": [{"text": {"content": name}}]},
        "Done": {"checkbox": done},
        "Status": {"select": {"name": status}},
        "Points": {"number": points},
    }


async def test_create_database_sends_initial_data_source_properties(
    fake: FakeNotion, agent: Agent
) -> None:
    """POST /v1/databases with the schema under initial_data_source; a Name title is added."""
    root = fake.add_root_page("Root")
    async with agent() as client:
        result = await call(
            client,
            "create_database",
            title="Tasks",
            parent_page_id=root,
            columns={"Status": "select: Todo, Done", "Done": "checkbox", "Notes": "text"},
        )
    body = fake.calls("POST", "/v1/databases")[0].body
    assert body["parent"] == {"type": "page_id", "page_id": root}
    assert body["initial_data_source"]["properties"] == {
        "Name": {"title": {}},
        "Status": {"select": {"options": [{"name": "Todo"}, {"name": "Done"}]}},
        "Done": {"checkbox": {}},
        "Notes": {"rich_text": {}},
    }
    assert result["columns"] == {
        "Name": "title",
        "Status": "select",
        "Done": "checkbox",
        "Notes": "rich_text",
    }
    assert result["data_source_id"] == fake.ws.databases[result["id"]]["data_sources"][0]["id"]


async def test_create_database_rejects_an_unknown_column_type_naming_the_column(
    fake: FakeNotion, agent: Agent
) -> None:
    """The error names columns['Size'] and lists the types; nothing is sent."""
    root = fake.add_root_page("Root")
    async with agent() as client:
        message = await fail(
            client, "create_database", title="T", parent_page_id=root, columns={"Size": "bigness"}
        )
    assert message.startswith("columns['Size']: unknown column type 'bigness'")
    assert fake.calls("POST", "/v1/databases") == []


async def test_add_database_entry_converts_values_by_column_type(
    fake: FakeNotion, agent: Agent
) -> None:
    """Rows are created under the data source with typed property values and a body."""
    root = fake.add_root_page("Root")
    db, ds = fake.add_database(root, "Tasks", COLUMNS)
    async with agent() as client:
        result = await call(
            client,
            "add_database_entry",
            database_id=db,
            markdown="- step",
            values={
                "name": "Write **docs**",
                "Done": "yes",
                "Status": "Done",
                "Points": "3",
                "Tags": "a, b",
                "Due": "2026-02-01",
            },
        )
    body = fake.calls("POST", "/v1/pages")[0].body
    assert body["parent"] == {"type": "data_source_id", "data_source_id": ds}
    props = body["properties"]
    assert props["Name"]["title"][1] == {
        "type": "text",
        "text": {"content": "docs"},
        "annotations": {"bold": True},
    }
    assert props["Done"] == {"checkbox": True}
    assert props["Status"] == {"select": {"name": "Done"}}
    assert props["Points"] == {"number": 3}
    assert props["Tags"] == {"multi_select": [{"name": "a"}, {"name": "b"}]}
    assert props["Due"] == {"date": {"start": "2026-02-01"}}
    assert body["children"][0]["type"] == "bulleted_list_item"
    assert result["created"] is True


async def test_add_database_entry_names_unknown_columns_and_bad_values(
    fake: FakeNotion, agent: Agent
) -> None:
    """Unknown column → the list of columns; a bad number → the column; nothing is created."""
    root = fake.add_root_page("Root")
    db, _ = fake.add_database(root, "Tasks", COLUMNS)
    async with agent() as client:
        unknown = await fail(client, "add_database_entry", database_id=db, values={"Nme": "x"})
        bad = await fail(
            client, "add_database_entry", database_id=db, values={"Name": "x", "Points": "many"}
        )
    assert unknown.startswith("values: no column named 'Nme'; the columns are Done, Due, Name")
    assert bad == "values['Points']: 'many' is not a number"
    assert fake.calls("POST", "/v1/pages") == []


async def test_add_database_entry_with_dedupe_on_returns_the_existing_row(
    fake: FakeNotion, agent: Agent
) -> None:
    """A query on the dedupe column finds the row; no second row is created."""
    root = fake.add_root_page("Root")
    _, ds = fake.add_database(root, "Tasks", COLUMNS)
    existing = fake.add_row(ds, row("Alpha"))
    async with agent() as client:
        result = await call(
            client, "add_database_entry", database_id=ds, values={"Name": "Alpha"}, dedupe_on="Name"
        )
    query = fake.calls("POST", f"/v1/data_sources/{ds}/query")[0].body
    assert query["filter"] == {"property": "Name", "title": {"equals": "Alpha"}}
    assert result == {"id": existing, "url": result["url"], "created": False}
    assert fake.calls("POST", "/v1/pages") == []


async def test_query_database_compiles_where_and_sort_and_returns_plain_values(
    fake: FakeNotion, agent: Agent
) -> None:
    """where → an and-filter by column type; sort_by → sorts; rows carry plain values."""
    root = fake.add_root_page("Root")
    db, ds = fake.add_database(root, "Tasks", COLUMNS)
    fake.add_row(ds, row("a", done=True, status="Done", points=1))
    fake.add_row(ds, row("b", done=True, status="Done", points=5))
    fake.add_row(ds, row("c", done=False, status="Done", points=9))
    async with agent() as client:
        result = await call(
            client,
            "query_database",
            database_id=db,
            where={"done": True, "Status": "Done"},
            sort_by="Points",
        )
    body = fake.calls("POST", f"/v1/data_sources/{ds}/query")[0].body
    assert body["filter"] == {
        "and": [
            {"property": "Done", "checkbox": {"equals": True}},
            {"property": "Status", "select": {"equals": "Done"}},
        ]
    }
    assert body["sorts"] == [{"property": "Points", "direction": "descending"}]
    assert [r["title"] for r in result["rows"]] == ["b", "a"]
    assert result["rows"][0]["values"]["Points"] == 5
    assert result["rows"][0]["values"]["Status"] == "Done"
    assert result["columns"]["Tags"] == "multi_select"
    assert fake.calls("GET", f"/v1/databases/{db}") and fake.calls("GET", f"/v1/data_sources/{ds}")


async def test_query_database_pages_through_more_than_100_rows(
    fake: FakeNotion, agent: Agent
) -> None:
    """limit 150 takes two queries (100 + 50) with start_cursor; the cursor is returned."""
    root = fake.add_root_page("Root")
    _, ds = fake.add_database(root, "Many", COLUMNS)
    for i in range(160):
        fake.add_row(ds, row(f"r{i}"))
    async with agent() as client:
        result = await call(
            client,
            "query_database",
            database_id=ds,
            limit=150,
            sort_by="created_time",
            descending=False,
        )
    bodies = [s.body for s in fake.calls("POST", "/query")]
    assert [(b["page_size"], b.get("start_cursor")) for b in bodies] == [(100, None), (50, "100")]
    assert len(result["rows"]) == 150 and result["has_more"] is True
    assert result["rows"][0]["title"] == "r0" and result["next_cursor"] == "150"


async def test_query_database_takes_a_raw_filter_and_contains_matching(
    fake: FakeNotion, agent: Agent
) -> None:
    """A raw Notion filter (even sent as a JSON string) is and-ed with where."""
    root = fake.add_root_page("Root")
    _, ds = fake.add_database(root, "Tasks", COLUMNS)
    fake.add_row(ds, row("Write report", points=2))
    fake.add_row(ds, row("Write code", points=8))
    fake.add_row(ds, row("Read", points=8))
    flt = '{"property": "Points", "number": {"greater_than": 5}}'
    async with agent() as client:
        result = await call(
            client,
            "query_database",
            database_id=ds,
            where={"Name": "write"},
            match="contains",
            filter=flt,
        )
    assert [r["title"] for r in result["rows"]] == ["Write code"]


async def test_a_database_with_two_data_sources_must_be_named_by_data_source(
    fake: FakeNotion, agent: Agent
) -> None:
    """The error lists each data source with its ID."""
    root = fake.add_root_page("Root")
    db, ds = fake.add_database(root, "Split", COLUMNS)
    fake.ws.databases[db]["data_sources"].append(
        {"id": "5a1c0b1e-2222-4f00-8000-00000000beef", "name": "Archive"}
    )
    async with agent() as client:
        message = await fail(client, "query_database", database_id=db)
    assert message.startswith("database_id: database 'Split' has 2 data sources: Split (")
    assert ds in message and "Archive (5a1c0b1e-2222-4f00-8000-00000000beef)" in message
