"""What the engine reports, over the folder remote: the sync_record each pull, push or sync
that moved something leaves (what moved, its status, how long it took; none for a sync that
had nothing to do), and `agents sync status`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agents.store import audit
from agents.store.store import ContextStore
from agents.sync.engine import Syncer
from agents.sync.keys import head_key
from agents.sync.remote import RemoteError
from agents.sync.state import read_heads_checked, remote_id
from tests.integration.sync.machines import (
    folder_target,
    pref,
    push_from_a_copy,
    store_of,
    sync,
    trust_siblings,
)

pytestmark = pytest.mark.integration


def record(store: ContextStore, doc_id: str | None) -> dict[str, Any]:
    assert doc_id is not None and doc_id.startswith("sync_record:")
    body: dict[str, Any] = store.get(doc_id).body
    return body


def records(store: ContextStore) -> list[str]:
    return sorted(d for d in store.heads() if d.startswith("sync_record:"))


def test_a_pull_that_moved_documents_is_recorded_with_what_it_moved(tmp_path: Path) -> None:
    """The record counts what the pull moved (not what waits to be pushed here), by the sync
    actor, with the remote and a duration in milliseconds."""
    target = folder_target(tmp_path)
    with store_of(target.scratch, "a") as a, store_of(target.scratch, "b") as b:
        a.put("preference:x", "preference", pref(1, "x"))
        a.put("preference:y", "preference", pref(1, "y"))
        sync(target, a)
        b.put("preference:z", "preference", pref(1, "z"))  # not pushed: not in the record
        report = sync(target, b, "pull")
        p = report.pull
        body = record(b, report.record)
        assert p.changed >= 2 and p.received >= 2
        assert (body["operation"], body["status"], body["remote"]) == (
            "pull",
            "ok",
            report.remote,
        )
        assert body["items_synced"] == body["metrics"]["documents"] == p.changed
        assert body["changes"] == {"added": p.added, "modified": p.modified}
        assert {c["doc_id"] for c in p.added} >= {"preference:x", "preference:y"}
        assert body["metrics"]["objects"] == p.received and body["error"] is None
        assert 0 < body["metrics"]["duration_ms"] < 600_000
        assert 1 <= report.duration_ms < 600_000
        with b.reading() as conn:
            [row] = audit.query(conn, doc_id=report.record)
        assert (row.actor, row.op) == ("sync", "put")
        a.put("preference:x", "preference", pref(2, "x"))
        sync(target, a)
        again = sync(target, b, "pull")
        changes = record(b, again.record)["changes"]
        assert changes == {"added": again.pull.added, "modified": again.pull.modified}
        assert "preference:x" in [c["doc_id"] for c in changes["modified"]]
        assert sync(target, b, "pull").record is None  # nothing moved: no record
        with target.open("b") as remote:
            remote.put_many([(head_key("zz"), b"not json")])
        damaged = sync(target, b, "pull")
        assert damaged.pull.changed == 0 and not damaged.pull.conflicts
        assert record(b, damaged.record)["status"] == "partial"


def test_a_sync_records_what_it_pulled_and_pushed_and_an_idle_sync_records_nothing(
    tmp_path: Path,
) -> None:
    target = folder_target(tmp_path)
    with store_of(target.scratch, "a") as a, store_of(target.scratch, "b") as b:
        a.put("preference:x", "preference", pref(1, "x"))
        sync(target, a)
        b.put("preference:z", "preference", pref(1, "z"))
        report = sync(target, b)
        body = record(b, report.record)
        assert report.pull.changed >= 1 and report.push.pushed
        assert body["operation"] == "sync"
        assert body["items_synced"] > report.pull.changed  # and what this sync pushes
        assert sync(target, b).record is None  # pulls its own push: nothing moved
        before = records(b)
        idle = sync(target, b)
        assert idle.record is None and not idle.push.pushed and records(b) == before
        # a sync whose pull moved something, with nothing of its own to push, records it
        a.put("preference:x", "preference", pref(2, "x"))
        sync(target, a)
        moved = sync(target, b)
        assert moved.pull.changed >= 1 and record(b, moved.record)["items_synced"] >= 1
        # only local edits to push: recorded too
        b.put("preference:w", "preference", pref(1, "w"))
        mine = sync(target, b)
        assert mine.pull.changed == 0 and record(b, mine.record)["items_synced"] >= 1
        # a pull that only set something aside, nothing to push: recorded as partial
        with target.open("b") as remote:
            remote.put_many([(head_key("zz"), b"not json")])
        damaged = sync(target, b)
        assert damaged.pull.changed == 0 and damaged.pull.quarantined
        body = record(b, damaged.record)
        assert body["status"] == "partial" and body["quarantined"] == damaged.pull.quarantined


def test_a_conflict_left_for_review_marks_the_record_conflict(tmp_path: Path) -> None:
    target = folder_target(tmp_path)
    md = {"path": "CLAUDE.md", "format": "markdown"}
    with store_of(target.scratch, "a") as a, store_of(target.scratch, "b") as b:
        a.put("claude_file:user/CLAUDE.md", "claude_file", {**md, "text": "one\n"})
        sync(target, a)
        sync(target, b)
        a.put("claude_file:user/CLAUDE.md", "claude_file", {**md, "text": "ONE\n"})
        b.put("claude_file:user/CLAUDE.md", "claude_file", {**md, "text": "1\n"})
        sync(target, a)
        report = sync(target, b, "pull")
        body = record(b, report.record)
        assert [c["resolution"] for c in report.pull.conflicts] == ["needs_review"]
        assert body["status"] == "conflict" and body["conflicts"] == report.pull.conflicts


def test_a_failed_push_leaves_a_failed_record_naming_the_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = folder_target(tmp_path)
    with store_of(target.scratch, "a") as a:
        a.put("preference:x", "preference", pref(1, "x"))
        trust_siblings(a)
        with target.open("a") as remote:

            def full(*args: object, **kwargs: object) -> None:
                raise RemoteError("the disk is full")

            monkeypatch.setattr(remote, "put_many", full)
            with pytest.raises(RemoteError, match="the disk is full"):
                Syncer(a, remote).push()
        [ok, failed] = [record(a, d) for d in records(a)]
        assert (ok["status"], failed["status"], failed["error"]) == (
            "ok",
            "failed",
            "the disk is full",
        )
        assert (failed["items_synced"], failed["metrics"]["objects"]) == (0, 0)  # no pull
        assert failed["operation"] == "push" and 0 <= failed["metrics"]["duration_ms"] < 600_000


def test_a_pull_from_an_empty_remote_says_so_and_writes_nothing_there(tmp_path: Path) -> None:
    target = folder_target(tmp_path)
    with store_of(target.scratch, "a") as a:
        report = sync(target, a, "pull")
        assert report.notes == ["the remote is empty: nothing to pull"]
        assert report.summary() == "the remote is empty: nothing to pull"
        with target.open("a") as remote:
            assert Syncer(a, remote).status()["remote_id"] is None
            assert remote.list("") == []


def test_a_push_that_finds_its_head_moved_by_a_copy_of_its_store_pulls_it_and_pushes_again(
    tmp_path: Path,
) -> None:
    target = folder_target(tmp_path)
    with store_of(target.scratch, "a") as a:
        a.put("preference:x", "preference", pref(1, "x"))
        sync(target, a)
    push_from_a_copy(target, "a", tmp_path / "copy", "preference:y", pref(1, "y"))
    with store_of(target.scratch, "a") as a:
        a.put("preference:z", "preference", pref(1, "z"))
        report = sync(target, a, "push")
        assert report.notes == ["this machine's head on the remote was moved elsewhere"]
        assert report.pull is not None and report.pull.changed >= 1 and report.push.pushed
        assert a.get("preference:y").body == pref(1, "y")
    with store_of(target.scratch, "late") as late:
        sync(target, late)
        assert {"preference:x", "preference:y", "preference:z"} <= set(late.heads())


def test_status_names_every_machine_its_head_and_what_is_damaged_or_behind(
    tmp_path: Path,
) -> None:
    target = folder_target(tmp_path)
    with store_of(target.scratch, "a") as a, store_of(target.scratch, "b") as b:
        a.put("preference:x", "preference", pref(1, "x"))
        sync(target, a)
        sync(target, b)
        a.put("preference:x", "preference", pref(2, "x"))
        sync(target, a)
        b.put("preference:y", "preference", pref(1, "y"))
        with target.open("b") as remote:
            remote.put_many([(head_key("zz"), b"not json")])
            heads = read_heads_checked(remote)[0]
            data = Syncer(b, remote).status()
            rid = remote_id(remote, create=False)
        expected_machines = [
            {
                "machine": m,
                "this": m == "b",
                "trusted": True,
                "integrated": m == "b",
                "snapshot": h.snapshot,
                "seq": h.seq,
                "updated_at": h.updated_at,
                "documents": h.documents,
            }
            for m, h in sorted(heads.items())
        ]
        [damaged] = data.pop("damaged")
        assert (damaged["key"], damaged["machine"]) == (head_key("zz"), "zz") and damaged["reason"]
        assert data == {
            "remote": remote.display_url,
            "remote_id": rid,
            "machine": "b",
            "machines": expected_machines,
            "conflicts": 0,
            "documents": len(b.heads()),
            "unpushed": 1,  # y
            "quarantined": 0,
            "pending": [],
            "behind": ["a"],
        }
