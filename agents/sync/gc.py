"""``gc``: remove what no machine's snapshot needs from a remote.

Kept: every head, ``meta/store.json``, every audit chunk, each machine's newest ``keep``
snapshots (its current one always), and every revision and blob they reference. Everything
else under ``objects/``, ``blobs/`` and ``snapshots/`` is garbage: orphans of a push that
crashed before moving its head, and snapshots past retention. A key outside the key layout
(written by something else, or by a hostile writer) is never deleted: gc counts it, names a
few in its report, and goes on.

Deleting is two-phase, because a push of another machine may be between writing its objects
and moving its head: a first run only marks what is garbage (in this store), and a later run
deletes what was marked at least ``grace`` seconds before and is still garbage. ``grace=0``
deletes at once; use it only when no other machine is pushing.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from agents.store.blobs import blob_refs
from agents.store.store import ContextStore
from agents.sync.keys import KeyKind, ParsedKey, blob_key, object_key, parse_keys
from agents.sync.remote import Remote
from agents.sync.state import LocalState, read_heads, read_manifest, remote_id, sync_lock

__all__ = ["GcReport", "gc"]

GRACE_SECONDS = 3600.0
FOREIGN_SHOWN = 10  # keys outside the layout named in a report


@dataclass
class GcReport:
    """What ``gc`` found and did."""

    keys: int = 0
    kept_snapshots: int = 0
    garbage: int = 0
    marked: int = 0
    deleted: int = 0
    waiting: int = 0
    foreign: int = 0
    foreign_keys: list[str] = field(default_factory=list)
    dry_run: bool = False

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def _live(remote: Remote, parsed: dict[str, ParsedKey], keep: int) -> set[str]:
    """The keys of the layout gc must keep."""
    live = {k for k, p in parsed.items() if p.kind in (KeyKind.HEAD, KeyKind.META, KeyKind.AUDIT)}
    by_machine: dict[str, list[str]] = {}
    for key, p in parsed.items():
        if p.kind is KeyKind.SNAPSHOT and p.machine:
            by_machine.setdefault(p.machine, []).append(key)
    snapshots: set[str] = set()
    for machine, head in read_heads(remote).items():
        older = sorted(k for k in by_machine.get(machine, []) if k <= head.snapshot)
        snapshots |= {head.snapshot, *older[-keep:]}
    objects: set[str] = set()
    for key in sorted(snapshots):
        if key in parsed:
            objects |= {object_key(h) for h in read_manifest(remote, key).docs.values()}
    blobs: set[str] = set()
    if any(p.kind is KeyKind.BLOB for p in parsed.values()):
        for entry in remote.get_many(sorted(objects & parsed.keys())).values():
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
        parsed, foreign = parse_keys(keys)
        foreign.sort()
        report.foreign, report.foreign_keys = len(foreign), foreign[:FOREIGN_SHOWN]
        live = _live(remote, parsed, max(1, keep))
        report.kept_snapshots = sum(1 for k in live if k.startswith("snapshots/"))
        garbage = sorted(parsed.keys() - live)
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
                detail={
                    "deleted": len(due),
                    "waiting": len(marks),
                    "keys": len(keys),
                    "foreign": len(foreign),
                },
            )
    return report
