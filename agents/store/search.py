"""Ranked recall over the store: an SQLite FTS5 index of every live document, BM25 ranking,
snippets, filters, and a timeline around a result.

The index (table ``search``, :mod:`agents.store.search_index`) is kept by triggers on
``docs``: every write that moves a head, whichever code path makes it (put, add, pull,
replication, compaction), updates the index in the same transaction. The context agent's own
recorded calls are left out: they are reads of the store, and indexing a search would make it
find itself. ``reindex`` rebuilds the index from the heads (``agents context reindex``).

The pattern that keeps a client's context small: :func:`search` returns ids, titles and short
snippets; :func:`timeline` shows what happened around one of them; the client then reads the
one document it needs in full.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from agents.core.errors import InputError, NotFoundError
from agents.store import search_index
from agents.store.search_index import MACHINE, PROJECT

if TYPE_CHECKING:
    from agents.store.base import StoreBase

__all__ = [
    "Hit",
    "TimelineEntry",
    "match_expression",
    "reindex",
    "search",
    "timeline",
]


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


# the filters' columns, as search (the index joined to docs and, for project and machine, the
# head revision) and timeline (the view of indexed heads) reach them
_SEARCHED = {"kind": "d.kind", "project": PROJECT, "machine": MACHINE, "updated_at": "d.updated_at"}
_LISTED = {name: f"s.{name}" for name in _SEARCHED}


def _filters(
    columns: dict[str, str],
    kind: str | None,
    project: str | None,
    machine: str | None,
    since: str | None,
    until: str | None,
    exclude: frozenset[str] | set[str],
) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    args: list[Any] = []
    for column, value in (("kind", kind), ("project", project), ("machine", machine)):
        if value:
            clauses.append(f"{columns[column]} = ?")
            args.append(value)
    if since:
        clauses.append(f"{columns['updated_at']} >= ?")
        args.append(since)
    if until:
        clauses.append(f"{columns['updated_at']} < ?")
        args.append(until)
    for name in sorted(exclude):
        if name != kind:
            clauses.append(f"{columns['kind']} != ?")
            args.append(name)
    return "".join(f" AND {c}" for c in clauses), args


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
    where, args = _filters(_SEARCHED, kind, project, machine, since, until, exclude)
    tokens = max(4, min(snippet_tokens, 64))
    # the index's columns (read from the view) are computed for the best rows only; the
    # filters read docs, and the head revision only when project or machine is asked for
    head = " JOIN revisions AS r ON r.hash = d.head" if project or machine else ""
    sql = (
        "SELECT d.id, d.kind, search.title, snippet(search, 3, '[', ']', '…', ?), "
        "search.project, search.machine, d.updated_at, bm25(search, 0, 0, 4.0, 1.0) AS score "
        f"FROM search JOIN docs AS d ON d.rowid = search.rowid{head} "
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
    where, args = _filters(_LISTED, kind, project, machine, None, None, exclude)
    cols = "s.doc_rowid, s.doc_id, s.kind, s.title, s.project, s.machine, s.updated_at"
    # the indexed heads, walked in docs_by_time's order from the anchor (row values: the
    # index serves the order, so only the rows returned are read)
    join = "FROM search_rows AS s"
    at_ = _LISTED["updated_at"]
    with store.reading() as conn:
        rid = 0
        stamp = at or "9999"
        if anchor:
            row = _run(conn, f"SELECT {at_}, s.doc_rowid {join} WHERE s.doc_id = ?", (anchor,))
            if not row:
                raise NotFoundError(f"document {anchor!r} not found in the search index")
            stamp, rid = row[0]
        older = _run(
            conn,
            f"SELECT {cols} {join} WHERE ({at_}, s.doc_rowid) < (?, ?)"
            f"{where} ORDER BY {at_} DESC, s.doc_rowid DESC LIMIT ?",
            (stamp, rid, *args, before),
        )
        newer = _run(
            conn,
            f"SELECT {cols} {join} WHERE ({at_}, s.doc_rowid) > (?, ?)"
            f"{where} ORDER BY {at_}, s.doc_rowid LIMIT ?",
            (stamp, rid, *args, after),
        )
        middle = _run(conn, f"SELECT {cols} {join} WHERE s.doc_rowid = ?", (rid,)) if anchor else []
    rows = [*reversed(older), *middle, *newer]
    return [
        TimelineEntry(r[1], r[2], r[3], r[4], r[5], r[6], bool(anchor) and r[0] == rid)
        for r in rows
    ]


def reindex(store: StoreBase) -> int:
    """Rebuild the index from the heads in one transaction; the number of documents indexed."""
    with store.transaction() as conn:
        return search_index.reindex(conn)
