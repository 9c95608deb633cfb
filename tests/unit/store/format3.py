"""The search index as store format 3 wrote it (frozen): an FTS5 table holding its own copy of
every document's text, filled by triggers on ``docs``. Tests build an old store with it."""

from __future__ import annotations

import sqlite3

_ROW = (
    "SELECT d.rowid, d.id, d.kind, coalesce(json_extract(r.envelope, '$.body.title'), "
    "json_extract(r.envelope, '$.body.name'), json_extract(r.envelope, '$.body.key'), "
    "json_extract(r.envelope, '$.body.path'), json_extract(r.envelope, '$.body.agent') || '.' "
    "|| json_extract(r.envelope, '$.body.handler'), d.id), coalesce((SELECT group_concat("
    "t.value, ' ') FROM json_tree(r.envelope, '$.body') AS t WHERE t.type = 'text'), ''), "
    "coalesce(json_extract(r.envelope, '$.scope.project_id'), json_extract(r.envelope, "
    "'$.body.project.id'), json_extract(r.envelope, '$.body.project.name'), CASE WHEN d.kind "
    "= 'project' THEN d.id END, ''), coalesce(json_extract(r.envelope, '$.body.machine_id'), "
    "json_extract(r.envelope, '$.origin_machine'), ''), d.updated_at FROM docs AS d JOIN "
    "revisions AS r ON r.hash = d.head WHERE d.deleted = 0 AND NOT (d.kind = 'agent_output' "
    "AND json_extract(r.envelope, '$.body.agent') = 'context')"
)
_INSERT = "INSERT INTO search(rowid, doc_id, kind, title, body, project, machine, updated_at) "
_ROW_OF_NEW = _ROW.replace(
    "FROM docs AS d",
    "FROM (SELECT new.rowid AS rowid, new.id AS id, new.kind AS kind, new.head AS head, "
    "new.deleted AS deleted, new.updated_at AS updated_at) AS d",
)
SCHEMA = (
    "CREATE VIRTUAL TABLE search USING fts5(doc_id UNINDEXED, kind UNINDEXED, title, body, "
    "project UNINDEXED, machine UNINDEXED, updated_at UNINDEXED, "
    "tokenize = 'porter unicode61 remove_diacritics 2')",
    "CREATE INDEX IF NOT EXISTS docs_by_time ON docs(updated_at)",
    f"CREATE TRIGGER docs_search_insert AFTER INSERT ON docs BEGIN {_INSERT}{_ROW_OF_NEW}; END",
    "CREATE TRIGGER docs_search_update AFTER UPDATE ON docs BEGIN DELETE FROM search WHERE "
    f"rowid = old.rowid; {_INSERT}{_ROW_OF_NEW}; END",
    "CREATE TRIGGER docs_search_delete AFTER DELETE ON docs BEGIN DELETE FROM search WHERE "
    "rowid = old.rowid; END",
)
# what format 3's search() ran: (snippet tokens, match expression, limit)
QUERY = (
    "SELECT doc_id, kind, title, snippet(search, 3, '[', ']', '…', ?), project, machine, "
    "updated_at, bm25(search, 0, 0, 4.0, 1.0) AS score FROM search WHERE search MATCH ? "
    "ORDER BY score LIMIT ?"
)


def downgrade(db: sqlite3.Connection) -> None:
    """Turn a store of the current format into format 3, its index filled as format 3 did."""
    for name in ("docs_search_insert", "docs_search_update", "docs_search_delete"):
        db.execute(f"DROP TRIGGER {name}")
    db.execute("DROP TABLE search")
    db.execute("DROP VIEW search_rows")
    for statement in SCHEMA:
        db.execute(statement)
    db.execute(_INSERT + _ROW)
    db.execute("PRAGMA user_version=3")
