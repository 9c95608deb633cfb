"""``machine_state``: this machine's agents (pid, port, uptime, readiness) and versions.

Two kinds of writers keep one document per machine, ``machine_state:<machine id>``: each agent
(its own entry, from inside) and the supervisor's health listener (every agent's process
facts, from outside). Each merges only the fields it knows, in one read-modify-write
transaction. A write that changes nothing but heartbeat fields is skipped unless the
document is older than the heartbeat interval, so a 5 s tick does not grow history.
"""

from __future__ import annotations

import platform
import socket
import sqlite3
import sys
from datetime import UTC, datetime
from importlib import metadata
from typing import Any

from agents import __version__
from agents.store.canonical import now_iso
from agents.store.envelope import Envelope
from agents.store.store import ContextStore

__all__ = ["VOLATILE", "doc_id_of", "record_agents", "versions"]

VOLATILE = frozenset({"uptime_seconds", "seen_at"})


def doc_id_of(machine_id: str) -> str:
    """The id of a machine's state document."""
    return f"machine_state:{machine_id}"


def versions() -> dict[str, str]:
    """Versions worth knowing when comparing machines."""
    out = {
        "agents": __version__,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
    }
    for dist in ("mcp", "supervisor"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return out


def _stable(body: dict[str, Any]) -> dict[str, Any]:
    agents = {
        name: {k: v for k, v in entry.items() if k not in VOLATILE}
        for name, entry in body.get("agents", {}).items()
    }
    sup = {k: v for k, v in body.get("supervisor", {}).items() if k not in VOLATILE}
    return {**body, "agents": agents, "supervisor": sup}


def _age_seconds(body: dict[str, Any]) -> float:
    stamps = [e.get("seen_at") for e in body.get("agents", {}).values()]
    stamps.append(body.get("supervisor", {}).get("seen_at"))
    newest = max((s for s in stamps if s), default=None)
    if newest is None:
        return float("inf")
    seen = datetime.fromisoformat(newest.replace("Z", "+00:00"))
    return (datetime.now(UTC) - seen).total_seconds()


def record_agents(
    store: ContextStore,
    entries: dict[str, dict[str, Any]],
    *,
    actor: str,
    supervisor_pid: int | None = None,
    heartbeat: float = 60.0,
    env: str | None = None,
) -> Envelope:
    """Merge ``entries`` (agent name → known fields) into this machine's state document."""
    now = now_iso()

    def change(current: Any) -> Any:
        body: dict[str, Any] = dict(current or {})
        body.update(
            machine_id=store.machine_id,
            host=socket.gethostname(),
            platform=f"{sys.platform} {platform.machine()}",
            versions=versions(),
        )
        if env:
            body["env"] = env
        agents = {name: dict(entry) for name, entry in body.get("agents", {}).items()}
        for name, fields in entries.items():
            merged = {**agents.get(name, {}), **fields, "seen_at": now}
            started = merged.get("started_at")
            merged["uptime_seconds"] = None
            if started and merged.get("state", "RUNNING") == "RUNNING":
                began = datetime.fromisoformat(started.replace("Z", "+00:00"))
                merged["uptime_seconds"] = round((datetime.now(UTC) - began).total_seconds(), 1)
            agents[name] = merged
        body["agents"] = agents
        if supervisor_pid is not None:
            body["supervisor"] = {"pid": supervisor_pid, "seen_at": now}
        if current and _stable(body) == _stable(current) and _age_seconds(current) < heartbeat:
            return current
        return body

    return store.update(doc_id_of(store.machine_id), "machine_state", change, actor=actor)
