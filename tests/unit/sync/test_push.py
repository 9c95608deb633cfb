"""Push (agents/sync/push.py) against a folder remote: what one push writes and records, what
it leaves out as already there, and the audit chunks it uploads, once each, also after a
push that died before it noted what it had sent."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from agents.store import audit
from agents.store.canonical import canonical
from agents.store.identity import Identity
from agents.store.maintenance import compact
from agents.store.store import ContextStore
from agents.sync.audit_remote import verify_remote
from agents.sync.dir_remote import DirRemote
from agents.sync.gc import gc
from agents.sync.keys import audit_key, blob_key, object_key
from agents.sync.pull import Progress, SyncContext, no_progress, pull
from agents.sync.push import PushReport, push, upload_audit
from agents.sync.remote import RemoteError
from agents.sync.state import LocalState, read_heads, read_manifest, remote_id
from tests.integration.sync.machines import output, pref, trust_siblings

BIG = b"x" * 50_000


@pytest.fixture(name="remote")
def _remote(tmp_path: Path) -> DirRemote:
    return DirRemote(tmp_path / "remote")


@pytest.fixture(name="machine")
def _machine(tmp_path: Path) -> Iterator[Callable[[str], ContextStore]]:
    """Opens the store of a machine (its siblings are the other machines it trusts)."""
    opened: list[ContextStore] = []

    def open_store(name: str) -> ContextStore:
        store = ContextStore(tmp_path / "stores" / name, machine_id=name, actor="cli")
        opened.append(store)
        return store

    yield open_store
    for store in opened:
        store.close()


def context(
    store: ContextStore, remote: DirRemote, progress: Progress = no_progress
) -> SyncContext:
    """A sync of ``store`` with ``remote`` (created on first use), trusting its siblings."""
    trust_siblings(store)
    rid = remote_id(remote, create=True)
    assert rid is not None
    return SyncContext(store, remote, LocalState(store, rid), progress)


def audit_rows(store: ContextStore) -> list[audit.AuditEntry]:
    with store.reading() as conn:
        return audit.after(conn, 0, 1_000_000)


def chunks(remote: DirRemote, machine: str) -> dict[int, list[int]]:
    """{first seq in the key: the seqs of the rows it holds} of ``machine``'s audit chunks."""
    found: dict[int, list[int]] = {}
    for key in remote.list(f"audit/{machine}/"):
        entry = remote.get(key)
        assert entry is not None
        lines = [json.loads(line) for line in entry.data.splitlines()]
        assert lines[-1]["format"] == audit.CHECKPOINT
        first = int(key.rsplit("/", 1)[1].removesuffix(".jsonl"))
        found[first] = [row["seq"] for row in lines[:-1]]
    return found


def note_sent_up_to(ctx: SyncContext, seq: int) -> None:
    """This machine's note of the audit rows it sent, as a push that died before saving it
    left it."""
    with ctx.store.transaction() as conn:
        ctx.state.put(conn, audit_seq=seq)


def test_a_push_writes_each_revision_and_blob_the_manifest_and_then_the_head(
    machine: Callable[[str], ContextStore], remote: DirRemote
) -> None:
    a = machine("a")
    ref = a.blobs.put(BIG)
    a.put("preference:x", "preference", pref(1, "x"))
    a.put("agent_output:01JBLOB0000000000000000000", "agent_output", output(ref, len(BIG)))
    phases: list[tuple[str, int, list[int]]] = []

    def progress(phase: str, total: int) -> AbstractContextManager[Callable[[int], None]]:
        advanced: list[int] = []
        phases.append((phase, total, advanced))
        return nullcontext(advanced.append)

    ctx = context(a, remote, progress)
    heads = a.heads()
    report = push(ctx)
    assert report.snapshot is not None
    sizes = [len(remote.get(object_key(h)).data) for h in heads.values()]  # type: ignore[union-attr]
    assert remote.get(blob_key(ref)) is not None
    assert report == PushReport(
        pushed=True,
        snapshot=report.snapshot,
        documents=len(heads),
        changed=len(heads),
        objects=len(heads),
        blobs=1,
        bytes=sum(sizes) + len(BIG),
        audit_rows=len(audit_rows(a)),
    )
    assert phases == [("push", len(heads) + 1, [len(heads) + 1])]
    first = read_manifest(remote, report.snapshot, "a")
    assert (first.docs, first.seq, first.parent) == (heads, 1, None)
    assert read_heads(remote)["a"].snapshot == report.snapshot

    a.put("preference:x", "preference", pref(2, "x"))
    again = push(ctx)
    assert (again.changed, again.objects, again.blobs) == (1, 1, 0)
    assert again.snapshot is not None
    second = read_manifest(remote, again.snapshot, "a")
    assert (second.seq, second.parent, second.docs) == (2, report.snapshot, a.heads())


def test_a_push_is_audited_with_the_sync_actor_the_remote_and_what_it_published(
    machine: Callable[[str], ContextStore], remote: DirRemote
) -> None:
    a = machine("a")
    a.put("preference:x", "preference", pref(1, "x"))
    report = push(context(a, remote))
    [row] = [r for r in audit_rows(a) if r.op == "push"]
    assert (row.actor, row.remote, row.machine) == ("sync", remote.display_url, "a")
    assert json.loads(row.detail or "null") == {
        "snapshot": report.snapshot,
        "documents": report.documents,
        "objects": report.objects,
    }


def test_a_push_with_nothing_new_writes_no_snapshot_but_still_sends_new_audit_rows(
    machine: Callable[[str], ContextStore], remote: DirRemote
) -> None:
    a = machine("a")
    a.put("preference:x", "preference", pref(1, "x"))
    ctx = context(a, remote)
    first = push(ctx)
    with a.transaction() as conn:
        a.audit(conn, op="verify", detail={"ok": True})  # a row that moves no document
    assert push(ctx) == PushReport(documents=len(a.heads()), audit_rows=1)
    assert read_heads(remote)["a"].snapshot == first.snapshot
    assert push(ctx) == PushReport(documents=len(a.heads()), audit_rows=0)


def test_a_document_gone_here_leaves_the_next_snapshot_once_and_then_nothing_is_pending(
    machine: Callable[[str], ContextStore], remote: DirRemote
) -> None:
    a = machine("a")
    old = "agent_output:01JOLD0000000000000000000X"
    a.put(old, "agent_output", output())
    a.put("preference:x", "preference", pref(1, "x"))
    ctx = context(a, remote)
    push(ctx)
    assert compact(a, 0).outputs == 1
    report = push(ctx)
    assert report.pushed and report.changed >= 1 and report.snapshot is not None
    assert old not in read_manifest(remote, report.snapshot, "a").docs
    assert not push(ctx).pushed  # the drop was noted: no snapshot again for it


def test_a_blob_missing_here_is_logged_by_its_name_and_the_push_goes_on(
    machine: Callable[[str], ContextStore], remote: DirRemote
) -> None:
    a = machine("a")
    ref = a.blobs.put(BIG)
    a.put("agent_output:01JBLOB0000000000000000000", "agent_output", output(ref, len(BIG)))
    a.blobs.path_of(ref).unlink()
    with capture_logs() as logs:
        report = push(context(a, remote))
    assert report.pushed and report.blobs == 0 and remote.get(blob_key(ref)) is None
    assert [e for e in logs if e["event"] == "sync_blob_missing_here"] == [
        {"event": "sync_blob_missing_here", "blob": ref, "log_level": "warning"}
    ]


def test_revisions_pulled_from_other_machines_current_snapshots_are_not_uploaded_again(
    machine: Callable[[str], ContextStore], remote: DirRemote
) -> None:
    a, c, b = machine("a"), machine("c"), machine("b")
    for store in (a, c):
        store.put(f"preference:{store.machine_id}", "preference", pref(1, store.machine_id))
        push(context(store, remote))
    ctx = context(b, remote)
    b.put("preference:b", "preference", pref(1, "b"))
    pull(ctx)
    assert {"preference:a", "preference:c"} <= set(b.heads())
    theirs = set(a.heads().values()) | set(c.heads().values())
    report = push(ctx)
    assert report.objects == len(set(b.heads().values()) - theirs) > 0
    b.put("preference:b", "preference", pref(2, "b"))
    assert push(ctx).objects == 1


def test_a_revision_pulled_from_a_snapshot_since_replaced_is_uploaded_by_the_next_pusher(
    machine: Callable[[str], ContextStore], remote: DirRemote
) -> None:
    """b pulled a's first snapshot; a moved on and gc removed what no current snapshot names.
    b's snapshot still names a's old revision, so b's push must put it back."""
    a, b = machine("a"), machine("b")
    a.put("preference:x", "preference", pref(1, "x"))
    ctx_a = context(a, remote)
    push(ctx_a)
    old = a.heads()["preference:x"]
    ctx_b = context(b, remote)
    pull(ctx_b)
    assert b.heads()["preference:x"] == old
    a.put("preference:x", "preference", pref(2, "x"))
    push(ctx_a)
    assert gc(a, remote, keep=1, grace=0).deleted >= 1
    assert remote.get(object_key(old)) is None
    report = push(ctx_b)
    assert report.snapshot is not None
    assert read_manifest(remote, report.snapshot, "b").docs["preference:x"] == old
    assert remote.get(object_key(old)) is not None


def test_audit_rows_go_up_once_each_in_chunks_named_by_their_first_row(
    machine: Callable[[str], ContextStore], remote: DirRemote
) -> None:
    a = machine("a")
    a.put("preference:x", "preference", pref(1, "x"))
    a.put("preference:w", "preference", pref(1, "w"))
    ctx = context(a, remote)
    first = len(audit_rows(a))
    assert first >= 2
    assert upload_audit(ctx) == first
    assert list(remote.list("audit/")) == [audit_key("a", f"{1:026d}")]
    for i in range(3):
        a.put(f"preference:y{i}", "preference", pref(i, f"y{i}"))
    assert upload_audit(ctx) == 3
    assert upload_audit(ctx) == 0
    assert chunks(remote, "a") == {
        1: list(range(1, first + 1)),
        first + 1: [first + i for i in (1, 2, 3)],
    }
    assert ctx.state.get("audit_seq") == str(first + 3)
    assert verify_remote(a, remote).ok


@pytest.mark.parametrize("after", [2, 0], ids=["rows-written-since", "none-since"])
def test_a_chunk_a_push_sent_before_dying_is_not_sent_again_and_the_rows_after_it_are(
    machine: Callable[[str], ContextStore], remote: DirRemote, after: int
) -> None:
    """The chunk found at the next key is this machine's own: taken as sent without the
    warning a copy of the store gets, whether or not rows were written since."""
    a = machine("a")
    ctx = context(a, remote)
    sent = upload_audit(ctx)
    for i in range(3):
        a.put(f"preference:y{i}", "preference", pref(i, f"y{i}"))
    assert upload_audit(ctx) == 3
    note_sent_up_to(ctx, sent)  # the push died after writing its chunk of 3 rows
    for i in range(after):
        a.put(f"preference:z{i}", "preference", pref(i, f"z{i}"))
    with capture_logs() as logs:
        assert upload_audit(ctx) == 3 + after  # the 3 already there, and those new
    assert [e for e in logs if e["event"] == "sync_audit_chunk_of_a_copy"] == []
    expected = {1: list(range(1, sent + 1)), sent + 1: [sent + 1, sent + 2, sent + 3]}
    if after:
        expected[sent + 4] = [sent + 4, sent + 5]
    assert chunks(remote, "a") == expected
    assert ctx.state.get("audit_seq") == str(sent + 3 + after)
    assert verify_remote(a, remote).ok


def forged_checkpoint(first: int, last: Any) -> bytes:
    """A chunk ending in a checkpoint that claims rows ``first``..``last``, signed by a key
    that is not this machine's."""
    other = Identity.generate()
    fields = {"format": audit.CHECKPOINT, "machine": "a", "first_seq": first, "last_seq": last}
    return canonical(other.sign(audit.CHECKPOINT, {**fields, "entry_hash": "sha256:00"})) + b"\n"


@pytest.mark.parametrize(
    "found",
    [
        forged_checkpoint(1, 1_000_000_000),  # would mark every row to come as sent
        forged_checkpoint(1, "3"),
        b"not json\n",
        b"",
        b"[1, 2]\n",
        b"[" * 100_000 + b"]" * 100_000 + b"\n",
    ],
    ids=["foreign-key", "seq-as-text", "not-json", "empty", "not-an-object", "too-deep"],
)
def test_a_foreign_object_at_this_machines_next_audit_key_is_refused_and_no_row_counts_as_sent(
    machine: Callable[[str], ContextStore], remote: DirRemote, found: bytes
) -> None:
    """Whoever holds the remote cannot make this machine skip its audit rows, or crash it."""
    a = machine("a")
    a.put("preference:x", "preference", pref(1, "x"))
    ctx = context(a, remote)
    key = audit_key("a", f"{1:026d}")
    remote.put_many([(key, found)])
    with pytest.raises(RemoteError, match=f"{key} is not an audit chunk this machine sent"):
        upload_audit(ctx)
    assert ctx.state.get("audit_seq") is None
    remote.delete(key)
    assert upload_audit(ctx) == len(audit_rows(a))
    assert verify_remote(a, remote).ok


def test_an_object_no_read_returns_at_the_next_audit_key_is_refused_not_a_crash(
    machine: Callable[[str], ContextStore], remote: DirRemote
) -> None:
    """A folder where the chunk should be: the write conflicts, the read leaves it out, and
    the push fails with the same refusal, counting no row as sent."""
    a = machine("a")
    a.put("preference:x", "preference", pref(1, "x"))
    ctx = context(a, remote)
    key = audit_key("a", f"{1:026d}")
    (remote.root / key).mkdir(parents=True)
    with pytest.raises(RemoteError, match=f"{key} is not an audit chunk this machine sent"):
        upload_audit(ctx)
    assert ctx.state.get("audit_seq") is None


def test_a_chunk_a_copy_of_this_store_sent_first_is_taken_as_sent_and_logged(
    machine: Callable[[str], ContextStore], remote: DirRemote, tmp_path: Path
) -> None:
    """A restored backup pushing under the same machine id signs with the same key: its rows
    hold the key first, and this machine says so instead of failing every push."""
    a = machine("a")
    ctx = context(a, remote)
    sent = upload_audit(ctx)
    shutil.copytree(a.directory, tmp_path / "copy")
    with ContextStore(tmp_path / "copy", machine_id="a", actor="cli") as copy:
        copy.put("preference:there", "preference", pref(1, "there"))
        rid = remote_id(remote, create=False)
        assert rid is not None
        upload_audit(SyncContext(copy, remote, LocalState(copy, rid)))
    a.put("preference:here", "preference", pref(1, "here"))
    a.put("preference:here2", "preference", pref(1, "here2"))
    with capture_logs() as logs:
        assert upload_audit(ctx) == 2
    key = audit_key("a", f"{sent + 1:026d}")
    assert [e for e in logs if e["event"] == "sync_audit_chunk_of_a_copy"] == [
        {
            "event": "sync_audit_chunk_of_a_copy",
            "key": key,
            "first": sent + 1,
            "last": sent + 1,
            "log_level": "warning",
        }
    ]
    assert set(chunks(remote, "a")) == {1, sent + 1, sent + 2}


@pytest.mark.parametrize("here", [1, 2])
def test_a_copys_chunk_holding_more_rows_than_written_here_covers_each_row_here_once(
    machine: Callable[[str], ContextStore], remote: DirRemote, tmp_path: Path, here: int
) -> None:
    """A restored copy sent 3 rows under the key this machine's next chunk takes, more than it
    wrote since: all its rows count as sent, none is sent again, the push does not crash."""
    a = machine("a")
    ctx = context(a, remote)
    sent = upload_audit(ctx)
    shutil.copytree(a.directory, tmp_path / "copy")
    with ContextStore(tmp_path / "copy", machine_id="a", actor="cli") as copy:
        for i in range(3):
            copy.put(f"preference:there{i}", "preference", pref(i, f"there{i}"))
        upload_audit(SyncContext(copy, remote, LocalState(copy, ctx.state.rid)))
    for i in range(here):
        a.put(f"preference:here{i}", "preference", pref(i, f"here{i}"))
    with capture_logs() as logs:
        assert upload_audit(ctx) == here
    copies = [e["last"] for e in logs if e["event"] == "sync_audit_chunk_of_a_copy"]
    assert copies == [sent + here]
    assert chunks(remote, "a") == {
        1: list(range(1, sent + 1)),
        sent + 1: [sent + 1, sent + 2, sent + 3],
    }
    assert ctx.state.get("audit_seq") == str(sent + here)
