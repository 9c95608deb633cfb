"""What sync reads from a remote's heads and meta/store.json: every field checked, a bad head
reported with its key and reason, never taken for another machine's."""

from __future__ import annotations

import fcntl
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from agents.core.errors import StoreError
from agents.store.canonical import canonical, now_iso
from agents.store.identity import Identity
from agents.store.store import ContextStore
from agents.sync.dir_remote import DirRemote
from agents.sync.keys import META_KEY, head_key, snapshot_key
from agents.sync.limits import DamagedError
from agents.sync.remote import Entry, RemoteError
from agents.sync.state import (
    Head,
    Manifest,
    read_heads,
    read_heads_checked,
    read_manifest,
    remote_id,
    sync_lock,
)

SNAP = snapshot_key("m", "01J00000000000000000000000")


@pytest.fixture(name="remote")
def _remote(tmp_path: Path) -> DirRemote:
    return DirRemote(tmp_path / "remote")


def head(**fields: Any) -> dict[str, Any]:
    """The fields of a valid head of machine ``m``, changed by ``fields`` (None: left out)."""
    data = {
        "format": "ctx-head/1",
        "machine": "m",
        "snapshot": SNAP,
        "seq": 3,
        "updated_at": now_iso(),
        "documents": 7,
        **fields,
    }
    return {k: v for k, v in data.items() if v is not None}


def write(remote: DirRemote, machine: str, data: Any) -> None:
    remote.put_many([(head_key(machine), data if isinstance(data, bytes) else canonical(data))])


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"format": "ctx-head/2"}, "is not a ctx-head/1 head of 'm'"),
        ({"machine": "other"}, "is not a ctx-head/1 head of 'm'"),
        ({"snapshot": snapshot_key("other", "01J00000000000000000000000")}, "names no snapshot"),
        ({"snapshot": head_key("m")}, "names no snapshot of 'm'"),
        ({"snapshot": 5}, "names no snapshot of 'm'"),
        ({"snapshot": "../../etc/passwd"}, "names no snapshot of 'm'"),
        ({"seq": None}, "'seq' is not a count ('None')"),
        ({"seq": True}, "'seq' is not a count ('True')"),
        ({"seq": -1}, "'seq' is not a count ('-1')"),
        ({"seq": 2**63}, "'seq' is not a count ('9223372036854775808')"),
        ({"documents": "7"}, "'documents' is not a count ('7')"),
        ({"seq": "x" * 100}, f"'seq' is not a count ('{'x' * 40}')"),
        ({"updated_at": "2026-02-30T10:00:00Z"}, "'updated_at'"),
    ],
)
def test_a_head_with_a_bad_field_is_reported_with_its_key_and_what_is_wrong(
    remote: DirRemote, fields: dict[str, Any], reason: str
) -> None:
    write(remote, "m", head(**fields))
    heads, [bad] = read_heads_checked(remote)
    assert heads == {} and (bad.key, bad.machine) == (head_key("m"), "m")
    assert bad.reason.startswith("remote key 'heads/m.json'") and reason in bad.reason
    with pytest.raises(DamagedError) as raised:
        read_heads(remote)
    assert str(raised.value) == bad.reason


def test_a_valid_head_is_read_field_by_field(remote: DirRemote) -> None:
    """Counts up to the largest 63-bit one; ``documents`` defaults to 0; a signing key that
    is not text is no signing key."""
    write(remote, "m", head(seq=2**63 - 1, documents=None, signing_key=5))
    write(remote, "n", head(machine="n", snapshot=snapshot_key("n", "01J0000000000000000000000N")))
    heads, bad = read_heads_checked(remote)
    assert bad == [] and sorted(heads) == ["m", "n"]
    m = heads["m"]
    assert (m.machine, m.snapshot, m.seq, m.documents, m.signing_key) == (
        "m",
        SNAP,
        2**63 - 1,
        0,
        None,
    )
    assert (heads["n"].seq, heads["n"].documents) == (3, 7)


def test_a_head_as_written_reads_back_the_same(remote: DirRemote) -> None:
    me = Identity.generate()
    written = Head("m", SNAP, 4, now_iso(), 12, "")
    write(remote, "m", written.to_bytes(me))
    read = read_heads(remote)["m"]
    assert (read.snapshot, read.seq, read.updated_at, read.documents, read.signing_key) == (
        SNAP,
        4,
        written.updated_at,
        12,
        me.public_key,
    )


def test_a_head_over_the_size_limit_is_reported_and_the_others_still_read(
    remote: DirRemote,
) -> None:
    write(remote, "a", b" " * 2000 + canonical(head(machine="a")))
    write(remote, "m", head())
    remote.max_bytes = 1000
    heads, [bad] = read_heads_checked(remote)
    assert list(heads) == ["m"] and (bad.key, bad.data) == (head_key("a"), b"")
    assert bad.reason.startswith("remote key 'heads/a.json': ") and "1000-byte limit" in bad.reason


def test_a_head_removed_since_the_listing_is_skipped_and_the_rest_are_read(
    remote: DirRemote, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(remote, "m", head())
    listed = remote.list

    def with_a_gone_head(prefix: str = "") -> list[str]:
        return sorted([*listed(prefix), head_key("a")])

    monkeypatch.setattr(remote, "list", with_a_gone_head)
    heads, bad = read_heads_checked(remote)
    assert list(heads) == ["m"] and bad == []


def test_the_first_writer_makes_the_remote_id_and_every_reader_gets_the_same(
    remote: DirRemote,
) -> None:
    assert remote_id(remote, create=False) is None and remote.list("") == []
    made = remote_id(remote, create=True)
    assert made is not None and len(made) == 26
    assert remote_id(remote, create=False) == remote_id(remote, create=True) == made


@pytest.mark.parametrize(
    "meta",
    [{"format": "ctx-remote/2", "id": "x"}, {"format": "ctx-remote/1"}, {"id": "x"}],
)
def test_a_remote_of_another_format_is_refused_naming_the_format_and_what_to_do(
    remote: DirRemote, meta: dict[str, Any]
) -> None:
    remote.put_many([(META_KEY, canonical(meta))])
    with pytest.raises(RemoteError) as raised:
        remote_id(remote, create=True)
    assert str(raised.value) == (
        f"{remote.display_url} holds format {meta.get('format')!r}, not ctx-remote/1: it was "
        "written by a newer version of agents (upgrade), or it is not a context remote"
    )


def test_a_meta_that_is_not_a_json_object_is_damaged(remote: DirRemote) -> None:
    remote.put_many([(META_KEY, b"[1]")])
    with pytest.raises(DamagedError, match=r"remote key 'meta/store.json' is not a JSON object"):
        remote_id(remote, create=False)


def manifest(**fields: Any) -> dict[str, Any]:
    """The fields of a valid snapshot manifest of machine ``m``, changed by ``fields``."""
    data = {
        "format": "ctx-snapshot/1",
        "machine": "m",
        "seq": 3,
        "parent": snapshot_key("m", "01J0000000000000000000000P"),
        "created_at": now_iso(),
        "docs": {"preference:x": "sha256:" + "a" * 64},
        **fields,
    }
    return {k: v for k, v in data.items() if v is not None}


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"format": "ctx-snapshot/2"}, "remote key {key!r} is not a ctx-snapshot/1 manifest"),
        ({"docs": ["preference:x"]}, "remote key {key!r} is not a ctx-snapshot/1 manifest"),
        ({"machine": "other"}, "snapshot {key!r} is not one of 'm'"),
        ({"machine": 5}, "snapshot {key!r} is not one of 'm'"),
        ({"parent": 5}, "snapshot {key!r}: 'parent' is not a key"),
        ({"docs": {"preference:x": 5}}, "snapshot {key!r}: 'preference:x' names no revision hash"),
        ({"docs": {"preference:x": "sha256:xyz"}}, "names no revision hash"),
        (  # a document id over 512 characters, named by its first 80
            {"docs": {"p:" + "x" * 511: "sha256:" + "a" * 64}},
            "snapshot {key!r}: 'p:" + "x" * 78 + "' names no revision hash",
        ),
        ({"seq": "3"}, "remote key {key!r}: 'seq' is not a count ('3')"),
        ({"created_at": "yesterday"}, "remote key {key!r}: 'created_at'"),
        ({"created_at": None}, "remote key {key!r}: 'created_at'"),
    ],
)
def test_a_snapshot_with_a_bad_field_is_refused_saying_what_is_wrong(
    remote: DirRemote, fields: dict[str, Any], reason: str
) -> None:
    remote.put_many([(SNAP, canonical(manifest(**fields)))])
    with pytest.raises(DamagedError) as raised:
        read_manifest(remote, SNAP, "m")
    assert reason.format(key=SNAP) in str(raised.value)


def test_a_snapshot_is_read_back_as_written_and_a_missing_one_is_named(remote: DirRemote) -> None:
    """Its parent, a document id of 512 characters (the longest); a missing snapshot, or one
    the remote refused as too large, is damaged with the reason."""
    docs = {"p:" + "x" * 510: "sha256:" + "b" * 64}
    written = Manifest.new("m", 4, SNAP, docs)
    remote.put_many([(written.key, written.to_bytes(Identity.generate()))])
    read = read_manifest(remote, written.key, "m")
    assert (read.machine, read.seq, read.parent, read.docs) == ("m", 4, SNAP, docs)
    assert written.head().etag == "" and written.head("e1").etag == "e1"
    assert (written.head().snapshot, written.head().documents) == (written.key, 1)
    with pytest.raises(DamagedError) as raised:
        read_manifest(remote, SNAP)
    assert str(raised.value) == (
        f"snapshot {SNAP!r}: missing from the remote, yet a head points at it"
    )
    remote.max_bytes = 10
    with pytest.raises(DamagedError, match=r"10-byte limit"):
        read_manifest(remote, written.key)


def test_two_machines_creating_the_remote_at_once_both_get_the_id_that_won(
    remote: DirRemote, monkeypatch: pytest.MonkeyPatch
) -> None:
    """This machine read no meta/store.json, but another one wrote it before this one's
    compare-and-swap: the id is the one written, read again, never this machine's own."""
    remote.put_many([(META_KEY, canonical({"format": "ctx-remote/1", "id": "W" * 26}))])
    real_get, calls = remote.get, []

    def late(key: str) -> Entry | None:
        calls.append(key)
        return None if len(calls) == 1 else real_get(key)

    monkeypatch.setattr(remote, "get", late)
    assert remote_id(remote, create=True) == "W" * 26 and calls == [META_KEY, META_KEY]


def test_an_unsigned_snapshot_reads_with_no_signing_key_for_the_pull_to_refuse(
    remote: DirRemote,
) -> None:
    remote.put_many([(SNAP, canonical(manifest()))])
    read = read_manifest(remote, SNAP, "m")
    assert (read.signing_key, read.seq, read.docs) == (None, 3, manifest()["docs"])


def test_one_sync_at_a_time_per_store_and_a_sync_held_too_long_is_named_by_its_pid(
    tmp_path: Path,
) -> None:
    """While another process holds the store's sync lock (its pid written in the lock file),
    a sync waits, then fails naming that pid; once the lock is free, a sync takes it and
    writes its own pid there."""
    store = ContextStore(tmp_path / "s", machine_id="mine", actor="cli")
    path = store.directory / "sync.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        os.pwrite(fd, b"4242", 0)
        fcntl.flock(fd, fcntl.LOCK_EX)
        with pytest.raises(StoreError) as raised, sync_lock(store, timeout=0.2):
            pass
        assert str(raised.value) == (
            f"another sync of {store.directory} (pid 4242) has run for more than 0.2s; "
            "wait for it, or stop it"
        )
    finally:
        os.close(fd)
    with sync_lock(store):
        assert path.read_text() == str(os.getpid())


def test_a_sync_waits_for_the_lock_and_takes_it_once_the_other_sync_lets_go(
    tmp_path: Path,
) -> None:
    """A sync that finds the lock held waits (up to its timeout) instead of failing at once,
    and goes on as soon as the other sync ends; one that waits its whole timeout fails only
    after it."""
    store = ContextStore(tmp_path / "s", machine_id="mine", actor="cli")
    fd = os.open(store.directory / "sync.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        started = time.monotonic()
        with pytest.raises(StoreError), sync_lock(store, timeout=0.3):
            pass
        assert time.monotonic() - started >= 0.3
        release = threading.Timer(0.3, fcntl.flock, (fd, fcntl.LOCK_UN))
        started = time.monotonic()
        release.start()
        try:
            with sync_lock(store, timeout=30):
                assert time.monotonic() - started >= 0.3
        finally:
            release.join()
    finally:
        os.close(fd)
