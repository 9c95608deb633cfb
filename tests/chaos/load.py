"""Load and fault helpers for the chaos suite and ``scripts/bench chaos``: MCP callers that
keep going through agent crashes, a kill -9 loop that times each recovery, and store checks.
"""

from __future__ import annotations

import functools
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
from agents.sync import open_remote
from agents.sync.engine import Syncer
from tests.chaos.conftest import System
from tests.servers import trust_each_other

__all__ = ["Caller", "Killer", "Storm", "open_store", "verify_audit", "write_storm"]


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


@dataclass
class Storm:
    """What :func:`write_storm` wrote: every id that must be present, and the counts."""

    expected: list[str]
    outputs_before: int
    callers: list[Caller]
    seconds: float


def write_storm(
    system: System,
    scratch: Path,
    *,
    mcp_callers: int = 3,
    mcp_each: int = 1000,
    cli_writes: int = 2000,
    cli_processes: int = 10,
    synced: int = 2200,
) -> Storm:
    """Write through every door of the store at once: ``put_document`` over MCP (each call
    also recorded as an agent_output), the store API as the CLI uses it, real ``agents
    context put`` processes, and ``agents sync pull`` of documents another machine pushed."""
    run = f"load{time.time_ns()}"
    remote = f"dir://{scratch / 'remote'}"
    with ContextStore(scratch / "laptop", machine_id="laptop") as laptop:
        with laptop.transaction() as conn:
            for i in range(synced):
                body = {"key": f"{run}-sync-{i}", "value": i}
                laptop.commit(conn, f"preference:{run}-sync-{i}", "preference", body)
        Syncer(laptop, open_remote(remote)).push()
        with open_store(system.root) as store:
            trust_each_other(laptop, store)
    with open_store(system.root) as store:
        outputs_before = store.counts().get("agent_output", 0)

    def put_args(c: int, n: int) -> dict[str, Any]:
        return {
            "id": f"preference:{run}-mcp{c}-{n}",
            "kind": "preference",
            "body": {"key": f"{run}-mcp{c}-{n}", "value": n},
        }

    callers = [
        Caller(system, "context", "put_document", functools.partial(put_args, c), limit=mcp_each)
        for c in range(mcp_callers)
    ]

    def cli_writer() -> None:
        with open_store(system.root) as store:
            for i in range(cli_writes):
                store.put(f"preference:{run}-cli-{i}", "preference", {"key": "k", "value": i})

    def cli_runs() -> None:
        for i in range(cli_processes):
            body = f'{{"key": "k", "value": {i}}}'
            system.project.run(
                "agents",
                "context",
                "put",
                f"preference:{run}-proc-{i}",
                "--kind",
                "preference",
                "--body",
                body,
            )

    def sync_pull() -> None:
        system.project.run("agents", "sync", "pull", "--remote", remote, "--json")

    t0 = time.monotonic()
    threads = [threading.Thread(target=f) for f in (cli_writer, cli_runs, sync_pull)]
    for caller in callers:
        caller.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join(600)
    for caller in callers:
        caller.join(600)
    seconds = time.monotonic() - t0
    expected = [f"preference:{run}-cli-{i}" for i in range(cli_writes)]
    expected += [f"preference:{run}-proc-{i}" for i in range(cli_processes)]
    expected += [f"preference:{run}-sync-{i}" for i in range(synced)]
    for caller in callers:
        expected += [str(args["id"]) for args in caller.acked]
    return Storm(expected, outputs_before, callers, seconds)
