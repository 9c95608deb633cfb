"""Log configuration: JSON lines, tracebacks without local variables."""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import anyio
import pytest

from agents.core.logs import configure_logging, get_logger, hold_until_sent, lines_after_response


def _crash(password: str) -> None:
    raise RuntimeError("boom")


def test_a_logged_traceback_has_its_frames_but_not_their_local_variables() -> None:
    """A crash's locals may hold tool arguments (a password): the JSON line leaves them out."""
    out = io.StringIO()
    configure_logging(stream=out, json=True, agent="demo", env="test")
    try:
        _crash("Sup3r-Secret-pw")
    except RuntimeError:
        get_logger("demo").exception("tool_crashed")
    line = json.loads(out.getvalue().splitlines()[-1])
    frames = line["exception"][0]["frames"]
    assert [f["name"] for f in frames][-1] == "_crash"
    assert "Sup3r-Secret-pw" not in out.getvalue()
    assert all("locals" not in f or not f["locals"] for f in frames)


def test_a_stdlib_record_with_a_traceback_leaves_out_local_variables_too() -> None:
    """The MCP SDK logs crashes through the stdlib bridge: same shape, no locals."""
    out = io.StringIO()
    configure_logging(stream=out, json=True, agent="demo", env="test")
    try:
        _crash("Sup3r-Secret-pw")
    except RuntimeError:
        logging.getLogger("mcp.server").error("Tool raised", exc_info=True)
    assert "Sup3r-Secret-pw" not in out.getvalue()
    assert json.loads(out.getvalue().splitlines()[-1])["exception"][0]["exc_type"] == "RuntimeError"


@pytest.mark.anyio
async def test_a_requests_held_lines_are_written_right_after_its_response_is_sent() -> None:
    """hold_until_sent (as a tool call does before its tool_call line, in a task the request
    started): the line waits until the response's last byte is sent, then comes out in
    order after the lines written before; outside a request nothing is held."""
    out = io.StringIO()
    configure_logging(stream=out, json=True, agent="demo", env="test")
    log = get_logger("demo")
    seen_at_send: list[str] = []

    async def handler() -> None:
        log.info("working")
        hold_until_sent()
        log.info("tool_call", tool="echo")

    async def app(scope: Any, receive: Any, send: Any) -> None:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(handler)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})
        log.info("after")

    async def send(message: Any) -> None:
        if message["type"] == "http.response.body":
            seen_at_send.append(out.getvalue())

    async def receive() -> Any:
        return {"type": "http.request", "body": b""}

    await lines_after_response(app)({"type": "http"}, receive, send)
    events = [json.loads(line)["event"] for line in out.getvalue().splitlines()]
    assert "working" in seen_at_send[0] and "tool_call" not in seen_at_send[0]
    assert events == ["working", "tool_call", "after"]
    hold_until_sent()  # no request: written at once
    log.info("alone")
    assert json.loads(out.getvalue().splitlines()[-1])["event"] == "alone"
