"""What sync builds on: foreign revisions, head compare-and-swap, conflicts, sync bases and
the record of what was applied to Claude's files. Every change here is audited too.

Convention of the audit log: ``new_hash`` is set exactly when the head of ``doc_id`` moved to
it; receiving a revision without moving a head names it in ``detail`` instead.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from agents.core.errors import InputError, NotFoundError
from agents.store.canonical import canonical, now_iso, sha256_of
from agents.store.envelope import Envelope, content_hash_of
from agents.store.schemas import InvalidDocumentError, check_envelope
from agents.store.store import ContextStore

__all__ = [
    "Conflict",
    "add_conflict",
    "applied",
    "conflicts",
    "move_head",
    "receive_revision",
    "resolve_conflict",
    "set_applied",
    "set_sync_base",
    "sync_base",
]


def receive_revision(
    store: ContextStore, envelope: dict[str, Any], *, source: str, actor: str = "sync"
) -> str:
    """Store a revision made elsewhere (without moving any head); return its hash.

    An envelope that fails its schema or whose content hash is wrong goes to the
    ``quarantine`` table and is refused.

    Raises:
        InvalidDocumentError: The envelope is invalid (it was quarantined).
    """
    try:
        check_envelope(envelope)
        expected = content_hash_of(
            envelope["kind"],
            envelope["scope"],
            envelope["deleted"],
            envelope["body"],
            envelope["secret_refs"],
        )
        if expected != envelope["content_hash"]:
            raise InvalidDocumentError(
                f"envelope {envelope['id']!r} refused: its content_hash does not match its content",
                path="/content_hash",
                schema_path="",
            )
    except InvalidDocumentError as exc:
        with store.transaction() as conn:
            conn.execute(
                "INSERT INTO quarantine(received_at, source, envelope, error) VALUES (?, ?, ?, ?)",
                (now_iso(), source, canonical(envelope).decode(), str(exc)),
            )
            store.audit(
                conn,
                actor=actor,
                op="quarantine",
                doc_id=envelope.get("id"),
                remote=source,
                result="refused",
                detail={"path": exc.path},
            )
        raise
    data = Envelope.from_dict(envelope).to_bytes()
    digest = sha256_of(data)
    with store.transaction() as conn:
        inserted = conn.execute(
            "INSERT OR IGNORE INTO revisions VALUES (?, ?, ?, ?, ?, ?)",
            (
                digest,
                envelope["id"],
                envelope["kind"],
                envelope["content_hash"],
                data.decode(),
                now_iso(),
            ),
        ).rowcount
        if inserted:
            store.audit(
                conn,
                actor=actor,
                op="receive",
                doc_id=envelope["id"],
                remote=source,
                detail={"revision": digest},
            )
    return digest


def move_head(
    store: ContextStore,
    doc_id: str,
    new_hash: str,
    *,
    expect: str | None,
    actor: str = "sync",
    op: str = "fast_forward",
    remote: str | None = None,
) -> None:
    """Point ``doc_id``'s head at the stored revision ``new_hash`` if the head is still
    ``expect`` (None: the document must not exist yet).

    Raises:
        NotFoundError: ``new_hash`` is not stored here.
        InputError: The head moved meanwhile (read again and retry), or the revision is of
            another document.
    """
    with store.transaction() as conn:
        envelope = store.revision(new_hash, conn)
        if envelope.id != doc_id:
            raise InputError(f"revision {new_hash} belongs to {envelope.id!r}, not {doc_id!r}")
        head = store.head_info(doc_id, conn)
        if (head.head if head else None) != expect:
            raise InputError(f"head of {doc_id!r} is {head.head if head else None}, not {expect}")
        conn.execute(
            "INSERT INTO docs(id, kind, head, content_hash, vv, hlc, deleted, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET head = excluded.head, "
            "content_hash = excluded.content_hash, vv = excluded.vv, hlc = excluded.hlc, "
            "deleted = excluded.deleted, updated_at = excluded.updated_at",
            (
                doc_id,
                envelope.kind,
                new_hash,
                envelope.content_hash,
                json.dumps(envelope.vv),
                envelope.hlc,
                int(envelope.deleted),
                now_iso(),
            ),
        )
        store.audit(
            conn,
            actor=actor,
            op=op,
            doc_id=doc_id,
            old_hash=expect,
            new_hash=new_hash,
            remote=remote,
        )


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
            detail={"remote": remote_hash, "policy": policy, "status": status},
        )
        return int(cur.lastrowid or 0)


def conflicts(store: ContextStore, status: str | None = "needs_review") -> list[Conflict]:
    """Conflicts with ``status`` (None: all), oldest first."""
    sql = "SELECT * FROM conflicts" + (" WHERE status = ?" if status else "") + " ORDER BY id"
    with store.reading() as conn:
        rows = conn.execute(sql, (status,) if status else ()).fetchall()
    return [Conflict(*r) for r in rows]


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
        conn.execute(
            "UPDATE conflicts SET status = 'resolved', resolved_hash = ?, "
            "resolved_at = ? WHERE id = ?",
            (resolved_hash, now_iso(), conflict_id),
        )
        store.audit(
            conn,
            actor=actor,
            op="resolve",
            doc_id=row[0],
            detail={"conflict": conflict_id, "revision": resolved_hash},
        )


def sync_base(store: ContextStore, remote: str) -> dict[str, str]:
    """``{doc_id: hash}`` last agreed with ``remote`` (the 3-way merge base)."""
    with store.reading() as conn:
        rows = conn.execute("SELECT doc_id, hash FROM sync_base WHERE remote = ?", (remote,))
        return dict(rows.fetchall())


def set_sync_base(store: ContextStore, remote: str, bases: dict[str, str]) -> None:
    """Record the revisions now agreed with ``remote``."""
    with store.transaction() as conn:
        conn.executemany(
            "INSERT INTO sync_base VALUES (?, ?, ?) ON CONFLICT(remote, doc_id) DO UPDATE SET "
            "hash = excluded.hash",
            [(remote, d, h) for d, h in bases.items()],
        )


def applied(store: ContextStore, target_path: str) -> tuple[str, str | None] | None:
    """(hash, doc_id) last written to ``target_path`` by apply, or None."""
    with store.reading() as conn:
        row = conn.execute(
            "SELECT hash, doc_id FROM applied WHERE target_path = ?", (target_path,)
        ).fetchone()
    return (row[0], row[1]) if row else None


def set_applied(
    store: ContextStore, target_path: str, file_hash: str, doc_id: str | None, *, actor: str = "cli"
) -> None:
    """Remember that apply wrote ``file_hash`` to ``target_path`` (chezmoi's guard)."""
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO applied VALUES (?, ?, ?, ?) ON CONFLICT(target_path) DO UPDATE SET "
            "doc_id = excluded.doc_id, hash = excluded.hash, applied_at = excluded.applied_at",
            (target_path, doc_id, file_hash, now_iso()),
        )
        store.audit(conn, actor=actor, op="apply", doc_id=doc_id, detail={"file_hash": file_hash})
