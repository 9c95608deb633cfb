"""gc over the folder remote: what no machine needs goes, what any machine's snapshot names
stays, and deleting waits for the grace."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytest_mock import MockerFixture

from agents.store import audit
from agents.store.store import ContextStore
from agents.sync.gc import GcReport, gc
from agents.sync.keys import blob_key, head_key, object_key
from agents.sync.state import read_heads, read_manifest
from tests.integration.sync.machines import folder_target, output, pref, store_of, sync
from tests.integration.sync.workers import Target

pytestmark = pytest.mark.integration

OUT = "agent_output:01JGC00000000000000000000{}"


def needed(target: Target) -> set[str]:
    """The objects and snapshots the machines' current heads name."""
    with target.open("reader") as remote:
        heads = read_heads(remote)
        keys = {h.snapshot for h in heads.values()}
        for head in heads.values():
            keys |= {object_key(h) for h in read_manifest(remote, head.snapshot).docs.values()}
    return keys


def test_gc_keeps_what_each_machines_current_snapshot_names_and_the_blobs_they_reference(
    tmp_path: Path,
) -> None:
    """Two machines, each with its own documents and blobs: with keep=1 only each machine's
    newest snapshot is kept, with every revision it names and every blob those reference; the
    older revisions and a blob only they referenced go, and a new machine restores everything."""
    target = folder_target(tmp_path)
    with store_of(target.scratch, "a") as a, store_of(target.scratch, "b") as b:
        old, new = (a.blobs.put(c * 40_000) for c in (b"o", b"n"))
        theirs = b.blobs.put(b"t" * 40_000)
        a.put(OUT.format(1), "agent_output", output(old, 40_000))
        for i in range(3):
            a.put("preference:a", "preference", pref(i, "a"))
            sync(target, a, "push")
        a.put(OUT.format(1), "agent_output", output(new, 40_000))
        sync(target, a, "push")
        b.put(OUT.format(2), "agent_output", output(theirs, 40_000))
        b.put("preference:b", "preference", pref(0, "b"))
        sync(target, b, "push")
        with target.open("a") as remote:
            report = gc(a, remote, keep=1, grace=0)
            keys = set(remote.list(""))
        assert report.deleted == report.garbage > 0
        wanted = needed(target)
        assert wanted <= keys
        assert {k for k in keys if k.startswith(("objects/", "snapshots/"))} == wanted
        assert {k for k in keys if k.startswith("blobs/")} == {blob_key(new), blob_key(theirs)}
        assert {head_key("a"), head_key("b")} <= keys
    with store_of(target.scratch, "late") as late:
        sync(target, late)
        assert late.get("preference:a").body["value"] == 2
        assert late.get(OUT.format(1)).body["output_ref"]["blob"] == new
        assert late.blobs.get(new) == b"n" * 40_000 and late.blobs.get(theirs) == b"t" * 40_000


def test_gc_reports_what_it_marked_and_deletes_only_once_the_grace_has_passed(
    tmp_path: Path, mocker: MockerFixture
) -> None:
    """The marks survive between runs (each run's clock read through a narrow seam): a key
    marked at t is deleted by the first run at t + grace, not before; every run is audited."""
    clock = mocker.patch("agents.sync.gc.time")
    clock.time.return_value = 1_000_000.0
    target = folder_target(tmp_path)
    with store_of(target.scratch, "a") as a:
        for i in range(3):
            a.put("preference:n", "preference", pref(i, "n"))
            sync(target, a, "push")
        with target.open("a") as remote:
            keys = remote.list("")
            kept = needed(target)
            n, g = len(keys), sum(1 for k in keys if k.startswith("objects/") and k not in kept)
            assert g >= 2 and sum(1 for k in keys if k.startswith("snapshots/")) == 3
            g += 2  # the two older snapshots
            dry = gc(a, remote, keep=1, grace=0, dry_run=True)
            assert dry.as_dict() == GcReport(n, 1, g, g, 0, 0, dry_run=True).as_dict()
            assert gc(a, remote, keep=1, grace=60) == GcReport(n, 1, g, g, 0, g)
            clock.time.return_value += 59.5
            assert gc(a, remote, keep=1, grace=60) == GcReport(n, 1, g, g, 0, g)
            clock.time.return_value += 0.5
            assert gc(a, remote, keep=1, grace=60) == GcReport(n, 1, g, g, g, 0)
            assert len(remote.list("")) == n - g
            assert gc(a, remote, keep=1, grace=60) == GcReport(n - g, 1)
            url = remote.display_url
        with a.reading() as conn:
            rows = [r.as_dict() for r in audit.query(conn, op="gc")]
    assert [(r["remote"], r["detail"]) for r in reversed(rows)] == [
        (url, {"deleted": 0, "waiting": g, "keys": n, "foreign": 0}),
        (url, {"deleted": 0, "waiting": g, "keys": n, "foreign": 0}),
        (url, {"deleted": g, "waiting": 0, "keys": n, "foreign": 0}),
        (url, {"deleted": 0, "waiting": 0, "keys": n - g, "foreign": 0}),
    ]


def test_gc_leaves_keys_outside_the_layout_alone_names_them_and_still_collects(
    tmp_path: Path,
) -> None:
    """Whoever can write to the remote can add keys that are not ours (a note, an object whose
    fan-out folder is wrong, a snapshot of a machine id that cannot be one): gc deletes none of
    them, counts and names them, and still deletes the garbage it understands."""
    target = folder_target(tmp_path)
    foreign = [
        "notes/readme.txt",
        "objects/sha256/zz/" + "ab" * 32,
        "snapshots/-a/01JGC000000000000000000000.json",
    ]
    with store_of(target.scratch, "a") as a:
        for i in range(2):
            a.put("preference:n", "preference", pref(i, "n"))
            sync(target, a, "push")
        with target.open("a") as remote:
            for key in foreign:
                remote.put_if_absent(key, b"not ours")
            keys = set(remote.list(""))
            assert set(foreign) <= keys
            report = gc(a, remote, keep=1, grace=0)
            left = set(remote.list(""))
        with a.reading() as conn:
            (row,) = [r.as_dict() for r in audit.query(conn, op="gc")]
    assert report.foreign == 3 and report.foreign_keys == sorted(foreign)
    assert report.deleted == report.garbage >= 2  # the older snapshot and revision
    assert left == keys - (keys - left) and set(foreign) <= left
    assert len(left) == len(keys) - report.deleted
    assert row["detail"]["foreign"] == 3


def test_gc_of_a_remote_nobody_pushed_to_writes_nothing(tmp_path: Path) -> None:
    target = folder_target(tmp_path)
    with ContextStore(tmp_path / "s", machine_id="a") as store, target.open("a") as remote:
        assert gc(store, remote, grace=0) == GcReport()
        assert remote.list("") == []


def test_gc_keeps_a_head_whose_snapshots_are_gone(tmp_path: Path) -> None:
    """A remote where someone removed a machine's snapshots by hand: gc still runs, and keeps
    that machine's head for its owner to repair with its next push."""
    target = folder_target(tmp_path)
    with store_of(target.scratch, "a") as a:
        a.put("preference:n", "preference", pref(1, "n"))
        sync(target, a, "push")
        with target.open("a") as remote:
            for key in remote.list("snapshots/"):
                remote.delete(key)
            report = gc(a, remote, grace=0)
            assert head_key("a") in remote.list("heads/") and remote.list("objects/") == []
    assert report.deleted == report.garbage >= 1  # the revisions no snapshot names any more
