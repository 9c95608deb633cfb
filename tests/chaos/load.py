"""Load and fault helpers for the chaos suite and ``scripts/bench chaos``: MCP callers that
keep going through agent crashes, a kill -9 loop that times each recovery, and store checks.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio

from agents.core.testing import mcp_client
from agents.store import audit
from agents.store.store import ContextStore
from agents.supervisor.probe import probe_ready
from tests.chaos.conftest import System

__all__ = ["Caller", "Killer", "open_store", "verify_audit"]


@dataclass
class Caller:
    """Calls one tool of one agent in a loop from its own thread until stopped, reconnecting
    after failures; keeps what was acknowledged (a non-error result came back)."""

    system: System
    agent: str
    tool: str
    args: Callable[[int], dict[str, Any]]
    limit: int | None = None
    acked: list[dict[str, Any]] = field(default_factory=list)
    failures: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> Caller:
        """Begin calling in a background thread."""
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 120) -> None:
        """Stop and wait for the thread."""
        self._stop.set()
        self.join(timeout)

    def join(self, timeout: float = 600) -> None:
        """Wait for the thread (it ends by itself once ``limit`` calls were acknowledged)."""
        if self._thread is not None:
            self._thread.join(timeout)
            assert not self._thread.is_alive(), f"{self.agent} caller did not stop"

    def _run(self) -> None:
        url = self.system.status()[self.agent]["url"]
        token = self.system.token(self.agent)
        n = 0
        while not self._stop.is_set() and (self.limit is None or len(self.acked) < self.limit):

            async def session() -> None:
                nonlocal n
                async with mcp_client(url, token) as client:
                    while not self._stop.is_set() and (
                        self.limit is None or len(self.acked) < self.limit
                    ):
                        args = self.args(n)
                        n += 1
                        with anyio.fail_after(30):
                            result = await client.call_tool(self.tool, args)
                        if result.is_error:
                            self.failures += 1
                        else:
                            self.acked.append(args)

            try:
                anyio.run(session)
            except Exception:  # the agent was killed mid-call: reconnect and go on
                self.failures += 1
                time.sleep(0.05)


@dataclass
class Killer:
    """kill -9 agents one after another; times each one's return to answering /readyz."""

    system: System
    recoveries: dict[str, list[float]] = field(default_factory=dict)

    def kill_and_wait(self, agent: str, timeout: float = 60) -> float:
        """SIGKILL ``agent``; seconds until a new process answers /readyz."""
        row = self.system.status()[agent]
        old, port = row["pid"], row["port"]
        t0 = time.monotonic()
        os.kill(old, signal.SIGKILL)
        while time.monotonic() - t0 < timeout:
            pid = self.system.status()[agent]["pid"]
            if pid and pid != old and probe_ready(port, 0.5)[0]:
                took = time.monotonic() - t0
                self.recoveries.setdefault(agent, []).append(took)
                return took
            time.sleep(0.05)
        raise AssertionError(f"{agent} did not answer again within {timeout}s of kill -9")


def open_store(root: Path) -> ContextStore:
    """The running system's store (safe beside the agents: WAL, one writer at a time)."""
    return ContextStore(root / "context" / "local", actor="cli")


def verify_audit(store: ContextStore) -> audit.AuditReport:
    """Verify the store's hash-chained audit log."""
    with store.reading() as conn:
        return audit.verify(conn)
