"""A local edit made against a known base (commit_local): what import does with a file."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from agents.store import audit
from agents.store.canonical import now_iso
from agents.store.clock import Hlc, HlcClock, vv_bump, vv_compare
from agents.store.conflicts import conflicts
from agents.store.envelope import Envelope, scope_for
from agents.store.store import ContextStore
from agents.sync.local import LocalEdit, commit_local

DOC = "claude_file:user/CLAUDE.md"
# another machine whose clock runs an hour ahead of this one's
THEIR_CLOCK = HlcClock("theirs", wall_ms=lambda: time.time_ns() // 1_000_000 + 3_600_000)


def md(*lines: str) -> dict[str, Any]:
    return {"path": "CLAUDE.md", "format": "markdown", "text": "".join(f"{x}\n" for x in lines)}


@pytest.fixture
def store(tmp_path: Path) -> ContextStore:
    return ContextStore(tmp_path / "s", machine_id="mine", actor="cli")


def edit(store: ContextStore, body: Any, base: str | None, **kw: Any) -> LocalEdit:
    with store.transaction() as conn:
        return commit_local(store, conn, DOC, "claude_file", body, base=base, **kw)


def other_machine_moves_head(store: ContextStore, body: Any) -> str:
    """A revision made elsewhere on top of the current head, as a pull would adopt it."""
    return store.put(DOC, "claude_file", body, actor="sync").hash


def theirs_on(
    store: ContextStore, on: str | None, body: Any, scope: dict[str, Any] | None = None
) -> str:
    """A revision another machine made on top of revision ``on`` (None: a new document), made
    the head here as a pull would (forced: also over a head it does not descend from, as a pull
    that settled for it); in ``scope`` when given, else in its parent's."""
    parent = store.revision(on) if on else None
    env = Envelope(
        id=DOC,
        kind="claude_file",
        scope=scope or (parent.scope if parent else scope_for("claude_file", "theirs")),
        body=body,
        vv=vv_bump(parent.vv if parent else {}, "theirs"),
        parents=[on] if on else [],
        origin_machine="theirs",
        updated_at=now_iso(),
        hlc=str(THEIR_CLOCK.now(parent.hlc if parent else None)),
    )
    with store.transaction() as conn:
        store.apply(conn, env, store.head_info(DOC, conn), actor="sync", op="pull", force=True)
    return env.hash


def audited(store: ContextStore) -> list[tuple[str, str, str | None, str | None]]:
    """The audit rows of DOC, oldest first: (op, actor, old_hash, new_hash)."""
    with store.reading() as conn:
        rows = audit.query(conn, doc_id=DOC)
    return [(r.op, r.actor, r.old_hash, r.new_hash) for r in reversed(rows)]


def test_an_edit_on_the_current_head_is_a_plain_new_revision(store: ContextStore) -> None:
    first = edit(store, md("a", "b"), None)
    assert first.outcome == "created" and first.local == first.head
    second = edit(store, md("a", "B"), first.local)
    head = store.history(DOC)[-1]
    assert second == LocalEdit(DOC, "updated", head.hash, head.hash) and head.is_head
    assert store.get(DOC).body["text"] == "a\nB\n"
    assert store.history(DOC)[-1].envelope.parents == [first.local]


def test_an_edit_made_before_the_head_moved_merges_with_it(store: ContextStore) -> None:
    base = edit(store, md("one", "two", "three"), None).local
    other_machine_moves_head(store, md("ONE", "two", "three"))
    theirs = other_machine_moves_head(store, md("ONE", "two", "three"))
    done = edit(store, md("one", "two", "THREE"), base, actor="import")
    assert store.get(DOC).body["text"] == "ONE\ntwo\nTHREE\n"
    assert conflicts(store, None) == []
    merge = store.history(DOC)[-1]
    assert done == LocalEdit(DOC, "merged", done.local, merge.hash, auto_resolved=False)
    assert merge.is_head and sorted(merge.envelope.parents) == sorted([done.local, theirs])
    # the local edit and the merge are audited as the import's, each from the head it replaced
    assert audited(store)[-2:] == [
        ("import", "import", theirs, done.local),
        ("merge", "import", done.local, merge.hash),
    ]
    with store.reading() as conn:
        [row] = audit.query(conn, doc_id=DOC, op="merge")
    assert row.as_dict()["detail"] == {"remote": theirs, "policy": "text3", "fields": []}


def test_overlapping_edits_keep_the_local_text_and_list_the_conflict(store: ContextStore) -> None:
    base = edit(store, md("one", "two"), None).local
    theirs = other_machine_moves_head(store, md("one", "two from there"))
    done = edit(store, md("one", "two from here"), base, actor="import")
    assert done == LocalEdit(DOC, "conflict", done.local, done.local)
    assert store.revision(done.local).parents == [base]
    assert audited(store)[-2:] == [
        ("import", "import", theirs, done.local),
        ("conflict", "import", done.local, None),
    ]
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
    # the file's base stays the revision it says: its next edit merges with the newer head
    assert done == LocalEdit(DOC, "unchanged", base, newer)
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
    theirs = other_machine_moves_head(store, md("one", "two"))
    done = edit(store, md("one"), base, deleted=True, actor="import")
    assert store.get(DOC).body["text"] == "one\ntwo\n"
    assert done == LocalEdit(DOC, "merged", done.local, done.head, auto_resolved=True)
    assert store.history(DOC)[-1].hash == done.head
    [c] = conflicts(store, None)
    assert (c.status, c.local_hash, c.remote_hash, c.base_hash, c.resolved_hash) == (
        "auto_resolved",
        done.local,
        theirs,
        base,
        done.head,
    )
    assert audited(store)[-1] == ("conflict", "import", done.local, None)


def test_an_edit_that_changes_nothing_keeps_the_head_and_adds_no_revision(
    store: ContextStore,
) -> None:
    first = edit(store, md("a"), None)
    again = edit(store, md("a"), first.local)
    assert again == LocalEdit(DOC, "unchanged", first.local, first.local)
    assert len(store.history(DOC)) == 1


def test_a_file_that_already_says_what_the_moved_head_says_takes_the_head_as_its_base(
    store: ContextStore,
) -> None:
    """The same edit made here and there: nothing to record, and the head is the file's base."""
    base = edit(store, md("one"), None).local
    newer = other_machine_moves_head(store, md("one", "two"))
    done = edit(store, md("one", "two"), base)
    assert done == LocalEdit(DOC, "unchanged", newer, newer)
    assert len(store.history(DOC)) == 2 and conflicts(store, None) == []


def test_a_plain_edit_keeps_its_scope_secret_references_and_deletion_and_is_an_import(
    store: ContextStore,
) -> None:
    scope = {"level": "project", "project_id": "p1", "machine_id": None}
    refs = [{"path": "/text", "ref": "${API_KEY}"}]
    first = edit(store, md("key: ${API_KEY}"), None, scope=scope, secret_refs=refs, actor="imp")
    gone = edit(store, md("key: ${API_KEY}"), first.local, deleted=True, actor="imp")
    [one, two] = store.history(DOC)
    assert (one.envelope.scope, one.envelope.secret_refs) == (scope, refs)
    assert (two.envelope.scope, two.envelope.deleted, gone.outcome) == (scope, True, "updated")
    assert audited(store) == [
        ("import", "imp", None, first.local),
        ("import", "imp", first.local, gone.local),
    ]
    assert edit(store, md("back"), gone.local).outcome == "updated"
    assert audited(store)[-1][1] == "cli"  # the default actor


def test_a_merged_edit_keeps_the_secret_references_of_its_lines(store: ContextStore) -> None:
    refs = [{"path": "/text", "ref": "${API_KEY}"}]
    base = edit(store, md("one", "two", "three"), None).local
    other_machine_moves_head(store, md("ONE", "two", "three"))
    done = edit(store, md("one", "two", "three: ${API_KEY}"), base, secret_refs=refs)
    assert done.outcome == "merged"
    merged = store.get(DOC)
    assert merged.body["text"] == "ONE\ntwo\nthree: ${API_KEY}\n" and merged.secret_refs == refs


def test_an_edit_against_another_machines_head_is_ordered_after_it(store: ContextStore) -> None:
    """Without a known base, against a head with no counter of this machine and a clock an hour
    ahead: the edit is a root revision of this machine, concurrent with the head and stamped
    later than it (so a later-wins policy never drops it for being early)."""
    theirs = theirs_on(store, None, md("theirs"))
    done = edit(store, md("mine"), None)
    assert done.outcome == "conflict"
    local, head = store.revision(done.local), store.revision(theirs)
    assert (local.parents, local.origin_machine, local.vv) == ([], "mine", {"mine": 1})
    assert local.updated_at and Hlc.parse(local.hlc) > Hlc.parse(head.hlc)


@pytest.mark.parametrize("ahead", ["head", "base"])
def test_a_local_edit_descends_from_its_base_and_is_concurrent_with_the_moved_head(
    store: ContextStore, ahead: str
) -> None:
    """Whichever of the base and the head counts more edits of this machine (an agent wrote
    the document after the file was read; or the head was settled for another machine's
    revision made before this machine's last one), the edit's version vector is beyond both:
    never taken as older than its base, nor as an ancestor of the head (a lost edit)."""
    r1 = edit(store, md("one", "two"), None).local
    if ahead == "head":
        base = r1
        r2 = other_machine_moves_head(store, md("one", "two", "three"))
        head = theirs_on(store, r2, md("ONE", "two", "three"))
    else:
        t1 = theirs_on(store, r1, md("one", "two", "three"))
        base = edit(store, md("one", "two", "three", "four"), t1).local
        head = theirs_on(store, t1, md("ONE", "two", "three"))
    done = edit(store, md("one", "TWO", "three"), base)
    local = store.revision(done.local)
    assert vv_compare(store.revision(base).vv, local.vv) == "before"
    assert vv_compare(local.vv, store.revision(head).vv) == "concurrent"


def test_an_edit_whose_base_was_compacted_away_is_settled_as_one_without_a_base(
    store: ContextStore,
) -> None:
    """The file's base names a revision this store no longer holds: no parent, no base."""
    edit(store, md("one"), None)
    theirs = other_machine_moves_head(store, md("one", "two"))
    done = edit(store, md("one", "three"), "f" * 64)
    assert done.outcome == "conflict" and store.revision(done.local).parents == []
    [c] = conflicts(store)
    assert (c.local_hash, c.remote_hash, c.base_hash) == (done.local, theirs, None)


def test_an_edit_against_a_head_that_went_back_to_its_base_is_a_merge_of_both(
    store: ContextStore,
) -> None:
    """The other machine changed the file and changed it back: the edit wins whole, and is
    recorded as a merge descending from both heads, so neither machine merges it again."""
    base = edit(store, md("one"), None).local
    other_machine_moves_head(store, md("one", "two"))
    back = other_machine_moves_head(store, md("one"))
    done = edit(store, md("one", "mine"), base)
    merge = store.history(DOC)[-1]
    assert done == LocalEdit(DOC, "merged", done.local, merge.hash)
    assert merge.is_head and sorted(merge.envelope.parents) == sorted([done.local, back])
    assert merge.envelope.body == md("one", "mine")


PROJECT = {"level": "project", "project_id": "p1", "machine_id": None}


def test_an_edit_keeps_the_scope_another_machine_gave_the_document_meanwhile(
    store: ContextStore,
) -> None:
    """The file's text says nothing of where the document applies: a scope set elsewhere
    since the file was read stands through the merge, and is not undone by a text edit."""
    base = edit(store, md("one", "two", "three"), None).local
    assert store.revision(base).scope != PROJECT
    theirs_on(store, base, md("ONE", "two", "three"), scope=PROJECT)
    done = edit(store, md("one", "two", "THREE"), base)
    assert done.outcome == "merged"
    assert store.revision(done.local).scope == PROJECT
    merged = store.get(DOC)
    assert (merged.body["text"], merged.scope) == ("ONE\ntwo\nTHREE\n", PROJECT)


def test_a_stale_file_changes_nothing_whatever_scope_the_document_took_since(
    store: ContextStore,
) -> None:
    base = edit(store, md("one"), None).local
    moved = theirs_on(store, base, md("one"), scope=PROJECT)  # the scope alone
    assert edit(store, md("one"), base) == LocalEdit(DOC, "unchanged", moved, moved)
    both = theirs_on(store, moved, md("one", "two"))  # then the text, in that scope
    assert edit(store, md("one"), base) == LocalEdit(DOC, "unchanged", base, both)
    assert len(store.history(DOC)) == 3 and store.get(DOC).scope == PROJECT


def test_a_scope_given_with_the_edit_is_the_scope_it_is_made_in(store: ContextStore) -> None:
    base = edit(store, md("one", "two"), None).local
    other_machine_moves_head(store, md("ONE", "two"))
    done = edit(store, md("one", "two"), base, scope=PROJECT)  # only the scope changed here
    assert done.outcome == "merged" and store.revision(done.local).scope == PROJECT
    assert (store.get(DOC).body["text"], store.get(DOC).scope) == ("ONE\ntwo\n", PROJECT)


def test_an_edit_merged_onto_another_machines_resolution_closes_the_conflict_it_settles(
    store: ContextStore,
) -> None:
    """A conflict waiting here that another machine resolved: the file's next edit merges onto
    that resolution, which descends from both sides, so the conflict is closed as settled."""
    base = edit(store, md("one", "two", "three"), None).local
    other_machine_moves_head(store, md("one", "two from there", "three"))
    mine = edit(store, md("one", "two from here", "three"), base)
    assert mine.outcome == "conflict" and len(conflicts(store)) == 1
    theirs_on(store, mine.local, md("one", "two agreed", "three"))  # their resolution
    done = edit(store, md("one", "two from here", "three", "four"), mine.local, actor="imp")
    assert done.outcome == "merged"
    assert store.get(DOC).body["text"] == "one\ntwo agreed\nthree\nfour\n"
    assert conflicts(store) == []
    [closed] = conflicts(store, None)
    assert (closed.status, closed.resolved_hash) == ("resolved", done.head)
    with store.reading() as conn:
        [row] = audit.query(conn, doc_id=DOC, op="resolve")
    assert (row.actor, json.loads(row.detail or "{}")["revision"]) == ("imp", done.head)
