"""The recorder's inbox: a recorded call's document is committed on the call's path as one row
of the ``inbox`` table, and moved from there into the store proper (its revision, head, audit
row and search index entry) by the recording agent's mover thread a moment later
(:class:`~agents.store.recorder.InboxMover`), or by any connection that reads the store while a
row is still there.

The inbox is a table of the store's own database, so a row is as durable as any commit at the
store's ``synchronous`` level, and moving it is one transaction: the documents are written and
their rows deleted together, or neither. A document already in the store is not written twice
(a row read by two connections at once is moved by the first; the second finds it there).
"""

from __future__ import annotations

import json
import sqlite3

from agents.core.errors import InputError
from agents.core.logs import get_logger
from agents.store.base import StoreBase
from agents.store.canonical import Serialized
from agents.store.db import rows_in
from agents.store.newdocs import NewRows, check_id, prepare_new, write_new
from agents.store.schemas import check_body

__all__ = ["MAX_MOVE", "check", "drain", "pending", "stage"]

log = get_logger(__name__)

MAX_MOVE = 512  # rows moved per transaction
_INSERT = "INSERT INTO inbox(id, kind, actor, body) VALUES (?, ?, ?, ?)"
_ROWS = "SELECT seq, id, kind, actor, body FROM inbox ORDER BY seq LIMIT ?"


def check(doc_id: str, kind: str, body: Serialized) -> None:
    """Check the new document ``doc_id`` as the store would, so that moving it later cannot
    refuse it.

    Raises:
        InputError: Bad id, unknown kind or schema refusal.
    """
    check_id(doc_id)
    check_body(kind, body.value, doc_id)


def stage(conn: sqlite3.Connection, doc_id: str, kind: str, body: Serialized, actor: str) -> None:
    """In ``conn``'s transaction, add the new document ``doc_id`` (:func:`check` ed) to the
    inbox."""
    conn.execute(_INSERT, (doc_id, kind, actor, body.text))


def pending(conn: sqlite3.Connection) -> bool:
    """True when the inbox holds a row."""
    return conn.execute("SELECT 1 FROM inbox LIMIT 1").fetchone() is not None


Row = tuple[int, str, str, str, str]  # seq, id, kind, actor, body


def drain(store: StoreBase, conn: sqlite3.Connection) -> int:
    """Inside ``conn``'s write transaction, move up to :data:`MAX_MOVE` inbox rows, oldest
    first, into the store; the number of rows taken out of the inbox.

    A row whose document is in the store already is only deleted. A row the store refuses
    (it was not written by :func:`stage`, or the schema changed since) is logged with its id
    and the reason, and deleted: it would otherwise stop every row behind it.
    """
    rows: list[Row] = conn.execute(_ROWS, (MAX_MOVE,)).fetchall()
    if not rows:
        return 0
    ids = [row[1] for row in rows]
    present = {r[0] for r in rows_in(conn, "SELECT id FROM docs WHERE id IN ({marks})", ids)}
    by_actor: dict[str, NewRows] = {}
    for seq, doc_id, kind, actor, text in rows:
        if doc_id in present:
            continue
        present.add(doc_id)  # the same id twice in the inbox is written once
        try:
            # canonical again: the text is stored as the body's part of the envelope
            item = (doc_id, kind, Serialized.of(json.loads(text)))
            prepared = prepare_new(store, [item], by_actor.get(actor))
        except (InputError, ValueError) as exc:
            log.error("inbox_row_refused", doc_id=doc_id, seq=seq, reason=str(exc))
            continue
        by_actor[actor] = prepared
    for actor, new in by_actor.items():
        write_new(store, conn, new, actor=actor)
    conn.execute("DELETE FROM inbox WHERE seq <= ?", (rows[-1][0],))
    return len(rows)
