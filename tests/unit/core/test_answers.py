"""An agent answers each POST to /mcp in JSON, except the calls of a tool that notifies the
client first (``toolsets``), which get the SDK's event stream (agents/core/answers.py)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx2
import pytest
from hypothesis import given
from hypothesis import strategies as st

from agents.core.answers import streams
from agents.core.registry import ToolRegistry
from agents.core.server import AgentServer, build_server
from agents.launch import http_app
from tests.unit.core.util import runtime_for

pytestmark = pytest.mark.anyio

TOKEN = "t0ken"
HEADERS = {
    "Authorization": f"Bearer {TOKEN}",
    "Accept": "application/json, text/event-stream",
    "Content-Type": "application/json",
    "mcp-protocol-version": "2025-06-18",
}


def call(tool: str, arguments: dict[str, Any] | None = None, rid: int = 1) -> bytes:
    request = {"jsonrpc": "2.0", "id": rid, "method": "tools/call"}
    request["params"] = {"name": tool, "arguments": arguments or {}}
    return json.dumps(request).encode()


def server_with_toolsets() -> AgentServer:
    reg = ToolRegistry("demo")

    @reg.tool()
    async def ping() -> str:
        """Answer pong."""
        return "pong"

    server = build_server(runtime_for(reg), token=TOKEN, port=8123)
    server.streaming_tools.add("ping_slowly")  # as add_toolsets_tool does for ``toolsets``

    async def ping_slowly() -> str:
        """Answer pong after a moment."""
        await anyio.sleep(0.01)
        return "pong"

    server.add_tool(ping_slowly, name="ping_slowly", description="Answer pong after a moment.")
    return server


@asynccontextmanager
async def served(server: AgentServer) -> AsyncIterator[httpx2.AsyncClient]:
    app = http_app(server)
    transport = httpx2.ASGITransport(app)
    http = httpx2.AsyncClient(transport=transport, base_url="http://127.0.0.1:8123")
    async with server.session_manager.run(), http:
        yield http


def result_of(response: httpx2.Response) -> Any:
    """The JSON-RPC message of a JSON answer, or the last one of an event stream."""
    if response.headers["content-type"].startswith("application/json"):
        return response.json()
    data = [line[5:].strip() for line in response.text.splitlines() if line.startswith("data:")]
    return json.loads(data[-1])


@pytest.mark.parametrize(
    ("tool", "form"), [("ping", "application/json"), ("ping_slowly", "text/event-stream")]
)
async def test_a_tool_call_is_answered_in_json_and_a_streaming_tools_call_with_a_stream(
    tool: str, form: str
) -> None:
    async with served(server_with_toolsets()) as http:
        response = await http.post("/mcp", content=call(tool), headers=HEADERS)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(form)
    assert result_of(response)["result"]["content"][0]["text"] == "pong"


async def test_concurrent_calls_each_get_the_answer_their_own_tool_needs() -> None:
    """Requests interleave at every await; none takes another's mode."""
    tools = ["ping", "ping_slowly"] * 15
    answers: dict[int, httpx2.Response] = {}

    async def one(i: int, tool: str) -> None:
        body = call(tool, rid=i)
        answers[i] = await http.post("/mcp", content=body, headers=HEADERS)

    async with served(server_with_toolsets()) as http, anyio.create_task_group() as tasks:
        for i, tool in enumerate(tools):
            tasks.start_soon(one, i, tool)
    for i, tool in enumerate(tools):
        kind = answers[i].headers["content-type"]
        assert kind.startswith("text/event-stream" if tool == "ping_slowly" else "application/json")
        assert result_of(answers[i])["id"] == i


async def test_an_oversized_body_is_still_refused_by_the_sdk() -> None:
    """Declared too large, or sent in chunks without a length."""
    big = call("ping", {"text": "x" * (5 * 1024 * 1024)})

    async def chunks() -> AsyncIterator[bytes]:
        for i in range(0, len(big), 65536):
            yield big[i : i + 65536]

    async with served(server_with_toolsets()) as http:
        response = await http.post("/mcp", content=big, headers=HEADERS)
        chunked = await http.post("/mcp", content=chunks(), headers=HEADERS)
    assert response.status_code == 413 and chunked.status_code == 413


async def test_a_request_without_the_token_is_refused_whichever_answer_its_tool_gets() -> None:
    headers = {k: v for k, v in HEADERS.items() if k != "Authorization"}
    async with served(server_with_toolsets()) as http:
        response = await http.post("/mcp", content=call("ping_slowly"), headers=headers)
    assert response.status_code == 401


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json ping_slowly",
        b'["ping_slowly"]',
        b'{"method": "tools/list", "params": {"name": "ping_slowly"}}',
        b'{"method": "tools/call", "params": "ping_slowly"}',
        b'{"method": "tools/call", "params": {"name": "ping_slowlyy"}}',
        b'{"method": "tools/call", "params": {"name": "ping_slowly"' + b"[" * 100_000,
        b"[" * 100_000 + b'"ping_slowly"' + b"]" * 100_000,
    ],
)
def test_only_a_call_of_a_streaming_tool_streams(body: bytes) -> None:
    assert not streams(body, {"ping_slowly"})
    assert streams(call("ping_slowly"), {"ping_slowly"})
    assert not streams(call("ping_slowly"), set())


@given(st.binary(max_size=300), st.sampled_from(["toolsets", "x"]))
def test_any_body_gets_an_answer_mode_without_raising(body: bytes, name: str) -> None:
    decided = streams(body, {name})
    if decided:
        message = json.loads(body)
        assert message["method"] == "tools/call" and message["params"]["name"] == name


@given(
    st.text(min_size=1, max_size=20),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)
def test_a_call_streams_exactly_when_its_tool_is_a_streaming_one(
    tool: str, arguments: dict[str, int]
) -> None:
    assert streams(call(tool, arguments), {tool})
    assert not streams(call(tool, arguments), {tool + "x"})
