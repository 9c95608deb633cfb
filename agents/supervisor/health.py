"""supervisord event listener: readiness probes, hang restarts, crash-loop stops.

supervisord's RUNNING only means "alive for startsecs". On every TICK_5 this listener probes
each running agent's /readyz; after ``--misses`` probes in a row without an answer (a hung or
SIGSTOPped agent) it SIGKILLs the agent, and supervisord respawns it. It also counts exits:
an agent that exits ``--crash-exits`` times within ``--crash-window`` seconds is stopped and a
``crash_loop`` event is logged, where supervisord alone would respawn it forever.

stdout is the listener protocol, so logs go to stderr.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import xmlrpc.client
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TextIO

from agents.core.logs import configure_logging, get_logger
from agents.supervisor.probe import INSTANCE_ENV, probe_ready

__all__ = ["HealthMonitor", "main"]

log = get_logger("agents.health")
GROUP = "agents"


_LIVE = frozenset({"STARTING", "RUNNING", "STOPPING"})


def probe(port: int) -> bool:
    """True when the agent on ``port`` answers /readyz at all (200 or 503)."""
    return probe_ready(port, timeout=2.0)[0]


@dataclass
class _Agent:
    name: str
    port: int
    misses: int = 0
    exits: deque[float] = field(default_factory=deque)
    killed_pids: set[int] = field(default_factory=set)
    stop_pending: bool = False


class HealthMonitor:
    """The listener's decisions, apart from the event protocol so they can be tested."""

    def __init__(
        self,
        rpc: Any,
        ports: dict[str, int],
        *,
        misses: int,
        grace: float,
        crash_exits: int,
        crash_window: float,
        probe: Callable[[int], bool] = probe,
        clock: Callable[[], float] = time.time,
        state: Callable[[dict[str, dict[str, Any]]], None] | None = None,
    ) -> None:
        self.rpc = rpc
        self.agents = {name: _Agent(name, port) for name, port in ports.items()}
        self.misses, self.grace = misses, grace
        self.crash_exits, self.crash_window = crash_exits, crash_window
        self._probe, self._clock = probe, clock
        self._state = state
        self._pool = ThreadPoolExecutor(max_workers=max(1, len(ports)))

    def tick(self) -> None:
        """Probe every agent RUNNING longer than the grace period; kill the hung ones."""
        now = self._clock()
        infos = {
            i["name"]: i for i in self.rpc.supervisor.getAllProcessInfo() if i["group"] == GROUP
        }
        running = [
            a
            for a in self.agents.values()
            if (info := infos.get(a.name)) and info["statename"] == "RUNNING"
        ]
        stopping = [a for a in running if a.stop_pending]
        for agent in stopping:
            self._stop(agent)
        due = [
            a for a in running if a not in stopping and now - infos[a.name]["start"] >= self.grace
        ]
        answers = list(self._pool.map(lambda a: self._probe(a.port), due))
        if self._state is not None:
            self._state(
                self._entries(infos, dict(zip((a.name for a in due), answers, strict=True)))
            )
        for agent, alive in zip(due, answers, strict=True):
            if alive:
                agent.misses = 0
                continue
            agent.misses += 1
            log.warning("readiness_probe_missed", program=agent.name, misses=agent.misses)
            if agent.misses >= self.misses:
                pid = infos[agent.name]["pid"]
                agent.killed_pids.add(pid)
                agent.misses = 0
                log.error("agent_unresponsive_restarting", program=agent.name, pid=pid)
                self._call("signalProcess", f"{GROUP}:{agent.name}", "KILL")

    def _entries(
        self, infos: dict[str, dict[str, Any]], answered: dict[str, bool]
    ) -> dict[str, dict[str, Any]]:
        """Each agent's process facts for the machine state."""
        out: dict[str, dict[str, Any]] = {}
        for agent in self.agents.values():
            info = infos.get(agent.name, {})
            state = str(info.get("statename", "UNKNOWN"))
            entry: dict[str, Any] = {"port": agent.port, "state": state}
            if state in _LIVE:
                # STARTING and STOPPING have a process too; its own entry says whether it is
                # ready, so only a process that is gone has its readiness cleared
                entry["pid"] = info.get("pid")
                entry["started_at"] = time.strftime(
                    "%Y-%m-%dT%H:%M:%SZ", time.gmtime(float(info.get("start", 0)))
                )
            else:
                entry.update(pid=None, started_at=None, ready=None)
            if agent.name in answered:
                entry["answering"] = answered[agent.name]
            out[agent.name] = entry
        return out

    def running(self, name: str) -> None:
        """A fresh start: forget earlier misses, or carry out a pending crash-loop stop."""
        agent = self.agents.get(name)
        if agent is None:
            return
        agent.misses = 0
        if agent.stop_pending:
            self._stop(agent)

    def _stop(self, agent: _Agent) -> None:
        # Only once the respawned agent is RUNNING: a SIGTERM sent between supervisord's fork
        # and exec is swallowed, leaving the agent up and supervisord waiting in STOPPING.
        agent.stop_pending = False
        self._call("stopProcess", f"{GROUP}:{agent.name}", False)

    def exited(self, name: str, pid: int, expected: bool) -> None:
        """Count an exit we did not cause; past the budget, stop the agent."""
        agent = self.agents.get(name)
        if agent is None or expected:
            return
        if pid in agent.killed_pids:
            agent.killed_pids.discard(pid)
            return
        now = self._clock()
        agent.exits.append(now)
        while agent.exits and now - agent.exits[0] > self.crash_window:
            agent.exits.popleft()
        if len(agent.exits) >= self.crash_exits:
            log.error(
                "crash_loop",
                program=name,
                exits=len(agent.exits),
                window_seconds=self.crash_window,
                action="stopped; fix the cause, then `agents restart <env> <agent>`",
            )
            agent.exits.clear()
            agent.stop_pending = True

    def _call(self, method: str, *args: Any) -> None:
        try:
            getattr(self.rpc.supervisor, method)(*args)
        except xmlrpc.client.Fault as fault:
            log.warning("supervisor_call_failed", method=method, fault=fault.faultString)


def _parse_payload(payload: str) -> dict[str, str]:
    return dict(token.split(":", 1) for token in payload.split("\n", 1)[0].split() if ":" in token)


def serve(monitor: HealthMonitor, stdin: TextIO, stdout: TextIO) -> None:
    """The supervisord event-listener loop."""
    from supervisor import childutils

    while True:
        headers, payload = childutils.listener.wait(stdin, stdout)
        event = headers.get("eventname", "")
        try:
            if event == "TICK_5":
                monitor.tick()
            elif event.startswith("PROCESS_STATE_"):
                fields = _parse_payload(payload)
                if fields.get("groupname") == GROUP:
                    name = fields.get("processname", "")
                    if event == "PROCESS_STATE_RUNNING":
                        monitor.running(name)
                    elif event == "PROCESS_STATE_EXITED":
                        pid = int(fields.get("pid", "0"))
                        monitor.exited(name, pid, fields.get("expected") == "1")
        except (OSError, xmlrpc.client.Error):
            log.exception("health_event_failed", event=event)
        childutils.listener.ok(stdout)


def _state_writer(env: str) -> Callable[[dict[str, dict[str, Any]]], None] | None:
    """Writes the agents' process facts into the context store's machine state (at most
    every CONTEXT_STATE_INTERVAL seconds when nothing changes); None without a store."""
    from agents.core.errors import AgentError
    from agents.core.settings import find_root, load_layers
    from agents.store.config import StoreSettings, open_store
    from agents.store.machine import record_agents

    try:
        layers = load_layers(find_root(), env)
        heartbeat = layers.model(StoreSettings).state_interval
        store = open_store(layers, actor="supervisor")
    except AgentError as exc:
        log.warning("machine_state_disabled", reason=str(exc))
        return None

    def write(entries: dict[str, dict[str, Any]]) -> None:
        try:
            record_agents(
                store,
                entries,
                actor="supervisor",
                supervisor_pid=os.getppid(),
                heartbeat=heartbeat,
                env=env,
            )
        except AgentError as exc:
            log.warning("machine_state_not_written", reason=str(exc))

    return write


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``python -m agents.supervisor.health``."""
    p = argparse.ArgumentParser(prog="python -m agents.supervisor.health")
    p.add_argument("--env", required=True)
    p.add_argument("--agent", action="append", default=[], help="NAME=PORT, repeatable")
    p.add_argument("--misses", type=int, default=2)
    p.add_argument("--grace", type=float, default=10.0)
    p.add_argument("--crash-exits", type=int, default=5)
    p.add_argument("--crash-window", type=float, default=300.0)
    args = p.parse_args(argv)
    configure_logging(stream=sys.stderr, agent="health", env=args.env)
    from supervisor import childutils

    ports = {name: int(port) for name, port in (a.split("=", 1) for a in args.agent)}
    names = {port: name for name, port in ports.items()}
    instance = os.environ.get(INSTANCE_ENV) or None

    def ours(port: int) -> bool:
        # another server on the port (the agent died, something else bound it) is a miss
        return probe_ready(port, timeout=2.0, expect=(names[port], instance))[0]

    monitor = HealthMonitor(
        childutils.getRPCInterface(os.environ),
        ports,
        probe=ours,
        misses=args.misses,
        grace=args.grace,
        crash_exits=args.crash_exits,
        crash_window=args.crash_window,
        state=_state_writer(args.env),
    )
    log.info("health_listener_started", agents=ports, misses=args.misses, grace=args.grace)
    serve(monitor, sys.stdin, sys.stdout)


if __name__ == "__main__":
    main()
