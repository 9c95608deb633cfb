"""The tool registry: decoration, duplicates, misuse, schemas from type hints."""

from __future__ import annotations

from typing import Annotated

import pytest
from mcp import Client
from pydantic import Field

from agents.core.errors import DuplicateToolError
from agents.core.registry import ToolRegistry
from tests.unit.core.util import server_for

pytestmark = pytest.mark.anyio


def test_decorator_returns_the_function_unchanged_and_records_it() -> None:
    """The function stays callable as is; the registry knows its name and description."""
    reg = ToolRegistry("demo")

    async def greet(name: str) -> str:
        """Say hello."""
        return f"hello {name}"

    assert reg.tool()(greet) is greet
    assert "greet" in reg
    assert reg.get("greet").description == "Say hello."
    assert len(reg) == 1


def test_a_duplicate_name_fails_when_the_module_is_imported() -> None:
    """Two tools with one name raise at decoration time, not at call time."""
    reg = ToolRegistry("demo")

    @reg.tool()
    async def one() -> str:
        return "1"

    with pytest.raises(DuplicateToolError):

        @reg.tool(name="one")
        async def other() -> str:
            return "2"


def test_using_the_decorator_without_parentheses_is_a_type_error() -> None:
    """``@registry.tool`` (no call) is caught, as the SDK's ``@tool`` does."""
    reg = ToolRegistry("demo")

    async def fn() -> str:
        return ""

    with pytest.raises(TypeError):
        reg.tool(fn)  # type: ignore[arg-type]


def test_a_sync_function_is_refused() -> None:
    """Handlers are async; a plain function would block the event loop."""
    reg = ToolRegistry("demo")

    def blocking() -> str:
        return ""

    with pytest.raises(TypeError):
        reg.tool()(blocking)  # type: ignore[type-var]


async def test_the_sdk_derives_the_schema_from_annotated_field_descriptions() -> None:
    """Parameter types, required-ness and descriptions come from the hints, through the SDK."""
    reg = ToolRegistry("demo")

    @reg.tool(read_only=True)
    async def find(
        query: Annotated[str, Field(description="Text to look for")],
        limit: Annotated[int, Field(description="At most this many", ge=1, le=100)] = 10,
    ) -> list[str]:
        """Find things."""
        return [query] * limit

    async with Client(server_for(reg)) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    schema = tools["find"].input_schema
    assert schema["required"] == ["query"]
    assert schema["properties"]["query"]["description"] == "Text to look for"
    assert schema["properties"]["limit"]["maximum"] == 100
    assert tools["find"].description == "Find things."
    assert tools["find"].annotations is not None
    assert tools["find"].annotations.read_only_hint is True
    assert "agent_info" in tools
