"""The ranked-search index: what it holds, how every write keeps it, and how it is rebuilt.

``search`` is an SQLite FTS5 table with *external content*: it holds the tokens of each live
document's title and text (and their sizes, for BM25), not a copy of the text. The text is read
back, for snippets and the hits' columns, from the view ``search_rows`` over ``docs`` and the
head revisions. Triggers on ``docs`` keep the index in the transaction that moves a head,
whichever code path moves it (put, add, pull, replication, compaction): an insert adds the new
head's tokens, an update or delete first removes the old head's, computed from that revision
(revisions never change, and a head's revision cannot be deleted while it is the head). The
context agent's own recorded calls are left out: they are reads of the store, and indexing a
search would make it find itself.

What is indexed is defined once, in SQL (:data:`ROW`): the triggers, a bulk insert and
:func:`reindex` all run it. FTS5 reads its content through statements that may not use
``json_tree``, so the view computes the same text with :func:`text_of`, a function registered
on every connection the store opens (:func:`register_functions`); a property test holds the
two equal.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterator, Sequence
from typing import Any

__all__ = [
    "INDEX_SCHEMA",
    "ROW",
    "bulk_indexed",
    "create_index",
    "register_functions",
    "reindex",
    "text_of",
]

# the title: the first of the body's title, name, key, path, or agent.handler, else the id
_TITLE = (
    "coalesce(json_extract(r.envelope, '$.body.title'), json_extract(r.envelope, '$.body.name'), "
    "json_extract(r.envelope, '$.body.key'), json_extract(r.envelope, '$.body.path'), "
    "json_extract(r.envelope, '$.body.agent') || '.' || json_extract(r.envelope, '$.body.handler'),"
    " d.id)"
)
# every string in the body, keys left out; a Claude file's text is its ``text`` field
_TEXT = (
    "coalesce((SELECT group_concat(t.value, ' ') FROM json_tree(r.envelope, '$.body') AS t "
    "WHERE t.type = 'text'), '')"
)
PROJECT = (
    "coalesce(json_extract(r.envelope, '$.scope.project_id'), "
    "json_extract(r.envelope, '$.body.project.id'), "
    "json_extract(r.envelope, '$.body.project.name'), "
    "CASE WHEN d.kind = 'project' THEN d.id END, '')"
)
MACHINE = (
    "coalesce(json_extract(r.envelope, '$.body.machine_id'), "
    "json_extract(r.envelope, '$.origin_machine'), '')"
)
# which heads are indexed: live, and not the context agent's own calls
_INDEXED = (
    "d.deleted = 0 AND NOT (d.kind = 'agent_output' "
    "AND json_extract(r.envelope, '$.body.agent') = 'context')"
)
_FROM = "FROM docs AS d JOIN revisions AS r ON r.hash = d.head"

# the index row of every indexed head: (rowid, title, body)
ROW = f"SELECT d.rowid, {_TITLE}, {_TEXT} {_FROM} WHERE {_INDEXED}"
_ADD = "INSERT INTO search(rowid, title, body) "
_REMOVE = "INSERT INTO search(search, rowid, title, body) "


def _row_of(which: str) -> str:
    """:data:`ROW` for the trigger's ``new`` or ``old`` row instead of the table."""
    source = (
        f"FROM (SELECT {which}.rowid AS rowid, {which}.id AS id, {which}.kind AS kind, "
        f"{which}.head AS head, {which}.deleted AS deleted) AS d "
        "JOIN revisions AS r ON r.hash = d.head"
    )
    return ROW.replace(_FROM, source)


# an FTS5 'delete' must be given exactly the values indexed, or stale tokens stay behind
_REMOVE_OLD = _REMOVE + _row_of("old").replace("SELECT d.rowid", "SELECT 'delete', d.rowid", 1)

# the trigger that indexes each new document (set aside by :func:`bulk_indexed`)
_INSERT_TRIGGER = (
    "CREATE TRIGGER IF NOT EXISTS docs_search_insert AFTER INSERT ON docs "
    f"WHEN new.deleted = 0 BEGIN {_ADD}{_row_of('new')}; END"
)
_TRIGGERS = ("docs_search_insert", "docs_search_update", "docs_search_delete")

# statements, not a script: triggers hold semicolons, and the store runs them in its own
# migration transaction
INDEX_SCHEMA = (
    "CREATE VIEW IF NOT EXISTS search_rows AS SELECT d.rowid AS doc_rowid, d.id AS doc_id, "
    f"d.kind AS kind, {_TITLE} AS title, search_text(r.envelope) AS body, "
    f"{PROJECT} AS project, {MACHINE} AS machine, d.updated_at AS updated_at "
    f"{_FROM} WHERE {_INDEXED}",
    "CREATE VIRTUAL TABLE IF NOT EXISTS search USING fts5(doc_id UNINDEXED, kind UNINDEXED, "
    "title, body, project UNINDEXED, machine UNINDEXED, updated_at UNINDEXED, "
    "content = 'search_rows', content_rowid = 'doc_rowid', "
    "tokenize = 'porter unicode61 remove_diacritics 2')",
    "CREATE INDEX IF NOT EXISTS docs_by_time ON docs(updated_at)",
    _INSERT_TRIGGER,
    "CREATE TRIGGER IF NOT EXISTS docs_search_update AFTER UPDATE ON docs BEGIN "
    f"{_REMOVE_OLD}; {_ADD}{_row_of('new')}; END",
    "CREATE TRIGGER IF NOT EXISTS docs_search_delete AFTER DELETE ON docs BEGIN "
    f"{_REMOVE_OLD}; END",
)


def _strings(value: Any, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(value.partition("\x00")[0])  # json_tree's value ends at a NUL
    elif isinstance(value, dict):
        for item in value.values():
            _strings(item, out)
    elif isinstance(value, list):
        for item in value:
            _strings(item, out)


def text_of(envelope: str) -> str:
    """Every string in an envelope's body, in document order, joined by spaces (the body
    column of :data:`ROW`, which ``json_tree`` computes in SQL)."""
    out: list[str] = []
    _strings(json.loads(envelope).get("body"), out)
    return " ".join(out)


def register_functions(conn: sqlite3.Connection) -> None:
    """Give ``conn`` the SQL function the view ``search_rows`` calls (every connection that
    reads the index's columns or snippets needs it; writes do not)."""
    conn.create_function("search_text", 1, text_of, deterministic=True)


def create_index(conn: sqlite3.Connection) -> None:
    """Inside a write transaction: create the index, its view and triggers if missing, and fill
    the index from the heads when it is new (a store from an older format). An index from
    format 3, which held a copy of every text, is dropped and rebuilt."""
    sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'search'").fetchone()
    if sql and "search_rows" not in sql[0]:
        for name in _TRIGGERS:
            conn.execute(f"DROP TRIGGER IF EXISTS {name}")
        conn.execute("DROP TABLE search")
        sql = None
    for statement in INDEX_SCHEMA:
        conn.execute(statement)
    if sql is None:
        conn.execute(_ADD + ROW)


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
            _ADD + ROW + " AND d.id IN (SELECT value FROM json_each(?))", (json.dumps(ids),)
        )
    finally:
        with contextlib.suppress(sqlite3.Error):  # a failed transaction rolls all this back
            for key, value in saved.items():
                conn.execute("INSERT INTO search(search, rank) VALUES (?, ?)", (key, value))
            conn.execute(_INSERT_TRIGGER)


def reindex(conn: sqlite3.Connection) -> int:
    """Inside a write transaction: empty the index and index every head again; the number of
    documents indexed."""
    conn.execute("INSERT INTO search(search) VALUES ('delete-all')")
    conn.execute(_ADD + ROW)
    return int(conn.execute("SELECT count(*) FROM search_docsize").fetchone()[0])
