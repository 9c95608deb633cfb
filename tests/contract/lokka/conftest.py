"""Fixtures: the Graph, ARM and token fakes, and a Lokka agent wired to them in memory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.types import CallToolResult

from agents.core.runtime import AgentRuntime
from agents.core.server import build_server
from agents.core.settings import CoreSettings, EnvLayers
from agents.core.testing import Recording, recording
from agents.lokka.tools import SPEC
from tests.fakes.arm import FakeArm
from tests.fakes.graph import FakeGraph
from tests.fakes.graph_data import GA_TEMPLATE
from tests.fakes.sts import CLIENT_ID, SECRET, TENANT, FakeSts, make_cert


@pytest.fixture(name="tls", scope="session")
def _tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_cert(tmp_path_factory.mktemp("tls"), "sts", server=True)


@pytest.fixture(name="sts")
def _sts(tls: tuple[Path, Path]) -> Iterator[FakeSts]:
    sts = FakeSts(tls).start()
    yield sts
    sts.stop()


@pytest.fixture(name="graph")
def _graph(sts: FakeSts) -> Iterator[FakeGraph]:
    graph = FakeGraph(tokens=sts.issued).start()
    yield graph
    graph.stop()


@pytest.fixture(name="arm")
def _arm(sts: FakeSts) -> Iterator[FakeArm]:
    arm = FakeArm(tokens=sts.issued).start()
    yield arm
    arm.stop()


def lokka_env(
    tls: tuple[Path, Path], sts: FakeSts, graph: FakeGraph, arm: FakeArm
) -> dict[str, str]:
    """The variables of an environment pointed at the fakes (client-secret mode)."""
    return {
        "AZURE_TENANT_ID": TENANT,
        "AZURE_CLIENT_ID": CLIENT_ID,
        "AZURE_CLIENT_SECRET": SECRET,
        "AZURE_AUTHORITY_HOST": sts.url,
        "LOKKA_CA_BUNDLE": str(tls[0]),
        "LOKKA_GRAPH_URL": graph.url,
        "LOKKA_ARM_URL": arm.url,
        "LOKKA_PROTECTED": f"breakglass*@contoso.com,Tenant Admins,{GA_TEMPLATE}",
    }


@dataclass
class Agent:
    """A connected in-memory MCP client of a Lokka agent, and its recorder."""

    client: Any
    recorder: Recording
    runtime: AgentRuntime[Any]

    async def call(self, tool: str, **arguments: Any) -> CallToolResult:
        """Call ``tool`` and return the raw result (errors included)."""
        result: CallToolResult = await self.client.call_tool(tool, arguments)
        return result

    async def ok(self, tool: str, **arguments: Any) -> dict[str, Any]:
        """Call ``tool``; fail unless it succeeded; its structured result."""
        result = await self.call(tool, **arguments)
        assert not result.is_error, result.content
        assert result.structured_content is not None
        content: dict[str, Any] = result.structured_content
        return content

    async def error(self, tool: str, **arguments: Any) -> str:
        """Call ``tool``; fail unless it returned a tool error; the error text."""
        result = await self.call(tool, **arguments)
        assert result.is_error, result.structured_content
        return " ".join(getattr(c, "text", "") for c in result.content)


async def start_agent(values: dict[str, str]) -> AsyncIterator[Agent]:
    layers = EnvLayers(
        root=Path("/nonexistent"), env="test", values={"LOKKA_TOOLSETS": "all", **values}
    )
    rec = recording()
    runtime = AgentRuntime.start(SPEC, layers, CoreSettings(port_base=9000), None, rec)
    server = build_server(runtime, token=None, port=None)
    try:
        async with Client(server) as client:
            yield Agent(client, rec, runtime)
    finally:
        await runtime.aclose()


@pytest.fixture(name="env")
def _env(tls: tuple[Path, Path], sts: FakeSts, graph: FakeGraph, arm: FakeArm) -> dict[str, str]:
    return lokka_env(tls, sts, graph, arm)


@pytest.fixture(name="agent")
async def _agent(env: dict[str, str]) -> AsyncIterator[Agent]:
    async for agent in start_agent(env):
        yield agent
