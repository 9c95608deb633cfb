"""Conflicts: pairs of concurrent revisions sync found, how each was settled, and resolving.

A conflict row is ``needs_review`` (nothing was settled: the local head was kept and the
remote revision stored beside it) or ``auto_resolved`` (a rule settled it; the losing
revision stays addressable), until someone resolves it. Every change is audited.
"""

from __future__ import annotations

import sqlite3
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from agents.core.errors import NotFoundError
from agents.store.canonical import now_iso
from agents.store.clock import vv_compare

if TYPE_CHECKING:
    from agents.store.base import StoreBase
    from agents.store.store import ContextStore

__all__ = [
    "Conflict",
    "add_conflict",
    "close_conflicts",
    "close_superseded",
    "conflicts",
    "open_conflicts",
    "record_conflict",
    "resolve_conflict",
]


@dataclass
class Conflict:
    """Two concurrent revisions of one document, and how they were settled."""

    id: int
    doc_id: str
    local_hash: str
    remote_hash: str
    base_hash: str | None
    policy: str
    status: str
    detected_at: str
    resolved_hash: str | None
    resolved_at: str | None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def _recorded(
    conn: sqlite3.Connection, doc_id: str, local_hash: str, remote_hash: str, status: str
) -> int | None:
    """The id of the conflict already recorded for this pair with ``status``, if any."""
    row = conn.execute(
        "SELECT id FROM conflicts WHERE doc_id = ? AND local_hash = ? AND remote_hash = ? "
        "AND status = ?",
        (doc_id, local_hash, remote_hash, status),
    ).fetchone()
    return int(row[0]) if row else None


def record_conflict(
    store: ContextStore,
    conn: sqlite3.Connection,
    doc_id: str,
    local_hash: str,
    remote_hash: str,
    base_hash: str | None,
    *,
    policy: str,
    status: str = "needs_review",
    resolved_hash: str | None = None,
    actor: str = "sync",
) -> int | None:
    """Inside ``conn``'s transaction, record a conflict (``status`` ``needs_review`` or
    ``auto_resolved``) with its audit row; return its id, or None when the same pair is
    already recorded and open (a pull that sees it again adds nothing)."""
    if _recorded(conn, doc_id, local_hash, remote_hash, status) is not None:
        return None
    cur = conn.execute(
        "INSERT INTO conflicts(doc_id, local_hash, remote_hash, base_hash, policy, status, "
        "detected_at, resolved_hash, resolved_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            doc_id,
            local_hash,
            remote_hash,
            base_hash,
            policy,
            status,
            now_iso(),
            resolved_hash,
            now_iso() if resolved_hash else None,
        ),
    )
    store.audit(
        conn,
        actor=actor,
        op="conflict",
        doc_id=doc_id,
        old_hash=local_hash,
        detail={
            "remote": remote_hash,
            "policy": policy,
            "status": status,
            **({"resolved": resolved_hash} if resolved_hash else {}),
        },
    )
    return int(cur.lastrowid or 0)


def add_conflict(
    store: ContextStore,
    doc_id: str,
    local_hash: str,
    remote_hash: str,
    base_hash: str | None,
    *,
    policy: str,
    status: str = "needs_review",
    resolved_hash: str | None = None,
    actor: str = "sync",
) -> int:
    """Record a conflict (``status`` ``needs_review`` or ``auto_resolved``); return its id."""
    with store.transaction() as conn:
        found = record_conflict(
            store,
            conn,
            doc_id,
            local_hash,
            remote_hash,
            base_hash,
            policy=policy,
            status=status,
            resolved_hash=resolved_hash,
            actor=actor,
        )
        if found is None:
            return _recorded(conn, doc_id, local_hash, remote_hash, status) or 0
        return found


def conflicts(store: StoreBase, status: str | None = "needs_review") -> list[Conflict]:
    """Conflicts with ``status`` (None: all), oldest first."""
    sql = "SELECT * FROM conflicts" + (" WHERE status = ?" if status else "") + " ORDER BY id"
    with store.reading() as conn:
        rows = conn.execute(sql, (status,) if status else ()).fetchall()
    return [Conflict(*r) for r in rows]


def _close(
    store: ContextStore,
    conn: sqlite3.Connection,
    ids: list[int],
    doc_id: str,
    digest: str,
    actor: str,
) -> None:
    now = now_iso()
    for cid in ids:
        conn.execute(
            "UPDATE conflicts SET status = 'resolved', resolved_hash = ?, resolved_at = ? "
            "WHERE id = ?",
            (digest, now, cid),
        )
        store.audit(
            conn,
            actor=actor,
            op="resolve",
            doc_id=doc_id,
            detail={"conflict": cid, "revision": digest},
        )


def open_conflicts(
    store: ContextStore, doc_id: str, conn: sqlite3.Connection | None = None
) -> list[Conflict]:
    """The conflicts of ``doc_id`` not resolved yet, oldest first."""
    sql = "SELECT * FROM conflicts WHERE doc_id = ? AND status != 'resolved' ORDER BY id"
    if conn is not None:
        return [Conflict(*r) for r in conn.execute(sql, (doc_id,)).fetchall()]
    with store.reading() as c:
        return [Conflict(*r) for r in c.execute(sql, (doc_id,)).fetchall()]


def close_conflicts(
    store: ContextStore, conn: sqlite3.Connection, doc_id: str, digest: str, *, actor: str
) -> int:
    """Inside ``conn``'s transaction, mark every open conflict of ``doc_id`` resolved by
    revision ``digest``; return how many."""
    ids = [c.id for c in open_conflicts(store, doc_id, conn)]
    _close(store, conn, ids, doc_id, digest, actor)
    return len(ids)


def close_superseded(
    store: ContextStore, conn: sqlite3.Connection, doc_id: str, digest: str, *, actor: str
) -> int:
    """Inside ``conn``: close the conflicts of ``doc_id`` waiting for review that the head
    ``digest`` descends from on both sides (another machine resolved them); return how many.
    Auto-resolved ones stay listed until someone has looked at them."""
    head = store.revision(digest, conn)
    done = []
    for c in open_conflicts(store, doc_id, conn):
        if c.status != "needs_review":
            continue
        sides = [store.revision(h, conn).vv for h in (c.local_hash, c.remote_hash)]
        if all(vv_compare(vv, head.vv) in ("before", "equal") for vv in sides):
            done.append(c.id)
    _close(store, conn, done, doc_id, digest, actor)
    return len(done)


def resolve_conflict(
    store: ContextStore, conflict_id: int, resolved_hash: str, *, actor: str = "cli"
) -> None:
    """Mark conflict ``conflict_id`` resolved by revision ``resolved_hash``.

    Raises:
        NotFoundError: No such open conflict.
    """
    with store.transaction() as conn:
        row = conn.execute(
            "SELECT doc_id FROM conflicts WHERE id = ? AND status != 'resolved'", (conflict_id,)
        ).fetchone()
        if row is None:
            raise NotFoundError(f"no open conflict {conflict_id}")
        _close(store, conn, [conflict_id], row[0], resolved_hash, actor)
