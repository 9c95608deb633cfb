"""The sync engine on every backend: machines converge, nothing is lost, crashes leave
only orphans, conflicts wait for a person."""

from __future__ import annotations

import contextlib
import json
import multiprocessing
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from agents.core.errors import InputError, NotFoundError
from agents.store import audit
from agents.store.canonical import canonical
from agents.store.conflicts import conflicts
from agents.store.identity import Identity
from agents.store.maintenance import compact
from agents.store.store import ContextStore
from agents.sync import pull
from agents.sync.engine import Syncer, resolve
from agents.sync.gc import gc
from agents.sync.keys import head_key, object_key
from agents.sync.quarantine import quarantine_count, quarantined
from agents.sync.state import SNAPSHOT_FORMAT, read_heads, read_manifest
from agents.sync.trust import decide, identity_of
from tests.integration.sync.machines import (
    audit_ok,
    crash_during_push,
    folder_target,
    output,
    pref,
    push_from_a_copy,
    store_of,
    sync,
    trust_siblings,
    writer,
)
from tests.integration.sync.workers import Target

pytestmark = pytest.mark.integration
SPAWN = multiprocessing.get_context("spawn")


def content(store: ContextStore) -> dict[str, str]:
    """Heads of every document but sync records (each sync that changed something adds one)."""
    return store.heads(exclude={"sync_record"})


def converge(target: Target, *stores: ContextStore) -> None:
    """Sync every store twice round (enough for every change to reach every machine)."""
    for _ in range(2):
        for store in stores:
            sync(target, store)


def md(text: str) -> dict[str, str]:
    """The body of ``~/.claude/CLAUDE.md`` holding ``text``."""
    return {"path": "CLAUDE.md", "format": "markdown", "text": text}


def review_conflict(target: Target, a: ContextStore, b: ContextStore) -> None:
    """Both machines edit the same line of CLAUDE.md after sharing it: a conflict for review
    on each, a's head "rule ONE", b's "rule 1"."""
    a.put("claude_file:user/CLAUDE.md", "claude_file", md("# Me\nrule one\n"))
    converge(target, a, b)
    a.put("claude_file:user/CLAUDE.md", "claude_file", md("# Me\nrule ONE\n"))
    b.put("claude_file:user/CLAUDE.md", "claude_file", md("# Me\nrule 1\n"))
    converge(target, a, b)


def session(title: str, status: str) -> dict[str, object]:
    """A session body with no tasks."""
    return {"title": title, "status": status, "current_tasks": []}


def session_moved_on(target: Target, a: ContextStore, b: ContextStore) -> None:
    """Session ``session:s`` shared by ``a`` and ``b`` at title t0, then retitled t1 on ``a``
    and pushed (``b`` has not pulled it)."""
    a.put("session:s", "session", session("t0", "active"))
    sync(target, a)
    sync(target, b, "pull")
    a.put("session:s", "session", session("t1", "active"))
    sync(target, a)


def test_two_machines_converge_after_interleaved_edits(target: Target) -> None:
    """Edits of different fields merge, new documents and deletions travel both ways."""
    a, b = store_of(target.scratch, "laptop"), store_of(target.scratch, "desktop")
    with a, b:
        a.put("preference:theme", "preference", pref({"color": "dark", "size": 1}))
        a.put("preference:gone", "preference", pref(1, "gone"))
        sync(target, a)
        report = sync(target, b)
        assert (
            report.pull.fast_forwarded >= 2 and b.get("preference:theme").body["value"]["size"] == 1
        )
        a.put("preference:theme", "preference", pref({"color": "light", "size": 1}))
        b.put("preference:theme", "preference", pref({"color": "dark", "size": 2}))
        b.put("session:s1", "session", {"title": "b's work", "status": "active"})
        a.delete("preference:gone")
        sync(target, a)
        sync(target, b)
        sync(target, a)
        assert content(a) == content(b)
        assert a.get("preference:theme").body == pref({"color": "light", "size": 2})
        assert b.get("session:s1").body["title"] == "b's work"
        assert b.get("preference:gone", deleted=True).deleted
        assert conflicts(a) == [] and conflicts(b) == []
        assert audit_ok(a) and audit_ok(b)


def test_three_machines_converge_and_every_decision_is_recorded(target: Target) -> None:
    """A field changed on all three settles on the latest clock, recorded as auto-resolved."""
    names = ("m1", "m2", "m3")
    stores = [store_of(target.scratch, n) for n in names]
    try:
        stores[0].put(
            "mcp_server:notion",
            "mcp_server",
            {"name": "notion", "transport": "http", "url": "http://a"},
        )
        converge(target, *stores)
        for i, store in enumerate(stores):

            def moved(cur: Any, i: int = i) -> dict[str, Any]:
                return {**cur, "url": f"http://{i}"}

            store.update("mcp_server:notion", "mcp_server", moved)
            store.put(f"preference:{store.machine_id}", "preference", pref(i))
        converge(target, *stores)
        heads = [content(s) for s in stores]
        assert heads[0] == heads[1] == heads[2]
        assert stores[0].get("mcp_server:notion").body["url"] == "http://2"  # the latest write
        settled = [c for s in stores for c in conflicts(s, "auto_resolved")]
        assert settled and all(c.doc_id == "mcp_server:notion" for c in settled)
        records = stores[0].list("sync_record", limit=100)
        assert any(r.body.get("conflicts") for r in records)
        assert all(audit_ok(s) for s in stores)
    finally:
        for s in stores:
            s.close()


def test_concurrent_syncs_from_three_processes_lose_nothing(target: Target) -> None:
    """Three machines write and sync at once; afterwards each has every document."""
    machines, docs, rounds = ["p1", "p2", "p3"], 5, 3
    with SPAWN.Pool(len(machines)) as pool:
        pool.starmap_async(
            writer, [(target, target.scratch, m, docs, rounds) for m in machines]
        ).get(300)
    stores = [store_of(target.scratch, m) for m in machines]
    try:
        converge(target, *stores)
        expected = {
            f"preference:{m}-{r}-{i}" for m in machines for r in range(rounds) for i in range(docs)
        }
        for store in stores:
            assert expected <= set(store.heads())
            tasks = store.get("session:shared").body["current_tasks"]
            assert sorted(tasks) == sorted(f"{m}-{r}" for m in machines for r in range(rounds))
            assert audit_ok(store)
        assert content(stores[0]) == content(stores[1]) == content(stores[2])
        with target.open("reader") as remote:
            assert set(read_heads(remote)) == set(machines)
    finally:
        for s in stores:
            s.close()


@pytest.mark.parametrize("where", ["mid-objects", "before-head"])
def test_a_push_killed_midway_leaves_only_orphans_that_gc_removes(
    target: Target, where: str
) -> None:
    """The head still names complete data, other machines pull fine, a retry publishes."""
    with store_of(target.scratch, "crashy") as store:
        store.put("preference:first", "preference", pref(0, "first"))
        sync(target, store)
    with target.open("reader") as remote:
        before = read_heads(remote)["crashy"]
    child = SPAWN.Process(target=crash_during_push, args=(target, target.scratch, "crashy", where))
    child.start()
    child.join(120)
    assert child.exitcode == 9
    with target.open("reader") as remote:
        head = read_heads(remote)["crashy"]
        assert head.etag == before.etag
        manifest = read_manifest(remote, head.snapshot)
        assert len(remote.get_many(object_key(h) for h in manifest.docs.values())) == len(
            manifest.docs
        )
    with store_of(target.scratch, "other") as other:
        sync(target, other)
        assert "preference:first" in other.heads() and "preference:crash-0" not in other.heads()
        with target.open("other") as remote:
            report = gc(other, remote, grace=0)
            # git and PostgreSQL write a push's batch as one commit or transaction: the
            # crash leaves nothing; a folder and Azure Blob keep the objects written so far
            transactional = target.backend in ("git", "postgres")
            assert report.deleted == report.garbage
            assert (report.garbage == 0) if transactional else (report.garbage >= 1)
            assert gc(other, remote, grace=0).garbage == 0
            keys = set(remote.list())
            assert all(k in keys for k in (head_key("crashy"), head.snapshot))
        with store_of(target.scratch, "crashy") as store:
            assert sync(target, store, "push").push.pushed
        sync(target, other)
        assert {f"preference:crash-{i}" for i in range(5)} <= set(other.heads())


def test_a_conflict_needing_review_is_resolved_once_and_reaches_every_machine(
    target: Target,
) -> None:
    """Overlapping markdown edits keep each side's text until someone picks one."""
    a, b = store_of(target.scratch, "a"), store_of(target.scratch, "b")

    with a, b:
        review_conflict(target, a, b)
        assert a.get("claude_file:user/CLAUDE.md").body["text"] == "# Me\nrule ONE\n"
        assert b.get("claude_file:user/CLAUDE.md").body["text"] == "# Me\nrule 1\n"
        [pending] = conflicts(b)
        assert pending.status == "needs_review" and pending.policy == "text3"
        assert len(conflicts(b)) == 1  # seen again by later pulls, recorded once
        resolve(b, "claude_file:user/CLAUDE.md", "remote")
        converge(target, a, b)
        assert a.get("claude_file:user/CLAUDE.md").body["text"] == "# Me\nrule ONE\n"
        assert content(a) == content(b)
        assert conflicts(a) == [] and conflicts(b) == []
        history = {r.hash for r in b.history("claude_file:user/CLAUDE.md")}
        assert pending.local_hash in history and pending.remote_hash in history


def test_a_conflict_is_resolved_by_naming_a_revision_by_its_hash_prefix(target: Target) -> None:
    """`agents sync resolve DOC --take <hash>`: a prefix of 8 or more hex digits names one
    revision of that document; a shorter or unknown one is refused, naming what to give."""
    a, b = store_of(target.scratch, "a"), store_of(target.scratch, "b")

    with a, b:
        review_conflict(target, a, b)
        [pending] = conflicts(b)
        digits = pending.remote_hash.removeprefix("sha256:")
        with pytest.raises(InputError, match="at least 8 hex digits"):
            resolve(b, "claude_file:user/CLAUDE.md", digits[:7])
        with pytest.raises(NotFoundError, match="no revision"):
            resolve(b, "claude_file:user/CLAUDE.md", "0" * 8 if digits[:8] != "0" * 8 else "1" * 8)
        resolve(b, "claude_file:user/CLAUDE.md", digits[:12])
        assert b.get("claude_file:user/CLAUDE.md").body["text"] == "# Me\nrule ONE\n"
        assert conflicts(b) == []


def test_blobs_travel_with_the_revisions_that_reference_them(target: Target) -> None:
    """Large agent outputs' blobs are pushed and fetched with their records, each counted."""
    bigs = [b"x" * 50_000, b"y" * 50_000]
    with store_of(target.scratch, "a") as a, store_of(target.scratch, "b") as b:
        refs = [a.blobs.put(big) for big in bigs]
        for i, (ref, big) in enumerate(zip(refs, bigs, strict=True)):
            a.put(
                f"agent_output:01JBLOB000000000000000000{i}", "agent_output", output(ref, len(big))
            )
        assert sync(target, a).push.blobs == 2
        assert sync(target, b).pull.blobs == 2
        assert [b.blobs.get(ref) for ref in refs] == bigs


def test_status_says_what_is_unpushed_and_which_machines_are_not_pulled(target: Target) -> None:
    """Status reads heads only and changes nothing."""
    with store_of(target.scratch, "a") as a, store_of(target.scratch, "b") as b:
        a.put("preference:x", "preference", pref(1, "x"))
        sync(target, a)
        b.put("preference:y", "preference", pref(2, "y"))
        with target.open("b") as remote:
            data = Syncer(b, remote).status()
        assert data["behind"] == [] and [p["machine"] for p in data["pending"]] == ["a"]
        trust_siblings(b)
        with target.open("b") as remote:
            data = Syncer(b, remote).status()
        assert data["unpushed"] == 2 and data["behind"] == ["a"] and data["pending"] == []
        assert [m["machine"] for m in data["machines"]] == ["a"]
        sync(target, b)
        with target.open("b") as remote:
            data = Syncer(b, remote).status()
        assert data["unpushed"] == 0 and data["behind"] == []


def test_a_corrupt_object_is_quarantined_and_blocks_nothing_else(tmp_path: Path) -> None:
    """A revision whose bytes do not match its name never reaches the store."""
    root = tmp_path
    target = Target("dir", f"dir://{root / 'remote'}", {}, str(root))
    with store_of(target.scratch, "a") as a, store_of(target.scratch, "b") as b:
        bad = a.put("preference:bad", "preference", pref(1, "bad"))
        a.put("preference:good", "preference", pref(2, "good"))
        sync(target, a)
        path = root / "remote" / object_key(bad.hash)
        data = json.loads(path.read_bytes())
        data["body"]["value"] = 666
        path.chmod(0o600)
        path.write_bytes(json.dumps(data).encode())
        report = sync(target, b, "pull")
        assert bad.hash in report.pull.refused and "preference:bad" not in b.heads()
        assert "preference:good" in b.heads()
        with b.reading() as conn:
            assert conn.execute("SELECT count(*) FROM quarantine").fetchone()[0] == 1


def test_gc_keeps_recent_snapshots_and_deletes_older_ones_only_after_the_grace(
    target: Target,
) -> None:
    """Two-phase: a first gc marks, a later one deletes what is still garbage."""
    with store_of(target.scratch, "a") as a:
        for i in range(4):
            a.put("preference:n", "preference", pref(i, "n"))
            sync(target, a, "push")
        with target.open("a") as remote:
            first = gc(a, remote, keep=2, grace=3600)
            assert first.garbage >= 2 and first.deleted == 0 and first.waiting == first.garbage
            kept = len(remote.list("snapshots/a/"))
            assert kept == 4
            second = gc(a, remote, keep=2, grace=0)
            assert second.deleted == first.garbage
            assert len(remote.list("snapshots/a/")) == 2
        with store_of(target.scratch, "late") as late:
            sync(target, late)
            assert late.get("preference:n").body["value"] == 3


def store_record_is_new(store: ContextStore, doc_id: str) -> bool:
    """True for a sync record written after the last compaction (none came back from a)."""
    return store.get(doc_id).origin_machine == store.machine_id


def test_logs_compacted_on_one_machine_are_not_pulled_back_from_another(tmp_path: Path) -> None:
    """compact drops old agent outputs and sync records here; the next syncs leave them out,
    even once the machine they came from has changed one."""
    target = folder_target(tmp_path)
    old_output = output(handler="agent_info")
    with store_of(target.scratch, "a") as a, store_of(target.scratch, "b") as b:
        a.put("agent_output:01JOLD0000000000000000000X", "agent_output", old_output)
        sync(target, a)
        sync(target, b)
        assert "agent_output:01JOLD0000000000000000000X" in b.heads()
        done = compact(b, 0)
        assert done.outputs == 1 and done.records >= 1
        sync(target, b)
        assert "agent_output:01JOLD0000000000000000000X" not in b.heads()
        pulled_back = [d for d in b.heads() if d.startswith("sync_record:")]
        assert all(store_record_is_new(b, d) for d in pulled_back)
        sync(target, a)
        assert "agent_output:01JOLD0000000000000000000X" in a.heads()  # a keeps its own
        a.put(  # changed there after b compacted it: still not brought back
            "agent_output:01JOLD0000000000000000000X",
            "agent_output",
            {**old_output, "status": "error", "outcome": "error"},
        )
        sync(target, a, "push")
        sync(target, b)
        assert "agent_output:01JOLD0000000000000000000X" not in b.heads()


def forge_manifest(root: Path, machine: str, doc: str, digest: str, signer: Identity) -> None:
    """Rewrite ``machine``'s newest manifest on a dir remote so it names ``digest`` for ``doc``,
    signed by ``signer``. Signed with the machine's own key, it is what a trusted machine with
    a bug (or a stolen key) could publish: the merge guards still hold."""
    head = json.loads((root / head_key(machine)).read_bytes())
    path = root / head["snapshot"]
    data = json.loads(path.read_bytes())
    data["docs"][doc] = digest
    path.chmod(0o600)
    path.write_bytes(canonical(signer.sign(SNAPSHOT_FORMAT, data)))


def test_a_manifest_naming_another_documents_revision_for_a_new_document_is_refused(
    tmp_path: Path,
) -> None:
    """A restore adopts only revisions of the document the manifest names them for."""
    target = folder_target(tmp_path)
    with store_of(target.scratch, "a") as a, store_of(target.scratch, "b") as b:
        a.put("preference:x", "preference", pref(1, "x"))
        y = a.put("preference:y", "preference", pref(2, "y"))
        sync(target, a)
        forge_manifest(tmp_path / "remote", "a", "preference:x", y.hash, identity_of(a))
        report = sync(target, b, "pull")
        assert "another document" in report.pull.refused[y.hash]
        assert "preference:x" not in b.heads()
        assert b.heads()["preference:y"] == y.hash
        assert b.get("preference:y").body["value"] == 2


def test_a_manifest_naming_another_documents_revision_for_a_held_document_is_refused(
    tmp_path: Path,
) -> None:
    """A document held here never moves its head to a revision of another document."""
    target = folder_target(tmp_path)
    with store_of(target.scratch, "a") as a, store_of(target.scratch, "b") as b:
        x = a.put("preference:x", "preference", pref(1, "x"))
        sync(target, a)
        sync(target, b, "pull")
        assert b.heads()["preference:x"] == x.hash
        a.put("preference:x", "preference", pref(3, "x"))
        y = a.put("preference:y", "preference", pref(2, "y"))
        sync(target, a)
        forge_manifest(tmp_path / "remote", "a", "preference:x", y.hash, identity_of(a))
        report = sync(target, b, "pull")
        assert "'preference:y'" in report.pull.refused[y.hash]
        assert b.heads()["preference:x"] == x.hash
        assert b.get("preference:x").body["value"] == 1
        assert b.heads()["preference:y"] == y.hash


def test_edits_to_different_fields_merge_on_their_common_ancestor_from_a_third_machine(
    tmp_path: Path,
) -> None:
    """b has never pulled from a: the merge base is found by walking both histories back to
    the revision both got from c, so edits to different fields merge without a conflict."""
    target = folder_target(tmp_path)
    with (
        store_of(target.scratch, "a") as a,
        store_of(target.scratch, "b") as b,
        store_of(target.scratch, "c") as c,
    ):
        c.put("session:s", "session", session("t0", "active"))
        sync(target, c)
        sync(target, a, "pull")
        sync(target, b, "pull")
        a.put("session:s", "session", session("t1", "active"))
        sync(target, a, "push")
        b.put("session:s", "session", session("t0", "paused"))
        sync(target, b, "pull")
        assert conflicts(b) == []
        assert b.get("session:s").body == {
            "title": "t1",
            "status": "paused",
            "current_tasks": [],
        }


def test_a_forged_revision_for_a_held_document_is_refused_again_in_the_next_snapshot(
    tmp_path: Path,
) -> None:
    """A refused mapping is never remembered as agreed with that machine: when its next
    snapshot names the same foreign revision again, the pull refuses it again."""
    target = folder_target(tmp_path)
    with store_of(target.scratch, "a") as a, store_of(target.scratch, "b") as b:
        x = a.put("preference:x", "preference", pref(1, "x"))
        sync(target, a)
        sync(target, b, "pull")
        y = a.put("preference:y", "preference", pref(2, "y"))
        sync(target, a)
        forge_manifest(tmp_path / "remote", "a", "preference:x", y.hash, identity_of(a))
        assert y.hash in sync(target, b, "pull").pull.refused
        a.put("preference:z", "preference", pref(3, "z"))
        sync(target, a)
        forge_manifest(tmp_path / "remote", "a", "preference:x", y.hash, identity_of(a))
        again = sync(target, b, "pull").pull
        assert "'preference:y'" in again.refused[y.hash]
        assert b.heads()["preference:x"] == x.hash


def test_edits_made_twice_between_pulls_still_merge_on_the_revision_last_pulled(
    tmp_path: Path,
) -> None:
    """A pull fetches only a machine's newest revision of a document, so the revisions in
    between are not held here and the walk back through parents stops short; the merge base
    is then the revision last pulled from that machine, and edits to different fields still
    merge without a conflict."""
    target = folder_target(tmp_path)
    with store_of(target.scratch, "a") as a, store_of(target.scratch, "b") as b:
        a.put("session:s", "session", session("t0", "active"))
        sync(target, a)
        sync(target, b, "pull")
        a.put("session:s", "session", session("t1", "active"))
        a.put("session:s", "session", session("t2", "active"))
        sync(target, a)
        b.put("session:s", "session", session("t0", "paused"))
        sync(target, b, "pull")
        assert conflicts(b) == []
        assert b.get("session:s").body == session("t2", "paused")


def test_a_pulled_head_move_is_audited_with_the_sync_actor_and_the_remote(
    tmp_path: Path,
) -> None:
    """The audit row of a head moved by a pull says it was the sync and from which remote,
    for a new document and for a newer revision of a held one."""
    target = folder_target(tmp_path)
    with store_of(target.scratch, "a") as a, store_of(target.scratch, "b") as b:
        first = a.put("preference:x", "preference", pref(1, "x"))
        sync(target, a)
        sync(target, b, "pull")
        second = a.put("preference:x", "preference", pref(2, "x"))
        sync(target, a)
        sync(target, b, "pull")
        with b.reading() as conn:
            rows = audit.query(conn, doc_id="preference:x", op="fast_forward")
        moves = {(r.old_hash, r.new_hash): (r.actor, r.remote, r.result) for r in rows}
        remote = f"dir://{tmp_path / 'remote'}"
        assert moves == {
            (None, first.hash): ("sync", remote, "ok"),
            (first.hash, second.hash): ("sync", remote, "ok"),
        }


def test_the_pull_report_counts_and_names_every_document_it_moved(tmp_path: Path) -> None:
    """What `agents sync` reports: each document adopted, fast-forwarded, merged or kept
    is counted once, over every machine pulled (and each revision received), and the adopted
    and moved ones are listed with their hashes; a document edited only here since the last
    pull is not counted, and nothing is refused."""
    target = folder_target(tmp_path)
    with (
        store_of(target.scratch, "a") as a,
        store_of(target.scratch, "b") as b,
        store_of(target.scratch, "c") as c,
    ):
        x1 = a.put("preference:x", "preference", pref(1, "x"))
        a.put("preference:z", "preference", pref(1, "z"))  # edited only on b later
        for s in ("session:s1", "session:s2"):
            a.put(s, "session", session("t0", "active"))
        sync(target, a)
        for k in ("preference:k1", "preference:k2"):
            b.put(k, "preference", pref(1, k))
        sync(target, b)
        sync(target, a, "pull")
        for k in ("preference:k1", "preference:k2"):
            b.put(k, "preference", pref(2, k))  # newer here: kept
        x2 = a.put("preference:x", "preference", pref(2, "x"))  # fast-forward
        y = a.put("preference:y", "preference", pref(1, "y"))  # new here: adopted
        for s in ("session:s1", "session:s2"):  # edited on both: merged
            a.put(s, "session", session("t1", "active"))
            b.put(s, "session", session("t0", "paused"))
        b.put("preference:z", "preference", pref(2, "z"))
        sync(target, a)
        w = c.put("preference:w", "preference", pref(1, "w"))  # a second machine: adopted
        sync(target, c, "push")
        trust_siblings(b)  # (the pull below does it first, as `sync` does)
        before = b.heads()
        report = sync(target, b, "pull").pull
        after = b.heads()
        assert report.received >= report.fast_forwarded  # a's revisions and c's, each new here
        assert (report.kept, report.merged) == (2, 2)
        assert report.machines == ["a", "c"] and report.refused == {}
        assert report.fast_forwarded + report.merged == report.changed
        listed = report.added + report.modified
        assert len(listed) == report.changed
        mine = {d for d in after if d.startswith("sync_record:")}  # this pull writes one too
        moved = {d: h for d, h in after.items() if before.get(d) != h and d not in mine}
        assert {e["doc_id"]: e["new_hash"] for e in listed if e["doc_id"] not in mine} == moved
        assert {"doc_id": "preference:y", "new_hash": y.hash} in report.added
        assert {"doc_id": "preference:w", "new_hash": w.hash} in report.added
        assert {"doc_id": "preference:x", "old_hash": x1.hash, "new_hash": x2.hash} in (
            report.modified
        )
        assert all(e["old_hash"] == before[e["doc_id"]] for e in report.modified)
        shown = json.loads(json.dumps(report.as_dict()))  # what `agents sync --json` prints
        assert (shown["changed"], shown["kept"], shown["merged"]) == (report.changed, 2, 2)
        assert shown["added"] == report.added and shown["modified"] == report.modified
        a.put("preference:v", "preference", pref(1, "v"))
        sync(target, a)
        again = sync(target, b, "pull").pull  # what was merged or kept is settled: once
        assert (again.kept, again.merged) == (0, 0) and again.fast_forwarded >= 1


def test_a_conflict_records_both_heads_and_their_common_ancestor(tmp_path: Path) -> None:
    """Whether it waits for review (overlapping text) or was settled by the latest clock (one
    field on both), the conflict row names the local head, the remote head and the revision
    both came from, which is what a review diffs against."""
    target = folder_target(tmp_path)

    with store_of(target.scratch, "a") as a, store_of(target.scratch, "b") as b:
        text0 = a.put("claude_file:user/CLAUDE.md", "claude_file", md("# Me\nrule one\n"))
        url0 = a.put("mcp_server:n", "mcp_server", {"name": "n", "transport": "http", "url": "u0"})
        sync(target, a)
        sync(target, b, "pull")
        text_a = a.put("claude_file:user/CLAUDE.md", "claude_file", md("# Me\nrule ONE\n"))
        url_a = a.put("mcp_server:n", "mcp_server", {"name": "n", "transport": "http", "url": "a"})
        sync(target, a)
        text_b = b.put("claude_file:user/CLAUDE.md", "claude_file", md("# Me\nrule 1\n"))
        url_b = b.put("mcp_server:n", "mcp_server", {"name": "n", "transport": "http", "url": "b"})
        sync(target, b, "pull")
        rows = {(c.doc_id, c.status): c for c in conflicts(b, None)}
        review = rows["claude_file:user/CLAUDE.md", "needs_review"]
        assert (review.local_hash, review.remote_hash, review.base_hash) == (
            text_b.hash,
            text_a.hash,
            text0.hash,
        )
        settled = rows["mcp_server:n", "auto_resolved"]
        assert (settled.local_hash, settled.remote_hash, settled.base_hash) == (
            url_b.hash,
            url_a.hash,
            url0.hash,
        )


def test_a_document_made_on_two_machines_independently_conflicts_with_no_common_ancestor(
    tmp_path: Path,
) -> None:
    """The same CLAUDE.md written on two machines that never shared it: lines that overlap
    wait for review, with no common ancestor in the conflict row, and the pull goes on."""
    target = folder_target(tmp_path)
    with store_of(target.scratch, "a") as a, store_of(target.scratch, "b") as b:
        theirs = a.put("claude_file:user/CLAUDE.md", "claude_file", md("# Me\nrule one\n"))
        a.put("preference:x", "preference", pref(1, "x"))
        sync(target, a)
        mine = b.put("claude_file:user/CLAUDE.md", "claude_file", md("# Me\nrule 1\n"))
        sync(target, b, "pull")
        [row] = conflicts(b, None)
        assert (row.doc_id, row.status) == ("claude_file:user/CLAUDE.md", "needs_review")
        assert (row.local_hash, row.remote_hash, row.base_hash) == (mine.hash, theirs.hash, None)
        assert b.get("preference:x").body == pref(1, "x")


def test_a_merge_made_by_a_pull_is_audited_with_the_head_it_replaced(tmp_path: Path) -> None:
    """Edits of different fields on two machines merge; the audit row of the merge names the
    local head it replaced and the merged revision, as the sync."""
    target = folder_target(tmp_path)
    with store_of(target.scratch, "a") as a, store_of(target.scratch, "b") as b:
        session_moved_on(target, a, b)
        mine = b.put("session:s", "session", session("t0", "completed"))
        sync(target, b, "pull")
        merged = b.get("session:s")
        assert merged.body == session("t1", "completed")
        with b.reading() as conn:
            [row] = audit.query(conn, doc_id="session:s", op="merge")
        assert (row.old_hash, row.new_hash, row.actor) == (mine.hash, merged.hash, "sync")


def test_what_was_set_aside_is_listed_with_its_source_reason_and_content_once(
    tmp_path: Path,
) -> None:
    """`agents sync quarantine`: a head that is not JSON is kept with its bytes; a snapshot
    that is gone is kept as its key and the reason; each once, however often it is pulled,
    and a head damaged again in another way once more."""
    remote = tmp_path / "remote"
    target = Target("dir", f"dir://{remote}", {}, str(tmp_path))
    with store_of(target.scratch, "a") as a, store_of(target.scratch, "b") as b:
        a.put("preference:x", "preference", pref(1, "x"))
        sync(target, a)
        snapshot = json.loads((remote / head_key("a")).read_bytes())["snapshot"]
        (remote / snapshot).unlink()
        (remote / head_key("zz")).write_bytes(b"not json at all")
        report = sync(target, b, "pull").pull
        assert sorted((q["key"], q["machine"]) for q in report.quarantined) == [
            (head_key("zz"), "zz"),
            (snapshot, "a"),
        ]
        assert sync(target, b, "pull").pull.quarantined == []  # recorded once per version
        assert quarantine_count(b) == 2
        listed = quarantined(b)
        assert all(isinstance(q["id"], int) for q in listed)
        assert [q["id"] for q in listed] == sorted((q["id"] for q in listed), reverse=True)
        by_excerpt = {q["excerpt"].split(":")[0]: q for q in listed}
        garbage, gone = by_excerpt["not json at all"], by_excerpt[f"<{snapshot}"]
        assert garbage["source"] == gone["source"] == f"dir://{remote}"
        assert "heads/zz.json" in garbage["error"] and "not JSON" in garbage["error"]
        assert gone["excerpt"] == f"<{snapshot}: {gone['error']}>"
        assert all(q["received_at"] for q in listed)
        (remote / head_key("zz")).write_bytes(b"still not json")  # another version: again
        assert [q["key"] for q in sync(target, b, "pull").pull.quarantined] == [head_key("zz")]


def test_a_head_set_aside_is_audited_with_its_key_and_listed_with_when_it_arrived(
    tmp_path: Path,
) -> None:
    """The audit row of a quarantined head names the remote object, and `agents sync
    quarantine` says when it arrived (a time, not the remote's URL)."""
    remote = tmp_path / "remote"
    target = Target("dir", f"dir://{remote}", {}, str(tmp_path))
    with store_of(target.scratch, "a") as a, store_of(target.scratch, "b") as b:
        a.put("preference:x", "preference", pref(1, "x"))
        sync(target, a)
        (remote / head_key("zz")).write_bytes(b"not json at all")
        before = datetime.now(UTC)
        sync(target, b, "pull")
        with b.reading() as conn:
            rows = audit.query(conn, op="quarantine")
        assert [(r.detail and json.loads(r.detail), r.remote) for r in rows] == [
            ({"path": head_key("zz")}, f"dir://{remote}")
        ]
        [listed] = quarantined(b)
        arrived = datetime.fromisoformat(listed["received_at"])
        assert before - timedelta(seconds=1) <= arrived <= datetime.now(UTC)


def test_a_fast_forward_moves_the_merge_base_so_later_edits_merge_on_it(tmp_path: Path) -> None:
    """After a pull fast-forwards a document, the revision it moved to is the base for that
    machine: when the next pull's walk back through parents stops short (two edits there in
    between), edits to different fields merge on it instead of conflicting on the older one."""
    target = folder_target(tmp_path)
    with store_of(target.scratch, "a") as a, store_of(target.scratch, "b") as b:
        session_moved_on(target, a, b)
        sync(target, b, "pull")  # a fast-forward to t1
        a.put("session:s", "session", session("t2", "active"))
        a.put("session:s", "session", session("t3", "active"))
        sync(target, a)
        b.put("session:s", "session", session("t1", "paused"))
        sync(target, b, "pull")
        assert conflicts(b) == []
        assert b.get("session:s").body == session("t3", "paused")


@contextlib.contextmanager
def origin_relay_and_b(target: Target) -> Iterator[tuple[ContextStore, ContextStore, ContextStore]]:
    """Machines z (where session:s is written), c (which may pass it on) and b, b holding
    session:s as z first wrote it."""
    with (
        store_of(target.scratch, "z") as origin,
        store_of(target.scratch, "c") as relay,
        store_of(target.scratch, "b") as b,
    ):
        origin.put("session:s", "session", session("t0", "active"))
        sync(target, origin)
        sync(target, b, "pull")
        yield origin, relay, b


def test_a_revision_already_held_through_another_machine_moves_the_merge_base_too(
    tmp_path: Path,
) -> None:
    """A machine's revision that this machine already descends from (it came through a third
    machine, which edited on top of it) is kept, and it becomes the base for the machine it
    came from: later edits there merge on it instead of conflicting on an older one."""
    target = folder_target(tmp_path)
    with origin_relay_and_b(target) as (origin, relay, b):
        origin.put("session:s", "session", session("t1", "active"))
        sync(target, origin)
        sync(target, relay, "pull")
        relay.put("session:s", "session", session("t1", "paused"))
        sync(target, relay)
        sync(target, b, "pull")  # c's revision first (machines in id order), then z's is kept
        assert b.get("session:s").body["status"] == "paused"
        origin.put("session:s", "session", session("t2", "active"))
        origin.put("session:s", "session", session("t3", "active"))
        sync(target, origin, "push")  # not merged with c's edit there
        b.put("session:s", "session", {"title": "t1", "status": "paused", "current_tasks": ["x"]})
        sync(target, b, "pull")
        assert conflicts(b) == []
        assert b.get("session:s").body == {
            "title": "t3",
            "status": "paused",
            "current_tasks": ["x"],
        }


def test_a_revision_that_came_here_unchanged_through_another_machine_is_the_base_for_its_own(
    tmp_path: Path,
) -> None:
    """A machine's revision that already arrived here unchanged through a third machine is
    the base for the machine it came from, though that pull settles nothing: when the next
    pull's walk back through parents stops short, edits to different fields merge on it."""
    target = folder_target(tmp_path)
    with origin_relay_and_b(target) as (origin, relay, b):
        origin.put("session:s", "session", session("t1", "active"))
        sync(target, origin, "push")
        sync(target, relay)  # passes t1 on unchanged
        report = sync(target, b, "pull").pull  # c's copy first (id order), then z's: the same
        assert report.machines == ["c", "z"] and (report.changed, report.kept) == (
            len(report.added) + len(report.modified),
            0,
        )
        origin.put("session:s", "session", session("t2", "active"))
        origin.put("session:s", "session", session("t3", "active"))
        sync(target, origin, "push")
        b.put("session:s", "session", session("t1", "paused"))
        sync(target, b, "pull")
        assert conflicts(b) == []
        assert b.get("session:s").body == session("t3", "paused")


def test_a_pull_opens_each_phase_with_its_size_and_advances_it_to_the_end(
    tmp_path: Path,
) -> None:
    """The progress bars `agents sync` shows on a terminal: the fetch and the merge are each
    opened under their name with the number of items, and advanced by exactly that many."""
    phases: list[tuple[str, int, int]] = []

    @contextlib.contextmanager
    def progress(phase: str, total: int) -> Iterator[Callable[[int], None]]:
        steps: list[int] = []
        yield steps.append
        phases.append((phase, total, sum(steps)))

    target = folder_target(tmp_path)
    with store_of(target.scratch, "a") as a, store_of(target.scratch, "b") as b:
        for i in range(3):
            a.put(f"preference:p{i}", "preference", pref(i, f"p{i}"))
        sync(target, a)
        identity_of(b)
        trust_siblings(b)
        with target.open("b") as remote:
            Syncer(b, remote, progress=progress).pull()
    pulled = {p: (total, done) for p, total, done in phases if p in ("fetch", "merge")}
    assert set(pulled) == {"fetch", "merge"}, phases
    assert all(total == done >= 3 for total, done in pulled.values()), phases


def test_a_conflict_waiting_for_review_is_not_the_base_of_the_next_merge(
    tmp_path: Path,
) -> None:
    """While an edit of the other machine waits for review here, it is not taken as a common
    ancestor: when that machine edits on (twice, so the walk back through parents stops
    short), the same clash is a conflict again, never a merge that drops its edit."""
    target = folder_target(tmp_path)

    doc, tail = "claude_file:user/CLAUDE.md", "\n## Other\n\none\n"  # edits far below
    with store_of(target.scratch, "a") as a, store_of(target.scratch, "b") as b:
        a.put(doc, "claude_file", md(f"# Me\nrule one\n{tail}"))
        sync(target, a)
        sync(target, b, "pull")
        a.put(doc, "claude_file", md(f"# Me\nrule ONE\n{tail}"))
        b.put(doc, "claude_file", md(f"# Me\nrule 1\n{tail}"))
        sync(target, a)
        sync(target, b, "pull")
        assert [c.status for c in conflicts(b)] == ["needs_review"]
        a.put(doc, "claude_file", md(f"# Me\nrule ONE\n{tail}two\n"))
        latest = a.put(doc, "claude_file", md(f"# Me\nrule ONE\n{tail}two\nthree\n"))
        sync(target, a)
        sync(target, b, "pull")
        assert b.get(doc).body["text"] == f"# Me\nrule 1\n{tail}"
        assert latest.hash in {c.remote_hash for c in conflicts(b)}


def test_a_head_this_machine_wrote_from_another_copy_of_its_store_is_pulled(
    tmp_path: Path,
) -> None:
    """A copy of this machine's store (a restored backup, a second checkout) that pushed under
    the same machine id: the next pull here brings its edits in."""
    target = folder_target(tmp_path)
    with store_of(target.scratch, "a") as a:
        a.put("preference:x", "preference", pref(1, "x"))
        sync(target, a)
    push_from_a_copy(target, "a", tmp_path / "copy", "preference:x", pref(2, "x"))
    with store_of(target.scratch, "a") as a:
        sync(target, a, "pull")
        assert a.get("preference:x").body == pref(2, "x")


def test_a_machine_trusted_by_a_decision_just_pulled_is_merged_in_the_same_pull(
    tmp_path: Path,
) -> None:
    """Trust decisions arrive in a trusted machine's snapshot and count at once: a machine
    this one learns to trust from it (pending until then) is merged in that same pull and is
    no longer reported pending."""
    target = folder_target(tmp_path)
    with (
        store_of(target.scratch, "m") as m,
        store_of(target.scratch, "b") as b,
        store_of(target.scratch, "c") as c,
    ):
        c.put("preference:c", "preference", pref(1, "c"))
        with target.open("c") as remote:
            Syncer(c, remote).push()
        decide(m, "c", identity_of(c).public_key, trusted=True)
        with target.open("m") as remote:
            Syncer(m, remote).push()
        decide(b, "m", identity_of(m).public_key, trusted=True)  # b trusts only m
        with target.open("b") as remote:
            report = Syncer(b, remote).pull().pull
        assert report is not None
        assert report.pending == {} and report.machines == ["m", "c"]
        assert b.get("preference:c").body == pref(1, "c")


def test_a_pull_of_many_revisions_streams_the_objects_in_batches_and_gets_every_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From ``SCAN_FROM`` revisions on (a restore), a pull reads the remote's whole objects
    prefix instead of key by key (passing over revisions it does not want), hands them on
    ``FETCH`` at a time, and misses none; fewer are read by key, each once."""
    monkeypatch.setattr(pull, "SCAN_FROM", 4)
    monkeypatch.setattr(pull, "FETCH", 3)
    batches: list[int] = []

    @contextlib.contextmanager
    def progress(phase: str, total: int) -> Iterator[Callable[[int], None]]:
        yield batches.append if phase == "fetch" else (lambda n: None)

    target = folder_target(tmp_path)
    with store_of(target.scratch, "a") as a, store_of(target.scratch, "b") as b:
        made = {
            f"preference:p{i}": a.put(f"preference:p{i}", "preference", pref(i)).hash
            for i in range(7)
        }
        sync(target, a)
        made["preference:p0"] = a.put("preference:p0", "preference", pref("again")).hash
        sync(target, a)  # the first p0 stays on the remote, wanted by no one
        identity_of(b)
        trust_siblings(b)
        with target.open("b") as remote:
            by_key: list[str] = []
            get_many = remote.get_many

            def spied(keys: Iterable[str]) -> Any:
                keys = list(keys)
                by_key.extend(k for k in keys if k.startswith("objects/"))
                return get_many(keys)

            monkeypatch.setattr(remote, "get_many", spied)
            report = Syncer(b, remote, progress=progress).pull().pull
        assert report is not None and report.refused == {}
        assert by_key == [] and sum(batches) >= 7 and max(batches) == 3
        assert {d: b.heads()[d] for d in made} == made
        moved = {"preference:p1": a.put("preference:p1", "preference", pref("third")).hash}
        sync(target, a)
        batches.clear()
        with target.open("b") as remote:
            again = Syncer(b, remote, progress=progress).pull().pull
        # fewer than SCAN_FROM: read by key, each once, in one batch
        assert again is not None and again.received < 4 and batches == [again.received]
        assert {d: b.heads()[d] for d in moved} == moved
