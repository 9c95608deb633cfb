"""Documents: immutable revisions, moving heads, history, points in time."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agents.core.errors import InputError, NotFoundError
from agents.store import audit, snapshots
from agents.store.envelope import Envelope
from agents.store.store import ContextStore
from tests.unit.store.conftest import moment_passed, pref


def test_a_put_writes_a_revision_moves_the_head_and_appends_one_audit_row(
    store: ContextStore,
) -> None:
    """Revision, head and audit row come together."""
    envelope = store.put("preference:theme", "preference", pref("dark"))
    info = store.head_info("preference:theme")
    assert info is not None and info.head == envelope.hash
    assert envelope.vv == {"m-test": 1} and envelope.parents == []
    assert envelope.scope == {"level": "user", "project_id": None, "machine_id": None}
    with store.reading() as conn:
        rows = conn.execute("SELECT actor, op, doc_id, old_hash, new_hash FROM audit").fetchall()
    assert rows == [("cli", "put", "preference:theme", None, envelope.hash)]


def test_each_change_is_a_new_revision_whose_parent_is_the_old_head(store: ContextStore) -> None:
    """Revisions are never rewritten; the vector counts this machine's edits."""
    first = store.put("preference:theme", "preference", pref("dark"))
    second = store.put("preference:theme", "preference", pref("light"))
    assert second.parents == [first.hash] and second.vv == {"m-test": 2}
    assert second.hlc > first.hlc
    history = store.history("preference:theme")
    assert [r.hash for r in history] == [first.hash, second.hash]
    assert [r.is_head for r in history] == [False, True]
    assert store.revision(first.hash).body == pref("dark")


def test_writing_the_same_content_again_is_a_no_op(store: ContextStore) -> None:
    """No revision, no audit row when nothing changes."""
    first = store.put("preference:theme", "preference", pref("dark"))
    again = store.put("preference:theme", "preference", {"value": "dark", "key": "theme"})
    assert again.hash == first.hash
    assert len(store.history("preference:theme")) == 1


def test_expect_head_is_a_compare_and_swap(store: ContextStore) -> None:
    """A writer holding a stale head is refused, not silently overwritten."""
    first = store.put("preference:theme", "preference", pref("dark"))
    store.put("preference:theme", "preference", pref("light"), expect_head=first.hash)
    with pytest.raises(InputError, match="changed since revision"):
        store.put("preference:theme", "preference", pref("blue"), expect_head=first.hash)
    assert store.get("preference:theme").body == pref("light")


def test_a_document_keeps_its_kind(store: ContextStore) -> None:
    """An id cannot silently change kind."""
    store.put("preference:theme", "preference", pref("dark"))
    with pytest.raises(InputError, match="is a preference"):
        store.put("preference:theme", "project", {"name": "x"})


@pytest.mark.parametrize("bad", ["theme", ":x", "Pref:x", "pref:", "pref:a\nb", "p:" + "x" * 600])
def test_malformed_ids_are_refused(store: ContextStore, bad: str) -> None:
    """<prefix>:<name>, lower-case prefix, no control characters."""
    with pytest.raises(InputError, match="document id"):
        store.put(bad, "preference", pref(1))


def test_delete_writes_a_tombstone_and_history_keeps_the_body(store: ContextStore) -> None:
    """Deletion is a revision sync can propagate."""
    first = store.put("preference:theme", "preference", pref("dark"))
    tomb = store.delete("preference:theme")
    assert tomb.deleted and tomb.parents == [first.hash]
    with pytest.raises(NotFoundError, match="deleted"):
        store.get("preference:theme")
    assert store.get("preference:theme", deleted=True).deleted
    assert store.list("preference") == []
    assert store.get("preference:theme", at=first.hash).body == pref("dark")
    with pytest.raises(NotFoundError):
        store.delete("preference:theme")


def test_get_at_a_snapshot_a_revision_or_a_time(store: ContextStore) -> None:
    """Points in time resolve to the revision that was the head then."""
    first = store.put("preference:theme", "preference", pref("dark"))
    snap = snapshots.create_snapshot(store, "before")
    between = moment_passed(store)
    store.put("preference:theme", "preference", pref("light"))
    assert store.get("preference:theme", at=snap.id).body == pref("dark")
    assert store.get("preference:theme", at="before").body == pref("dark")
    assert store.get("preference:theme", at=snap.id[:13]).body == pref("dark")
    assert store.get("preference:theme", at=first.hash).hash == first.hash
    assert store.get("preference:theme", at=between).body == pref("dark")
    assert store.get("preference:theme", at="0m").body == pref("light")
    with pytest.raises(NotFoundError, match="did not exist"):
        store.get("preference:theme", at="2000-01-01")
    with pytest.raises(InputError, match="neither a snapshot"):
        store.get("preference:theme", at="yesterday-ish")


def test_list_filters_by_kind_prefix_text_and_body_fields(store: ContextStore) -> None:
    """Newest first; text search is case-insensitive."""
    store.put("preference:theme", "preference", pref("Dark"))
    store.put("preference:font", "preference", pref("mono", key="font"))
    store.put("project:agents", "project", {"name": "agents"})
    assert [e.id for e in store.list("preference")] == ["preference:font", "preference:theme"]
    assert [e.id for e in store.list(prefix="project:")] == ["project:agents"]
    assert [e.id for e in store.list(text="dark")] == ["preference:theme"]
    assert [e.id for e in store.list(where={"key": "font"})] == ["preference:font"]
    assert store.counts() == {"preference": 2, "project": 1}


def test_the_machine_id_is_generated_once_and_kept(tmp_path: object) -> None:
    """Reopening the store keeps its identity."""
    from pathlib import Path

    root = Path(str(tmp_path)) / "s"
    with ContextStore(root) as a:
        first = a.machine_id
    with ContextStore(root) as b:
        assert b.machine_id == first and first.startswith("m-")


def test_add_writes_the_same_revision_put_would_and_refuses_an_existing_id(
    store: ContextStore, tmp_path: Path
) -> None:
    """The recorder's fast path: no head read, one serialization, identical envelope shape."""
    body = {
        "agent": "notion",
        "handler": "agent_info",
        "status": "ok",
        "outcome": "ok",
        "started_at": "2026-12-01T00:00:00Z",
        "duration_ms": 1.5,
        "input": {"query": "é"},
        "output": {"a": [1, 2.5, None]},
    }
    added = store.add("agent_output:01JADD00000000000000000000", "agent_output", body)
    stored = store.get("agent_output:01JADD00000000000000000000")
    assert stored.hash == added.hash and stored.content_hash == added.content_hash
    assert stored == Envelope.from_dict(json.loads(stored.to_bytes()))  # canonical
    with ContextStore(tmp_path / "other", machine_id=store.machine_id) as other:
        put = other.put("agent_output:01JADD00000000000000000000", "agent_output", body)
    assert put.content_hash == added.content_hash and put.vv == added.vv == {"m-test": 1}
    with pytest.raises(InputError, match="exists already"):
        store.add("agent_output:01JADD00000000000000000000", "agent_output", body)
    with store.reading() as conn:
        assert audit.verify(conn).ok


def test_add_many_writes_every_document_its_audit_rows_and_index_rows_in_one_transaction(
    store: ContextStore,
) -> None:
    """Many documents at once: all written, chained and indexed; with one id already taken,
    none of the batch is written."""
    from agents.store.search import search

    def item(i: int) -> tuple[str, str, dict[str, object]]:
        body = {"agent": "notion", "handler": f"h{i}", "status": "ok", "outcome": "ok",
                "started_at": "2026-12-01T00:00:00Z", "duration_ms": 1.0,
                "input": {"title": f"plan{i}"}}  # fmt: skip
        return f"agent_output:01JADD{i:020d}", "agent_output", body

    count = 69
    added = store.add_many([item(i) for i in range(count)])
    assert [e.id for e in added] == [item(i)[0] for i in range(count)]
    for envelope in added[::7]:
        assert store.get(envelope.id).hash == envelope.hash
    assert [h.id for h in search(store, f"plan{count - 1}")] == [item(count - 1)[0]]
    with pytest.raises(InputError, match="exists already"):
        store.add_many([item(i) for i in range(count, count + 40)] + [item(3)])
    assert len(store.heads({"agent_output"})) == count
    with store.reading() as conn:
        report = audit.verify(conn)
        assert report.ok and report.rows == count
