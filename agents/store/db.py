"""The SQLite file: opening it safely, its tables, its format version, and what its errors mean.

One ``store.sqlite`` per environment, in WAL mode (readers never block the writer; one writer
at a time across processes), with a busy timeout so concurrent writers queue instead of
failing. Every write is one ``BEGIN IMMEDIATE`` transaction.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

from agents.core.errors import StoreError
from agents.store.search_index import create_index, register_functions

__all__ = [
    "APPLICATION_ID",
    "FORMAT_VERSION",
    "Synchronous",
    "begin_immediate",
    "committing",
    "connect",
    "explain",
    "immediate",
    "insert_rows",
    "is_busy",
    "rows_in",
]

FORMAT_VERSION = 5  # 2: file_bases; 3: the search index; 4: its text read from the documents;
# 5: the recorder's inbox
APPLICATION_ID = 0x63747831  # "ctx1": marks the file as a context store
Synchronous = Literal["FULL", "NORMAL"]
_NETWORK_FS = {"nfs", "nfs4", "cifs", "smb3", "smbfs", "fuse.sshfs", "9p", "afs", "ceph"}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS inbox(
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL,
    kind TEXT NOT NULL,
    actor TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS revisions(
    hash TEXT PRIMARY KEY,
    doc_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    envelope TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS revisions_by_doc ON revisions(doc_id);
CREATE TABLE IF NOT EXISTS docs(
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    head TEXT NOT NULL REFERENCES revisions(hash),
    content_hash TEXT NOT NULL,
    vv TEXT NOT NULL,
    hlc TEXT NOT NULL,
    deleted INTEGER NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS docs_by_kind ON docs(kind, updated_at);
CREATE TABLE IF NOT EXISTS snapshots(
    id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL UNIQUE,
    machine TEXT NOT NULL,
    parent TEXT,
    created_at TEXT NOT NULL,
    label TEXT,
    manifest TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit(
    seq INTEGER PRIMARY KEY,
    ts TEXT NOT NULL,
    machine TEXT NOT NULL,
    actor TEXT NOT NULL,
    op TEXT NOT NULL,
    doc_id TEXT,
    old_hash TEXT,
    new_hash TEXT,
    remote TEXT,
    result TEXT NOT NULL,
    detail TEXT,
    prev_hash TEXT NOT NULL,
    entry_hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_by_doc ON audit(doc_id, seq);
CREATE TABLE IF NOT EXISTS conflicts(
    id INTEGER PRIMARY KEY,
    doc_id TEXT NOT NULL,
    local_hash TEXT NOT NULL,
    remote_hash TEXT NOT NULL,
    base_hash TEXT,
    policy TEXT NOT NULL,
    status TEXT NOT NULL,
    detected_at TEXT NOT NULL,
    resolved_hash TEXT,
    resolved_at TEXT
);
CREATE INDEX IF NOT EXISTS conflicts_by_doc ON conflicts(doc_id, status);
CREATE TABLE IF NOT EXISTS sync_base(
    remote TEXT NOT NULL,
    doc_id TEXT NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY(remote, doc_id)
);
CREATE TABLE IF NOT EXISTS sync_state(
    remote TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY(remote, key)
);
CREATE TABLE IF NOT EXISTS applied(
    target_path TEXT PRIMARY KEY,
    doc_id TEXT,
    hash TEXT NOT NULL,
    applied_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS file_bases(
    doc_id TEXT PRIMARY KEY,
    hash TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS quarantine(
    id INTEGER PRIMARY KEY,
    received_at TEXT NOT NULL,
    source TEXT NOT NULL,
    envelope TEXT NOT NULL,
    error TEXT NOT NULL
);
"""


def explain(exc: sqlite3.Error, path: Path, busy_timeout: float) -> StoreError:
    """A :class:`StoreError` saying what ``exc`` means for the store at ``path`` and what to do."""
    text = str(exc)
    code = getattr(exc, "sqlite_errorname", "")
    if code.startswith("SQLITE_BUSY") or "locked" in text:
        return StoreError(
            f"context store {path} is locked: another process held the write lock for more than "
            f"{busy_timeout:g}s (CONTEXT_BUSY_TIMEOUT); nothing was written, retry, or find the "
            f"process holding it with `fuser {path}`"
        )
    if code.startswith("SQLITE_FULL") or "disk is full" in text:
        return StoreError(
            f"context store {path}: the disk is full; nothing was written (the transaction was "
            "rolled back). Free space, or run `agents context compact --keep-days N`"
        )
    if (
        code.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB"))
        or "malformed" in text
        or ("not a database" in text)
    ):
        return StoreError(
            f"context store {path} is corrupt ({text}); it was not modified or reset. Move it "
            "aside and restore a backup (or pull from the remote once sync is set up); "
            "`agents context check` reports what SQLite finds"
        )
    if code.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_IOERR")):
        return StoreError(
            f"context store {path} cannot be written ({text}): check the path, its "
            "permissions and free space"
        )
    return StoreError(f"context store {path}: {text}")


def _filesystem_type(path: Path) -> str | None:
    best, kind = "", None
    try:
        with open("/proc/self/mounts") as fh:
            for line in fh:
                parts = line.split()
                if len(parts) >= 3:
                    mount = parts[1].replace("\\040", " ")
                    if str(path).startswith(mount) and len(mount) > len(best):
                        best, kind = mount, parts[2]
    except OSError:
        return None
    return kind


def _check_version(conn: sqlite3.Connection, path: Path) -> int:
    app = conn.execute("PRAGMA application_id").fetchone()[0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if app not in (0, APPLICATION_ID):
        raise StoreError(
            f"{path} is an SQLite file but not a context store (application_id {app:#x}): "
            "point CONTEXT_DIR at another directory"
        )
    if version > FORMAT_VERSION:
        raise StoreError(
            f"context store {path} has format version {version}, written by a newer version of "
            f"agents; this version reads format {FORMAT_VERSION} only. Upgrade agents "
            "(`pip install -U claude-agents`); the store was not modified"
        )
    if app == 0 and version == 0:
        tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if tables:
            raise StoreError(f"{path} holds other tables: it is not a context store")
    return int(version)


def connect(
    path: Path, *, synchronous: Synchronous = "FULL", busy_timeout: float = 10.0
) -> sqlite3.Connection:
    """Open (creating if needed) the store database at ``path``.

    Raises:
        StoreError: Corrupt, locked, newer format, not a store, on a network filesystem, or
            not writable; the file is never reset or rewritten to recover.
    """
    fs = _filesystem_type(path.parent.resolve())
    if fs in _NETWORK_FS:
        raise StoreError(
            f"context store {path} is on a network filesystem ({fs}); SQLite's WAL needs a local "
            "disk. Set CONTEXT_DIR to a local directory (sync copies the store across machines)"
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(path.parent, 0o700)
    except OSError as exc:
        raise StoreError(f"cannot create the context store directory {path.parent}: {exc}") from exc
    try:
        conn = sqlite3.connect(
            path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
        )
    except sqlite3.Error as exc:
        raise explain(exc, path, busy_timeout) from exc
    try:
        conn.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        register_functions(conn)
        version = _check_version(conn, path)
        if conn.execute("PRAGMA journal_mode=WAL").fetchone()[0].lower() != "wal":
            raise StoreError(f"context store {path}: SQLite refused WAL mode")
        conn.execute(f"PRAGMA synchronous={synchronous}")
        conn.execute("PRAGMA foreign_keys=ON")
        if version < FORMAT_VERSION:
            with immediate(conn, busy_timeout):
                if conn.execute("PRAGMA user_version").fetchone()[0] < FORMAT_VERSION:
                    for statement in _SCHEMA.split(";"):
                        if statement.strip():
                            conn.execute(statement)
                    create_index(conn)
                    conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
                    conn.execute(f"PRAGMA user_version={FORMAT_VERSION}")
    except sqlite3.Error as exc:
        conn.close()
        raise explain(exc, path, busy_timeout) from exc
    except StoreError:
        conn.close()
        raise
    return conn


def is_busy(exc: sqlite3.OperationalError) -> bool:
    """True when ``exc`` is SQLite's "database is locked" (another writer holds the lock)."""
    return getattr(exc, "sqlite_errorname", "").startswith("SQLITE_BUSY")


def begin_immediate(conn: sqlite3.Connection, timeout: float) -> None:
    """``BEGIN IMMEDIATE``, waiting up to ``timeout`` seconds while another writer holds the
    lock, through SQLite's own busy handler. It sleeps rather than polls, so writing
    processes that outnumber the cores leave the CPU to the one holding the lock; a writer
    that finds the lock taken waits at least a millisecond (figures: docs/performance.md).

    Raises:
        sqlite3.OperationalError: Still busy after ``timeout`` (or another error).
    """
    conn.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
    conn.execute("BEGIN IMMEDIATE")


@contextlib.contextmanager
def committing(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """The transaction begun on ``conn``: committed on success, rolled back on any error."""
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


@contextlib.contextmanager
def immediate(conn: sqlite3.Connection, timeout: float = 10.0) -> Iterator[sqlite3.Connection]:
    """One ``BEGIN IMMEDIATE`` transaction: committed on success, rolled back on any error."""
    begin_immediate(conn, timeout)
    with committing(conn):
        yield conn


def rows_in(
    conn: sqlite3.Connection, sql: str, values: Sequence[Any], chunk: int = 1000
) -> Iterator[Any]:
    """The rows of ``sql``, whose one ``IN ({marks})`` takes ``values``, queried ``chunk``
    values at a time (SQLite caps the parameters of one statement)."""
    for i in range(0, len(values), chunk):
        part = values[i : i + chunk]
        yield from conn.execute(sql.replace("{marks}", ",".join("?" * len(part))), part)


def insert_rows(
    conn: sqlite3.Connection, sql: str, rows: Sequence[Sequence[Any]], chunk: int = 100
) -> None:
    """Run ``sql`` (an ``INSERT … VALUES`` without its rows) for ``rows``, as one multi-row
    statement per ``chunk`` rows. In one statement, SQLite opens and releases one statement
    savepoint where ``executemany`` does so per row, and FTS5 writes its pending terms to a
    new index segment at each release: one segment per chunk, not per row
    (docs/performance.md)."""
    if not rows:
        return
    marks = "(" + ", ".join("?" * len(rows[0])) + ")"
    for i in range(0, len(rows), chunk):
        part = rows[i : i + chunk]
        conn.execute(f"{sql} {', '.join([marks] * len(part))}", [v for row in part for v in row])
