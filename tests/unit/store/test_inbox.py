"""A recorded call committed to the inbox is in the store for every reader, exactly once."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from structlog.testing import capture_logs

from agents.core.errors import InputError
from agents.store import audit, inbox
from agents.store.canonical import Serialized, ulid
from agents.store.store import ContextStore


def _body(n: int) -> Serialized:
    return Serialized.of(
        {
            "agent": "notion",
            "handler": "search",
            "env": "local",
            "status": "ok",
            "outcome": "ok",
            "started_at": "2026-12-07T10:00:00.000Z",
            "duration_ms": 1.0,
            "input": {"query": f"q{n}"},
            "error": None,
            "meta": {},
            "output": {"n": n},
        }
    )


def _raw(store: ContextStore) -> tuple[int, int, int]:
    """(documents, audit rows, inbox rows) as raw SQLite sees them: no read moves anything."""
    with sqlite3.connect(store.path) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM docs WHERE kind = 'agent_output'), "
            "(SELECT count(*) FROM audit), (SELECT count(*) FROM inbox)"
        ).fetchone()
    return int(row[0]), int(row[1]), int(row[2])


@pytest.fixture(name="other")
def _other(store: ContextStore) -> Iterator[ContextStore]:
    """A second connection to the same store (another process's, as far as SQLite knows)."""
    with ContextStore(store.directory) as other:
        yield other


def test_a_staged_call_is_in_the_inbox_until_moved_and_then_in_the_store_once(
    store: ContextStore,
) -> None:
    ids = [f"agent_output:{ulid()}" for _ in range(3)]
    for n, doc_id in enumerate(ids):
        store.stage(doc_id, "agent_output", _body(n), actor="agent:notion")
    assert _raw(store)[0] == 0 and _raw(store)[2] == 3
    assert store.settle() == 3
    assert _raw(store)[0] == 3 and _raw(store)[2] == 0
    assert store.settle() == 0
    for n, doc_id in enumerate(ids):
        assert store.get(doc_id).body["output"] == {"n": n}
    with store.reading() as conn:
        actors = [r[0] for r in conn.execute("SELECT actor FROM audit ORDER BY seq")]
        assert audit.verify(conn).ok
    assert actors == ["agent:notion"] * 3


def test_a_read_on_another_connection_moves_a_staged_call_before_it_reads(
    store: ContextStore, other: ContextStore
) -> None:
    doc_id = f"agent_output:{ulid()}"
    store.stage(doc_id, "agent_output", _body(1), actor="agent:notion")
    assert other.get(doc_id).body["input"] == {"query": "q1"}
    assert [d.id for d in other.list("agent_output")] == [doc_id]
    assert _raw(store) == (1, 1, 0)


def test_a_staged_call_survives_its_connection_closing_without_a_move(tmp_path: Path) -> None:
    """An agent killed after its call returned: the next connection's read finds the call."""
    doc_id = f"agent_output:{ulid()}"
    with ContextStore(tmp_path / "ctx") as first:
        first.stage(doc_id, "agent_output", _body(7), actor="agent:notion")
    with ContextStore(tmp_path / "ctx") as again:
        assert again.get(doc_id).body["output"] == {"n": 7}


def test_a_staged_document_is_checked_as_the_store_checks_it(store: ContextStore) -> None:
    with pytest.raises(InputError, match="invalid"):
        store.stage("no-prefix", "agent_output", _body(1))
    with pytest.raises(InputError):
        store.stage(f"agent_output:{ulid()}", "agent_output", Serialized.of({"agent": 1}))
    assert _raw(store) == (0, 0, 0)


def test_a_row_whose_document_is_in_the_store_already_is_only_removed(
    store: ContextStore,
) -> None:
    doc_id = f"agent_output:{ulid()}"
    store.stage(doc_id, "agent_output", _body(1))
    store.settle()
    store.stage(doc_id, "agent_output", _body(2))
    assert store.settle() == 1
    assert _raw(store) == (1, 1, 0)
    assert store.get(doc_id).body["output"] == {"n": 1}
    twice = f"agent_output:{ulid()}"  # and the same id twice in one move
    store.stage(twice, "agent_output", _body(3))
    store.stage(twice, "agent_output", _body(4))
    assert store.settle() == 2
    assert _raw(store) == (2, 2, 0)
    assert store.get(twice).body["output"] == {"n": 3}


def test_a_row_the_store_refuses_is_logged_and_removed_and_the_rows_behind_it_are_moved(
    store: ContextStore,
) -> None:
    good = f"agent_output:{ulid()}"
    with store.transaction() as conn:  # rows stage() would have refused
        inbox.stage(conn, "agent_output:bad-json", "agent_output", Serialized(None, "{"), "x")
        inbox.stage(conn, "agent_output:nan", "agent_output", Serialized(None, "NaN"), "x")
        inbox.stage(conn, "agent_output:bad", "no_such_kind", _body(0), "x")
    store.stage(good, "agent_output", _body(3))
    with capture_logs() as logs:
        assert store.settle() == 4
    refused = [e["doc_id"] for e in logs if e["event"] == "inbox_row_refused"]
    assert refused == ["agent_output:bad-json", "agent_output:nan", "agent_output:bad"]
    assert all(e["log_level"] == "error" for e in logs if e["event"] == "inbox_row_refused")
    assert _raw(store) == (1, 1, 0)
    assert store.get(good).body["output"] == {"n": 3}


def test_more_rows_than_one_move_takes_are_all_moved(store: ContextStore) -> None:
    with store.transaction() as conn:
        for n in range(inbox.MAX_MOVE + 5):
            inbox.stage(conn, f"agent_output:{ulid()}", "agent_output", _body(n), "x")
    assert store.settle() == inbox.MAX_MOVE + 5
    assert _raw(store) == (inbox.MAX_MOVE + 5, inbox.MAX_MOVE + 5, 0)


def test_a_read_that_cannot_take_the_write_lock_reads_without_moving(
    store: ContextStore, other: ContextStore
) -> None:
    """Another writer holds the lock past the read's short wait: the read answers (without the
    staged call) instead of failing, and a later read moves it."""
    doc_id = f"agent_output:{ulid()}"
    store.stage(doc_id, "agent_output", _body(1))
    holder = sqlite3.connect(store.path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with capture_logs() as logs:
            assert other.list("agent_output") == []
        assert [e["event"] for e in logs] == ["inbox_not_moved"]
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert [d.id for d in other.list("agent_output")] == [doc_id]


def test_two_connections_moving_at_once_write_each_call_once(
    store: ContextStore, other: ContextStore
) -> None:
    ids = [f"agent_output:{ulid()}" for _ in range(200)]
    with store.transaction() as conn:
        for n, doc_id in enumerate(ids):
            inbox.stage(conn, doc_id, "agent_output", _body(n), "x")
    moved: list[int] = []
    threads = [
        threading.Thread(target=lambda s=s: moved.append(s.settle())) for s in (store, other)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(moved) == 200
    assert _raw(store) == (200, 200, 0)


# one step: stage n calls on connection 0 or 1, move on 0 or 1, read on 0 or 1, or close
# connection 0 or 1 without moving and open it again (a killed agent)
_step = st.one_of(
    st.tuples(st.just("stage"), st.integers(0, 1), st.integers(1, 3)),
    st.tuples(st.sampled_from(["move", "read", "kill"]), st.integers(0, 1), st.just(0)),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=st.lists(_step, max_size=12))
def test_any_mix_of_stages_moves_reads_and_kills_stores_every_staged_call_exactly_once(
    tmp_path_factory: pytest.TempPathFactory, steps: list[tuple[str, int, int]]
) -> None:
    where = tmp_path_factory.mktemp("ctx")
    conns = [ContextStore(where, machine_id="m-prop"), ContextStore(where)]
    staged: list[str] = []
    try:
        for op, i, n in steps:
            if op == "stage":
                for _ in range(n):
                    staged.append(f"agent_output:{ulid()}")
                    conns[i].stage(staged[-1], "agent_output", _body(len(staged)))
            elif op == "move":
                conns[i].settle()
            elif op == "read":
                conns[i].list("agent_output", limit=1000)
            else:
                conns[i].close()
                conns[i] = ContextStore(where)
        found = sorted(d.id for d in conns[1].list("agent_output", limit=1000))
        assert found == sorted(staged)
        with conns[0].reading() as conn:
            assert audit.verify(conn).ok
            audited = [r[0] for r in conn.execute("SELECT doc_id FROM audit ORDER BY seq")]
        assert sorted(audited) == sorted(staged)
        assert _raw(conns[0])[2] == 0
    finally:
        for c in conns:
            c.close()
