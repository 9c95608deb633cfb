"""The HTTP app an agent process serves (agents/launch.py), driven in process."""

from __future__ import annotations

import io
import json
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from agents.core.logs import configure_logging
from agents.core.recorder import ToolCall
from agents.core.registry import ToolRegistry
from agents.core.server import build_server
from agents.launch import http_app
from tests.unit.core.util import runtime_for

pytestmark = pytest.mark.anyio


class LinesAtRecord:
    """A recorder that notes which log lines were already written when each call's record was
    being committed."""

    def __init__(self, stream: io.StringIO) -> None:
        self.stream = stream
        self.seen: list[list[str]] = []

    async def record(self, call: ToolCall) -> None:
        """Note the events written so far."""
        lines = self.stream.getvalue().splitlines()
        self.seen.append([json.loads(line)["event"] for line in lines])

    async def run(self, status: Any) -> None:
        """No background duty."""

    async def aclose(self) -> None:
        """Nothing to release."""


async def test_a_calls_tool_call_line_is_written_before_its_record_is_committed() -> None:
    """Over the app an agent serves (bearer check included), the tool_call line is out before
    the record commits and the result is sent: a crash after either, SIGKILL included, cannot
    lose the line of a recorded call."""
    out = io.StringIO()
    configure_logging(stream=out, json=True, agent="demo", env="test")
    reg = ToolRegistry("demo")

    @reg.tool()
    async def ping() -> str:
        """Answer pong."""
        return "pong"

    recorder = LinesAtRecord(out)
    server = build_server(runtime_for(reg, recorder=recorder), token="t0ken", port=8123)
    app = http_app(server)
    http = httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app),
        base_url="http://127.0.0.1:8123",
        headers={"Authorization": "Bearer t0ken"},
    )
    async with server.session_manager.run(), http:
        url = "http://127.0.0.1:8123/mcp"
        async with Client(streamable_http_client(url, http_client=http)) as client:
            result = await client.call_tool("ping", {})
    assert not result.is_error
    assert len(recorder.seen) == 1 and recorder.seen[0][-1] == "tool_call"
