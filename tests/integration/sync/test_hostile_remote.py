"""A hostile remote: an attacker with write access to it writes straight into it (a folder, a
bare git repository, a real PostgreSQL). The victim's store stays intact, what the attacker
wrote is quarantined and reported, and the victim keeps syncing with its other machines.

The attacker here signs with a key the victim trusts (a trusted machine gone bad, or its key
stolen), so every guard behind the signature checks is exercised; an attacker the victim does
not trust never gets that far (tests/integration/sync/test_trust.py)."""

from __future__ import annotations

import json
import os
import socket
import tempfile
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from agents.store.canonical import canonical, now_iso, sha256_of
from agents.store.envelope import Envelope, scope_for
from agents.store.identity import Identity
from agents.store.store import ContextStore
from agents.sync.engine import Syncer
from agents.sync.keys import blob_key, head_key, object_key, snapshot_key
from agents.sync.quarantine import quarantine_count, quarantined
from agents.sync.remote import Remote
from agents.sync.trust import decide
from tests.integration.sync.conftest import BACKENDS, make_target
from tests.integration.sync.machines import output, pref, store_of, sync
from tests.integration.sync.workers import Target

pytestmark = pytest.mark.integration

LIMIT = 65_536  # SYNC_MAX_OBJECT_BYTES in these tests
EVIL = "evil"
DEEP = b'{"a":' * 100_000 + b"1" + b"}" * 100_000
EVIL_KEY = Identity.generate()


@pytest.fixture(name="target", params=["dir", "git", "postgres"])
def _target(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Target:
    return make_target(request.param, request, tmp_path_factory)


@pytest.fixture(autouse=True)
def _small_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNC_MAX_OBJECT_BYTES", str(LIMIT))


def envelope(doc_id: str, **fields: Any) -> Envelope:
    """A revision by the attacker's machine, valid unless ``fields`` make it otherwise."""
    base: dict[str, Any] = {
        "id": doc_id,
        "kind": "preference",
        "scope": scope_for("preference", EVIL),
        "body": pref("evil", doc_id.split(":")[1]),
        "vv": {EVIL: 1},
        "parents": [],
        "origin_machine": EVIL,
        "updated_at": now_iso(),
        "hlc": f"{now_iso()}/0000/{EVIL}",
    }
    return Envelope(**{**base, **fields})


def head_bytes(snapshot: str, **fields: Any) -> bytes:
    head = {
        "format": "ctx-head/1",
        "machine": EVIL,
        "snapshot": snapshot,
        "seq": 1,
        "updated_at": now_iso(),
        "documents": 1,
        "signing_key": EVIL_KEY.public_key,
        **fields,
    }
    return canonical(EVIL_KEY.sign("ctx-head/1", {k: v for k, v in head.items() if v is not None}))


def manifest_bytes(docs: dict[str, str]) -> bytes:
    return canonical(
        EVIL_KEY.sign(
            "ctx-snapshot/1",
            {
                "format": "ctx-snapshot/1",
                "machine": EVIL,
                "seq": 1,
                "parent": None,
                "created_at": now_iso(),
                "docs": docs,
                "signing_key": EVIL_KEY.public_key,
            },
        )
    )


SNAP = snapshot_key(EVIL, "01J00000000000000000000000")


def publish(
    remote: Remote,
    *,
    objects: dict[str, bytes] | None = None,
    snapshot: bytes | None = None,
    head: bytes | None = None,
) -> None:
    """Write straight into the remote as the attacker (objects by hash, snapshot, head)."""
    remote.max_bytes = 2**40  # the attacker's own reads are not limited
    items = [(object_key(h), data) for h, data in (objects or {}).items()]
    if snapshot is not None:
        items.append((SNAP, snapshot))
    with remote.batch():
        if items:
            remote.put_many(items)
        current = remote.get(head_key(EVIL))
        remote.cas(head_key(EVIL), head or head_bytes(SNAP), current.etag if current else None)


def with_revision(
    env: Envelope | None = None, data: bytes | None = None
) -> Callable[[Remote], None]:
    def attack(remote: Remote) -> None:
        raw = data if data is not None else (env or envelope("preference:evil")).to_bytes()
        digest = sha256_of(raw)
        publish(
            remote,
            objects={digest: raw},
            snapshot=manifest_bytes({"preference:evil": digest}),
        )

    return attack


ATTACKS: dict[str, Callable[[Remote], None]] = {
    "head without seq": lambda r: publish(
        r, snapshot=manifest_bytes({}), head=head_bytes(SNAP, seq=None)
    ),
    "100,000-deep head": lambda r: publish(r, head=DEEP),
    "head that is not JSON": lambda r: publish(r, head=b"\xff\xfe{not json"),
    "head naming another machine's snapshot": lambda r: publish(
        r, head=head_bytes(snapshot_key("friend", "01J00000000000000000000000"))
    ),
    "head timestamp the parser cannot read": lambda r: publish(
        r, snapshot=manifest_bytes({}), head=head_bytes(SNAP, updated_at="2026-02-30T10:00:00Z")
    ),
    "head over the size limit": lambda r: publish(r, head=b" " * (LIMIT + 10) + b"{}"),
    "head pointing at a missing snapshot": lambda r: publish(r),
    "100,000-deep snapshot": lambda r: publish(r, snapshot=DEEP),
    "snapshot over the size limit": lambda r: publish(
        r, snapshot=manifest_bytes({f"preference:x{i}": sha256_of(b"%d" % i) for i in range(2000)})
    ),
    "100,000-deep revision": with_revision(data=DEEP),
    "revision over the size limit": with_revision(
        envelope("preference:evil", body=pref("x" * (LIMIT + 10), "evil"))
    ),
    "revision timestamp the parser cannot read": with_revision(
        envelope("preference:evil", updated_at="2026-02-30T10:00:00Z")
    ),
    "revision clock stamp the parser cannot read": with_revision(
        envelope("preference:evil", hlc=f"2026-13-01T00:00:00.000Z/0000/{EVIL}")
    ),
    "revision clock pushed to the year 9999": with_revision(
        envelope("preference:evil", hlc=f"9999-12-31T23:59:59.999Z/0000/{EVIL}")
    ),
}


@pytest.fixture(name="machines")
def _machines(target: Target) -> Iterator[tuple[ContextStore, ContextStore]]:
    victim, friend = store_of(target.scratch, "victim"), store_of(target.scratch, "friend")
    with victim, friend:
        decide(victim, EVIL, EVIL_KEY.public_key, trusted=True)  # a trusted machine gone bad
        victim.put("preference:mine", "preference", pref("mine", "mine"))
        friend.put("preference:friend", "preference", pref(1, "friend"))
        sync(target, friend)
        sync(target, victim)
        sync(target, friend)
        yield victim, friend


def attacked_then_synced(
    target: Target, victim: ContextStore, friend: ContextStore, attack: Callable[[Remote], None]
) -> Any:
    """The attack, then the friend pushes an edit, then the victim syncs."""
    before = victim.heads(exclude={"sync_record"})
    with target.open(EVIL) as remote:
        attack(remote)
    friend.put("preference:friend", "preference", pref(2, "friend"))
    sync(target, friend)
    report = sync(target, victim)
    after = victim.heads(exclude={"sync_record"})
    assert victim.get("preference:friend").body == pref(2, "friend"), "the friend still syncs"
    assert "preference:evil" not in after
    assert {k: v for k, v in after.items() if k != "preference:friend"} == {
        k: v for k, v in before.items() if k != "preference:friend"
    }
    return report


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_hostile_data_is_quarantined_and_the_victim_keeps_syncing(
    target: Target, machines: tuple[ContextStore, ContextStore], attack: str
) -> None:
    victim, friend = machines
    quarantined_before = quarantine_count(victim)
    report = attacked_then_synced(target, victim, friend, ATTACKS[attack])
    assert report.pull.quarantined or report.pull.refused, report.as_dict()
    assert quarantine_count(victim) > quarantined_before
    record = victim.get(report.record).body
    assert record["status"] == "partial" and record["quarantined"]
    with target.open("victim") as remote:
        status = Syncer(victim, remote).status()
    assert status["quarantined"] >= 1
    assert "friend" not in status["behind"]
    # the next syncs go on and set nothing aside again for the same damage
    count = quarantine_count(victim)
    again = sync(target, victim)
    assert not again.pull.quarantined and quarantine_count(victim) == count
    # the friend is not blocked either
    sync(target, friend)


def test_a_clobbered_own_head_is_overwritten_by_the_next_push(
    target: Target, machines: tuple[ContextStore, ContextStore]
) -> None:
    victim, friend = machines
    with target.open(EVIL) as remote:
        current = remote.get(head_key("victim"))
        assert current is not None
        remote.cas(head_key("victim"), b'{"format":"ctx-head/1"}', current.etag)
    victim.put("preference:mine", "preference", pref("changed", "mine"))
    sync(target, victim)
    sync(target, friend)
    assert friend.get("preference:mine").body == pref("changed", "mine")


# --- a dir remote: files that are not regular files ------------------------------------------


@pytest.fixture(name="dir_machines")
def _dir_machines(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Target, ContextStore, ContextStore]]:
    target = make_target("dir", request, tmp_path_factory)
    victim, friend = store_of(target.scratch, "victim"), store_of(target.scratch, "friend")
    with victim, friend:
        decide(victim, EVIL, EVIL_KEY.public_key, trusted=True)
        friend.put("preference:friend", "preference", pref(1, "friend"))
        sync(target, friend)
        sync(target, victim)
        yield target, victim, friend


def _root(target: Target) -> Path:
    return Path(target.url.removeprefix("dir://"))


def _with_file(make: Callable[[Path], None]) -> Callable[[Remote], None]:
    """A valid head whose snapshot is whatever ``make`` puts at its path."""

    def attack(remote: Remote) -> None:
        path = Path(str(remote.display_url).removeprefix("dir://"), *SNAP.split("/"))
        path.parent.mkdir(parents=True, exist_ok=True)
        make(path)
        publish(remote)

    return attack


def test_a_fifo_in_a_dir_remote_does_not_hang_the_pull(
    dir_machines: tuple[Target, ContextStore, ContextStore],
) -> None:
    target, victim, friend = dir_machines
    result: list[Any] = []
    worker = threading.Thread(
        target=lambda: result.append(
            attacked_then_synced(target, victim, friend, _with_file(os.mkfifo))
        ),
        daemon=True,
    )
    worker.start()
    worker.join(120)
    assert not worker.is_alive(), "the pull hung on a FIFO"
    assert "not a regular file" in result[0].pull.quarantined[0]["reason"]


def test_a_socket_in_a_dir_remote_is_quarantined_and_the_pull_goes_on(
    dir_machines: tuple[Target, ContextStore, ContextStore],
) -> None:
    """A UNIX socket where a snapshot should be (opening one fails with ENXIO) is set aside
    like a FIFO, never an error that stops the victim's sync with its other machines."""
    target, victim, friend = dir_machines
    held: list[socket.socket] = []

    def bind(path: Path) -> None:
        # bound at a short name, then moved: AF_UNIX paths stop at 108 bytes, and the key's
        # path under pytest's temp folder can be longer (it is under xdist)
        short = Path(tempfile.mkdtemp()) / "s"
        held.append(socket.socket(socket.AF_UNIX))
        held[0].bind(str(short))
        short.rename(path)
        short.parent.rmdir()

    try:
        report = attacked_then_synced(target, victim, friend, _with_file(bind))
    finally:
        for sock in held:
            sock.close()
    assert "not a regular file" in report.pull.quarantined[0]["reason"]


def test_a_symlink_to_dev_zero_is_not_read(
    dir_machines: tuple[Target, ContextStore, ContextStore],
) -> None:
    target, victim, friend = dir_machines
    report = attacked_then_synced(
        target, victim, friend, _with_file(lambda p: p.symlink_to("/dev/zero"))
    )
    assert "symlink" in report.pull.quarantined[0]["reason"]


def test_a_sparse_100_gib_file_is_refused_by_its_size(
    dir_machines: tuple[Target, ContextStore, ContextStore],
) -> None:
    target, victim, friend = dir_machines

    def sparse(path: Path) -> None:
        with path.open("wb") as fh:
            fh.truncate(100 * 2**30)

    report = attacked_then_synced(target, victim, friend, _with_file(sparse))
    assert "SYNC_MAX_OBJECT_BYTES" in report.pull.quarantined[0]["reason"]


def test_a_symlinked_folder_cannot_make_the_pull_read_outside_the_remote(
    dir_machines: tuple[Target, ContextStore, ContextStore], tmp_path: Path
) -> None:
    """A secret file outside the remote, reached through a symlinked folder, is not read
    (so it is not copied into the quarantine either)."""
    target, victim, friend = dir_machines
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = b"AGE-SECRET-KEY-1SECRETSECRETSECRET"
    (outside / SNAP.rsplit("/", 1)[1]).write_bytes(secret)
    evil_dir = _root(target) / "snapshots" / EVIL

    def attack(remote: Remote) -> None:
        evil_dir.parent.mkdir(parents=True, exist_ok=True)
        evil_dir.symlink_to(outside)
        publish(remote)

    report = attacked_then_synced(target, victim, friend, attack)
    assert "symlink" in report.pull.quarantined[0]["reason"]
    assert all(secret.decode() not in json.dumps(q) for q in quarantined(victim))


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_backend_leaves_out_a_value_over_the_limit_and_says_why(
    backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> None:
    target = make_target(backend, request, tmp_path_factory)
    big, small = object_key(sha256_of(b"big")), object_key(sha256_of(b"small"))
    with target.open(EVIL) as attacker:
        attacker.max_bytes = 2**40
        attacker.put_many([(big, b"x" * (LIMIT + 1)), (small, b"y" * LIMIT)])
    with target.open("victim") as remote:
        assert remote.max_bytes == LIMIT
        found = remote.get_many([big, small])
        assert set(found) == {small} and len(found[small].data) == LIMIT
        assert remote.get(big) is None
        assert "over the 65536-byte limit" in remote.refused[big]
        assert [k for k, _ in remote.scan("objects/")] == [small]


def test_a_bad_revision_is_set_aside_alone_and_the_rest_of_its_snapshot_is_merged(
    dir_machines: tuple[Target, ContextStore, ContextStore],
) -> None:
    """A revision over the size limit is refused and set aside under its own key, naming its
    machine and the limit; one that is not UTF-8 is refused; the snapshot's other documents,
    fetched before and after them, are merged all the same."""
    target, victim, _ = dir_machines
    big = envelope("preference:big", body=pref("x" * (LIMIT + 10), "big")).to_bytes()
    garbled = b'{"id":"preference:garbled","body":"\xff\xfe"}'
    good: dict[str, bytes] = {}
    while not good or not min(good) < sha256_of(big) < max(good):  # fetched before and after
        raw = envelope(f"preference:ok{len(good)}").to_bytes()
        good[sha256_of(raw)] = raw
    objects = {**good, sha256_of(big): big, sha256_of(garbled): garbled}
    docs = {json.loads(raw.decode("utf-8", "replace"))["id"]: h for h, raw in objects.items()}
    with target.open(EVIL) as remote:
        publish(remote, objects=objects, snapshot=manifest_bytes(docs))
    report = sync(target, victim).pull
    assert report.machines == [EVIL]
    [aside] = report.quarantined
    assert (aside["key"], aside["machine"]) == (object_key(sha256_of(big)), EVIL)
    assert "65536-byte limit" in aside["reason"]
    assert "65536-byte limit" in report.refused[sha256_of(big)]
    assert sha256_of(garbled) in report.refused
    merged = victim.heads()
    assert all(merged.get(d) == h for d, h in docs.items() if d.startswith("preference:ok"))
    assert "preference:big" not in merged and "preference:garbled" not in merged


def test_a_blob_missing_or_not_matching_its_hash_is_not_stored_and_the_pull_goes_on(
    dir_machines: tuple[Target, ContextStore, ContextStore],
) -> None:
    """Records whose blobs are missing from the remote, or whose blob there is not what its
    hash names, are merged; no blob is stored or counted for them, and the pull finishes."""
    target, victim, _ = dir_machines
    missing, tampered = sha256_of(b"never uploaded"), sha256_of(b"the real output")
    objects: dict[str, bytes] = {}
    for i, ref in enumerate((missing, tampered)):
        raw = envelope(
            f"agent_output:01JBLOB000000000000000000{i}",
            kind="agent_output",
            scope=scope_for("agent_output", EVIL),
            body=output(ref, 15),
        ).to_bytes()
        objects[sha256_of(raw)] = raw
    docs = {json.loads(raw)["id"]: h for h, raw in objects.items()}
    with target.open(EVIL) as remote:
        publish(remote, objects=objects, snapshot=manifest_bytes(docs))
        remote.put_many([(blob_key(tampered), b"something else")])
    report = sync(target, victim).pull
    assert report.machines == [EVIL] and report.blobs == 0
    assert all(victim.heads().get(d) == h for d, h in docs.items())
    assert not victim.blobs.path_of(tampered).exists()
    assert not victim.blobs.path_of(sha256_of(b"something else")).exists()


def test_a_revision_further_ahead_than_the_configured_clock_skew_is_refused(
    dir_machines: tuple[Target, ContextStore, ContextStore],
) -> None:
    """The clock skew set for the remote (SYNC_MAX_CLOCK_SKEW in the environment's file) is
    the one a pull checks: a revision stamped two hours ahead is refused under a ten-minute
    limit, though the default (a day) would let it in."""
    target, victim, _ = dir_machines
    ahead = (datetime.now(UTC) + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    with target.open(EVIL) as remote:
        with_revision(envelope("preference:evil", hlc=f"{ahead}/0000/{EVIL}"))(remote)
    with target.open("victim") as remote:
        remote.max_skew = 600
        report = Syncer(victim, remote).sync().pull
    assert report is not None and report.machines == [EVIL]
    assert len(report.refused) == 1
    assert victim.head_info("preference:evil") is None
