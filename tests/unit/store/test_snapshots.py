"""Snapshots, diffs and forward-only rollback."""

from __future__ import annotations

import pytest

from agents.core.errors import InputError, NotFoundError
from agents.store import snapshots
from agents.store.store import ContextStore
from tests.unit.store.conftest import moment_passed, pref

CLAUDE_MD = {"path": "{{home}}/.claude/CLAUDE.md", "format": "markdown", "text": "# Me\nuse ruff\n"}


def test_a_snapshot_is_a_manifest_of_heads_without_runtime_records(store: ContextStore) -> None:
    """Agent outputs and machine state are logs, not context to roll back."""
    theme = store.put("preference:theme", "preference", pref("dark"))
    store.put(
        "agent_output:01",
        "agent_output",
        {
            "agent": "notion",
            "handler": "h",
            "status": "ok",
            "outcome": "ok",
            "started_at": "2026-01-01T00:00:00Z",
            "duration_ms": 1,
            "input": {},
        },
    )
    snap = snapshots.create_snapshot(store, "first")
    assert snap.manifest == {"preference:theme": theme.hash}
    second = snapshots.create_snapshot(store)
    assert second.parent == snap.id and second.seq == 2
    assert [s.id for s in snapshots.log(store)] == [second.id, snap.id]
    assert snapshots.find_snapshot(store, "latest") == second
    with pytest.raises(NotFoundError):
        snapshots.find_snapshot(store, "nope")


def test_diff_shows_added_removed_and_modified_documents_with_readable_text(
    store: ContextStore,
) -> None:
    """JSON fields one per line, text fields as text."""
    store.put("preference:theme", "preference", pref("dark"))
    store.put("preference:gone", "preference", pref(1, key="gone"))
    store.put("claude_file:user/CLAUDE.md", "claude_file", CLAUDE_MD)
    snapshots.create_snapshot(store, "a")
    store.put("preference:theme", "preference", pref("light"))
    store.delete("preference:gone")
    store.put(
        "claude_file:user/CLAUDE.md",
        "claude_file",
        {**CLAUDE_MD, "text": "# Me\nuse ruff\nuse mypy\n"},
    )
    store.put("project:agents", "project", {"name": "agents"})
    found = {d.id: d for d in snapshots.diff(store, "a")}
    assert {i: d.status for i, d in found.items()} == {
        "claude_file:user/CLAUDE.md": "modified",
        "preference:gone": "removed",
        "preference:theme": "modified",
        "project:agents": "added",
    }
    theme = found["preference:theme"]
    assert theme.changes == [{"op": "modified", "path": "/value", "old": "dark", "new": "light"}]
    assert '-/value: "dark"' in theme.text and '+/value: "light"' in theme.text
    assert "+    use mypy" in found["claude_file:user/CLAUDE.md"].text
    only = snapshots.diff(store, "a", kinds={"project"})
    assert [d.id for d in only] == ["project:agents"]
    assert snapshots.diff(store, "working", "working") == []


def test_rollback_writes_new_revisions_equal_to_the_old_ones(store: ContextStore) -> None:
    """Forward only: history grows, nothing is rewritten; the state before is snapshotted."""
    dark = store.put("preference:theme", "preference", pref("dark"))
    store.put("preference:font", "preference", pref("mono", key="font"))
    snap = snapshots.create_snapshot(store, "good")
    light = store.put("preference:theme", "preference", pref("light"))
    store.delete("preference:font")
    store.put("project:new", "project", {"name": "new"})
    result = snapshots.rollback(store, "good")
    assert sorted(result.restored) == ["preference:font", "preference:theme"]
    assert result.deleted == ["project:new"]
    head = store.get("preference:theme")
    assert head.content_hash == dark.content_hash and head.hash != dark.hash
    assert head.parents == [light.hash]
    assert [r.hash for r in store.history("preference:theme")][:2] == [dark.hash, light.hash]
    assert snapshots.diff(store, snap.id) == []
    undo = snapshots.rollback(store, result.before_snapshot)
    assert store.get("preference:theme").body == pref("light")
    assert "project:new" in undo.restored


def test_rollback_can_be_limited_to_kinds_or_documents(store: ContextStore) -> None:
    """--kind/--id touch only what they name."""
    store.put("preference:theme", "preference", pref("dark"))
    store.put("project:agents", "project", {"name": "agents"})
    snapshots.create_snapshot(store, "s")
    store.put("preference:theme", "preference", pref("light"))
    store.put("project:agents", "project", {"name": "agents", "description": "v2"})
    snapshots.rollback(store, "s", ids={"preference:theme"})
    assert store.get("preference:theme").body == pref("dark")
    assert store.get("project:agents").body["description"] == "v2"
    snapshots.rollback(store, "s", kinds={"project"})
    assert "description" not in store.get("project:agents").body


def test_rollback_to_a_time_uses_the_heads_of_that_moment(store: ContextStore) -> None:
    """Times resolve through the audit log of head moves."""
    store.put("preference:theme", "preference", pref("dark"))
    moment = moment_passed(store)
    store.put("preference:theme", "preference", pref("light"))
    store.put("preference:late", "preference", pref(1, key="late"))
    result = snapshots.rollback(store, moment)
    assert store.get("preference:theme").body == pref("dark")
    assert result.deleted == ["preference:late"]
    with pytest.raises(InputError):
        snapshots.rollback(store, "working")
