"""A local edit made against a known base (commit_local): what import does with a file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agents.store.conflicts import conflicts
from agents.store.store import ContextStore
from agents.sync.local import commit_local

DOC = "claude_file:user/CLAUDE.md"


def md(*lines: str) -> dict[str, Any]:
    return {"path": "CLAUDE.md", "format": "markdown", "text": "".join(f"{x}\n" for x in lines)}


@pytest.fixture
def store(tmp_path: Path) -> ContextStore:
    return ContextStore(tmp_path / "s", machine_id="mine", actor="cli")


def edit(store: ContextStore, body: Any, base: str | None) -> Any:
    with store.transaction() as conn:
        return commit_local(store, conn, DOC, "claude_file", body, base=base)


def other_machine_moves_head(store: ContextStore, body: Any) -> str:
    """A revision made elsewhere on top of the current head, as a pull would adopt it."""
    return store.put(DOC, "claude_file", body, actor="sync").hash


def test_an_edit_on_the_current_head_is_a_plain_new_revision(store: ContextStore) -> None:
    first = edit(store, md("a", "b"), None)
    assert first.outcome == "created" and first.local == first.head
    second = edit(store, md("a", "B"), first.local)
    assert second.outcome == "updated"
    assert store.get(DOC).body["text"] == "a\nB\n"
    assert store.history(DOC)[-1].envelope.parents == [first.local]


def test_an_edit_made_before_the_head_moved_merges_with_it(store: ContextStore) -> None:
    base = edit(store, md("one", "two", "three"), None).local
    other_machine_moves_head(store, md("ONE", "two", "three"))
    done = edit(store, md("one", "two", "THREE"), base)
    assert done.outcome == "merged"
    assert store.get(DOC).body["text"] == "ONE\ntwo\nTHREE\n"
    assert conflicts(store) == []
    merge = store.history(DOC)[-1]
    assert merge.is_head and done.local in merge.envelope.parents
    assert len(merge.envelope.parents) == 2


def test_overlapping_edits_keep_the_local_text_and_list_the_conflict(store: ContextStore) -> None:
    base = edit(store, md("one", "two"), None).local
    theirs = other_machine_moves_head(store, md("one", "two from there"))
    done = edit(store, md("one", "two from here"), base)
    assert done.outcome == "conflict" and done.head == done.local
    assert store.get(DOC).body["text"] == "one\ntwo from here\n"  # what the file says
    [c] = conflicts(store)
    assert (c.doc_id, c.local_hash, c.remote_hash, c.base_hash) == (DOC, done.local, theirs, base)
    assert store.get(DOC, at=theirs).body["text"] == "one\ntwo from there\n"


def test_a_file_that_still_says_what_this_machine_last_saw_changes_nothing(
    store: ContextStore,
) -> None:
    """A stale file (the head moved, the file did not) never overwrites the newer head."""
    base = edit(store, md("one"), None).local
    newer = other_machine_moves_head(store, md("one", "two"))
    done = edit(store, md("one"), base)
    assert done.outcome == "unchanged" and done.head == newer
    assert store.get(DOC).body["text"] == "one\ntwo\n"


def test_an_edit_without_a_known_base_is_concurrent_and_never_wins_silently(
    store: ContextStore,
) -> None:
    """A file that existed before the machine ever saw the store's revision: a conflict."""
    theirs = other_machine_moves_head(store, md("theirs"))
    done = edit(store, md("mine"), None)
    assert done.outcome == "conflict"
    [c] = conflicts(store)
    assert (c.local_hash, c.remote_hash, c.base_hash) == (done.local, theirs, None)


def test_a_deletion_against_a_concurrent_edit_loses_to_the_edit(store: ContextStore) -> None:
    base = edit(store, md("one"), None).local
    other_machine_moves_head(store, md("one", "two"))
    with store.transaction() as conn:
        done = commit_local(store, conn, DOC, "claude_file", md("one"), base=base, deleted=True)
    assert done.outcome == "merged"
    assert store.get(DOC).body["text"] == "one\ntwo\n"
    assert [c.status for c in conflicts(store, None)] == ["auto_resolved"]
