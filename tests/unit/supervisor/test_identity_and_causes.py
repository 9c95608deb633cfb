"""start never takes a foreign server for an agent; a down agent's cause comes from its log."""

from __future__ import annotations

import http.server
import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from agents.supervisor.control import last_error
from agents.supervisor.ports import describe_holder, holder_of, port_in_use
from agents.supervisor.probe import AGENT_HEADER, INSTANCE_HEADER, probe_ready
from tests.fakes.base import loopback


def serve(headers: dict[str, str], status: int = 503) -> Iterator[int]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps({"ready": False, "reason": "FIZZY_TOKEN missing"}).encode()
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    with loopback(Handler) as server:
        yield server.port


@pytest.fixture(name="foreign")
def _foreign() -> Iterator[int]:
    """Any other web server: python -m http.server answers /readyz with a 404."""
    yield from serve({}, status=404)


@pytest.fixture(name="agent")
def _agent() -> Iterator[int]:
    yield from serve({AGENT_HEADER: "fizzy", INSTANCE_HEADER: "nonce-1"})


def test_a_foreign_server_on_the_port_is_not_taken_for_the_agent(foreign: int) -> None:
    answering, ready, reason = probe_ready(foreign, expect=("fizzy", "nonce-1"))
    assert (answering, ready) == (False, False)
    assert reason == f"port {foreign} is answered by something else (HTTP 404)"


def test_the_agent_of_this_start_answers_and_an_earlier_start_does_not(agent: int) -> None:
    assert probe_ready(agent, expect=("fizzy", "nonce-1")) == (True, False, "FIZZY_TOKEN missing")
    stale = probe_ready(agent, expect=("fizzy", "nonce-2"))
    assert stale[:2] == (False, False) and "the fizzy agent of another start" in str(stale[2])
    assert probe_ready(agent, expect=("notion", "nonce-1"))[0] is False


def test_the_holder_of_a_port_is_named_with_its_pid_and_command() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        holder = holder_of(port)
        assert port_in_use(port)
        assert holder is not None and holder.pid == os.getpid()
        assert describe_holder(port).startswith(f"port {port} is taken by pid {os.getpid()} (")
    assert holder_of(port) is None and not port_in_use(port)


def test_holder_of_reads_proc_net_tcp_and_the_fds(tmp_path: Path) -> None:
    """A fake /proc: the LISTEN row on the port (hex 0x1F90 = 8080), and a process whose fd
    links to its socket inode; an established row on the same port is ignored."""
    (tmp_path / "net").mkdir()
    head = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt uid inode\n"
    tail = "00000000:00000000 00:00000000 00000000  1000        0"
    rows = (
        f"   0: 0100007F:1F90 00000000:0000 0A {tail} 4242 1\n"
        f"   1: 0100007F:1F90 0100007F:C350 01 {tail} 999 1\n"
    )
    (tmp_path / "net" / "tcp").write_text(head + rows)
    (tmp_path / "net" / "tcp6").write_text(head)
    fd = tmp_path / "321" / "fd"
    fd.mkdir(parents=True)
    (fd / "3").symlink_to("socket:[4242]")
    (tmp_path / "321" / "cmdline").write_bytes(b"python3\0-m\0http.server\08080\0")
    holder = holder_of(8080, proc=tmp_path)
    assert holder is not None and (holder.pid, holder.command) == (
        321,
        "python3 -m http.server 8080",
    )


@pytest.mark.parametrize(
    ("lines", "cause"),
    [
        (
            [
                '{"event": "Started server process [1]", "level": "info"}',
                '{"event": "[Errno 98] error while attempting to bind on address '
                '(\'127.0.0.1\', 8702): address already in use", "level": "error"}',
                '{"event": "Application shutdown complete.", "level": "info"}',
            ],
            "[Errno 98] error while attempting to bind on address ('127.0.0.1', 8702): "
            "address already in use",
        ),
        (
            [
                '{"event": "agent_refused_to_start", "error": "AGENTS_PORT_BASE missing: set '
                'it in environments/.env.local", "level": "error"}'
            ],
            "agent_refused_to_start: AGENTS_PORT_BASE missing: set it in environments/.env.local",
        ),
        (
            [
                "Traceback (most recent call last):",
                '  File "x.py", line 1, in <module>',
                "ModuleNotFoundError: No module named 'notion_client'",
            ],
            "ModuleNotFoundError: No module named 'notion_client'",
        ),
        (
            ['{"event": "crash", "exception": "Traceback...\\nKeyError: 3", "level": "error"}'],
            "crash: KeyError: 3",
        ),
        (['{"event": "agent_starting", "level": "info"}'], None),
    ],
)
def test_the_cause_of_a_crash_is_the_last_error_in_the_log(
    lines: list[str], cause: str | None
) -> None:
    assert last_error(lines) == cause
