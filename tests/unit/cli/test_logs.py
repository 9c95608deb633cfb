"""`agents logs` pretty-prints JSON lines and passes anything else through."""

from __future__ import annotations

import json

import structlog

from agents.cli.logs import format_line


def test_json_lines_are_rendered_for_humans() -> None:
    """The event name and bound fields appear; the JSON punctuation does not."""
    line = json.dumps(
        {
            "event": "tool_call",
            "level": "info",
            "tool": "agent_info",
            "timestamp": "2026-01-01T00:00:00Z",
            "agent": "notion",
        }
    )
    out = format_line(line, structlog.dev.ConsoleRenderer(colors=False))
    assert "tool_call" in out and "tool=agent_info" in out and "{" not in out


def test_non_json_lines_are_printed_unchanged() -> None:
    """A Python traceback from a crashed import is shown as is."""
    renderer = structlog.dev.ConsoleRenderer(colors=False)
    assert format_line("Traceback (most recent call last):", renderer) == (
        "Traceback (most recent call last):"
    )
