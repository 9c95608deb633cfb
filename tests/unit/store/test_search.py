"""Ranked recall: the FTS5 index follows every write, ranks by BM25, filters, never chokes on
what a person types, and comes to stores written before it existed."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agents.core.errors import InputError, NotFoundError
from agents.store import search
from agents.store.db import FORMAT_VERSION
from agents.store.store import ContextStore


def session(title: str, summary: str = "", project: str | None = None) -> dict[str, object]:
    body: dict[str, object] = {"title": title, "status": "active", "summary": summary}
    if project:
        body["project"] = {"id": project}
    return body


def ids(hits: list[search.Hit]) -> list[str]:
    return [h.id for h in hits]


def next_millisecond() -> None:
    """Wait until the wall clock's millisecond moves: ``updated_at`` has millisecond
    resolution, and two writes within one would share it."""
    start = time.time_ns() // 1_000_000
    while time.time_ns() // 1_000_000 == start:
        time.sleep(0.0002)


def test_a_title_match_ranks_above_a_body_match(store: ContextStore) -> None:
    """BM25 with the title weighted: the document named for the words comes first."""
    store.put("session:body", "session", session("Billing", "we moved the queue to postgres"))
    store.put("session:title", "session", session("Postgres upgrade", "plan the cut-over"))
    for n in range(8):  # BM25 weighs a word by its rarity: a corpus where it is rare
        store.put(f"session:other{n}", "session", session(f"Login page {n}", "CSS on Safari"))
    hits = search.search(store, "postgres")
    assert ids(hits) == ["session:title", "session:body"]
    assert hits[0].score > hits[1].score
    assert "[postgres]" in hits[1].snippet.lower()


def test_every_word_must_match_unless_no_document_holds_them_all(store: ContextStore) -> None:
    """AND first; with no document holding every word, any word will do."""
    store.put("session:a", "session", session("Postgres pooling", "pgbouncer"))
    store.put("session:b", "session", session("Postgres backups", "barman"))
    assert ids(search.search(store, "postgres pgbouncer")) == ["session:a"]
    assert set(ids(search.search(store, "pgbouncer barman"))) == {"session:a", "session:b"}


def test_the_index_follows_updates_and_deletes_in_the_writing_transaction(
    store: ContextStore,
) -> None:
    """A new revision replaces the old text; a tombstone leaves the index; a rolled-back
    write leaves no trace in it."""
    store.put("session:x", "session", session("Login page"))
    store.put("session:x", "session", session("Signup page"))
    assert search.search(store, "login") == []
    assert ids(search.search(store, "signup")) == ["session:x"]
    store.delete("session:x")
    assert search.search(store, "signup") == []
    with pytest.raises(RuntimeError), store.transaction() as conn:
        store.commit(conn, "session:y", "session", session("Rollback canary"))
        raise RuntimeError("abort")
    assert search.search(store, "canary") == []


def test_filters_narrow_by_kind_project_machine_and_time(tmp_path: Path) -> None:
    """kind, project, machine and a time window each leave out what does not fit."""
    with ContextStore(tmp_path / "a", machine_id="laptop") as store:
        store.put("session:p1", "session", session("Deploy notes", project="proj-1"))
        next_millisecond()
        store.put("preference:deploy", "preference", {"key": "deploy", "value": "blue-green"})
        cut = search.search(store, "deploy", kind="preference")[0].updated_at
        next_millisecond()
        store.put("session:p2", "session", session("Deploy notes", project="proj-2"))
        assert ids(search.search(store, "deploy", kind="preference")) == ["preference:deploy"]
        assert ids(search.search(store, "deploy", project="proj-2")) == ["session:p2"]
        assert search.search(store, "deploy", machine="desktop") == []
        assert len(search.search(store, "deploy", machine="laptop")) == 3
        assert "session:p1" not in ids(search.search(store, "deploy", since=cut))
        assert ids(search.search(store, "deploy", until=cut)) == ["session:p1"]


def test_the_context_agents_own_calls_are_not_indexed(store: ContextStore) -> None:
    """Searching would otherwise find its own recorded query."""
    base = {"status": "ok", "outcome": "ok", "env": "test", "duration_ms": 1.0,
            "started_at": "2026-01-01T00:00:00.000Z"}  # fmt: skip
    store.put("agent_output:1", "agent_output",
              {**base, "agent": "context", "handler": "search_documents", "input": {"query": "zebra"}})  # fmt: skip  # noqa: E501
    store.put("agent_output:2", "agent_output",
              {**base, "agent": "notion", "handler": "get_page", "input": {"page_id": "zebra"}})  # fmt: skip  # noqa: E501
    assert ids(search.search(store, "zebra")) == ["agent_output:2"]


def test_a_timeline_shows_neighbours_in_time_with_the_anchor_marked(store: ContextStore) -> None:
    """Oldest first, ``before`` older and ``after`` newer documents around the anchor."""
    for n in range(6):
        store.put(f"session:{n}", "session", session(f"Step {n}"))
    entries = search.timeline(store, "session:3", before=2, after=1)
    assert [e.id for e in entries] == ["session:1", "session:2", "session:3", "session:4"]
    assert [e.anchor for e in entries] == [False, False, True, False]
    assert [e.id for e in search.timeline(store, before=2, after=0)] == ["session:4", "session:5"]
    with pytest.raises(NotFoundError):
        search.timeline(store, "session:nope")


def test_reindex_rebuilds_what_the_triggers_maintain(store: ContextStore) -> None:
    """Dropping the rows and reindexing gives back the same results."""
    store.put("session:a", "session", session("Kubernetes upgrade"))
    store.put("preference:k", "preference", {"key": "k8s", "value": "kubernetes 1.31"})
    before = search.search(store, "kubernetes")
    with store.transaction() as conn:
        conn.execute("DELETE FROM search")
    assert search.search(store, "kubernetes") == []
    assert search.reindex(store) == 2
    assert search.search(store, "kubernetes") == before


def test_a_store_from_before_the_index_gets_it_filled_when_opened(tmp_path: Path) -> None:
    """Format 2 to 3: the index, its triggers and its rows appear on first open."""
    with ContextStore(tmp_path / "c", machine_id="m") as store:
        store.put("session:old", "session", session("Terraform state", "remote backend"))
    db = sqlite3.connect(tmp_path / "c" / "store.sqlite")
    for name in ("docs_search_insert", "docs_search_update", "docs_search_delete"):
        db.execute(f"DROP TRIGGER {name}")
    db.execute("DROP TABLE search")
    db.execute("PRAGMA user_version=2")
    db.commit()
    db.close()
    with ContextStore(tmp_path / "c", machine_id="m") as store:
        assert ids(search.search(store, "terraform")) == ["session:old"]
        with store.reading() as conn:
            assert conn.execute("PRAGMA user_version").fetchone()[0] == FORMAT_VERSION
        store.put("session:new", "session", session("Terraform modules"))
        assert len(search.search(store, "terraform")) == 2


def test_a_query_without_words_is_refused_with_a_clear_error(store: ContextStore) -> None:
    """Only punctuation: nothing to search for, said so."""
    with pytest.raises(InputError, match="no word"):
        search.search(store, '"" ** ( -- !!')


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=200))
def test_any_text_is_a_valid_query(text: str) -> None:
    """Whatever a person (or a hostile page) types, FTS5 never sees syntax: the query either
    runs or is refused as holding no word."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE t USING fts5(title, body)")
    db.execute("INSERT INTO t VALUES ('AND OR NOT NEAR', 'x \"y\" * ^ : col')")
    for any_term in (False, True):
        try:
            expression = search.match_expression(text, any_term=any_term)
        except InputError:
            continue
        db.execute("SELECT rowid FROM t WHERE t MATCH ?", (expression,)).fetchall()


def test_a_timeline_orders_documents_of_the_same_moment_by_when_they_were_first_written(
    store: ContextStore,
) -> None:
    """Documents sharing one ``updated_at`` (millisecond resolution) keep a stable order, and
    the ones on either side of the anchor are neither lost nor repeated."""
    for n in range(5):
        store.put(f"session:{n}", "session", session(f"Step {n}"))
    with store.transaction() as conn:
        conn.execute("UPDATE docs SET updated_at = '2026-01-01T00:00:00.000Z'")
    entries = search.timeline(store, "session:2", before=5, after=5)
    assert [e.id for e in entries] == [f"session:{n}" for n in range(5)]
    assert [e.id for e in search.timeline(store, "session:2", before=1, after=1)] == [
        "session:1", "session:2", "session:3"
    ]  # fmt: skip
    at = search.timeline(store, at="2026-01-01T00:00:00.000Z", before=1, after=2)
    assert [e.id for e in at] == ["session:0", "session:1"]
