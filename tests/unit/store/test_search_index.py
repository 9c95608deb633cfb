"""The search index holds exactly what a rebuild from the heads would, whatever wrote them: the
triggers' FTS5 'delete's leave no stale token, a bulk insert indexes as the trigger does, the
text the index is read back from is the text it was built from, and a format 3 store (its own
copy of every text) migrates on open and searches the same."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agents.store import search, search_index
from agents.store.canonical import canonical_text
from agents.store.db import FORMAT_VERSION
from agents.store.maintenance import compact
from agents.store.replication import point_head
from agents.store.store import ContextStore
from agents.sync.pull import ADOPT_SQL  # what a pull runs for documents new here
from tests.unit.store import format3


def session(title: str, summary: str = "", project: str | None = None) -> dict[str, object]:
    body: dict[str, object] = {"title": title, "status": "active", "summary": summary}
    if project:
        body["project"] = {"id": project}
    return body


def index_state(conn: sqlite3.Connection) -> tuple[list[Any], list[Any], list[int]]:
    """What the index holds, by document id: every token instance (term, column, offset), each
    document's column sizes, and FTS5's totals (row count and tokens per column)."""
    conn.execute(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_terms USING fts5vocab(main, search, "
        "'instance')"
    )
    terms = conn.execute(
        "SELECT v.term, d.id, v.col, v.offset FROM temp.search_terms AS v "
        "LEFT JOIN docs AS d ON d.rowid = v.doc ORDER BY 1, 2, 3, 4"
    ).fetchall()
    sizes = conn.execute(
        "SELECT d.id, s.sz FROM search_docsize AS s LEFT JOIN docs AS d ON d.rowid = s.id "
        "ORDER BY 1"
    ).fetchall()
    (block,) = conn.execute("SELECT block FROM search_data WHERE id = 1").fetchone()
    totals = _varints(bytes(block))
    return terms, sizes, totals if any(totals) else []


def _varints(data: bytes) -> list[int]:
    """SQLite's varints one after another (FTS5's totals: rows, then tokens per column; an
    emptied index keeps zeros where a new one has none)."""
    out: list[int] = []
    value = 0
    for byte in data:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            out.append(value)
            value = 0
    return out


def rebuilt_state(store: ContextStore) -> tuple[list[Any], list[Any], list[int]]:
    """:func:`index_state` after ``reindex`` (which starts from an empty index)."""
    search.reindex(store)
    with store.reading() as conn:
        return index_state(conn)


def _settings(conn: sqlite3.Connection) -> dict[str, object]:
    """The index's merge settings in effect (FTS5's defaults unless set)."""
    rows = conn.execute("SELECT k, v FROM search_config WHERE k != 'version'")
    return {"automerge": 4, "crisismerge": 16, **dict(rows)}


def test_a_bulk_insert_is_indexed_as_the_trigger_indexes_it(store: ContextStore) -> None:
    """Documents adopted in bulk are in the index at commit, exactly as the per-row trigger
    would have put them; the trigger and the index's merge settings are back afterwards."""
    for n in range(30):
        store.put(f"session:{n:02d}", "session", session(f"Migration {n}", "pgbouncer", "api"))
    store.put("preference:k", "preference", {"key": "k8s", "value": "kubernetes 1.31"})
    with store.transaction() as conn:
        conn.execute("INSERT INTO search(search, rank) VALUES ('automerge', 8)")
        by_trigger = index_state(conn)
        heads = conn.execute("SELECT id, head FROM docs").fetchall()
        settings_before = _settings(conn)
        conn.execute("DELETE FROM docs")
        assert index_state(conn)[:2] == ([], [])
    with store.transaction() as conn, search_index.bulk_indexed(conn, [d for d, _ in heads]):
        conn.executemany(ADOPT_SQL, [("2026-01-01T00:00:00.000Z", h) for _, h in heads])
    with store.reading() as conn:
        assert index_state(conn) == by_trigger
        assert _settings(conn) == settings_before
        triggers = conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        assert "docs_search_insert" in {r[0] for r in triggers}
    store.put("session:new", "session", session("Pgbouncer tuning"))
    assert "session:new" in [h.id for h in search.search(store, "pgbouncer", limit=50)]


def test_a_failed_bulk_insert_leaves_the_trigger_and_the_index_as_they_were(
    store: ContextStore,
) -> None:
    """A bulk insert rolled back leaves the per-row trigger in place and indexes nothing."""
    store.put("session:a", "session", session("Kubernetes upgrade"))
    with pytest.raises(RuntimeError), store.transaction() as conn:
        with search_index.bulk_indexed(conn, ["session:b"]):
            store.commit(conn, "session:b", "session", session("Kubernetes canary"))
            raise RuntimeError("abort")
    assert [h.id for h in search.search(store, "kubernetes")] == ["session:a"]
    store.put("session:c", "session", session("Kubernetes rollout"))
    assert {h.id for h in search.search(store, "kubernetes")} == {"session:a", "session:c"}


def _segments(conn: sqlite3.Connection) -> int:
    """How many segments the index holds (FTS5 numbers its data rows ``segment << 37 | page``;
    rows below ``1 << 37`` are its totals and structure records)."""
    return int(
        conn.execute(
            "SELECT count(DISTINCT id >> 37) FROM search_data WHERE id >= 1 << 37"
        ).fetchone()[0]
    )


def test_documents_added_together_are_indexed_as_one_segment(store: ContextStore) -> None:
    """A group commit of eight new documents adds one FTS5 segment to the index, not one per
    document (FTS5 writes a segment whenever a statement's savepoint is released), and every
    one of them is found."""
    with store.transaction() as conn:
        for key, value in (("automerge", 0), ("crisismerge", 64)):  # keep segments apart
            conn.execute("INSERT INTO search(search, rank) VALUES (?, ?)", (key, value))
    store.put("session:a", "session", session("Kubernetes upgrade"))
    with store.reading() as conn:
        before = _segments(conn)
    ids = [f"session:k{n}" for n in range(8)]
    store.add_many([(i, "session", session(f"Kubernetes canary {i}")) for i in ids])
    with store.reading() as conn:
        assert _segments(conn) == before + 1
    assert {h.id for h in search.search(store, "kubernetes", limit=20)} == {"session:a", *ids}


def test_the_index_stores_no_copy_of_the_text(store: ContextStore) -> None:
    """The text lives once, in the revisions; the index reads it back through its view."""
    store.put("session:a", "session", session("Terraform state", "remote backend in eu-west"))
    with store.reading() as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        assert "search_content" not in tables
        blocks = conn.execute("SELECT block FROM search_data").fetchall()
        assert blocks and not any(b"backend in" in bytes(b[0]) for b in blocks)
    (hit,) = search.search(store, "backend")
    assert (hit.title, hit.snippet) == (
        "Terraform state",
        "active remote [backend] in eu-west Terraform state",
    )


def test_a_format_3_store_migrates_on_open_and_searches_the_same(tmp_path: Path) -> None:
    """The old index, with its copy of every text, is replaced in the opening transaction; the
    same queries give the same hits, titles, snippets, filters' columns and BM25 scores."""
    with ContextStore(tmp_path / "c", machine_id="m") as store:
        store.put("session:a", "session", session("Terraform state", "remote backend", "infra"))
        store.put("session:b", "session", session("Backend pooling", "pgbouncer and terraform"))
        store.put("session:b", "session", session("Backend pooling", "pgbouncer, no terraform"))
        store.put("preference:k", "preference", {"key": "tf", "value": "terraform 1.9 backend"})
        store.put("session:gone", "session", session("Terraform canary"))
        store.delete("session:gone")
        base = {"status": "ok", "outcome": "ok", "started_at": "2026-01-01T00:00:00.000Z",
                "duration_ms": 1.0}  # fmt: skip
        store.add("agent_output:1", "agent_output",
                  {**base, "agent": "notion", "handler": "get_page", "input": {"q": "terraform"}})  # fmt: skip  # noqa: E501
        store.add("agent_output:2", "agent_output",
                  {**base, "agent": "context", "handler": "search", "input": {"q": "terraform"}})  # fmt: skip  # noqa: E501
    db = sqlite3.connect(tmp_path / "c" / "store.sqlite", isolation_level=None)
    format3.downgrade(db)
    queries = ['"terraform"', '"backend"', '"pgbouncer" AND "terraform"', '("backe" OR "backe"*)']
    old = {q: db.execute(format3.QUERY, (8, q, 10)).fetchall() for q in queries}
    db.close()
    assert all(old.values()) and len(old['"terraform"']) == 4
    with ContextStore(tmp_path / "c", machine_id="m") as store:
        with store.reading() as conn:
            assert conn.execute("PRAGMA user_version").fetchone()[0] == FORMAT_VERSION
            assert not conn.execute(
                "SELECT 1 FROM sqlite_master WHERE name = 'search_content'"
            ).fetchone()
            migrated = index_state(conn)
        for q, rows in old.items():
            hits = search.search(store, q.replace('"', "").replace("*", ""), snippet_tokens=8)
            if "OR" not in q and "AND" not in q:
                assert [(h.id, h.kind, h.title, h.snippet, h.project, h.machine, h.updated_at)
                        for h in hits] == [r[:7] for r in rows]  # fmt: skip
                assert [h.score for h in hits] == [round(-r[7], 4) for r in rows]
        assert migrated == rebuilt_state(store)
        store.put("session:c", "session", session("Terraform modules"))
        assert len(search.search(store, "terraform")) == 5


FIXTURE = HealthCheck.function_scoped_fixture  # each example empties or opens its own store

# the operations a store goes through, on a few documents so that they collide
_IDS = st.sampled_from(["session:a", "session:b", "session:c"])
_WORDS = st.lists(
    st.sampled_from(["deploy", "pgbouncer", "kubernetes", "Terraform", "état", "ünïcode", "x"])
    | st.text(max_size=12),
    max_size=6,
).map(" ".join)
_OPS = st.lists(
    st.one_of(
        st.tuples(st.just("put"), _IDS, _WORDS, _WORDS),
        st.tuples(st.just("delete"), _IDS),
        st.tuples(st.just("record"), st.sampled_from(["notion", "context"]), _WORDS),
        st.tuples(
            st.just("records"),
            st.lists(st.sampled_from(["notion", "context"]), min_size=2, max_size=4),
            _WORDS,
        ),
        st.tuples(st.just("compact")),
        st.tuples(st.just("revert"), _IDS, st.integers(0, 5)),
        st.tuples(st.just("readopt"), _IDS),
        st.tuples(st.just("rollback"), _IDS, _WORDS),
    ),
    max_size=25,
)


def _recorded(agent: str, words: str) -> dict[str, Any]:
    """An ``agent_output`` body of ``agent`` whose input holds ``words``."""
    return {"agent": agent, "handler": "get_page", "status": "ok", "outcome": "ok",
            "started_at": "2026-01-01T00:00:00.000Z", "duration_ms": 1.0,
            "input": {"query": words}}  # fmt: skip


def _apply(store: ContextStore, op: tuple[Any, ...], n: int) -> None:
    name = op[0]
    if name == "put":
        store.put(op[1], "session", session(op[2] or "untitled", op[3]))
    elif name == "delete" and (info := store.head_info(op[1])) and not info.deleted:
        store.delete(op[1])
    elif name == "record":
        body = {**_recorded(op[1], op[2]), "output": [op[2], {"n": n}]}
        store.add(f"agent_output:{n:04d}", "agent_output", body)
    elif name == "records":  # a group commit: several new documents in one statement
        store.add_many(
            [
                (
                    f"agent_output:{n:04d}-{k}",
                    "agent_output",
                    {**_recorded(agent, op[2]), "meta": {"k": k}},
                )
                for k, agent in enumerate(op[1])
            ]
        )
    elif name == "compact":
        compact(store, 0)
    elif name == "revert" and (info := store.head_info(op[1])):
        # a pull's fast-forward or a rollback: the head moves to any stored revision of it
        older = [r.hash for r in store.history(op[1])]
        with store.transaction() as conn:
            point_head(store, conn, older[op[2] % len(older)], expect=info.head)
    elif name == "readopt" and (info := store.head_info(op[1])):
        with store.transaction() as conn:
            conn.execute("DELETE FROM docs WHERE id = ?", (op[1],))
            with search_index.bulk_indexed(conn, [op[1]]):
                conn.execute(ADOPT_SQL, ("2026-01-01T00:00:00.000Z", info.head))
    elif name == "rollback":
        with pytest.raises(RuntimeError), store.transaction() as conn:
            store.commit(conn, op[1], "session", session(op[2] or "untitled"))
            raise RuntimeError("abort")


@settings(max_examples=60, deadline=None, suppress_health_check=[FIXTURE])
@given(ops=_OPS)
def test_after_any_writes_the_index_equals_a_fresh_rebuild(
    tmp_path_factory: pytest.TempPathFactory, ops: list[tuple[Any, ...]]
) -> None:
    """Puts, updates, deletes, recorded calls alone or several in one transaction (the context
    agent's left out), compaction, a head moved back or forward, a bulk re-adoption and a
    rolled-back write, in any order: the index holds exactly what reindexing from the heads
    gives, token for token."""
    with ContextStore(tmp_path_factory.mktemp("p") / "ctx", machine_id="m") as store:
        for n, op in enumerate(ops):
            _apply(store, op, n)
        with store.reading() as conn:
            kept = index_state(conn)
            conn.execute("INSERT INTO search(search) VALUES ('integrity-check')")
        assert kept == rebuilt_state(store)


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(["title", "name", "key", "path", "agent", "handler", "z"])
            | st.text(max_size=5),
            inner,
            max_size=5,
        )
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[FIXTURE])
@given(body=_JSON)
def test_the_text_read_back_is_the_text_indexed(store: ContextStore, body: Any) -> None:
    """For any body (any JSON, also what no schema allows): the title and text FTS5 reads
    through the view, for snippets, are the ones the triggers indexed."""
    envelope = canonical_text({"body": body, "origin_machine": "m", "scope": {}})
    with store.transaction() as conn:
        conn.execute("DELETE FROM docs")
        conn.execute("DELETE FROM revisions")
        conn.execute(
            "INSERT INTO revisions VALUES ('h', 'session:x', 'session', 'c', ?, 'now')", (envelope,)
        )
        conn.execute(
            "INSERT INTO docs VALUES ('session:x', 'session', 'h', 'c', '{}', '0', 0, 'now')"
        )
        indexed = conn.execute(search_index.ROW).fetchall()
        read_back = conn.execute("SELECT doc_rowid, title, body FROM search_rows").fetchall()
        assert indexed == read_back
        conn.execute("INSERT INTO search(search) VALUES ('integrity-check')")
