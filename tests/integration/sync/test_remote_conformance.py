"""One conformance suite, run on every backend against a real server (git, PostgreSQL, Azurite)."""

from __future__ import annotations

import hashlib
import multiprocessing
from typing import Any

import pytest

from agents.sync.keys import META_KEY, audit_key, blob_key, head_key, object_key, snapshot_key
from agents.sync.remote import CasConflict, ObjectConflict, RemoteError
from tests.integration.sync.workers import (
    Target,
    crash_before_head,
    gc,
    incrementer,
    objects_of,
    push,
    pusher,
    reachable,
    ulid,
)

pytestmark = pytest.mark.integration

SPAWN = multiprocessing.get_context("spawn")
H = hashlib.sha256(b"x").hexdigest()


def test_a_missing_key_reads_as_none(target: Target) -> None:
    """get of a key never written is None, and listing an empty remote gives nothing."""
    with target.open() as remote:
        assert remote.get(object_key(H)) is None
        assert remote.list() == []
        assert remote.get_many([object_key(H), head_key("m1")]) == {}


def test_put_if_absent_stores_bytes_and_is_idempotent(target: Target) -> None:
    """A write-once key reads back byte for byte; writing the same bytes again changes nothing."""
    key, data = object_key(H), bytes(range(256)) * 40
    with target.open() as remote:
        remote.put_if_absent(key, data)
        first = remote.get(key)
        assert first is not None and first.data == data and first.etag
        remote.put_if_absent(key, data)
        again = remote.get(key)
        assert again == first
        remote.put_if_absent(blob_key(H), b"")
        assert remote.get(blob_key(H)) == (b"", remote.get(blob_key(H)).etag)  # type: ignore[union-attr]


def test_a_value_over_the_limit_is_left_out_of_a_read_under_its_key(target: Target) -> None:
    """A read leaves out a value over the remote's size limit and says which key and why (the
    pull quarantines it); one exactly at the limit is read whole, by get and by get_many."""
    at, over = snapshot_key("m1", ulid(1)), snapshot_key("m1", ulid(2))
    with target.open() as remote:
        remote.put_many([(at, b"a" * 100), (over, b"b" * 101)])
        remote.max_bytes = 100
        found = remote.get_many([at, over])
        assert list(found) == [at] and found[at].data == b"a" * 100
        assert remote.get(over) is None and remote.get(at) == found[at]
        assert remote.refused == {
            over: "101 bytes, over the 100-byte limit (SYNC_MAX_OBJECT_BYTES)"
        }


def test_put_if_absent_with_other_bytes_is_refused_and_keeps_the_first(target: Target) -> None:
    """Different bytes at an existing write-once key raise ObjectConflict; the first value stays."""
    key = snapshot_key("m1", ulid(1))
    with target.open() as remote:
        remote.put_if_absent(key, b"first")
        with pytest.raises(ObjectConflict) as raised:
            remote.put_if_absent(key, b"second")
        assert raised.value.key == key
        entry = remote.get(key)
        assert entry is not None and entry.data == b"first"


def test_one_key_given_two_values_in_one_write_is_refused_naming_it(target: Target) -> None:
    """A key listed twice with different bytes in one ``put_many`` is an ObjectConflict naming
    it; listed twice with the same bytes it is one write."""
    one, two = snapshot_key("m1", ulid(1)), snapshot_key("m1", ulid(2))
    with target.open() as remote:
        with pytest.raises(ObjectConflict) as raised:
            remote.put_many([(one, b"1"), (two, b"x"), (one, b"2")])
        assert raised.value.key == one
    with target.open() as remote:
        remote.put_many([(two, b"x"), (two, b"x")])
        assert remote.get(two) == (b"x", remote.get(two).etag)  # type: ignore[union-attr]


def test_values_are_bytes_and_a_bytearray_or_memoryview_is_stored_as_bytes(target: Target) -> None:
    """Bytes-like values are written as their bytes; text is a TypeError naming its type."""
    with target.open() as remote:
        bytes_like: list[tuple[str, Any]] = [
            (object_key(H), bytearray(b"x")),
            (blob_key(H), memoryview(b"y")),
        ]
        remote.put_many(bytes_like)
        found = remote.get_many([object_key(H), blob_key(H)])
        assert {k: e.data for k, e in found.items()} == {object_key(H): b"x", blob_key(H): b"y"}
        with pytest.raises(TypeError) as raised:
            remote.put_if_absent(head_key("m1"), "text")  # type: ignore[arg-type]
        assert str(raised.value) == "remote values are bytes, not str"


def test_a_write_that_failed_outside_a_batch_leaves_the_next_write_free(target: Target) -> None:
    """Only a batch is broken by a failed write: outside one, the next write goes ahead."""
    key = snapshot_key("m1", ulid(1))
    with target.open() as remote:
        remote.put_if_absent(key, b"first")
        with pytest.raises(ObjectConflict):
            remote.put_if_absent(key, b"second")
        remote.put_if_absent(object_key(H), b"x")
        remote.cas(head_key("m1"), b"h", None)
        assert remote.get(object_key(H)) == (b"x", remote.get(object_key(H)).etag)  # type: ignore[union-attr]
        assert remote.get(head_key("m1")) is not None


def test_cas_with_none_creates_only_once(target: Target) -> None:
    """Create-only CAS succeeds on a missing key and fails, with the current etag, after."""
    key = head_key("m1")
    with target.open() as remote:
        etag = remote.cas(key, b"v1", None)
        entry = remote.get(key)
        assert entry is not None and entry.data == b"v1" and entry.etag == etag
        with pytest.raises(CasConflict) as raised:
            remote.cas(key, b"v2", None)
        assert raised.value.current_etag == etag and raised.value.key == key
        assert remote.get(key) == entry


def test_cas_with_the_current_etag_replaces_and_returns_the_new_etag(target: Target) -> None:
    """A CAS from the current etag writes the value; the returned etag is what get reports."""
    key = head_key("m1")
    with target.open() as remote:
        first = remote.cas(key, b"v1", None)
        second = remote.cas(key, b"v2", first)
        assert second != first
        assert remote.get(key) == (b"v2", second)
        third = remote.cas(key, b"v3", second)
        assert remote.get(key) == (b"v3", third)


def test_cas_with_a_stale_etag_fails_and_changes_nothing(target: Target) -> None:
    """A CAS from an old etag raises CasConflict carrying the current etag; the value stays."""
    key = head_key("m1")
    with target.open() as remote:
        old = remote.cas(key, b"v1", None)
        current = remote.cas(key, b"v2", old)
        with pytest.raises(CasConflict) as raised:
            remote.cas(key, b"v3", old)
        assert raised.value.current_etag == current and raised.value.expected == old
        assert remote.get(key) == (b"v2", current)


def test_cas_expecting_an_etag_on_a_missing_key_fails_with_none(target: Target) -> None:
    """A CAS that expects a value where there is none raises with current_etag None."""
    with target.open() as remote, pytest.raises(CasConflict) as raised:
        remote.cas(head_key("m1"), b"v1", "no-such-etag")
    assert raised.value.current_etag is None


def test_list_returns_the_keys_under_a_prefix_sorted(target: Target) -> None:
    """list(prefix) returns exactly the keys starting with the prefix, in order, whether the
    prefix ends at a folder or inside a name."""
    hashes = sorted(hashlib.sha256(bytes([i])).hexdigest() for i in range(5))
    keys = [object_key(h) for h in hashes] + [blob_key(hashes[0])]
    keys += [snapshot_key("m1", ulid(1)), snapshot_key("m2", ulid(1)), audit_key("m1", ulid(2))]
    with target.open() as remote:
        remote.put_many((k, k.encode()) for k in keys)
        remote.cas(head_key("m1"), b"h1", None)
        remote.cas(head_key("m10"), b"h10", None)
        assert remote.list("objects/") == sorted(object_key(h) for h in hashes)
        assert remote.list(f"objects/sha256/{hashes[0][:2]}/") == [
            object_key(h) for h in hashes if h[:2] == hashes[0][:2]
        ]
        assert remote.list("heads/") == [head_key("m1"), head_key("m10")]
        assert remote.list("heads/m1") == [head_key("m1"), head_key("m10")]
        assert remote.list("head") == [head_key("m1"), head_key("m10")]  # inside a name
        assert remote.list("snapshots/m1/") == [snapshot_key("m1", ulid(1))]
        assert remote.list("nothing/") == []
        assert remote.list() == sorted([*keys, head_key("m1"), head_key("m10")])


def test_bulk_reads_and_writes_match_single_ones(target: Target) -> None:
    """put_many of 120 values, then get_many, returns every value; missing keys are left out."""
    values = {object_key(hashlib.sha256(b"%d" % i).hexdigest()): b"v%d" % i for i in range(120)}
    with target.open() as remote:
        remote.put_many(values.items())
        remote.put_many(values.items())
        got = remote.get_many([*values, object_key(H)])
        assert {k: e.data for k, e in got.items()} == values
        some = next(iter(values))
        assert remote.get(some) == got[some]
        with pytest.raises(ObjectConflict):
            remote.put_many([*values.items(), (some, b"other")])


def test_scan_streams_every_value_under_a_prefix_in_key_order(
    target: Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    """scan(prefix) yields (key, entry) for exactly the keys list(prefix) gives, page by page."""
    import agents.sync.pg_remote
    import agents.sync.remote

    for module in (agents.sync.remote, agents.sync.pg_remote):
        monkeypatch.setattr(module, "SCAN_CHUNK", 7)  # several pages from a few keys
    values = {object_key(hashlib.sha256(b"%d" % i).hexdigest()): b"v%d" % i for i in range(23)}
    with target.open() as remote:
        remote.put_many(values.items())
        remote.put_if_absent(blob_key(H), b"blob")
        remote.cas(head_key("m1"), b"h", None)
        scanned = list(remote.scan("objects/"))
        assert [k for k, _ in scanned] == sorted(values)
        assert {k: e.data for k, e in scanned} == values
        assert scanned[0][1] == remote.get(scanned[0][0])
        assert [k for k, _ in remote.scan()] == remote.list()
        assert list(remote.scan("nothing/")) == []


def test_delete_removes_a_key_and_ignores_a_missing_one(target: Target) -> None:
    """delete (used by gc) removes the key; deleting a missing key is not an error."""
    with target.open() as remote:
        remote.put_if_absent(object_key(H), b"x")
        remote.delete(object_key(H))
        remote.delete(object_key(H))
        assert remote.get(object_key(H)) is None
        assert remote.list() == []


def test_another_machine_sees_what_one_pushed(target: Target) -> None:
    """Writes of one machine are visible to a second one opened separately (own caches)."""
    with target.open("m1") as one, target.open("m2") as two:
        objects = objects_of("m1", 0, b"shared")
        etag = push(one, "m1", 0, objects, None)
        assert two.get(head_key("m1")) == one.get(head_key("m1"))
        assert reachable(two) == {head_key("m1"), snapshot_key("m1", ulid(0)), *objects}
        etag = push(one, "m1", 1, objects_of("m1", 1, b"shared"), etag)
        entry = two.get(head_key("m1"))
        assert entry is not None and entry.etag == etag


def test_a_cas_makes_the_earlier_writes_of_its_batch_durable(target: Target) -> None:
    """Inside a batch, once cas returns, another machine sees the objects and the head."""
    with target.open("m1") as one, target.open("m2") as two, one.batch():
        one.put_if_absent(object_key(H), b"x")
        etag = one.cas(head_key("m1"), b"h", None)
        assert two.get(object_key(H)) is not None
        assert two.get(head_key("m1")) == (b"h", etag)


def test_a_failed_cas_still_keeps_the_writes_before_it(target: Target) -> None:
    """A CAS that loses raises CasConflict, and the objects written before it are on the remote."""
    with target.open("m1") as one, target.open("m2") as two:
        two.cas(head_key("m1"), b"someone else", None)
        with pytest.raises(CasConflict), one.batch():
            one.put_if_absent(object_key(H), b"x")
            one.cas(head_key("m1"), b"mine", None)
        assert two.get(object_key(H)) is not None


def test_a_failed_write_breaks_its_batch_so_no_head_moves(target: Target) -> None:
    """After a write of a batch fails, a CAS in that batch is refused: the head cannot move."""
    key = snapshot_key("m1", ulid(1))
    with target.open() as remote:
        remote.put_if_absent(key, b"first")
        with remote.batch():
            with pytest.raises(ObjectConflict):
                remote.put_if_absent(object_key(H), b"x")
                remote.put_if_absent(key, b"second")
                remote.cas(head_key("m1"), b"h", None)  # git finds the conflict when it flushes
            with pytest.raises(RemoteError, match="earlier write of this batch failed"):
                remote.cas(head_key("m1"), b"h", None)
        assert remote.get(head_key("m1")) is None
        remote.cas(head_key("m1"), b"h", None)
        assert remote.get(key).data == b"first"  # type: ignore[union-attr]


def test_concurrent_pushers_lose_no_snapshot(target: Target) -> None:
    """N processes push their own heads and shared objects at once; every snapshot survives."""
    machines, rounds = [f"m{i}" for i in range(4)], 4
    with SPAWN.Pool(len(machines)) as pool:
        heads = pool.starmap_async(pusher, [(target, m, rounds) for m in machines]).get(180)
    with target.open("reader") as remote:
        assert {remote.get(head_key(m)).etag for m in machines} == set(heads)  # type: ignore[union-attr]
        for m in machines:
            assert remote.list(f"snapshots/{m}/") == [
                snapshot_key(m, ulid(r)) for r in range(rounds)
            ]
            for r in range(rounds):
                objects = objects_of(m, r, f'{{"shared":{r}}}'.encode())
                assert {k: e.data for k, e in remote.get_many(objects).items()} == objects
        assert len(reachable(remote)) == len(machines) * (2 + 3) + 1


def test_concurrent_cas_on_one_key_loses_no_update(target: Target) -> None:
    """N processes increment one counter by CAS with retries; the total is exact."""
    machines, times = [f"c{i}" for i in range(4)], 5
    with SPAWN.Pool(len(machines)) as pool:
        pool.starmap_async(incrementer, [(target, m, times) for m in machines]).get(180)
    with target.open("reader") as remote:
        entry = remote.get(META_KEY)
        assert entry is not None and int(entry.data) == len(machines) * times


@pytest.mark.parametrize("in_batch", [False, True], ids=["flushed", "mid-batch"])
def test_a_crash_between_objects_and_head_leaves_only_orphans(
    target: Target, in_batch: bool
) -> None:
    """A pusher killed before its CAS leaves the head on complete data; gc removes the rest."""
    with target.open("m1") as remote:
        objects = objects_of("m1", 0, b"shared")
        etag = push(remote, "m1", 0, objects, None)
        before = reachable(remote)
        child = SPAWN.Process(target=crash_before_head, args=(target, "m1", 1, in_batch))
        child.start()
        child.join(120)
        assert child.exitcode == 3
        head = remote.get(head_key("m1"))
        assert head is not None and head.etag == etag
        assert reachable(remote) == before
        orphans = gc(remote)
        assert set(remote.list()) == before
        assert all(k.startswith(("objects/", "snapshots/m1/")) for k in orphans)
        assert push(remote, "m1", 1, objects_of("m1", 1, b"shared"), etag)
