"""Log configuration: JSON lines, tracebacks without local variables."""

from __future__ import annotations

import io
import json
import logging

from agents.core.logs import configure_logging, get_logger


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
