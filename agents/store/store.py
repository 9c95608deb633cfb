"""``ContextStore``: documents as immutable revisions with moving heads, in one SQLite file.

Every write is one ``BEGIN IMMEDIATE`` transaction that inserts the revision, moves the head
and appends the audit row, so either all three exist or none does. Safe with several
processes (agents, the CLI, sync) and threads writing at once.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from typing import Any

from agents.core.errors import InputError, NotFoundError, StoreError
from agents.core.logs import get_logger
from agents.store import inbox
from agents.store.base import DOC_COLUMNS, DocInfo, Revision, StoreBase, StoreBusy, begin
from agents.store.canonical import Serialized, canonical, is_hash, now_iso, sha256_of
from agents.store.clock import vv_bump
from agents.store.db import committing
from agents.store.envelope import Envelope, Level, scope_for
from agents.store.newdocs import check_id, prepare_new, write_new
from agents.store.schemas import check_body
from agents.store.timeref import parse_time

__all__ = ["ContextStore", "DocInfo", "Revision", "StoreBusy"]

log = get_logger(__name__)


class ContextStore(StoreBase):
    """The context store of one environment: ``<directory>/store.sqlite`` plus ``blobs/``."""

    def prepare(
        self,
        doc_id: str,
        kind: str,
        body: Any,
        *,
        head: DocInfo | None,
        scope: dict[str, Any] | None = None,
        deleted: bool = False,
        secret_refs: list[Any] | None = None,
        conn: sqlite3.Connection | None = None,
    ) -> Envelope:
        """The next revision of ``doc_id`` on top of ``head`` (not stored yet)."""
        if head is not None and head.kind != kind:
            raise InputError(f"document {doc_id!r} is a {head.kind}, not a {kind}")
        if scope is None:
            current = self.revision(head.head, conn).scope if head else None
            scope = current or scope_for(kind, self.machine_id)
        return Envelope(
            id=doc_id,
            kind=kind,
            scope=scope,
            body=body,
            vv=vv_bump(head.vv if head else {}, self.machine_id),
            parents=[head.head] if head else [],
            origin_machine=self.machine_id,
            updated_at=now_iso(),
            hlc=str(self.clock.now(head.hlc if head else None)),
            deleted=deleted,
            secret_refs=secret_refs or [],
        )

    def apply(
        self,
        conn: sqlite3.Connection,
        envelope: Envelope,
        head: DocInfo | None,
        *,
        actor: str | None = None,
        op: str = "put",
        detail: dict[str, Any] | None = None,
        serialized: bytes | None = None,
        force: bool = False,
    ) -> Envelope:
        """Inside ``conn``'s transaction, where ``head`` is the current head: store
        ``envelope``, move the head to it, append the audit row. Writing what the head already
        says is a no-op returning the head, unless ``force`` (a new lineage, e.g. a merge)."""
        if not force and head is not None and head.content_hash == envelope.content_hash:
            return self.revision(head.head, conn)
        data = serialized if serialized is not None else envelope.to_bytes()
        digest = sha256_of(data)
        now = now_iso()
        conn.execute(
            "INSERT OR IGNORE INTO revisions VALUES (?, ?, ?, ?, ?, ?)",
            (digest, envelope.id, envelope.kind, envelope.content_hash, data.decode(), now),
        )
        conn.execute(
            f"INSERT INTO docs({DOC_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET head = excluded.head, content_hash = "
            "excluded.content_hash, vv = excluded.vv, hlc = excluded.hlc, deleted = "
            "excluded.deleted, updated_at = excluded.updated_at",
            (
                envelope.id,
                envelope.kind,
                digest,
                envelope.content_hash,
                json.dumps(envelope.vv),
                envelope.hlc,
                int(envelope.deleted),
                now,
            ),
        )
        self.audit(
            conn,
            actor=actor or self.actor,
            op=op,
            doc_id=envelope.id,
            old_hash=head.head if head else None,
            new_hash=digest,
            ts=now,
            detail=detail,
        )
        return envelope

    def commit(
        self,
        conn: sqlite3.Connection,
        doc_id: str,
        kind: str,
        body: Any,
        *,
        scope: dict[str, Any] | None = None,
        deleted: bool = False,
        secret_refs: list[Any] | None = None,
        actor: str | None = None,
        op: str = "put",
        head: DocInfo | None = None,
        detail: dict[str, Any] | None = None,
    ) -> Envelope:
        """Inside ``conn``'s transaction: write a new revision of ``doc_id`` on top of its head
        (``head`` as read in this transaction), move the head, append the audit row. A write
        that would not change the content is a no-op returning the head."""
        envelope = self.prepare(
            doc_id,
            kind,
            body,
            head=head,
            scope=scope,
            deleted=deleted,
            secret_refs=secret_refs,
            conn=conn,
        )
        return self.apply(conn, envelope, head, actor=actor, op=op, detail=detail)

    @staticmethod
    def normalize(kind: str, body: Any, doc_id: str) -> Any:
        """``body`` as plain JSON data, checked against ``kind``'s schema.

        Raises:
            InputError: Not JSON, unknown kind, or the schema refuses it (with the path).
        """
        try:
            plain = json.loads(canonical(body))
        except ValueError as exc:
            raise InputError(f"document {doc_id!r}: the body is not JSON ({exc})") from None
        check_body(kind, plain, doc_id)
        return plain

    def put(
        self,
        doc_id: str,
        kind: str,
        body: Any,
        *,
        level: Level | None = None,
        project_id: str | None = None,
        secret_refs: list[Any] | None = None,
        actor: str | None = None,
        expect_head: str | None = None,
        wait: bool = True,
    ) -> Envelope:
        """Write ``body`` as the new head of ``doc_id``.

        Args:
            level: Scope level for a new document (default by kind); ``project_id`` for
                project scope.
            expect_head: Only write if the head is still this revision hash (compare-and-swap).
            wait: False to raise :class:`StoreBusy` instead of waiting for the write lock.

        Raises:
            InputError: Bad id, unknown kind, schema refusal, kind mismatch, stale head.
            StoreError: The store is locked, full or corrupt; nothing was written.
        """
        check_id(doc_id)
        plain = self.normalize(kind, body, doc_id)
        scope = scope_for(kind, self.machine_id, level, project_id) if level or project_id else None
        # Build the revision before taking the write lock (optimistically, on the head as read
        # now); inside, it is used only if the head is still the same. Short transactions
        # keep several writing processes from queueing behind each other.
        seen = self.head_info(doc_id)
        ready = self.prepare(doc_id, kind, plain, head=seen, scope=scope, secret_refs=secret_refs)
        serialized: bytes | None = ready.to_bytes()
        with self.transaction(wait=wait) as conn:
            head = self.head_info(doc_id, conn)
            if expect_head is not None and (head.head if head else "") != expect_head:
                raise InputError(
                    f"document {doc_id!r} changed since revision {expect_head}: its head is "
                    f"{head.head if head else 'absent'}; read it again and retry"
                )
            if (head.head if head else None) != (seen.head if seen else None):
                ready = self.prepare(
                    doc_id,
                    kind,
                    plain,
                    head=head,
                    scope=scope,
                    secret_refs=secret_refs,
                    conn=conn,
                )
                serialized = None
            return self.apply(conn, ready, head, actor=actor, serialized=serialized)

    def add(
        self, doc_id: str, kind: str, body: Any, *, actor: str | None = None, wait: bool = True
    ) -> Envelope:
        """Write the first revision of a document that cannot exist yet (a fresh ULID id, as
        every recorded call has): :meth:`put` without reading a head, and with the body
        serialized once. ``body`` must be JSON data (dicts, lists, str, numbers), or
        :class:`Serialized` when the caller has its canonical text already.

        Raises:
            InputError: Bad id, unknown kind, schema refusal, or the id exists already.
            StoreBusy: ``wait`` is False and the write lock is held elsewhere.
            StoreError: The store is locked, full or corrupt; nothing was written.
        """
        return self.add_many([(doc_id, kind, body)], actor=actor, wait=wait)[0]

    def add_many(
        self,
        items: list[tuple[str, str, Any]],
        *,
        actor: str | None = None,
        wait: bool = True,
    ) -> list[Envelope]:
        """:meth:`add` for several new documents ``(id, kind, body)`` in one transaction (a
        group commit: one lock, one commit, one sync to disk for all). Each is checked and
        serialized before the lock is taken; either all are written or none. A body given as
        :class:`Serialized` is checked as its value and stored as its text (not serialized
        again): :func:`~agents.store.newdocs.prepare_new`.

        Raises:
            InputError: One of them is bad (named) or exists already; nothing was written.
            StoreBusy: ``wait`` is False and the write lock is held elsewhere.
            StoreError: The store is locked, full or corrupt; nothing was written.
        """
        rows = prepare_new(self, items)
        # only the writes themselves inside the lock: every row is ready before it is taken
        with self.transaction(wait=wait) as conn:
            return write_new(self, conn, rows, actor=actor or self.actor)

    def stage(
        self,
        doc_id: str,
        kind: str,
        body: Serialized,
        *,
        actor: str | None = None,
        wait: bool = True,
    ) -> None:
        """Commit the new document ``doc_id`` to the inbox: one small insert, checked as
        :meth:`add` checks it. It is moved into the store (revision, head, audit row, search
        index) by :meth:`settle`, which the recording agent's mover runs a moment later, and
        by the next read on any connection (:meth:`reading`).

        Raises:
            InputError: Bad id, unknown kind or schema refusal; nothing was written.
            StoreBusy: ``wait`` is False and the write lock is held elsewhere.
            StoreError: The store is locked, full or corrupt; nothing was written.
        """
        inbox.check(doc_id, kind, body)
        with self.transaction(wait=wait) as conn:
            inbox.stage(conn, doc_id, kind, body, actor or self.actor)

    def settle(self) -> int:
        """Move every row of the inbox into the store, waiting for the write lock as any
        write does; the number of rows moved.

        Raises:
            StoreError: The store is locked, full or corrupt; the rows stay in the inbox.
        """
        with self._guard() as conn:
            return self._move(conn)

    def _settle(self, conn: sqlite3.Connection, *, wait_ms: int) -> None:
        try:
            self._move(conn, wait_ms=wait_ms)
        except (StoreError, sqlite3.Error) as exc:  # the read goes on; the agent moves them
            log.info("inbox_not_moved", path=str(self.path), reason=str(exc))

    def _move(self, conn: sqlite3.Connection, *, wait_ms: int | None = None) -> int:
        """Move the inbox in one transaction, waiting ``wait_ms`` for the lock if given (the
        next ``_guard`` sets the full timeout again); nothing, not even a PRAGMA, when the
        inbox is empty."""
        if not inbox.pending(conn):
            return 0
        if wait_ms is not None:
            self._wait_ms(wait_ms)
        moved = 0
        self._settling = True
        try:
            with committing(begin(conn)):
                while n := inbox.drain(self, conn):
                    moved += n
                    if n < inbox.MAX_MOVE:
                        break
        finally:
            self._settling = False
        return moved

    def update(
        self,
        doc_id: str,
        kind: str,
        change: Callable[[Any], Any],
        *,
        actor: str | None = None,
        op: str = "put",
    ) -> Envelope:
        """Read-modify-write ``doc_id`` atomically: ``change(current body or None)`` returns the
        new body, all inside one write transaction (no lost updates between processes)."""
        check_id(doc_id)
        with self.transaction() as conn:
            head = self.head_info(doc_id, conn)
            current = None
            if head is not None and not head.deleted:
                current = self.revision(head.head, conn).body
            plain = self.normalize(kind, change(current), doc_id)
            return self.commit(conn, doc_id, kind, plain, actor=actor, op=op, head=head)

    def delete(self, doc_id: str, *, actor: str | None = None) -> Envelope:
        """Write a tombstone revision (history stays; sync propagates the deletion).

        Raises:
            NotFoundError: No such document, or it is already deleted.
        """
        with self.transaction() as conn:
            head = self.head_info(doc_id, conn)
            if head is None or head.deleted:
                raise NotFoundError(f"no document {doc_id!r} to delete")
            return self.commit(
                conn, doc_id, head.kind, {}, deleted=True, actor=actor, op="delete", head=head
            )

    def get(self, doc_id: str, at: str | None = None, *, deleted: bool = False) -> Envelope:
        """The head of ``doc_id``, or its revision at ``at`` (a snapshot id, a revision hash,
        or a time such as ``2026-05-01T12:00Z`` or ``2h``).

        Raises:
            NotFoundError: No such document (then), or it was deleted and ``deleted`` is False.
        """
        if at is None:
            info = self.head_info(doc_id)
            if info is None:
                raise NotFoundError(f"no document {doc_id!r}", what="document")
            digest = info.head
        else:
            digest = self._at(doc_id, at)
        envelope = self.revision(digest)
        if envelope.id != doc_id:
            raise InputError(f"revision {digest} belongs to {envelope.id!r}, not {doc_id!r}")
        if envelope.deleted and not deleted:
            raise NotFoundError(f"document {doc_id!r} is deleted (revision {digest})")
        return envelope

    def _at(self, doc_id: str, at: str) -> str:
        if is_hash(at):
            with self.reading() as conn:
                if conn.execute("SELECT 1 FROM revisions WHERE hash = ?", (at,)).fetchone():
                    return at
        from agents.store.snapshots import find_snapshot, heads_at

        snap = find_snapshot(self, at, missing_ok=True)
        if snap is not None:
            digest = snap.manifest.get(doc_id)
            if digest is None:
                raise NotFoundError(f"document {doc_id!r} is not in snapshot {snap.id}")
            return digest
        moment = parse_time(at)
        if moment is None:
            raise InputError(f"at={at!r} is neither a snapshot, a revision hash nor a time")
        digest = heads_at(self, moment, doc_id=doc_id).get(doc_id)
        if digest is None:
            raise NotFoundError(f"document {doc_id!r} did not exist at {moment}")
        return digest
