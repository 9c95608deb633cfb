"""Tool errors a model can act on: did-you-mean from names, prefixes and suffixes; argument
errors naming the parameter, what it expects and what it got, without pydantic's links."""

from __future__ import annotations

from typing import Annotated, Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from mcp import Client
from pydantic import Field

from agents.core.registry import ToolRegistry
from agents.core.testing import recording
from agents.core.tool_errors import describe, suggest
from tests.results import text_of
from tests.unit.core.util import server_for

NOTION_LIKE = ["search_workspace", "get_page", "create_page", "list_pages", "agent_info"]


@pytest.mark.parametrize(
    ("name", "candidates", "expected"),
    [
        ("search", NOTION_LIKE, "search_workspace"),  # a prefix
        ("parent", ["title", "parent_page_id", "database_id"], "parent_page_id"),
        ("workspace", NOTION_LIKE, "search_workspace"),  # a suffix
        ("id", ["title", "page_id"], "page_id"),  # a whole word of the name
        ("pageId", ["title", "page_id"], "page_id"),  # spelt another way
        ("text_value", ["text", "api_key"], "text"),  # holds the real name
        ("usr", ["user"], "user"),  # a near miss
        ("list", ["get_document", "list_documents"], "list_documents"),
    ],
)
def test_suggest_finds_the_name_meant_from_a_prefix_suffix_part_or_misspelling(
    name: str, candidates: list[str], expected: str
) -> None:
    assert suggest(name, candidates)[0] == expected


def test_suggest_prefers_the_shortest_name_that_begins_with_the_prefix() -> None:
    assert suggest("search", ["search_workspace_pages", "search_workspace"]) == [
        "search_workspace",
        "search_workspace_pages",
    ]


def test_suggest_offers_nothing_for_an_unrelated_name() -> None:
    assert suggest("zebra", NOTION_LIKE) == []
    assert suggest("", NOTION_LIKE) == []


@given(st.text(max_size=300), st.lists(st.text(max_size=40), max_size=20))
def test_suggest_only_ever_returns_real_names_other_than_the_one_given(
    name: str, candidates: list[str]
) -> None:
    found = suggest(name, candidates)
    assert len(found) <= 3
    assert set(found) <= set(candidates) - {name}


def test_describe_says_what_a_schema_admits_in_words() -> None:
    assert describe({"type": "integer", "minimum": 1, "maximum": 500}) == "integer ≥ 1, ≤ 500"
    assert describe({"enum": ["a", "b"], "type": "string"}) == "one of 'a', 'b'"
    assert (
        describe({"anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "null"}]})
        == "array of string or null"
    )


def registry() -> ToolRegistry:
    reg = ToolRegistry("demo")

    @reg.tool()
    async def search_workspace(
        query: Annotated[str, Field(description="Text")],
        limit: Annotated[int, Field(description="At most", ge=1, le=100)] = 10,
        mode: Literal["page", "database"] = "page",
    ) -> str:
        """Search."""
        return query

    @reg.tool()
    async def create_page(
        title: Annotated[str, Field(description="Title")],
        parent_page_id: Annotated[str | None, Field(description="Parent")] = None,
    ) -> str:
        """Create."""
        return title

    return reg


@pytest.mark.anyio
async def test_an_unknown_tool_gets_did_you_mean_and_the_list_of_tools() -> None:
    rec = recording()
    async with Client(server_for(registry(), recorder=rec)) as client:
        result = await client.call_tool("search", {"query": "x"})
    assert result.is_error
    assert text_of(result) == (
        "unknown tool 'search'; did you mean 'search_workspace'? "
        "Tools of this agent: agent_info, create_page, search_workspace"
    )
    assert rec.calls[-1].outcome == "invalid_arguments"


@pytest.mark.anyio
async def test_a_parameter_named_by_its_prefix_gets_the_full_name() -> None:
    async with Client(server_for(registry())) as client:
        result = await client.call_tool("create_page", {"title": "t", "parent": "abc"})
    assert result.is_error
    assert "did you mean 'parent_page_id' instead of 'parent'?" in text_of(result)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (
            {"query": "q", "limit": "many"},
            "search_workspace: invalid arguments: parameter 'limit' should be a valid integer, "
            "unable to parse string as an integer (expects integer ≥ 1, ≤ 100, got string)",
        ),
        (
            {"query": "q", "limit": 1000},
            "search_workspace: invalid arguments: parameter 'limit' should be less than or "
            "equal to 100 (expects integer ≥ 1, ≤ 100, got integer 1000)",
        ),
        (
            {"limit": 5, "mode": "everything"},
            "search_workspace: invalid arguments: parameter 'query' is required (string); "
            "parameter 'mode' should be 'page' or 'database' "
            "(expects one of 'page', 'database', got string)",
        ),
    ],
)
async def test_type_and_range_errors_name_the_parameter_the_expectation_and_the_type(
    arguments: dict[str, object], expected: str
) -> None:
    rec = recording()
    async with Client(server_for(registry(), recorder=rec)) as client:
        result = await client.call_tool("search_workspace", arguments)
    text = text_of(result)
    assert result.is_error
    assert text == expected
    assert "pydantic" not in text and "http" not in text
    assert rec.calls[-1].outcome == "invalid_arguments" and rec.calls[-1].error == text
