"""Toolsets: the env file picks what an agent lists, bad names are refused naming the file,
every tool is in one toolset with every parameter described, and the ``toolsets`` tool adds
the rest on demand, telling a real HTTP client its tool list changed."""

from __future__ import annotations

import importlib
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest
import uvicorn
from mcp import Client
from mcp.types import ServerNotification, ToolListChangedNotification

from agents.catalog import AGENTS
from agents.core.errors import ConfigError
from agents.core.runtime import AgentRuntime, AgentSpec
from agents.core.server import AgentServer, build_server
from agents.core.settings import CoreSettings, EnvLayers
from agents.core.toolsets import selected_toolsets
from agents.launch import http_app
from tests.results import text_of

pytestmark = pytest.mark.anyio


def spec_of(agent: str) -> AgentSpec[Any]:
    spec: AgentSpec[Any] = importlib.import_module(f"agents.{agent}.tools").SPEC
    return spec


def server_of(agent: str, **env: str) -> AgentServer:
    layers = EnvLayers(root=Path("/nonexistent"), env="test", values=env)
    runtime = AgentRuntime(
        spec=spec_of(agent), layers=layers, core=CoreSettings(port_base=9000), port=None
    )
    return build_server(runtime, token=None, port=None)


async def names(server: AgentServer) -> set[str]:
    return {t.name for t in await server.list_tools()}


@pytest.mark.parametrize("agent", [a.name for a in AGENTS])
async def test_an_agent_lists_its_default_toolsets_and_the_toolsets_tool(agent: str) -> None:
    """Unset: the default toolsets, agent_info and toolsets; ``all``: every tool."""
    spec = spec_of(agent)
    default = {n for ts in spec.toolsets if ts.default for n in ts.tools}
    assert await names(server_of(agent)) == default | {"agent_info", "toolsets"}
    everything = {t.name for t in spec.registry} | {"agent_info"}
    assert await names(server_of(agent, **{f"{agent.upper()}_TOOLSETS": "all"})) == everything


@pytest.mark.parametrize("agent", [a.name for a in AGENTS])
async def test_every_parameter_of_every_tool_has_a_description(agent: str) -> None:
    """A parameter without a description is a guess for the model."""
    server = server_of(agent, **{f"{agent.upper()}_TOOLSETS": "all"})
    bare = [
        f"{t.name}.{p}"
        for t in await server.list_tools()
        for p, schema in t.input_schema.get("properties", {}).items()
        if not schema.get("description")
    ]
    assert bare == []


async def test_tools_are_listed_without_output_schemas() -> None:
    """Clients do not pass them to the model; results still carry structured content."""
    tools = await server_of("context", CONTEXT_TOOLSETS="all").list_tools()
    assert all(t.output_schema is None for t in tools)


def test_an_unknown_toolset_is_refused_naming_the_file_and_the_valid_ones() -> None:
    """A typo in the env file stops the agent with what to write instead."""
    layers = EnvLayers(
        root=Path("/nonexistent"),
        env="test",
        values={"FIZZY_TOOLSETS": "core,colaboration"},
        origins={"FIZZY_TOOLSETS": "environments/.env.test"},
    )
    spec = spec_of("fizzy")
    with pytest.raises(ConfigError) as refused:
        selected_toolsets("fizzy", spec.toolsets, layers)
    message = str(refused.value)
    assert "environments/.env.test" in message and "'colaboration'" in message
    assert "collaboration" in message.replace("'colaboration'", "") and "'all'" in message


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@asynccontextmanager
async def serving(server: AgentServer) -> AsyncIterator[str]:
    """``server`` over streamable HTTP on a loopback port, as the agents run it."""
    port = _free_port()
    app = http_app(server)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on")
    web = uvicorn.Server(config)
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(web.serve)
        with anyio.fail_after(30):
            while not web.started:
                await anyio.sleep(0.02)
        yield f"http://127.0.0.1:{port}/mcp"
        web.should_exit = True


async def test_enabling_a_toolset_notifies_a_2025_client_over_http() -> None:
    """Claude Code's protocol era: the notification arrives on the call's own stream, and the
    next tools/list holds the new tools."""
    seen: list[str] = []

    async def on_message(message: Any) -> None:
        if isinstance(message, ServerNotification) and isinstance(
            message, ToolListChangedNotification
        ):
            seen.append(message.method)
        elif isinstance(getattr(message, "root", None), ToolListChangedNotification):
            seen.append(message.root.method)

    async with serving(server_of("context")) as url:
        async with Client(url, mode="legacy", message_handler=on_message) as client:
            caps = client.server_capabilities
            assert caps.tools is not None and caps.tools.list_changed is True
            before = {t.name for t in (await client.list_tools()).tools}
            assert "sync_status" not in before
            result = await client.call_tool("toolsets", {"enable": ["sync"]})
            assert not result.is_error and result.structured_content["enabled_now"] == ["sync"]
            after = {t.name for t in (await client.list_tools()).tools}
            again = await client.call_tool("toolsets", {"enable": ["sync"]})
    assert seen == ["notifications/tools/list_changed"]
    assert after - before == {"sync_status", "sync_now", "list_conflicts", "resolve_conflict"}
    assert again.structured_content["enabled_now"] == []


async def test_enabling_a_toolset_reaches_a_2026_listener_over_http() -> None:
    """The 2026-07-28 era: a ``subscriptions/listen`` stream gets the change event."""
    async with serving(server_of("notion")) as url:
        async with Client(url) as client, client.listen(tools_list_changed=True) as events:
            result = await client.call_tool("toolsets", {"enable": ["databases"]})
            assert not result.is_error
            with anyio.fail_after(20):
                async for _event in events:
                    break
            after = {t.name for t in (await client.list_tools()).tools}
    assert {"create_database", "add_database_entry"} <= after


async def test_an_unknown_toolset_in_a_call_is_a_tool_error_listing_the_real_ones() -> None:
    """The model gets the names it can use."""
    async with Client(server_of("lokka")) as client:
        result = await client.call_tool("toolsets", {"enable": ["azur"]})
    assert result.is_error and "no toolset 'azur'" in text_of(result)
    assert "azure" in text_of(result)
