"""The Notion agent in memory, its real notion-client pointed at the loopback fake."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from agents.core.settings import EnvLayers
from agents.core.testing import Recording, recording
from agents.notion.app import connect
from agents.notion.tools import SPEC
from tests.fakes.notion import FakeNotion, running
from tests.unit.core.util import server_for

pytestmark = pytest.mark.contract

Agent = Callable[..., AbstractAsyncContextManager[Any]]


@pytest.fixture(name="fake")
def _fake() -> Iterator[FakeNotion]:
    with running() as fake:
        yield fake


def layers_for(fake: FakeNotion, **env: str) -> EnvLayers:
    values = {
        "NOTION_TOKEN": fake.token,
        "NOTION_BASE_URL": fake.url,
        "NOTION_REQUESTS_PER_SECOND": "100",
        "NOTION_MAX_WAIT_SECONDS": "5",
        **env,
    }
    return EnvLayers(root=Path("/nonexistent"), env="test", values=values)


@pytest.fixture(name="recorder")
def _recorder() -> Recording:
    return recording()


@pytest.fixture(name="agent")
def _agent(fake: FakeNotion, recorder: Recording) -> Agent:
    @asynccontextmanager
    async def agent(**env: str) -> AsyncIterator[Any]:
        notion = connect(layers_for(fake, **env))
        try:
            server = server_for(SPEC.registry, client=notion, recorder=recorder)
            async with Client(server) as client:
                yield client
        finally:
            await notion.aclose()

    return agent


async def call(client: Any, tool: str, **arguments: Any) -> dict[str, Any]:
    """The structured result of a successful call (fails the test on a tool error)."""
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content[0].text
    assert result.structured_content is not None
    return dict(result.structured_content)


async def fail(client: Any, tool: str, **arguments: Any) -> str:
    """The message of a call that must end in a tool error."""
    result = await client.call_tool(tool, arguments)
    assert result.is_error, result.structured_content
    return str(result.content[0].text)
