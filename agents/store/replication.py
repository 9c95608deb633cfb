"""What sync builds on: foreign revisions, head compare-and-swap, conflicts, sync bases and
the record of what was applied to Claude's files. Every change here is audited too.

Convention of the audit log: ``new_hash`` is set exactly when the head of ``doc_id`` moved to
it; receiving a revision without moving a head names it in ``detail`` instead.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from agents.core.errors import InputError
from agents.store import untrusted
from agents.store.canonical import canonical, now_iso, sha256_of
from agents.store.envelope import Envelope, canonical_and_content_hash, content_hash_of
from agents.store.schemas import InvalidDocumentError, check_envelope
from agents.store.store import ContextStore

__all__ = [
    "Received",
    "applied",
    "move_head",
    "point_head",
    "quarantine",
    "receive_many",
    "receive_revision",
    "set_applied",
    "set_sync_base",
    "sync_base",
    "validate_envelope",
]


def validate_envelope(
    envelope: Any, content_hash: str | None = None, *, skew: float | None = None
) -> None:
    """Check a foreign envelope: its schema, its body's schema, its content hash
    (``content_hash``: what it should be, when the caller computed it already), that its
    timestamps can be read and its clock stamp is at most ``skew`` seconds (default
    ``SYNC_MAX_CLOCK_SKEW``) ahead of this machine's clock.

    Raises:
        InvalidDocumentError: It breaks a rule, or its content_hash does not match its content.
    """
    if not isinstance(envelope, dict):
        raise InvalidDocumentError(
            "a revision must be a JSON object", path="/", schema_path="envelope.json#/type"
        )
    try:
        check_envelope(envelope)
    except InputError as exc:  # an unknown kind (from a newer version of agents)
        raise InvalidDocumentError(str(exc), path="/kind", schema_path="") from None
    for name, check in (
        ("updated_at", untrusted.check_timestamp),
        ("hlc", lambda v, w: untrusted.check_hlc(v, w, skew)),
    ):
        try:
            check(envelope[name], name)
        except ValueError as exc:
            raise InvalidDocumentError(
                f"envelope {envelope['id']!r} refused: {exc}", path=f"/{name}", schema_path=""
            ) from None
    expected = content_hash or content_hash_of(
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


def quarantine(
    store: ContextStore,
    conn: sqlite3.Connection,
    text: str,
    error: str,
    path: str,
    *,
    source: str,
    actor: str,
    doc_id: str | None,
) -> None:
    """Keep refused data (a revision, a head, a snapshot's excerpt) for inspection, and
    audit it, inside ``conn``'s transaction."""
    conn.execute(
        "INSERT INTO quarantine(received_at, source, envelope, error) VALUES (?, ?, ?, ?)",
        (now_iso(), source, text, error),
    )
    store.audit(
        conn,
        actor=actor,
        op="quarantine",
        doc_id=doc_id,
        remote=source,
        result="refused",
        detail={"path": path},
    )


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
        validate_envelope(envelope)
    except InvalidDocumentError as exc:
        with store.transaction() as conn:
            quarantine(
                store,
                conn,
                canonical(envelope).decode(),
                str(exc),
                exc.path,
                source=source,
                actor=actor,
                doc_id=envelope.get("id") if isinstance(envelope, dict) else None,
            )
        raise
    data = Envelope.from_dict(envelope).to_bytes()
    digest = sha256_of(data)
    with store.transaction() as conn:
        if _insert(conn, digest, envelope, data.decode()):
            store.audit(
                conn,
                actor=actor,
                op="receive",
                doc_id=envelope["id"],
                remote=source,
                detail={"revision": digest},
            )
    return digest


def _insert(conn: sqlite3.Connection, digest: str, envelope: dict[str, Any], text: str) -> bool:
    return bool(
        conn.execute(
            "INSERT OR IGNORE INTO revisions VALUES (?, ?, ?, ?, ?, ?)",
            (digest, envelope["id"], envelope["kind"], envelope["content_hash"], text, now_iso()),
        ).rowcount
    )


@dataclass
class Received:
    """What :func:`receive_many` stored and refused."""

    stored: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)


def receive_many(
    store: ContextStore,
    items: Iterable[tuple[str, bytes]],
    *,
    source: str,
    actor: str = "sync",
    chunk: int = 2000,
    skew: float | None = None,
) -> Received:
    """Store many revisions fetched from a remote, each given as (its hash, its bytes).

    A revision whose bytes do not hash to its name, are not canonical JSON, or fail
    :func:`validate_envelope` (``skew``: the clock skew allowed) is quarantined and listed in
    ``refused`` (hash → reason); the others are stored in one transaction per ``chunk``,
    with one audit row each chunk.
    """
    out = Received()
    skew = untrusted.max_clock_skew() if skew is None else skew
    todo = list(items)
    for i in range(0, len(todo), chunk):
        good: list[tuple[str, dict[str, Any], str]] = []
        bad: list[tuple[str, str, str, str, str | None]] = []
        for digest, data in todo[i : i + chunk]:
            text = data.decode("utf-8", "replace")
            envelope: Any = None
            try:
                if sha256_of(data) != digest:
                    raise InvalidDocumentError(
                        f"object {digest} is corrupt: its bytes do not hash to its name",
                        path="/",
                        schema_path="",
                    )
                envelope = untrusted.loads(data, f"object {digest}")
                if not isinstance(envelope, dict):
                    raise ValueError("not a JSON object")
                try:
                    serialized, content = canonical_and_content_hash(envelope)
                except KeyError:
                    validate_envelope(envelope)  # says which field is missing
                    raise
                validate_envelope(envelope, content, skew=skew)
                if serialized != data:
                    raise InvalidDocumentError(
                        f"object {digest} is not canonical JSON", path="/", schema_path=""
                    )
            except (InvalidDocumentError, ValueError, KeyError) as exc:
                path = exc.path if isinstance(exc, InvalidDocumentError) else "/"
                doc = envelope.get("id") if isinstance(envelope, dict) else None
                bad.append((digest, text, str(exc), path, doc))
                continue
            good.append((digest, envelope, text))
        with store.transaction() as conn:
            fresh = [g for g in good if _insert(conn, g[0], g[1], g[2])]
            if fresh:
                store.audit(
                    conn,
                    actor=actor,
                    op="receive",
                    remote=source,
                    detail={"revisions": len(fresh)},
                )
            for digest, text, error, path, doc in bad:
                quarantine(store, conn, text, error, path, source=source, actor=actor, doc_id=doc)
                out.refused[digest] = error
        out.stored += [g[0] for g in good]
    return out


def point_head(
    store: ContextStore,
    conn: sqlite3.Connection,
    new_hash: str,
    *,
    expect: str | None,
    actor: str = "sync",
    op: str = "fast_forward",
    remote: str | None = None,
) -> Envelope:
    """Inside ``conn``'s transaction: point a document's head at the stored revision
    ``new_hash`` if the head is still ``expect`` (None: the document must not exist here).

    Raises:
        NotFoundError: ``new_hash`` is not stored here.
        InputError: The head moved meanwhile (read again and retry).
    """
    envelope = store.revision(new_hash, conn)
    head = store.head_info(envelope.id, conn)
    if (head.head if head else None) != expect:
        raise InputError(f"head of {envelope.id!r} is {head.head if head else None}, not {expect}")
    conn.execute(
        "INSERT INTO docs(id, kind, head, content_hash, vv, hlc, deleted, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET head = excluded.head, "
        "content_hash = excluded.content_hash, vv = excluded.vv, hlc = excluded.hlc, "
        "deleted = excluded.deleted, updated_at = excluded.updated_at",
        (
            envelope.id,
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
        doc_id=envelope.id,
        old_hash=expect,
        new_hash=new_hash,
        remote=remote,
    )
    return envelope


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
        point_head(store, conn, new_hash, expect=expect, actor=actor, op=op, remote=remote)


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
