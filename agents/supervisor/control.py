"""Drive one environment's supervisord over its XML-RPC socket, and judge agent readiness."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
import xmlrpc.client
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from agents.catalog import CatalogEntry
from agents.core.errors import AgentError
from agents.core.settings import EnvLayers
from agents.supervisor.ports import describe_holder, holder_of, port_in_use
from agents.supervisor.probe import probe_ready
from agents.supervisor.render import EnvPaths

__all__ = ["AgentStatus", "StartError", "Supervisor", "last_error", "tail_lines"]

GROUP = "agents"


class StartError(AgentError):
    """An agent did not come up; the message names it, the reason and its last log lines."""


@dataclass
class AgentStatus:
    """One row of ``agents status``."""

    agent: str
    state: str
    pid: int | None
    port: int
    url: str
    answering: bool
    ready: bool
    reason: str | None
    uptime_seconds: int | None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


_EXCEPTION_LINE = re.compile(r"^(?:[A-Za-z_][\w.]*)?(?:Error|Exception|Exit|Interrupt)\b.*")
_ERROR_LEVELS = frozenset({"error", "critical", "exception", "fatal"})


def last_error(lines: list[str]) -> str | None:
    """The cause of a crash from an agent's last log lines: the newest error event (its
    ``error`` or ``exception`` text), or a traceback's final ``SomeError: ...`` line."""
    for line in reversed(lines):
        text = line.strip()
        try:
            event = json.loads(text)
        except ValueError:
            event = None
        if isinstance(event, dict):
            if str(event.get("level", "")).lower() not in _ERROR_LEVELS:
                continue
            exception = str(event.get("exception") or "").strip().splitlines()
            detail = event.get("error") or (exception[-1] if exception else None)
            what = str(event.get("event", ""))
            return f"{what}: {detail}" if detail and what else str(detail or what) or None
        if _EXCEPTION_LINE.match(text):
            return text
    return None


def tail_lines(path: Path, count: int = 10) -> list[str]:
    """The last ``count`` lines of ``path`` (empty if it does not exist)."""
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - 64 * 1024))
            data = fh.read().decode(errors="replace")
    except FileNotFoundError:
        return []
    return data.splitlines()[-count:]


class Supervisor:
    """The supervisord of one environment."""

    def __init__(self, paths: EnvPaths) -> None:
        self.paths = paths

    @property
    def rpc(self) -> Any:
        """An XML-RPC proxy over the unix socket."""
        from supervisor.xmlrpc import SupervisorTransport

        transport = SupervisorTransport(None, None, f"unix://{self.paths.socket}")
        return xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport)

    def is_running(self) -> bool:
        """supervisord answers on this environment's socket."""
        if not self.paths.socket.exists():
            return False
        try:
            return bool(self.rpc.supervisor.getState()["statename"] == "RUNNING")
        except (OSError, xmlrpc.client.Error):
            return False

    def pid(self) -> int | None:
        """supervisord's pid, from its pidfile."""
        try:
            return int(self.paths.pidfile.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None

    def launch(self, timeout: float = 15.0) -> None:
        """Start supervisord (it daemonizes) and wait until it answers.

        Raises:
            StartError: supervisord refused the conf or did not come up.
        """
        proc = subprocess.run(
            [sys.executable, "-m", "agents.supervisor.daemon", "-c", str(self.paths.conf)],
            capture_output=True,
            text=True,
            cwd=self.paths.root,
            check=False,
        )
        if proc.returncode != 0:
            raise StartError(
                f"supervisord refused {self.paths.conf}: {(proc.stderr or proc.stdout).strip()}"
            )
        deadline = time.monotonic() + timeout
        while not self.is_running():
            if time.monotonic() > deadline:
                log = "\n".join(tail_lines(self.paths.log_of("supervisord")))
                raise StartError(f"supervisord did not answer on {self.paths.socket}:\n{log}")
            time.sleep(0.05)

    def apply_conf(self) -> list[str]:
        """Apply a re-rendered conf to the running supervisord (``supervisorctl update``);
        return the names of the groups that changed."""
        added, changed, removed = self.rpc.supervisor.reloadConfig()[0]
        for name in removed + changed:
            with contextlib.suppress(xmlrpc.client.Fault):
                self.rpc.supervisor.stopProcessGroup(name)
            self.rpc.supervisor.removeProcessGroup(name)
        for name in changed + added:
            self.rpc.supervisor.addProcessGroup(name)
        return list(added + changed + removed)

    def processes(self) -> dict[str, dict[str, Any]]:
        """Process info of the agents, by agent name."""
        return {
            i["name"]: i for i in self.rpc.supervisor.getAllProcessInfo() if i["group"] == GROUP
        }

    def program(self, name: str) -> dict[str, Any] | None:
        """Process info of a program outside the agents group (``sync``), or None."""
        if not self.is_running():
            return None
        try:
            info: dict[str, Any] = self.rpc.supervisor.getProcessInfo(f"{name}:{name}")
        except xmlrpc.client.Fault:
            return None
        return info

    def start_agents(self, names: list[str] | None = None) -> None:
        """Start the named agents (all when None) without waiting for startsecs."""
        if names is None:
            self.rpc.supervisor.startProcessGroup(GROUP, False)
            return
        for name in names:
            with contextlib.suppress(xmlrpc.client.Fault):
                self.rpc.supervisor.startProcess(f"{GROUP}:{name}", False)

    def stop_agents(self, names: list[str]) -> None:
        """Stop the named agents and wait for them to exit."""
        for name in names:
            with contextlib.suppress(xmlrpc.client.Fault):
                self.rpc.supervisor.stopProcess(f"{GROUP}:{name}", True)

    def shutdown(self, timeout: float = 30.0) -> int | None:
        """Stop every program and supervisord itself; return the pid that was stopped."""
        pid = self.pid()
        if self.is_running():
            self.rpc.supervisor.shutdown()
        elif pid is not None and _alive(pid):
            os.kill(pid, signal.SIGTERM)
        if pid is not None:
            deadline = time.monotonic() + timeout
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
        return pid

    @property
    def instance(self) -> str | None:
        """The nonce the running supervisord gave its agents (None before the first start)."""
        try:
            return self.paths.instance_file.read_text().strip() or None
        except FileNotFoundError:
            return None

    def preflight(self, entries: list[tuple[CatalogEntry, int]], layers: EnvLayers) -> None:
        """Before starting agents: refuse when something else holds one of their ports.

        Raises:
            StartError: One line per taken port, naming the agent, the port and its holder.
        """
        infos = self.processes() if self.is_running() else {}
        taken = []
        for entry, port in entries:
            if infos.get(entry.name, {}).get("statename") in ("STARTING", "RUNNING", "STOPPING"):
                continue  # its own port, checked by the probe
            if port_in_use(port):
                where = layers.rel(layers.public_file)
                taken.append(
                    f"agent {entry.name!r} cannot start: {describe_holder(port)}; stop it, or "
                    f"set {entry.port_var} (or AGENTS_PORT_BASE) in {where}"
                )
        if taken:
            raise StartError("\n".join(taken))

    def status(
        self,
        entries: list[tuple[CatalogEntry, int]],
        tokens: Mapping[str, str | None] | None = None,
    ) -> list[AgentStatus]:
        """State, pid, port and readiness of each agent (``tokens``, by agent, let /readyz say
        why one is not ready); for one that is down, the cause from its log rather than
        supervisord's "Exited too quickly"."""
        infos = self.processes() if self.is_running() else {}
        instance = self.instance
        rows = []
        now = time.time()
        for entry, port in entries:
            info = infos.get(entry.name, {})
            state = info.get("statename", "NOT RUNNING" if not infos else "UNKNOWN")
            # STARTING has a process too: it may answer long before supervisord's startsecs
            # pass, and answering is what `start` waits for
            running = state in ("STARTING", "RUNNING")
            answering, ready, reason = (
                probe_ready(
                    port, expect=(entry.name, instance), token=(tokens or {}).get(entry.name)
                )
                if running
                else (False, False, None)
            )
            if not running and infos:
                reason = self._cause(entry.name, port, info)
            elif running and not answering and port_in_use(port):
                holder = holder_of(port)
                if holder is not None and holder.pid != info.get("pid"):
                    reason = f"{reason}; {holder}"
            rows.append(
                AgentStatus(
                    agent=entry.name,
                    state=state,
                    pid=info.get("pid") or None,
                    port=port,
                    url=f"http://127.0.0.1:{port}/mcp",
                    answering=answering,
                    ready=ready,
                    reason=reason,
                    uptime_seconds=int(now - info["start"]) if running else None,
                )
            )
        return rows

    def wait_answering(
        self,
        entries: list[tuple[CatalogEntry, int]],
        timeout: float,
        tokens: Mapping[str, str | None] | None = None,
    ) -> list[AgentStatus]:
        """Wait until every agent answers /readyz.

        Raises:
            StartError: An agent went FATAL, refused its config, or did not answer in time.
        """
        deadline = time.monotonic() + timeout
        while True:
            rows = self.status(entries, tokens)
            for row in rows:
                # BACKOFF: it exited before startsecs, i.e. during start-up (bad config, port
                # taken); supervisord would retry, but the cause rarely goes away by itself.
                if row.state in ("BACKOFF", "FATAL", "STOPPED", "EXITED"):
                    raise StartError(self._explain(row, f"is {row.state}"))
            pending = [r for r in rows if not r.answering]
            if not pending:
                return rows
            if time.monotonic() > deadline:
                raise StartError(
                    "\n".join(
                        self._explain(r, f"did not answer /readyz within {timeout:g}s")
                        for r in pending
                    )
                )
            time.sleep(0.05)

    def _cause(self, agent: str, port: int, info: dict[str, Any]) -> str | None:
        """Why a down agent is down: the error in its log, and who holds its port."""
        cause = last_error(tail_lines(self.paths.log_of(agent), 200))
        if info.get("statename") == "STOPPED":  # stopped by request: whose, and why
            loop = self._crash_loop(agent, float(info.get("stop") or 0))
            return f"{loop}{f'; last error: {cause}' if cause else ''}" if loop else None
        if info.get("statename") == "EXITED" and not info.get("exitstatus"):
            return None  # a clean exit
        fallback = info.get("spawnerr") or (
            f"exit status {info['exitstatus']}" if info.get("exitstatus") else None
        )
        if port_in_use(port):
            return f"{cause or fallback}; {describe_holder(port)}"
        return cause or fallback

    def _crash_loop(self, agent: str, stopped: float) -> str | None:
        """Whether the health listener stopped ``agent`` (at ``stopped``) for a crash loop: it
        logs ``crash_loop`` at the last exit and stops the agent once it is up again."""
        for line in reversed(tail_lines(self.paths.log_of("health"), 200)):
            try:
                event = json.loads(line)
                when = datetime.fromisoformat(str(event["timestamp"])).timestamp()
            except (ValueError, KeyError, TypeError):
                continue
            if when < stopped - 60:
                return None
            if (
                event.get("event") == "crash_loop"
                and event.get("program") == agent
                and when <= stopped + 1
            ):
                return (
                    f"stopped by the health listener: {event.get('exits')} exits within "
                    f"{event.get('window_seconds')} s (crash loop)"
                )
        return None

    def _tail(self, agent: str) -> list[str]:
        return tail_lines(self.paths.log_of(agent), 8)

    def _explain(self, row: AgentStatus, what: str) -> str:
        lines = "\n".join(f"    {line}" for line in self._tail(row.agent))
        reason = f" ({row.reason})" if row.reason else ""
        holder = holder_of(row.port)
        if holder is not None and (holder.pid is None or holder.pid != row.pid):
            reason += f"; {holder}"
        log = self.paths.log_of(row.agent)
        return f"agent {row.agent!r} {what}{reason}; last log lines of {log}:\n{lines}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
