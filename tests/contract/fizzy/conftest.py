"""Contract fixtures: the real Fizzy agent (its SPEC, connect and client) over an in-memory
MCP client, against the loopback fake Fizzy."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from pytest_mock import MockerFixture

from agents.core.runtime import AgentRuntime
from agents.core.server import AgentServer, build_server
from agents.core.settings import CoreSettings, EnvLayers
from agents.core.testing import Recording, recording
from agents.fizzy.app import connect
from agents.fizzy.client import FizzyClient
from agents.fizzy.tools import SPEC
from tests.fakes.fizzy import WRITE_TOKEN, FakeFizzy

pytestmark = pytest.mark.contract


@dataclass
class Agent:
    """The Fizzy agent as an MCP client sees it, plus what the test needs to look behind it."""

    client: Any
    fizzy: FizzyClient
    fake: FakeFizzy
    recorder: Recording
    sleeps: list[float] = field(default_factory=list)

    async def call(self, tool: str, **arguments: Any) -> Any:
        """Call ``tool``; its structured result (lists unwrapped). Fails on a tool error."""
        result = await self.client.call_tool(tool, arguments)
        assert not result.is_error, result.content[0].text
        data = result.structured_content
        return data["result"] if isinstance(data, dict) and set(data) == {"result"} else data

    async def fail(self, tool: str, **arguments: Any) -> str:
        """Call ``tool`` expecting a tool error; its message."""
        result = await self.client.call_tool(tool, arguments)
        assert result.is_error, result.structured_content
        return str(result.content[0].text)


def layers_for(url: str, token: str, account: str | None = None) -> EnvLayers:
    """Settings as the env files would give them."""
    values = {"FIZZY_URL": url, "FIZZY_TOKEN": token}
    origins = {
        "FIZZY_URL": "environments/.env.test",
        "FIZZY_TOKEN": "environments/.env.test.secrets",
    }
    if account is not None:
        values["FIZZY_ACCOUNT"] = account
        origins["FIZZY_ACCOUNT"] = "environments/.env.test"
    return EnvLayers(root=Path("/nonexistent"), env="test", values=values, origins=origins)


@pytest.fixture(name="runtime", scope="session")
def _runtime() -> AgentRuntime[Any]:
    """One runtime and server for the session (building 34 tool schemas takes a while); each
    test gives it a fresh client from the real ``connect``."""
    layers = EnvLayers(root=Path("/nonexistent"), env="test", values={"FIZZY_TOOLSETS": "all"})
    return AgentRuntime.start(SPEC, layers, CoreSettings(port_base=9000), None)


@pytest.fixture(name="server", scope="session")
def _server(runtime: AgentRuntime[Any]) -> AgentServer:
    return build_server(runtime, token=None, port=None)


@contextlib.asynccontextmanager
async def open_agent(
    server: AgentServer,
    fake: FakeFizzy,
    token: str = WRITE_TOKEN,
    account: str | None = None,
    sleeps: list[float] | None = None,
) -> AsyncIterator[Agent]:
    """The agent as built by its real ``connect`` from settings pointing at ``fake``."""
    runtime = server.runtime
    client = connect(layers_for(fake.url, token, account))
    runtime.client, runtime.reason, runtime.recorder = client, None, recording()
    try:
        async with Client(server) as mcp:
            yield Agent(mcp, client, fake, runtime.recorder, sleeps if sleeps is not None else [])
    finally:
        await client.aclose()
        runtime.client = None


@pytest.fixture(name="fake")
def _fake() -> Iterator[FakeFizzy]:
    with FakeFizzy() as fake:
        yield fake


@pytest.fixture(name="sleeps", autouse=True)
def _sleeps(mocker: MockerFixture) -> list[float]:
    """A fake clock on the retry policy's one sleep seam: the waits, none of them slept."""
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    mocker.patch("agents.core.retry.async_sleep", side_effect=sleep)
    return waits


@pytest.fixture(name="agent")
async def _agent(server: AgentServer, fake: FakeFizzy, sleeps: list[float]) -> AsyncIterator[Agent]:
    async with open_agent(server, fake, sleeps=sleeps) as agent:
        yield agent
