"""Ranked recall over the store: an SQLite FTS5 index of every live document, BM25 ranking,
snippets, filters, and a timeline around a result.

The index (table ``search``) is kept by triggers on ``docs``: every write that moves a head,
whichever code path makes it (put, add, pull, replication, compaction), updates the index in
the same transaction. The context agent's own recorded calls are left out: they are reads of
the store, and indexing a search would make it find itself. ``reindex`` rebuilds the index
from the heads (``agents context reindex``).

The pattern that keeps a client's context small: :func:`search` returns ids, titles and short
snippets; :func:`timeline` shows what happened around one of them; the client then reads the
one document it needs in full.
"""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from agents.core.errors import InputError, NotFoundError

if TYPE_CHECKING:
    from agents.store.base import StoreBase

__all__ = [
    "INDEX_SCHEMA",
    "Hit",
    "TimelineEntry",
    "bulk_indexed",
    "create_index",
    "match_expression",
    "reindex",
    "search",
    "timeline",
]

_TITLE = (
    "coalesce(json_extract(r.envelope, '$.body.title'), json_extract(r.envelope, '$.body.name'), "
    "json_extract(r.envelope, '$.body.key'), json_extract(r.envelope, '$.body.path'), "
    "json_extract(r.envelope, '$.body.agent') || '.' || json_extract(r.envelope, '$.body.handler'),"
    " d.id)"
)
# every string in the body, keys left out; a Claude file's text is its ``text`` field
_BODY = (
    "(SELECT group_concat(t.value, ' ') FROM json_tree(r.envelope, '$.body') AS t "
    "WHERE t.type = 'text')"
)
_PROJECT = (
    "coalesce(json_extract(r.envelope, '$.scope.project_id'), "
    "json_extract(r.envelope, '$.body.project.id'), "
    "json_extract(r.envelope, '$.body.project.name'), "
    "CASE WHEN d.kind = 'project' THEN d.id END, '')"
)
_MACHINE = (
    "coalesce(json_extract(r.envelope, '$.body.machine_id'), "
    "json_extract(r.envelope, '$.origin_machine'), '')"
)
_ROW = (
    f"SELECT d.rowid, d.id, d.kind, {_TITLE}, coalesce({_BODY}, ''), {_PROJECT}, {_MACHINE}, "
    "d.updated_at FROM docs AS d JOIN revisions AS r ON r.hash = d.head "
    "WHERE d.deleted = 0 AND NOT (d.kind = 'agent_output' "
    "AND json_extract(r.envelope, '$.body.agent') = 'context')"
)
_INSERT = "INSERT INTO search(rowid, doc_id, kind, title, body, project, machine, updated_at) "

_NEW = (
    "FROM (SELECT new.rowid AS rowid, new.id AS id, new.kind AS kind, new.head AS head, "
    "new.deleted AS deleted, new.updated_at AS updated_at) AS d"
)
_ROW_OF_NEW = _ROW.replace("FROM docs AS d", _NEW)

# the trigger that indexes each new document (set aside by :func:`bulk_indexed`)
_INSERT_TRIGGER = (
    "CREATE TRIGGER IF NOT EXISTS docs_search_insert AFTER INSERT ON docs BEGIN "
    f"{_INSERT}{_ROW_OF_NEW}; END"
)

# statements, not a script: triggers hold semicolons, and the store runs them in its own
# migration transaction
INDEX_SCHEMA = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS search USING fts5(doc_id UNINDEXED, kind UNINDEXED, "
    "title, body, project UNINDEXED, machine UNINDEXED, updated_at UNINDEXED, "
    "tokenize = 'porter unicode61 remove_diacritics 2')",
    "CREATE INDEX IF NOT EXISTS docs_by_time ON docs(updated_at)",
    _INSERT_TRIGGER,
    "CREATE TRIGGER IF NOT EXISTS docs_search_update AFTER UPDATE ON docs BEGIN "
    f"DELETE FROM search WHERE rowid = old.rowid; {_INSERT}{_ROW_OF_NEW}; END",
    "CREATE TRIGGER IF NOT EXISTS docs_search_delete AFTER DELETE ON docs BEGIN "
    "DELETE FROM search WHERE rowid = old.rowid; END",
)


def create_index(conn: sqlite3.Connection) -> None:
    """Inside a write transaction: create the index and its triggers if missing, and fill it
    from the heads when it is new (a store migrated from an older format)."""
    new = not conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'search'"
    ).fetchone()
    for statement in INDEX_SCHEMA:
        conn.execute(statement)
    if new:
        conn.execute(_INSERT + _ROW)


# FTS5's segment merging during a bulk insert: none until a level holds this many segments
# (docs/performance.md); the index's own settings come back before the transaction commits
_BULK_MERGE = {"automerge": 0, "crisismerge": 64}
_MERGE_DEFAULTS = {"automerge": 4, "crisismerge": 16}


@contextlib.contextmanager
def bulk_indexed(conn: sqlite3.Connection, ids: Sequence[str]) -> Iterator[None]:
    """Inside a write transaction that inserts the documents ``ids`` into ``docs`` (a
    restore adopting thousands): they are indexed in one statement after the inserts
    instead of by the per-row trigger, which is set aside meanwhile. DDL is transactional
    in SQLite, so no other connection ever sees the trigger missing, and the index holds
    every document when the transaction commits, as with the trigger."""
    saved = dict(_MERGE_DEFAULTS)
    saved.update(conn.execute("SELECT k, v FROM search_config WHERE k IN (?, ?)", tuple(saved)))
    conn.execute("DROP TRIGGER IF EXISTS docs_search_insert")
    for key, value in _BULK_MERGE.items():
        conn.execute("INSERT INTO search(search, rank) VALUES (?, ?)", (key, value))
    try:
        yield
        conn.execute(
            _INSERT + _ROW + " AND d.id IN (SELECT value FROM json_each(?))", (json.dumps(ids),)
        )
    finally:
        with contextlib.suppress(sqlite3.Error):  # a failed transaction rolls all this back
            for key, value in saved.items():
                conn.execute("INSERT INTO search(search, rank) VALUES (?, ?)", (key, value))
            conn.execute(_INSERT_TRIGGER)


@dataclass(frozen=True)
class Hit:
    """One search result: enough to choose, not the document itself."""

    id: str
    kind: str
    title: str
    snippet: str
    project: str
    machine: str
    updated_at: str
    score: float

    def as_dict(self) -> dict[str, Any]:
        """The hit as plain JSON values."""
        return asdict(self)


@dataclass(frozen=True)
class TimelineEntry:
    """One document in a timeline: what it is and when it last changed."""

    id: str
    kind: str
    title: str
    project: str
    machine: str
    updated_at: str
    anchor: bool

    def as_dict(self) -> dict[str, Any]:
        """The entry as plain JSON values."""
        return asdict(self)


_PHRASE = re.compile(r'"([^"]*)"')
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
MAX_TERMS = 32


def match_expression(text: str, *, any_term: bool = False) -> str:
    """An FTS5 query for ``text`` typed by a person (or by Claude): each word, and each
    ``"quoted phrase"``, becomes a quoted FTS5 string, so no character of the input is ever
    read as FTS5 syntax; words are ANDed (ORed with ``any_term``), the last one also matches
    as a prefix.

    Raises:
        InputError: ``text`` holds no word to search for.
    """
    terms: list[str] = []
    for phrase in _PHRASE.findall(text):
        words = _WORD.findall(phrase)
        if words:
            terms.append('"' + " ".join(words) + '"')
    rest = _PHRASE.sub(" ", text)
    words = _WORD.findall(rest)
    terms += [f'"{w}"' for w in words]
    if not terms:
        raise InputError(f"search query {text[:80]!r} holds no word to search for")
    terms = terms[:MAX_TERMS]
    if words and terms[-1] == f'"{words[-1]}"' and len(words[-1]) >= 3:
        terms[-1] = f'("{words[-1]}" OR "{words[-1]}"*)'
    return (" OR " if any_term else " AND ").join(terms)


def _filters(
    kind: str | None,
    project: str | None,
    machine: str | None,
    since: str | None,
    until: str | None,
    exclude: frozenset[str] | set[str],
) -> tuple[list[str], list[Any]]:
    clauses: list[str] = []
    args: list[Any] = []
    for column, value in (("kind", kind), ("project", project), ("machine", machine)):
        if value:
            clauses.append(f"{column} = ?")
            args.append(value)
    if since:
        clauses.append("updated_at >= ?")
        args.append(since)
    if until:
        clauses.append("updated_at < ?")
        args.append(until)
    for name in sorted(exclude):
        if name != kind:
            clauses.append("kind != ?")
            args.append(name)
    return clauses, args


def search(
    store: StoreBase,
    query: str,
    *,
    kind: str | None = None,
    project: str | None = None,
    machine: str | None = None,
    since: str | None = None,
    until: str | None = None,
    exclude: frozenset[str] | set[str] = frozenset(),
    limit: int = 10,
    snippet_tokens: int = 16,
) -> list[Hit]:
    """The live documents best matching ``query`` (BM25, a title match weighing four times a body
    match), best first, with a short snippet each (matches in ``[…]``). All words must match;
    when no document holds them all, documents holding any of them are returned.

    ``since``/``until`` bound ``updated_at`` (ISO 8601 UTC, ``until`` exclusive); ``exclude``
    leaves kinds out unless ``kind`` names one of them.

    Raises:
        InputError: The query holds no word, or ``limit`` is out of range.
    """
    if not 1 <= limit <= 500:
        raise InputError(f"limit {limit} out of range: use 1 to 500")
    clauses, args = _filters(kind, project, machine, since, until, exclude)
    where = "".join(f" AND {c}" for c in clauses)
    tokens = max(4, min(snippet_tokens, 64))
    sql = (
        "SELECT doc_id, kind, title, snippet(search, 3, '[', ']', '…', ?), project, machine, "
        "updated_at, bm25(search, 0, 0, 4.0, 1.0) AS score FROM search "
        f"WHERE search MATCH ?{where} ORDER BY score LIMIT ?"
    )
    with store.reading() as conn:
        for any_term in (False, True):
            expression = match_expression(query, any_term=any_term)
            rows = _run(conn, sql, (tokens, expression, *args, limit))
            if rows or " AND " not in expression:
                break
    return [Hit(r[0], r[1], r[2], r[3], r[4], r[5], r[6], round(-float(r[7]), 4)) for r in rows]


def _run(conn: sqlite3.Connection, sql: str, args: tuple[Any, ...]) -> list[Any]:
    try:
        return conn.execute(sql, args).fetchall()
    except sqlite3.OperationalError as exc:
        if "no such table: search" in str(exc):
            raise InputError(
                "this store has no search index yet: run `agents context reindex`"
            ) from exc
        raise


def timeline(
    store: StoreBase,
    anchor: str | None = None,
    *,
    at: str | None = None,
    before: int = 5,
    after: int = 5,
    kind: str | None = None,
    project: str | None = None,
    machine: str | None = None,
    exclude: frozenset[str] | set[str] = frozenset(),
) -> list[TimelineEntry]:
    """The indexed documents changed just before and just after ``anchor`` (a document id) or
    the time ``at`` (ISO 8601 UTC; default now), oldest first, the anchor included and marked.

    Raises:
        NotFoundError: ``anchor`` is not an indexed live document.
        InputError: ``before``/``after`` out of range.
    """
    if not (0 <= before <= 100 and 0 <= after <= 100):
        raise InputError("before and after: use 0 to 100")
    clauses, args = _filters(kind, project, machine, None, None, exclude)
    where = "".join(f" AND s.{c}" for c in clauses)
    cols = "d.rowid, d.id, d.kind, s.title, s.project, s.machine, d.updated_at"
    join = "FROM docs AS d JOIN search AS s ON s.rowid = d.rowid"
    with store.reading() as conn:
        rid = 0
        stamp = at or "9999"
        if anchor:
            row = _run(conn, f"SELECT d.updated_at, d.rowid {join} WHERE d.id = ?", (anchor,))
            if not row:
                raise NotFoundError(f"document {anchor!r} not found in the search index")
            stamp, rid = row[0]
        older = _run(
            conn,
            f"SELECT {cols} {join} WHERE (d.updated_at < ? OR (d.updated_at = ? AND d.rowid < ?))"
            f"{where} ORDER BY d.updated_at DESC, d.rowid DESC LIMIT ?",
            (stamp, stamp, rid, *args, before),
        )
        newer = _run(
            conn,
            f"SELECT {cols} {join} WHERE (d.updated_at > ? OR (d.updated_at = ? AND d.rowid > ?))"
            f"{where} ORDER BY d.updated_at, d.rowid LIMIT ?",
            (stamp, stamp, rid, *args, after),
        )
        middle = _run(conn, f"SELECT {cols} {join} WHERE d.rowid = ?", (rid,)) if anchor else []
    rows = [*reversed(older), *middle, *newer]
    return [
        TimelineEntry(r[1], r[2], r[3], r[4], r[5], r[6], bool(anchor) and r[0] == rid)
        for r in rows
    ]


def reindex(store: StoreBase) -> int:
    """Rebuild the index from the heads in one transaction; the number of documents indexed."""
    with store.transaction() as conn:
        conn.execute("DELETE FROM search")
        conn.execute(_INSERT + _ROW)
        return int(conn.execute("SELECT count(*) FROM search").fetchone()[0])
