"""What a "machine" does to a remote, run in child processes by the conformance suite.

A push here is the sync protocol in miniature (docs/sync.md): write objects, write a snapshot
manifest listing them, then move the machine's head by CAS. ``reachable`` and ``gc`` are the
reader's side: what the heads reference, and deleting everything else.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from agents.sync.keys import META_KEY, KeyKind, head_key, object_key, parse_key, snapshot_key
from agents.sync.remote import CasConflict, Remote
from agents.sync.urls import open_remote


@dataclass(frozen=True)
class Target:
    """A fresh remote location: its URL, the variables it reads, a scratch dir for git caches."""

    backend: str
    url: str
    environ: dict[str, str] = field(default_factory=dict)
    scratch: str = ""

    def open(self, machine: str = "m1") -> Remote:
        """Open the remote as ``machine`` (each machine keeps its own git cache clone)."""
        cache = Path(self.scratch, f"cache-{machine}")
        return open_remote(self.url, cache_dir=cache, environ=self.environ)


def ulid(n: int) -> str:
    """A valid, ordered ULID-shaped id for round ``n``."""
    return f"{n:026d}"


def objects_of(machine: str, round_no: int, shared: bytes) -> dict[str, bytes]:
    """Three objects only ``machine`` writes in this round, plus one every machine writes."""
    bodies = [f'{{"by":"{machine}","round":{round_no},"i":{i}}}'.encode() for i in range(3)]
    bodies.append(shared)
    return {object_key(hashlib.sha256(b).hexdigest()): b for b in bodies}


def push(
    remote: Remote, machine: str, round_no: int, objects: dict[str, bytes], head: str | None
) -> str:
    """Write ``objects`` and a snapshot, then CAS the head from ``head``; returns the new etag."""
    snap = snapshot_key(machine, ulid(round_no))
    manifest = json.dumps({"docs": sorted(objects), "round": round_no}).encode()
    with remote.batch():
        remote.put_many(objects.items())
        remote.put_if_absent(snap, manifest)
        body = json.dumps({"snapshot": snap, "seq": round_no}).encode()
        return remote.cas(head_key(machine), body, head)


def pusher(target: Target, machine: str, rounds: int) -> str:
    """Push ``rounds`` snapshots of ``machine``; every round shares one object with the others."""
    remote = target.open(machine)
    head = None
    try:
        for r in range(rounds):
            shared = f'{{"shared":{r}}}'.encode()
            head = push(remote, machine, r, objects_of(machine, r, shared), head)
    finally:
        remote.close()
    assert head is not None
    return head


def incrementer(target: Target, machine: str, times: int) -> int:
    """Add 1 to the counter at ``meta/store.json`` ``times`` times by CAS; returns the retries."""
    remote = target.open(machine)
    retries = 0
    try:
        for _ in range(times):
            for _attempt in range(500):
                entry = remote.get(META_KEY)
                count = int(entry.data) if entry else 0
                try:
                    remote.cas(META_KEY, str(count + 1).encode(), entry.etag if entry else None)
                    break
                except CasConflict:
                    retries += 1
            else:
                raise AssertionError(f"{machine} never won a CAS")
    finally:
        remote.close()
    return retries


def crash_before_head(target: Target, machine: str, round_no: int, in_batch: bool) -> None:
    """Write a round's objects and snapshot, then die before moving the head (exit code 3)."""
    remote = target.open(machine)
    objects = objects_of(machine, round_no, b'{"crash":true}')
    snap = snapshot_key(machine, ulid(round_no))
    if in_batch:
        with remote.batch():
            remote.put_many(objects.items())
            remote.put_if_absent(snap, b'{"docs":"crashed"}')
            os._exit(3)
    remote.put_many(objects.items())
    remote.put_if_absent(snap, b'{"docs":"crashed"}')
    os._exit(3)


def reachable(remote: Remote) -> set[str]:
    """Every key a head leads to: heads, their snapshots, and the objects those list."""
    keys: set[str] = set()
    heads = remote.list("heads/")
    for head, entry in remote.get_many(heads).items():
        snap = json.loads(entry.data)["snapshot"]
        manifest = remote.get(snap)
        assert manifest is not None, f"{head} points at a missing snapshot {snap}"
        docs = json.loads(manifest.data)["docs"]
        present = remote.get_many(docs)
        missing = set(docs) - set(present)
        assert not missing, f"{snap} lists missing objects {sorted(missing)[:3]}"
        keys |= {head, snap, *docs}
    return keys


def gc(remote: Remote) -> list[str]:
    """Delete the objects and snapshots no head leads to; returns them."""
    keep = reachable(remote)
    orphans = [
        k
        for k in remote.list()
        if k not in keep and parse_key(k).kind in (KeyKind.OBJECT, KeyKind.SNAPSHOT)
    ]
    with remote.batch():
        for key in orphans:
            remote.delete(key)
    return orphans
