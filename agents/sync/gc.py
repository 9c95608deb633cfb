"""``gc``: remove what no machine's snapshot needs from a remote.

Kept: every head, ``meta/store.json``, every audit chunk, each machine's newest ``keep``
snapshots (its current one always), and every revision and blob they reference. Everything
else under ``objects/``, ``blobs/`` and ``snapshots/`` is garbage: orphans of a push that
crashed before moving its head, and snapshots past retention.

Deleting is two-phase, because a push of another machine may be between writing its objects
and moving its head: a first run only marks what is garbage (in this store), and a later run
deletes what was marked at least ``grace`` seconds before and is still garbage. ``grace=0``
deletes at once; use it only when no other machine is pushing.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from typing import Any

from agents.store.blobs import blob_refs
from agents.store.store import ContextStore
from agents.sync.keys import KeyKind, blob_key, object_key, parse_key
from agents.sync.remote import Remote
from agents.sync.state import LocalState, read_heads, read_manifest, remote_id, sync_lock

__all__ = ["GcReport", "gc"]

GRACE_SECONDS = 3600.0


@dataclass
class GcReport:
    """What ``gc`` found and did."""

    keys: int = 0
    kept_snapshots: int = 0
    garbage: int = 0
    marked: int = 0
    deleted: int = 0
    waiting: int = 0
    dry_run: bool = False

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def _live(remote: Remote, keys: list[str], keep: int) -> set[str]:
    """The keys gc must keep."""
    live = {k for k in keys if parse_key(k).kind in (KeyKind.HEAD, KeyKind.META, KeyKind.AUDIT)}
    by_machine: dict[str, list[str]] = {}
    for key in keys:
        parsed = parse_key(key)
        if parsed.kind is KeyKind.SNAPSHOT and parsed.machine:
            by_machine.setdefault(parsed.machine, []).append(key)
    snapshots: set[str] = set()
    for machine, head in read_heads(remote).items():
        older = sorted(k for k in by_machine.get(machine, []) if k <= head.snapshot)
        snapshots |= {head.snapshot, *older[-keep:]}
    objects: set[str] = set()
    for key in sorted(snapshots):
        if key in keys:
            objects |= {object_key(h) for h in read_manifest(remote, key).docs.values()}
    blobs: set[str] = set()
    if any(parse_key(k).kind is KeyKind.BLOB for k in keys):
        for entry in remote.get_many(sorted(objects & set(keys))).values():
            blobs |= {blob_key(r) for r in blob_refs(entry.data.decode("utf-8", "replace"))}
    return live | snapshots | objects | blobs


def gc(
    store: ContextStore,
    remote: Remote,
    *,
    keep: int = 10,
    grace: float = GRACE_SECONDS,
    dry_run: bool = False,
) -> GcReport:
    """Mark garbage on ``remote``, and delete what was marked ``grace`` seconds ago or more."""
    report = GcReport(dry_run=dry_run)
    with sync_lock(store):
        rid = remote_id(remote, create=False)
        if rid is None:
            return report
        state = LocalState(store, rid)
        keys = remote.list("")
        report.keys = len(keys)
        live = _live(remote, keys, max(1, keep))
        report.kept_snapshots = sum(1 for k in live if k.startswith("snapshots/"))
        garbage = sorted(set(keys) - live)
        report.garbage = len(garbage)
        now = time.time()
        marks: dict[str, float] = json.loads(state.get("gc_marks") or "{}")
        marks = {k: marks.get(k, now) for k in garbage}
        due = [k for k, t in marks.items() if now - t >= grace]
        report.marked = len(marks)
        if dry_run:
            report.waiting = len(marks) - len(due)
            return report
        with remote.batch():  # one commit (git) or transaction (PostgreSQL)
            for key in due:
                remote.delete(key)
                marks.pop(key)
        report.deleted = len(due)
        report.waiting = len(marks)
        with store.transaction() as conn:
            state.put(conn, gc_marks=json.dumps(marks) if marks else None)
            store.audit(
                conn,
                op="gc",
                remote=remote.display_url,
                detail={"deleted": len(due), "waiting": len(marks), "keys": len(keys)},
            )
    return report
