"""Machine state from several writers; sessions saved, updated and restored."""

from __future__ import annotations

import pytest

from agents.core.errors import InputError, NotFoundError
from agents.store import sessions
from agents.store.machine import doc_id_of, record_agents
from agents.store.store import ContextStore


def test_agents_and_the_supervisor_merge_their_fields_into_one_machine_state(
    store: ContextStore,
) -> None:
    """Each writer updates only what it knows; uptime follows started_at."""
    record_agents(
        store,
        {"notion": {"pid": 11, "port": 8701, "ready": True, "started_at": "2026-01-01T00:00:00Z"}},
        actor="agent:notion",
    )
    record_agents(
        store,
        {
            "notion": {"state": "RUNNING", "answering": True},
            "fizzy": {"pid": 12, "port": 8702, "state": "RUNNING"},
        },
        actor="supervisor",
        supervisor_pid=10,
        env="local",
    )
    body = store.get(doc_id_of("m-test")).body
    assert body["machine_id"] == "m-test" and body["env"] == "local"
    assert body["supervisor"]["pid"] == 10 and body["versions"]["agents"]
    notion = body["agents"]["notion"]
    assert (notion["pid"], notion["ready"], notion["answering"]) == (11, True, True)
    assert notion["uptime_seconds"] > 0 and body["agents"]["fizzy"]["port"] == 8702


def test_a_tick_that_changes_nothing_but_heartbeats_writes_no_revision(
    store: ContextStore,
) -> None:
    """Five-second ticks do not grow history; a real change does."""
    entry = {"notion": {"pid": 11, "state": "RUNNING"}}
    record_agents(store, entry, actor="supervisor", heartbeat=60)
    record_agents(store, entry, actor="supervisor", heartbeat=60)
    assert len(store.history(doc_id_of("m-test"))) == 1
    record_agents(store, {"notion": {"pid": 99, "state": "RUNNING"}}, actor="supervisor")
    assert len(store.history(doc_id_of("m-test"))) == 2
    record_agents(
        store, {"notion": {"pid": 99, "state": "RUNNING"}}, actor="supervisor", heartbeat=0
    )
    assert len(store.history(doc_id_of("m-test"))) == 3


def test_a_session_is_saved_updated_and_restored_with_the_original_fields(
    store: ContextStore,
) -> None:
    """title, status, project, summary, key decisions, current tasks, references."""
    first = sessions.save_session(
        store,
        {
            "title": "Context store",
            "summary": "schemas done",
            "key_decisions": ["SQLite WAL"],
            "current_tasks": ["tests"],
            "references": ["issue 3"],
            "project": {"name": "agents", "repository": {"branch": "store"}},
        },
    )
    assert first.body["status"] == "active" and first.body["machine_id"] == "m-test"
    sessions.save_session(
        store, {"key_decisions": ["FULL sync"], "status": "paused"}, ref=first.id, append=True
    )
    restored = sessions.find_session(store, first.id.removeprefix("session:"))
    assert restored.body["key_decisions"] == ["SQLite WAL", "FULL sync"]
    assert restored.body["status"] == "paused"
    text = sessions.render_session(restored)
    assert text.startswith("# Context store\n")
    for part in (
        "## Key decisions\n- SQLite WAL\n- FULL sync",
        "## Current tasks\n- tests",
        "## References\n- issue 3",
        "project: agents @ store",
        "schemas done",
    ):
        assert part in text
    assert sessions.find_session(store, "latest").id == first.id


def test_restoring_without_sessions_or_saving_without_title_says_what_to_do(
    store: ContextStore,
) -> None:
    """Clear errors, not crashes."""
    with pytest.raises(NotFoundError, match="no session saved yet"):
        sessions.find_session(store)
    with pytest.raises(InputError, match="needs a title"):
        sessions.save_session(store, {"summary": "x"})
