"""Simulated machines for the sync engine tests: one context store each, one shared remote.

Functions here also run in child processes (multiprocessing, spawn), so they take plain
arguments and open everything themselves.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from agents.store import audit
from agents.store.identity import KEY_FILE, Identity
from agents.store.store import ContextStore
from agents.sync.engine import Syncer
from agents.sync.remote import Remote
from agents.sync.trust import identity_of
from tests.integration.sync.workers import Target


def store_of(scratch: str, machine: str) -> ContextStore:
    """The context store of ``machine`` (created on first use)."""
    return ContextStore(Path(scratch, "stores", machine), machine_id=machine, actor="cli")


def folder_target(tmp_path: Path) -> Target:
    """A folder remote under ``tmp_path``, the machines' stores beside it."""
    return Target("dir", f"dir://{tmp_path / 'remote'}", {}, str(tmp_path))


def trust_siblings(store: ContextStore) -> None:
    """``store`` trusts every machine whose store lives beside it (one person's machines, as
    ``agents machines trust`` would make them); untrusted machines are never merged."""
    from agents.sync.trust import decide, trusted_set

    trust = trusted_set(store)
    for path in sorted(store.directory.parent.iterdir()):
        key_file = path / "vault" / KEY_FILE
        if path == store.directory or not key_file.exists():
            continue
        key = Identity.load_or_create(path).public_key
        if not trust.trusts(path.name, key):
            decide(store, path.name, key, trusted=True)


def sync(target: Target, store: ContextStore, operation: str = "sync") -> Any:
    """One pull, push or sync of ``store`` through its own connection to the remote; it
    trusts its sibling machines first."""
    identity_of(store)
    trust_siblings(store)
    with target.open(store.machine_id) as remote:
        return getattr(Syncer(store, remote), operation)()


def push_from_a_copy(
    target: Target, machine: str, where: Path, doc_id: str, body: dict[str, Any]
) -> None:
    """A copy of ``machine``'s store at ``where`` (a restored backup, a second checkout)
    writes ``doc_id`` and pushes under the same machine id, moving its head on the remote."""
    shutil.copytree(Path(target.scratch, "stores", machine), where)
    with ContextStore(where, machine_id=machine, actor="cli") as copy:
        copy.put(doc_id, doc_id.split(":", 1)[0], body)
        with target.open(machine) as remote:
            Syncer(copy, remote).push()


def pref(value: Any, key: str = "theme") -> dict[str, Any]:
    """A preference body."""
    return {"key": key, "value": value}


def output(blob: str | None = None, size: int = 0, **fields: Any) -> dict[str, Any]:
    """An agent output body (of ``get_page``), its output in blob ``blob`` when given."""
    body: dict[str, Any] = {
        "agent": "notion",
        "handler": "get_page",
        "status": "ok",
        "outcome": "ok",
        "input": {},
        "duration_ms": 1.0,
        "started_at": "2026-12-01T00:00:00Z",
    }
    if blob is not None:
        body["output_ref"] = {"blob": blob, "bytes": size, "media_type": "application/json"}
    return {**body, **fields}


def user_heads(store: ContextStore) -> dict[str, str]:
    """Heads of every document, sync records and machine state included."""
    return store.heads()


def audit_ok(store: ContextStore) -> bool:
    """True when the store's audit chain verifies."""
    with store.reading() as conn:
        return audit.verify(conn).ok


def writer(target: Target, scratch: str, machine: str, docs: int, rounds: int) -> int:
    """Write ``docs`` documents per round and sync after each round; return the syncs."""
    with store_of(scratch, machine) as store:
        for r in range(rounds):
            for i in range(docs):
                store.put(f"preference:{machine}-{r}-{i}", "preference", pref(i, f"{machine}.{r}"))

            def add_task(cur: Any, r: int = r) -> dict[str, Any]:
                return {
                    "title": "shared",
                    "status": "active",
                    "current_tasks": [*(cur or {}).get("current_tasks", []), f"{machine}-{r}"],
                }

            store.update("session:shared", "session", add_task)
            sync(target, store)
    return rounds


def crash_during_push(target: Target, scratch: str, machine: str, where: str) -> None:
    """Write a document, then push and die (exit 9, as a kill -9) at ``where``: after the
    first object write, or after every object and the manifest but before the head CAS."""
    with store_of(scratch, machine) as store:
        for i in range(5):
            store.put(f"preference:crash-{i}", "preference", pref(i, f"crash{i}"))
        remote: Remote = target.open(machine)
        if where == "before-head":
            remote.cas = lambda *a, **k: os._exit(9)  # type: ignore[method-assign]
        else:
            real = remote.put_many

            def first_then_die(items: Any) -> None:
                real(list(items)[:1])
                os._exit(9)

            remote.put_many = first_then_die  # type: ignore[method-assign]
        Syncer(store, remote).push()
