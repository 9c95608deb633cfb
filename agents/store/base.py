"""The store's plumbing: one connection per process, its lock, transactions, errors explained,
the machine identity, and the records every module shares."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

from agents.core.errors import InputError, NotFoundError, StoreError
from agents.store import audit
from agents.store.blobs import BlobStore
from agents.store.canonical import now_iso
from agents.store.clock import HlcClock
from agents.store.db import (
    Synchronous,
    committing,
    connect,
    explain,
    immediate,
    is_busy,
)
from agents.store.envelope import Envelope

__all__ = [
    "DB_NAME",
    "DOC_COLUMNS",
    "DocInfo",
    "Revision",
    "StoreBase",
    "StoreBusy",
    "begin",
    "doc_info",
]

DB_NAME = "store.sqlite"
# how long a read waits for the write lock to move pending recorded calls into the store
# before it reads without them (they are moved by their agent a moment later)
SETTLE_WAIT_MS = 200


def begin(conn: sqlite3.Connection) -> sqlite3.Connection:
    """``BEGIN IMMEDIATE`` on ``conn`` with the busy timeout it has; ``conn``."""
    conn.execute("BEGIN IMMEDIATE")
    return conn


class StoreBusy(Exception):  # noqa: N818 - a state, not a failure
    """The write lock is held elsewhere and the caller asked not to wait (outside the error
    tree: the caller retries, the user never sees it)."""


@dataclass(frozen=True)
class DocInfo:
    """A document's head, as the ``docs`` table holds it."""

    id: str
    kind: str
    head: str
    content_hash: str
    vv: dict[str, int]
    hlc: str
    deleted: bool
    updated_at: str


@dataclass(frozen=True)
class Revision:
    """One revision in a document's history."""

    hash: str
    envelope: Envelope
    created_at: str
    is_head: bool

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready summary (no body)."""
        e = self.envelope
        return {
            "hash": self.hash,
            "created_at": self.created_at,
            "head": self.is_head,
            "content_hash": e.content_hash,
            "vv": e.vv,
            "parents": e.parents,
            "origin_machine": e.origin_machine,
            "hlc": e.hlc,
            "deleted": e.deleted,
        }


def doc_info(row: tuple[Any, ...]) -> DocInfo:
    return DocInfo(row[0], row[1], row[2], row[3], json.loads(row[4]), row[5], bool(row[6]), row[7])


DOC_COLUMNS = "id, kind, head, content_hash, vv, hlc, deleted, updated_at"


class StoreBase:
    """The connection, its locking and error mapping, identity, and the reads writes need."""

    def __init__(
        self,
        directory: Path,
        *,
        actor: str = "cli",
        synchronous: Synchronous = "FULL",
        busy_timeout: float = 10.0,
        machine_id: str | None = None,
    ) -> None:
        self.directory = directory
        self.path = directory / DB_NAME
        self.actor = actor
        self.busy_timeout = busy_timeout
        self.synchronous = synchronous
        self.blobs = BlobStore(directory / "blobs")
        self._lock = threading.RLock()
        self._settling = False
        self._conn = connect(self.path, synchronous=synchronous, busy_timeout=busy_timeout)
        self._busy_ms = int(busy_timeout * 1000)  # as connect set it
        try:
            self.machine_id = self._machine_id(machine_id)
        except BaseException:
            self._conn.close()
            raise
        self.clock = HlcClock(self.machine_id)

    @functools.cached_property
    def first_vv(self) -> str:
        """The ``docs.vv`` text of a document's first revision made here."""
        return json.dumps({self.machine_id: 1})

    # -- plumbing --------------------------------------------------------------------------

    @contextlib.contextmanager
    def _guard(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._wait_ms(int(self.busy_timeout * 1000))
                yield self._conn
            except sqlite3.Error as exc:
                raise explain(exc, self.path, self.busy_timeout) from exc

    def _wait_ms(self, ms: int) -> None:
        """Set the connection's busy timeout to ``ms`` unless it is that already (with the
        lock held). A recorder's fast path writes with 0, everything else waits the
        configured time; setting it only on a change keeps a run of either free of PRAGMAs."""
        if self._busy_ms != ms:
            self._busy_ms = -1  # unknown until the PRAGMA has run
            self._conn.execute(f"PRAGMA busy_timeout={ms}")
            self._busy_ms = ms

    @contextlib.contextmanager
    def transaction(self, *, wait: bool = True) -> Iterator[sqlite3.Connection]:
        """One ``BEGIN IMMEDIATE`` transaction on the store (for modules building on it).

        With ``wait=False`` it never waits: if another thread or process holds the write lock
        it raises :class:`StoreBusy` at once (an event loop can then retry in a thread).
        """
        if wait:
            # the busy timeout is set by _guard: BEGIN IMMEDIATE waits in SQLite's handler
            with self._guard() as conn, committing(begin(conn)):
                yield conn
            return
        if not self._lock.acquire(blocking=False):
            raise StoreBusy(f"context store {self.path} is busy")
        try:
            conn = self._conn
            try:
                self._wait_ms(0)
                begin(conn)
            except sqlite3.OperationalError as exc:
                if is_busy(exc):
                    raise StoreBusy(f"context store {self.path} is busy") from exc
                raise explain(exc, self.path, self.busy_timeout) from exc
            with committing(conn):
                yield conn
        except sqlite3.Error as exc:
            raise explain(exc, self.path, self.busy_timeout) from exc
        finally:
            self._lock.release()

    @contextlib.contextmanager
    def deferred_sync(self) -> Iterator[None]:
        """Commits inside skip their fsync (``synchronous=NORMAL``): for a bulk load whose
        last transaction, after this block, commits at the configured level and so makes
        everything before it durable too. A crash before that loses only work the caller
        redoes (a pull re-fetches what it had not recorded as integrated)."""
        with self._guard() as conn:
            conn.execute("PRAGMA synchronous=NORMAL")
        try:
            yield
        finally:
            with self._guard() as conn:
                conn.execute(f"PRAGMA synchronous={self.synchronous}")

    @contextlib.contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """The connection for reads, with errors explained. Outside a transaction, recorded
        calls still in the inbox are moved into the store first (:meth:`_settle`), so a read
        sees every call whose record was committed before it began."""
        with self._guard() as conn:
            if not conn.in_transaction and not self._settling:
                self._settle(conn, wait_ms=SETTLE_WAIT_MS)
            yield conn

    def _settle(self, conn: sqlite3.Connection, *, wait_ms: int) -> None:
        """Move the inbox's rows into the store (:class:`~agents.store.store.ContextStore`
        does; the plumbing alone has no documents to write)."""

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._conn.close()

    async def aclose(self) -> None:
        """Close the connection (as an agent's upstream client is closed at shutdown)."""
        self.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _machine_id(self, wanted: str | None) -> str:
        with self._guard() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = 'machine_id'").fetchone()
            if row is None:
                with immediate(conn, self.busy_timeout):
                    conn.execute(
                        "INSERT OR IGNORE INTO meta VALUES ('machine_id', ?), ('created_at', ?)",
                        (wanted or f"m-{os.urandom(6).hex()}", now_iso()),
                    )
                row = conn.execute("SELECT value FROM meta WHERE key = 'machine_id'").fetchone()
        if wanted and row[0] != wanted:
            raise StoreError(
                f"context store {self.path} belongs to machine {row[0]!r}, not {wanted!r}"
            )
        return str(row[0])

    def audit(self, conn: sqlite3.Connection, **fields: Any) -> int:
        """Append an audit row inside ``conn``'s transaction, with this machine and actor."""
        fields.setdefault("actor", self.actor)
        return audit.append(conn, machine=self.machine_id, **fields)

    def head_info(self, doc_id: str, conn: sqlite3.Connection | None = None) -> DocInfo | None:
        """The head of ``doc_id``, or None if it never existed here."""
        with contextlib.nullcontext(conn) if conn else self.reading() as c:
            row = c.execute(f"SELECT {DOC_COLUMNS} FROM docs WHERE id = ?", (doc_id,)).fetchone()
        return doc_info(row) if row else None

    def revision(self, digest: str, conn: sqlite3.Connection | None = None) -> Envelope:
        """The revision named ``digest``.

        Raises:
            NotFoundError: Unknown (or compacted) revision.
        """
        with contextlib.nullcontext(conn) if conn else self.reading() as c:
            row = c.execute("SELECT envelope FROM revisions WHERE hash = ?", (digest,)).fetchone()
        if row is None:
            raise NotFoundError(f"no revision {digest} in this store (unknown or compacted)")
        return Envelope.from_dict(json.loads(row[0]))

    # -- reads -------------------------------------------------------------------------------

    def history(self, doc_id: str) -> list[Revision]:
        """Every revision of ``doc_id`` this store holds, oldest first.

        Raises:
            NotFoundError: No such document.
        """
        info = self.head_info(doc_id)
        if info is None:
            raise NotFoundError(f"no document {doc_id!r}")
        with self.reading() as conn:
            rows = conn.execute(
                "SELECT hash, envelope, created_at FROM revisions WHERE doc_id = ? ORDER BY rowid",
                (doc_id,),
            ).fetchall()
        return [
            Revision(h, Envelope.from_dict(json.loads(e)), c, h == info.head) for h, e, c in rows
        ]

    def list(
        self,
        kind: str | None = None,
        *,
        prefix: str | None = None,
        text: str | None = None,
        where: dict[str, Any] | None = None,
        deleted: bool = False,
        since: str | None = None,
        exclude: frozenset[str] | set[str] = frozenset(),
        limit: int = 50,
    ) -> list[Envelope]:
        """Heads, newest first: of ``kind`` (not of the kinds in ``exclude``), ids starting with
        ``prefix``, containing ``text`` (case-insensitive, anywhere in the document), with body
        fields equal to ``where`` (a dotted name reaches into an object: ``project.id``)."""
        clauses: list[str] = []
        args: list[Any] = []
        if kind:
            clauses.append("d.kind = ?")
            args.append(kind)
        if prefix:
            clauses.append("substr(d.id, 1, ?) = ?")
            args += [len(prefix), prefix]
        if not deleted:
            clauses.append("d.deleted = 0")
        for name in sorted(exclude):
            clauses.append("d.kind != ?")
            args.append(name)
        if since:
            clauses.append("d.updated_at >= ?")
            args.append(since)
        if text:
            clauses.append("instr(lower(r.envelope), lower(?)) > 0")
            args.append(text)
        for field, value in (where or {}).items():
            if not all(part.replace("_", "").isalnum() for part in field.split(".")):
                raise InputError(f"cannot filter on field {field!r}")
            clauses.append(f"json_extract(r.envelope, '$.body.{field}') = ?")
            args.append(value)
        sql = (
            "SELECT r.envelope FROM docs d JOIN revisions r ON r.hash = d.head "
            f"{'WHERE ' + ' AND '.join(clauses) if clauses else ''} "
            "ORDER BY d.updated_at DESC, d.hlc DESC LIMIT ?"
        )
        with self.reading() as conn:
            rows = conn.execute(sql, (*args, limit)).fetchall()
        return [Envelope.from_dict(json.loads(r[0])) for r in rows]

    def heads(
        self, kinds: set[str] | None = None, *, exclude: set[str] | None = None
    ) -> dict[str, str]:
        """``{doc_id: head hash}`` of every document (tombstones included)."""
        with self.reading() as conn:
            rows = conn.execute("SELECT id, kind, head FROM docs ORDER BY id").fetchall()
        return {
            i: h
            for i, k, h in rows
            if (kinds is None or k in kinds) and (exclude is None or k not in exclude)
        }

    def counts(self) -> dict[str, int]:
        """Live documents per kind."""
        with self.reading() as conn:
            rows = conn.execute(
                "SELECT kind, count(*) FROM docs WHERE deleted = 0 GROUP BY kind ORDER BY kind"
            ).fetchall()
        return {k: int(n) for k, n in rows}
