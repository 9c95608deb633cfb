"""``postgres`` backend: one table in PostgreSQL (Supabase included), through psycopg 3.

The URL is a libpq connection string used as it is (``sslmode`` and the rest pass through).
The table ``context_sync.kv(key, value bytea, etag bigint, updated_at)`` and its schema are
created if missing. The schema is not ``public`` on purpose: Supabase exposes ``public``
through its REST API; row-level security is enabled too, with no policy, so only the owner
(our connection) can read it.

CAS is ``UPDATE … WHERE key = $1 AND etag = $2`` (a new etag from a sequence on every write,
so an etag never comes back); create-only is ``INSERT … ON CONFLICT DO NOTHING``. Bulk writes
go through ``COPY`` into a temp table and one ``INSERT … SELECT``; bulk reads are one
``= ANY`` query per chunk in binary mode. Inside ``batch()`` every write is one transaction.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote, urlsplit

import psycopg
from psycopg.conninfo import conninfo_to_dict

from agents.core.errors import ConfigError
from agents.core.logs import get_logger
from agents.sync.keys import head_key
from agents.sync.remote import (
    SCAN_CHUNK,
    CasConflict,
    Entry,
    ObjectConflict,
    Remote,
    RemoteError,
    Watch,
    redact_url,
    scrub,
)

__all__ = ["CHANNEL", "PgWatch", "PostgresRemote"]

log = get_logger("agents.sync")
CHANNEL = "agents_sync"  # NOTIFY channel; the payload is the head key that moved
HEADS = "heads/"

SCHEMA = "context_sync"
TABLE = f"{SCHEMA}.kv"
CHUNK = 1000
COPY_FROM = 64
# password= or sslpassword= in a URL's query or in a key=value connection string
_PASSWORD = re.compile(r"(?:\A|[?&\s])(?:ssl)?password\s*=\s*'?([^&\s']+)", re.IGNORECASE)
_DDL = f"""
CREATE SCHEMA IF NOT EXISTS {SCHEMA};
CREATE SEQUENCE IF NOT EXISTS {SCHEMA}.etags;
CREATE TABLE IF NOT EXISTS {TABLE} (
    key text COLLATE "C" PRIMARY KEY,
    value bytea NOT NULL,
    etag bigint NOT NULL DEFAULT nextval('{SCHEMA}.etags'),
    updated_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE {TABLE} ENABLE ROW LEVEL SECURITY;
"""


class PostgresRemote(Remote):
    """A remote in one PostgreSQL table."""

    scheme = "postgres"

    def __init__(self, url: str) -> None:
        super().__init__(redact_url(url))
        try:
            params = conninfo_to_dict(url)
        except psycopg.Error as e:
            raise ConfigError(
                f"CONTEXT_REMOTE {self.display_url!r} is not a valid PostgreSQL connection "
                f"string: {scrub(str(e).strip(), _secrets_in(url))}"
            ) from None
        self._url = url
        self._secrets = _secrets_in(url) + tuple(
            str(params[k]) for k in ("password", "sslpassword") if params.get(k)
        )
        self._extra: dict[str, Any] = {
            "autocommit": False,
            # transaction-mode poolers (Supabase's port 6543) cannot keep prepared statements
            "prepare_threshold": None,
        }
        if "connect_timeout" not in params:
            self._extra["connect_timeout"] = 10
        if "application_name" not in params:
            self._extra["application_name"] = "agents-sync"
        self._conn: psycopg.Connection[Any] | None = None
        self._dirty = False  # uncommitted writes in the open transaction
        with self._errors("prepare the table"):
            conn = self._connection()
            if conn.execute("SELECT to_regclass(%s)", (TABLE,)).fetchone() == (None,):
                conn.execute("SELECT pg_advisory_xact_lock(hashtext('agents-sync-ddl'))")
                conn.execute(_DDL.encode())
            conn.commit()

    def _connection(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.broken:
            self._conn = psycopg.connect(self._url, **self._extra)
        return self._conn

    @contextlib.contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        try:
            yield
        except psycopg.Error as e:
            if self._dirty and self._depth > 0:
                # the rollback drops the batch's writes so far, a failed read's too: its
                # later writes must not commit without them (a head naming lost objects)
                self._broken = True
            self._abort()
            message = scrub(str(e).strip(), self._secrets)
            raise RemoteError(f"{self.display_url}: cannot {what}: {message}") from None

    # --- reads ---------------------------------------------------------------------------

    def _get(self, key: str) -> Entry | None:
        return self._get_many([key]).get(key)

    def _get_many(self, keys: list[str]) -> dict[str, Entry]:
        found: dict[str, Entry] = {}
        with self._errors("read"):
            conn = self._connection()
            with conn.cursor(binary=True) as cur:
                for i in range(0, len(keys), CHUNK):
                    cur.execute(
                        f"SELECT key, CASE WHEN octet_length(value) <= %s THEN value END, "
                        f"etag, octet_length(value) FROM {TABLE} WHERE key = ANY(%s)",
                        (self.max_bytes, keys[i : i + CHUNK]),
                    )
                    found.update(
                        {k: Entry(bytes(v), str(e)) for k, v, e, n in cur if self.fits(k, n)}
                    )
            self._end_read(conn)
        return found

    def _scan(self, prefix: str) -> Iterator[tuple[str, Entry]]:
        # keyset pages, each one COPY: the connection is free again whenever we yield
        after = ""
        while True:
            with self._errors("read"):
                conn = self._connection()
                with conn.cursor() as cur:
                    sql = (
                        "COPY (SELECT key, CASE WHEN octet_length(value) <= "
                        f"{int(self.max_bytes)} THEN value END, etag, octet_length(value) FROM "
                        f"{TABLE} WHERE key LIKE %s AND key > %s ORDER BY key "
                        f"LIMIT {SCAN_CHUNK}) TO STDOUT (FORMAT BINARY)"
                    )
                    with cur.copy(sql, (_like(prefix), after)) as copy:
                        copy.set_types(["text", "bytea", "int8", "int4"])
                        rows = list(copy.rows())
                self._end_read(conn)
            yield from ((k, Entry(v, str(e))) for k, v, e, n in rows if self.fits(k, n))
            if len(rows) < SCAN_CHUNK:
                return
            after = rows[-1][0]

    def _list(self, prefix: str) -> list[str]:
        pattern = _like(prefix)
        with self._errors("list"):
            conn = self._connection()
            rows = conn.execute(
                f"SELECT key FROM {TABLE} WHERE key LIKE %s ORDER BY key", (pattern,)
            ).fetchall()
            self._end_read(conn)
        return [row[0] for row in rows]

    def _end_read(self, conn: psycopg.Connection[Any]) -> None:
        # outside a batch, end the implicit transaction so the next read sees fresh data
        if self._depth == 0:
            conn.commit()

    # --- writes --------------------------------------------------------------------------

    def _put_many(self, items: list[tuple[str, bytes]]) -> None:
        unique: dict[str, bytes] = {}
        for key, data in items:
            if unique.setdefault(key, data) != data:
                raise ObjectConflict(key)
        if not unique:
            return
        with self._errors("write"):
            conn = self._connection()
            self._dirty = True
            if len(unique) < COPY_FROM:
                for key, data in unique.items():
                    inserted = conn.execute(
                        f"INSERT INTO {TABLE} (key, value) VALUES (%s, %s) "
                        "ON CONFLICT (key) DO NOTHING RETURNING 1",
                        (key, data),
                    ).fetchone()
                    if inserted is None:
                        row = conn.execute(
                            f"SELECT value = %s FROM {TABLE} WHERE key = %s", (data, key)
                        ).fetchone()
                        if row is not None and not row[0]:
                            raise ObjectConflict(key)
                return
            conn.execute(
                'CREATE TEMP TABLE IF NOT EXISTS agents_sync_incoming (key text COLLATE "C", '
                "value bytea) ON COMMIT DROP"
            )
            conn.execute("TRUNCATE agents_sync_incoming")
            with conn.cursor() as cur:
                with cur.copy(
                    "COPY agents_sync_incoming (key, value) FROM STDIN (FORMAT BINARY)"
                ) as copy:
                    copy.set_types(["text", "bytea"])
                    for row in unique.items():
                        copy.write_row(row)
                cur.execute(
                    f"INSERT INTO {TABLE} (key, value) SELECT key, value FROM agents_sync_incoming "
                    "ON CONFLICT (key) DO NOTHING"
                )
                cur.execute(
                    f"SELECT i.key FROM agents_sync_incoming i JOIN {TABLE} t USING (key) "
                    "WHERE t.value <> i.value LIMIT 1"
                )
                clash = cur.fetchone()
            if clash is not None:
                raise ObjectConflict(clash[0])

    def _cas(self, key: str, data: bytes, expected: str | None) -> str:
        with self._errors("compare-and-swap"):
            conn = self._connection()
            self._dirty = True
            if expected is None:
                row = conn.execute(
                    f"INSERT INTO {TABLE} (key, value) VALUES (%s, %s) "
                    "ON CONFLICT (key) DO NOTHING RETURNING etag",
                    (key, data),
                ).fetchone()
            elif expected.isdigit():
                row = conn.execute(
                    f"UPDATE {TABLE} SET value = %s, etag = nextval('{SCHEMA}.etags'), "
                    "updated_at = now() WHERE key = %s AND etag = %s RETURNING etag",
                    (data, key, int(expected)),
                ).fetchone()
            else:
                row = None
            if row is not None:
                if key.startswith(HEADS):
                    # delivered when this transaction commits, so never before the head moved
                    conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, key))
                return str(row[0])
            current = conn.execute(f"SELECT etag FROM {TABLE} WHERE key = %s", (key,)).fetchone()
            # the writes before a failed cas stay durable, as on every backend
            self._commit()
        raise CasConflict(key, None if current is None else str(current[0]), expected)

    def _delete(self, key: str) -> None:
        with self._errors("delete"):
            conn = self._connection()
            self._dirty = True
            conn.execute(f"DELETE FROM {TABLE} WHERE key = %s", (key,))

    def flush(self) -> None:
        """Commit the open transaction."""
        with self._errors("commit"):
            self._commit()

    def _commit(self) -> None:
        if self._conn is not None and (self._dirty or not self._conn.broken):
            self._connection().commit()
        self._dirty = False

    def _abort(self) -> None:
        self._dirty = False
        if self._conn is not None and not self._conn.broken:
            with contextlib.suppress(psycopg.Error):
                self._conn.rollback()

    def watch(self, machine_id: str) -> Watch | None:
        """LISTEN for other machines' head moves (each head CAS sends a NOTIFY)."""
        extra = {k: v for k, v in self._extra.items() if k != "autocommit"}
        return PgWatch(self._url, extra, self._secrets, self.display_url, head_key(machine_id))

    def close(self) -> None:
        """Roll back anything uncommitted and close the connection."""
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                self._conn.close()
            self._conn = None


class PgWatch:
    """``LISTEN agents_sync`` on a connection of its own (autocommit, so notifications
    arrive while idle). A lost connection is reopened on a later :meth:`wait`, backing off
    (1 s doubling to 60 s); meanwhile ``wait`` sleeps out its timeout, so the caller's
    periodic sync carries on. Reopening wakes the caller once: pushes made while the
    connection was down notified nobody here."""

    def __init__(
        self,
        url: str,
        extra: dict[str, Any],
        secrets: tuple[str, ...],
        display_url: str,
        own_key: str,
    ) -> None:
        self._url, self._extra, self._secrets = url, extra, secrets
        self.display_url, self._own = display_url, own_key
        self._conn: psycopg.Connection[Any] | None = None
        self._failures = 0
        self._retry_at = 0.0
        self._missed = False

    def _connect(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.broken or self._conn.closed:
            conn = psycopg.connect(self._url, autocommit=True, **self._extra)
            conn.execute(f"LISTEN {CHANNEL}")
            self._conn = conn
            if self._failures:
                log.info("sync_watch_reconnected", remote=self.display_url)
                self._missed = True  # pushes while it was down sent no notification here
            self._failures = 0
        return self._conn

    def wait(self, timeout: float) -> bool:
        """True as soon as another machine's head moved, False after ``timeout`` seconds."""
        deadline = time.monotonic() + max(timeout, 0.0)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            if time.monotonic() < self._retry_at:
                time.sleep(min(left, self._retry_at - time.monotonic()))
                continue
            try:
                conn = self._connect()
                if self._missed:
                    self._missed = False
                    return True
                # each notifies() generator holds the connection's lock: finish it first
                notes = list(conn.notifies(timeout=left, stop_after=1))
                if any(n.payload != self._own for n in notes):
                    self._drain(conn)
                    return True
            except psycopg.Error as exc:
                self._lost(exc)

    def _drain(self, conn: psycopg.Connection[Any]) -> None:
        """Swallow the notifications of a burst (several machines pushing at once)."""
        for _ in range(1000):
            if next(conn.notifies(timeout=0.05, stop_after=1), None) is None:
                return

    def _lost(self, exc: psycopg.Error) -> None:
        self.close()
        self._failures += 1
        delay = min(60.0, 2.0 ** (self._failures - 1))
        self._retry_at = time.monotonic() + delay
        log.warning(
            "sync_watch_lost",
            remote=self.display_url,
            reason=scrub(str(exc).strip(), self._secrets),
            retry_in_s=delay,
        )

    def close(self) -> None:
        """Close the LISTEN connection."""
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                self._conn.close()
            self._conn = None


def _like(prefix: str) -> str:
    """A LIKE pattern matching the keys that start with ``prefix``."""
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _secrets_in(url: str) -> tuple[str, ...]:
    """The passwords written in a connection string, as written and percent-decoded: an error
    about a string psycopg cannot parse may quote one (``invalid percent-encoded token``)."""
    found = _PASSWORD.findall(url)
    try:
        password = urlsplit(url).password
    except ValueError:
        password = None
    if password:
        found.append(password)
    return tuple(dict.fromkeys(s for f in found for s in (f, unquote(f)) if s))
