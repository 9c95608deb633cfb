"""The first revisions of new documents (fresh ULID ids, as every recorded call has), built
before the write lock is taken and written inside it: what :meth:`ContextStore.add_many` and
the group writer share."""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from agents.core.errors import InputError
from agents.store import audit
from agents.store.base import DOC_COLUMNS, StoreBase
from agents.store.canonical import Serialized, canonical_text, now_iso, sha256_of
from agents.store.db import insert_rows
from agents.store.envelope import Envelope, scope_for, serialize_first
from agents.store.schemas import check_body

__all__ = ["NewRows", "check_id", "prepare_new", "write_new"]

Item = tuple[str, str, Any]  # doc_id, kind, body (JSON data or Serialized)

_ID = re.compile(r"[a-z][a-z0-9_]*:[^\x00-\x1f]+")


def check_id(doc_id: str) -> None:
    """Refuse a document id that is not ``<prefix>:<name>``.

    Raises:
        InputError: ``doc_id`` is invalid (named, with the rule).
    """
    if len(doc_id) > 512 or not _ID.fullmatch(doc_id):
        raise InputError(
            f"document id {doc_id!r} is invalid: use <prefix>:<name>, e.g. session:2026-05-01 "
            "or mcp_server:notion (lower-case prefix, no control characters, ≤ 512 chars)"
        )


@dataclass
class NewRows:
    """The rows of new documents, checked and serialized, ready to insert."""

    now: str
    envelopes: list[Envelope] = field(default_factory=list)
    revisions: list[tuple[str, str, str, str, str, str]] = field(default_factory=list)
    docs: list[tuple[str, str, str, str, str, str, int, str]] = field(default_factory=list)


def prepare_new(store: StoreBase, items: list[Item], rows: NewRows | None = None) -> NewRows:
    """Check and serialize ``items`` (added to ``rows`` when given). A body given as
    :class:`Serialized` is checked as its value and stored as its text.

    Raises:
        InputError: One of them is bad (named); ``rows`` may hold the ones before it.
    """
    rows = rows or NewRows(now_iso())
    now = rows.now
    machine = store.machine_id
    vv_text = store.first_vv
    for doc_id, kind, item in items:
        check_id(doc_id)
        body, text = (item.value, item.text) if isinstance(item, Serialized) else (item, None)
        check_body(kind, body, doc_id)
        hlc = str(store.clock.now())
        try:
            stored, content = serialize_first(
                canonical_text(body) if text is None else text,
                doc_id=doc_id,
                kind=kind,
                machine=machine,
                hlc=hlc,
                updated_at=now,
            )
        except ValueError as exc:
            raise InputError(f"document {doc_id!r}: the body is not JSON ({exc})") from None
        digest = sha256_of(stored.encode())
        rows.envelopes.append(
            Envelope(
                id=doc_id,
                kind=kind,
                scope=scope_for(kind, machine),
                body=body,
                vv={machine: 1},
                parents=[],
                origin_machine=machine,
                updated_at=now,
                hlc=hlc,
                content_hash=content,
            )
        )
        rows.revisions.append((digest, doc_id, kind, content, stored, now))
        rows.docs.append((doc_id, kind, digest, content, vv_text, hlc, 0, now))
    return rows


def write_new(
    store: StoreBase, conn: sqlite3.Connection, rows: NewRows, *, actor: str
) -> list[Envelope]:
    """Insert ``rows`` in ``conn``'s transaction, with their audit rows; their revisions.

    Raises:
        InputError: One of the ids exists already (the caller rolls back).
    """
    try:
        conn.executemany("INSERT INTO revisions VALUES (?, ?, ?, ?, ?, ?)", rows.revisions)
        # one statement for all: the search index trigger then adds one FTS5 segment per
        # transaction, not one per document (executemany runs a statement per row)
        insert_rows(conn, f"INSERT INTO docs({DOC_COLUMNS}) VALUES", rows.docs)
    except sqlite3.IntegrityError:
        taken = ", ".join(repr(row[0]) for row in rows.docs)
        raise InputError(f"document {taken} exists already; write it with put") from None
    audit.append_many(
        conn,
        machine=store.machine_id,
        actor=actor,
        rows=[("put", row[1], None, row[0], None, "ok", None) for row in rows.revisions],
        ts=rows.now,
    )
    return rows.envelopes
