"""Snapshots (manifests of doc → revision), diffs between points, forward-only rollback.

A snapshot is cheap: revisions are shared, a manifest only names them. Runtime records
(agent outputs, machine state) are not part of snapshots: they are logs, never rolled back.
A point is a snapshot (id, unique id prefix, label or ``latest``), a time (``2h``, an ISO
time), or ``working`` (the current heads).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agents.core.errors import InputError, NotFoundError
from agents.store.canonical import HASH_PREFIX, now_iso, sha256_of
from agents.store.diffing import body_changes, render_body_diff
from agents.store.envelope import Envelope
from agents.store.timeref import parse_time

if TYPE_CHECKING:
    from agents.store.store import ContextStore

__all__ = [
    "NOT_SNAPSHOTTED",
    "DocDiff",
    "RollbackResult",
    "Snapshot",
    "create_snapshot",
    "diff",
    "find_snapshot",
    "heads_at",
    "log",
    "resolve_point",
    "rollback",
    "rollback_preview",
]

NOT_SNAPSHOTTED = frozenset({"agent_output", "machine_state"})
WORKING = ("working", "now", "head")


@dataclass(frozen=True)
class Snapshot:
    """One snapshot: a manifest of doc id → revision hash."""

    id: str
    seq: int
    machine: str
    parent: str | None
    created_at: str
    label: str | None
    manifest: dict[str, str]

    def as_dict(self, manifest: bool = False) -> dict[str, Any]:
        """JSON-ready form; the manifest only when asked."""
        data: dict[str, Any] = {
            "id": self.id,
            "seq": self.seq,
            "machine": self.machine,
            "parent": self.parent,
            "created_at": self.created_at,
            "label": self.label,
            "documents": len(self.manifest),
        }
        if manifest:
            data["manifest"] = self.manifest
        return data


def _row(row: tuple[Any, ...]) -> Snapshot:
    return Snapshot(row[0], row[1], row[2], row[3], row[4], row[5], json.loads(row[6]))


_COLS = "id, seq, machine, parent, created_at, label, manifest"


def create_snapshot(
    store: ContextStore, label: str | None = None, *, actor: str | None = None
) -> Snapshot:
    """Record the current heads (of snapshotted kinds) as a new snapshot."""
    with store.transaction() as conn:
        rows = conn.execute("SELECT id, kind, head FROM docs ORDER BY id").fetchall()
        manifest = {i: h for i, k, h in rows if k not in NOT_SNAPSHOTTED}
        last = conn.execute("SELECT id, seq FROM snapshots ORDER BY seq DESC LIMIT 1").fetchone()
        parent, seq = (last[0], last[1] + 1) if last else (None, 1)
        created = now_iso()
        snap_id = sha256_of(
            {
                "machine": store.machine_id,
                "parent": parent,
                "created_at": created,
                "label": label,
                "manifest": manifest,
            }
        )
        conn.execute(
            f"INSERT INTO snapshots({_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (snap_id, seq, store.machine_id, parent, created, label, json.dumps(manifest)),
        )
        store.audit(
            conn,
            actor=actor or store.actor,
            op="snapshot",
            detail={"snapshot": snap_id, "documents": len(manifest)},
        )
    return Snapshot(snap_id, seq, store.machine_id, parent, created, label, manifest)


def log(store: ContextStore, limit: int = 20) -> list[Snapshot]:
    """Snapshots, newest first."""
    with store.reading() as conn:
        rows = conn.execute(
            f"SELECT {_COLS} FROM snapshots ORDER BY seq DESC LIMIT ?", (limit,)
        ).fetchall()
    return [_row(r) for r in rows]


def find_snapshot(store: ContextStore, ref: str, *, missing_ok: bool = False) -> Snapshot | None:
    """The snapshot ``ref`` names: ``latest``, an id, a unique id prefix (≥ 6 hex digits,
    with or without ``sha256:``) or a label (the newest with it).

    Raises:
        NotFoundError: Nothing matches (unless ``missing_ok``).
        InputError: The prefix matches several snapshots.
    """
    with store.reading() as conn:
        if ref in ("latest", "last"):
            rows = conn.execute(f"SELECT {_COLS} FROM snapshots ORDER BY seq DESC LIMIT 1")
        else:
            hexpart = ref.removeprefix(HASH_PREFIX).lower()
            rows = conn.execute(
                f"SELECT {_COLS} FROM snapshots WHERE label = ? ORDER BY seq DESC LIMIT 1", (ref,)
            )
            found = rows.fetchall()
            if found:
                return _row(found[0])
            if len(hexpart) < 6 or any(c not in "0123456789abcdef" for c in hexpart):
                rows = conn.execute(f"SELECT {_COLS} FROM snapshots WHERE 0")
            else:
                rows = conn.execute(
                    f"SELECT {_COLS} FROM snapshots WHERE substr(id, 8, ?) = ? LIMIT 2",
                    (len(hexpart), hexpart),
                )
        found = rows.fetchall()
    if len(found) > 1:
        raise InputError(f"snapshot prefix {ref!r} is ambiguous: give more digits")
    if not found:
        if missing_ok:
            return None
        raise NotFoundError(f"no snapshot {ref!r}", what="snapshot")
    return _row(found[0])


def heads_at(store: ContextStore, moment: str, *, doc_id: str | None = None) -> dict[str, str]:
    """``{doc_id: head hash}`` as the store held them at ``moment``, read from the audit log
    (every head move is an audit row with ``new_hash``); tombstones included."""
    with store.reading() as conn:
        if doc_id is not None:
            row = conn.execute(
                "SELECT new_hash FROM audit WHERE doc_id = ? AND ts <= ? AND new_hash IS NOT NULL"
                " ORDER BY seq DESC LIMIT 1",
                (doc_id, moment),
            ).fetchone()
            return {doc_id: row[0]} if row else {}
        rows = conn.execute(
            "SELECT a.doc_id, a.new_hash, max(a.seq) FROM audit a JOIN docs d ON d.id = a.doc_id "
            f"WHERE a.ts <= ? AND a.new_hash IS NOT NULL AND d.kind NOT IN "
            f"({', '.join('?' for _ in NOT_SNAPSHOTTED)}) GROUP BY a.doc_id",
            (moment, *sorted(NOT_SNAPSHOTTED)),
        ).fetchall()
    return {d: h for d, h, _ in rows}


def resolve_point(store: ContextStore, ref: str) -> tuple[str, dict[str, str]]:
    """(a name for it, its manifest) for a snapshot, a time, or ``working``."""
    if ref in WORKING:
        return "working", store.heads(exclude=set(NOT_SNAPSHOTTED))
    snap = find_snapshot(store, ref, missing_ok=True)
    if snap is not None:
        return f"snapshot {snap.id[7:19]}", snap.manifest
    moment = parse_time(ref)
    if moment is None:
        raise NotFoundError(
            f"{ref!r} is neither a snapshot, a time (2h, 2026-05-01T12:00Z) nor 'working'",
            what="snapshot",
        )
    return moment, heads_at(store, moment)


@dataclass
class DocDiff:
    """How one document differs between two points."""

    id: str
    kind: str
    status: str  # added | removed | modified
    old_hash: str | None
    new_hash: str | None
    changes: list[dict[str, Any]] = field(default_factory=list)
    text: str = ""

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "id": self.id,
            "kind": self.kind,
            "status": self.status,
            "old_hash": self.old_hash,
            "new_hash": self.new_hash,
            "changes": self.changes,
        }


def _live(store: ContextStore, digest: str | None) -> Envelope | None:
    if digest is None:
        return None
    envelope = store.revision(digest)
    return None if envelope.deleted else envelope


def _selected(doc_id: str, kind: str, kinds: set[str] | None, ids: set[str] | None) -> bool:
    return (kinds is None or kind in kinds) and (ids is None or doc_id in ids)


def diff(
    store: ContextStore,
    a: str,
    b: str = "working",
    *,
    kinds: set[str] | None = None,
    ids: set[str] | None = None,
) -> list[DocDiff]:
    """Document-level differences from point ``a`` to point ``b``."""
    name_a, left = resolve_point(store, a)
    name_b, right = resolve_point(store, b)
    out = []
    for doc_id in sorted(left.keys() | right.keys()):
        if left.get(doc_id) == right.get(doc_id):
            continue
        old, new = _live(store, left.get(doc_id)), _live(store, right.get(doc_id))
        if old is None and new is None:
            continue
        kind = (new or old).kind  # type: ignore[union-attr]
        if not _selected(doc_id, kind, kinds, ids):
            continue
        if old is not None and new is not None and old.content_hash == new.content_hash:
            continue
        status = "added" if old is None else "removed" if new is None else "modified"
        old_body = old.body if old else None
        new_body = new.body if new else None
        out.append(
            DocDiff(
                id=doc_id,
                kind=kind,
                status=status,
                old_hash=left.get(doc_id) if old else None,
                new_hash=right.get(doc_id) if new else None,
                changes=body_changes(old_body or {}, new_body or {}),
                text=render_body_diff(
                    old_body, new_body, f"{doc_id} ({name_a})", f"{doc_id} ({name_b})"
                ),
            )
        )
    return out


@dataclass
class RollbackResult:
    """What a rollback wrote."""

    target: str
    before_snapshot: str
    restored: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "target": self.target,
            "before_snapshot": self.before_snapshot,
            "restored": self.restored,
            "deleted": self.deleted,
        }


def _rollback_changes(
    store: ContextStore,
    conn: sqlite3.Connection,
    manifest: dict[str, str],
    kinds: set[str] | None,
    ids: set[str] | None,
) -> list[tuple[str, str, Envelope | None]]:
    """(doc id, kind, the revision to restore or None to delete) for every selected document
    a rollback to ``manifest`` would change."""
    rows = conn.execute("SELECT id, kind FROM docs").fetchall()
    current_kinds = {i: k for i, k in rows if k not in NOT_SNAPSHOTTED}
    out: list[tuple[str, str, Envelope | None]] = []
    for doc_id in sorted(current_kinds.keys() | manifest.keys()):
        head = store.head_info(doc_id, conn)
        wanted = store.revision(manifest[doc_id], conn) if doc_id in manifest else None
        kind = wanted.kind if wanted else current_kinds[doc_id]
        if not _selected(doc_id, kind, kinds, ids):
            continue
        if wanted is None or wanted.deleted:
            if head is not None and not head.deleted:
                out.append((doc_id, kind, None))
        elif head is None or head.content_hash != wanted.content_hash:
            out.append((doc_id, kind, wanted))
    return out


def rollback_preview(
    store: ContextStore,
    target: str,
    *,
    kinds: set[str] | None = None,
    ids: set[str] | None = None,
) -> RollbackResult:
    """What :func:`rollback` would change, without writing anything (``before_snapshot`` is
    empty)."""
    name, manifest = resolve_point(store, target)
    if target in WORKING:
        raise InputError("rollback needs a snapshot or a time, not the working state")
    result = RollbackResult(target=name, before_snapshot="")
    with store.reading() as conn:
        for doc_id, _, wanted in _rollback_changes(store, conn, manifest, kinds, ids):
            (result.deleted if wanted is None else result.restored).append(doc_id)
    return result


def rollback(
    store: ContextStore,
    target: str,
    *,
    kinds: set[str] | None = None,
    ids: set[str] | None = None,
    actor: str | None = None,
) -> RollbackResult:
    """Make the selected documents say what they said at ``target``, by writing *new*
    revisions (history is never rewritten). A snapshot of the state before is taken first,
    so the rollback itself can be rolled back. All documents change in one transaction."""
    name, manifest = resolve_point(store, target)
    if target in WORKING:
        raise InputError("rollback needs a snapshot or a time, not the working state")
    before = create_snapshot(store, f"before rollback to {name}", actor=actor)
    result = RollbackResult(target=name, before_snapshot=before.id)
    with store.transaction() as conn:
        for doc_id, kind, wanted in _rollback_changes(store, conn, manifest, kinds, ids):
            head = store.head_info(doc_id, conn)
            if wanted is None:
                store.commit(
                    conn,
                    doc_id,
                    kind,
                    {},
                    deleted=True,
                    actor=actor,
                    op="rollback",
                    head=head,
                    detail={"to": name[:40]},
                )
                result.deleted.append(doc_id)
                continue
            body = store.normalize(kind, wanted.body, doc_id)
            store.commit(
                conn,
                doc_id,
                kind,
                body,
                scope=wanted.scope,
                secret_refs=wanted.secret_refs,
                actor=actor,
                op="rollback",
                head=head,
                detail={"to": manifest[doc_id]},
            )
            result.restored.append(doc_id)
    return result
