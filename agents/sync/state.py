"""What a machine keeps about one remote, and the JSON objects sync writes there.

Local (in the store's SQLite, keyed by the remote's id from ``meta/store.json``, so a changed
URL or password does not lose it):

- ``sync_state``: our head's etag and seq, the snapshot last integrated from each machine,
  the audit rows already uploaded, gc marks;
- ``sync_base`` under ``<remote id>/<machine>``: for every document, the revision that
  machine's snapshot held when we last integrated it (ours: what we last pushed). It is a
  common ancestor of both sides, the base of the 3-way merges.

On the remote: ``meta/store.json`` (format and id), ``heads/<machine>.json`` (a pointer to the
machine's newest snapshot), ``snapshots/<machine>/<ulid>.json`` (doc id → revision hash).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from agents.core.errors import InputError, StoreError
from agents.store.canonical import canonical, is_hash, now_iso, ulid
from agents.store.identity import Identity
from agents.store.store import ContextStore
from agents.store.untrusted import check_timestamp
from agents.sync.keys import META_KEY, KeyKind, parse_key, snapshot_key
from agents.sync.limits import DamagedError, parse
from agents.sync.remote import CasConflict, Entry, Remote, RemoteError

__all__ = [
    "BadHead",
    "Head",
    "LocalState",
    "Manifest",
    "etag_of_head",
    "read_heads",
    "read_heads_checked",
    "read_manifest",
    "remote_id",
    "sync_lock",
]

REMOTE_FORMAT = "ctx-remote/1"
HEAD_FORMAT = "ctx-head/1"
SNAPSHOT_FORMAT = "ctx-snapshot/1"


def _json(entry: Entry, key: str) -> dict[str, Any]:
    data = parse(entry.data, f"remote key {key!r}")
    if not isinstance(data, dict):
        raise DamagedError(f"remote key {key!r} is not a JSON object: the remote is damaged")
    return data


def _int(data: dict[str, Any], field: str, key: str, default: int | None = None) -> int:
    value = data.get(field, default)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**63:
        raise DamagedError(f"remote key {key!r}: {field!r} is not a count ({str(value)[:40]!r})")
    return value


def _time(data: dict[str, Any], field: str, key: str) -> str:
    try:
        return check_timestamp(data.get(field), f"remote key {key!r}: {field!r}")
    except ValueError as exc:
        raise DamagedError(str(exc)) from None


def remote_id(remote: Remote, *, create: bool) -> str | None:
    """The id in the remote's ``meta/store.json``; with ``create``, the first writer makes it.

    Raises:
        RemoteError: The remote holds another format (a newer version of agents, or not a
            context remote).
    """
    entry = remote.get(META_KEY)
    if entry is None:
        if not create:
            return None
        meta = {"format": REMOTE_FORMAT, "id": ulid(), "created_at": now_iso()}
        try:
            remote.cas(META_KEY, canonical(meta), None)
        except CasConflict:
            entry = remote.get(META_KEY)
        if entry is None:
            return str(meta["id"])
    meta = _json(entry, META_KEY)
    if meta.get("format") != REMOTE_FORMAT or not isinstance(meta.get("id"), str):
        raise RemoteError(
            f"{remote.display_url} holds format {meta.get('format')!r}, not {REMOTE_FORMAT}: it "
            "was written by a newer version of agents (upgrade), or it is not a context remote"
        )
    return str(meta["id"])


@dataclass(frozen=True)
class Head:
    """``heads/<machine>.json``: the machine's newest snapshot."""

    machine: str
    snapshot: str
    seq: int
    updated_at: str
    documents: int
    etag: str
    signing_key: str | None = None
    raw: dict[str, Any] | None = None

    def to_bytes(self, identity: Identity) -> bytes:
        """The head as stored, signed by ``identity``."""
        data = {
            "format": HEAD_FORMAT,
            "machine": self.machine,
            "snapshot": self.snapshot,
            "seq": self.seq,
            "updated_at": self.updated_at,
            "documents": self.documents,
            "signing_key": identity.public_key,
        }
        return canonical(identity.sign(HEAD_FORMAT, data))


@dataclass(frozen=True)
class BadHead:
    """A head that cannot be read: quarantined, while the other machines sync on."""

    key: str
    machine: str
    reason: str
    etag: str | None
    data: bytes = b""


def _head(key: str, machine: str, entry: Entry) -> Head:
    data = _json(entry, key)
    if data.get("format") != HEAD_FORMAT or data.get("machine") != machine:
        raise DamagedError(f"remote key {key!r} is not a {HEAD_FORMAT} head of {machine!r}")
    snapshot = data.get("snapshot")
    try:
        parsed = parse_key(snapshot) if isinstance(snapshot, str) else None
    except InputError:
        parsed = None
    if parsed is None or parsed.kind is not KeyKind.SNAPSHOT or parsed.machine != machine:
        raise DamagedError(f"remote key {key!r} names no snapshot of {machine!r}")
    return Head(
        machine,
        str(snapshot),
        _int(data, "seq", key),
        _time(data, "updated_at", key),
        _int(data, "documents", key, 0),
        entry.etag,
        data["signing_key"] if isinstance(data.get("signing_key"), str) else None,
        data,
    )


def read_heads_checked(remote: Remote) -> tuple[dict[str, Head], list[BadHead]]:
    """Every machine's head on ``remote`` that can be read, and the ones that cannot (too
    large, not a file, not JSON, a field missing or implausible)."""
    keys = remote.list("heads/")
    found = remote.get_many(keys)
    out: dict[str, Head] = {}
    bad: list[BadHead] = []
    for key in keys:
        machine = key.removeprefix("heads/").removesuffix(".json")
        entry = found.get(key)
        try:
            if entry is None:
                if key in remote.refused:
                    raise DamagedError(f"remote key {key!r}: {remote.refused[key]}")
                continue  # removed since the listing
            out[machine] = _head(key, machine, entry)
        except DamagedError as exc:
            data = entry.data[:4096] if entry else b""
            bad.append(BadHead(key, machine, str(exc), entry.etag if entry else None, data))
    return out, bad


def etag_of_head(heads: dict[str, Head], bad: list[BadHead], machine: str) -> str | None:
    """The etag of ``machine``'s head now, readable or not (a machine may overwrite its own
    damaged head)."""
    if machine in heads:
        return heads[machine].etag
    return next((b.etag for b in bad if b.machine == machine), None)


def read_heads(remote: Remote) -> dict[str, Head]:
    """Every machine's head on ``remote``.

    Raises:
        DamagedError: A head cannot be read (gc stops rather than guess what it keeps).
    """
    heads, bad = read_heads_checked(remote)
    if bad:
        raise DamagedError(bad[0].reason)
    return heads


@dataclass(frozen=True)
class Manifest:
    """``snapshots/<machine>/<ulid>.json``: every document's revision on that machine."""

    key: str
    machine: str
    seq: int
    parent: str | None
    created_at: str
    docs: dict[str, str]
    signing_key: str | None = None
    raw: dict[str, Any] | None = None

    @classmethod
    def new(cls, machine: str, seq: int, parent: str | None, docs: dict[str, str]) -> Manifest:
        """A new manifest of ``docs`` (its key is a fresh ULID)."""
        return cls(snapshot_key(machine, ulid()), machine, seq, parent, now_iso(), docs)

    def to_bytes(self, identity: Identity) -> bytes:
        """The manifest as stored, signed by ``identity``: one signature covers every
        revision it names, since revisions are named by the hash of their bytes."""
        data = {
            "format": SNAPSHOT_FORMAT,
            "machine": self.machine,
            "seq": self.seq,
            "parent": self.parent,
            "created_at": self.created_at,
            "docs": self.docs,
            "signing_key": identity.public_key,
        }
        return canonical(identity.sign(SNAPSHOT_FORMAT, data))

    def head(self, etag: str = "") -> Head:
        """The head that points at this manifest."""
        return Head(self.machine, self.key, self.seq, now_iso(), len(self.docs), etag)


def read_manifest(remote: Remote, key: str, machine: str | None = None) -> Manifest:
    """The snapshot manifest at ``key`` (of ``machine``, when given).

    Raises:
        DamagedError: Missing, too large, or malformed (a head must never point at a missing
            snapshot, so either the head or the snapshot is damaged or forged).
    """
    entry = remote.get(key)
    if entry is None:
        why = remote.refused.get(key, "missing from the remote, yet a head points at it")
        raise DamagedError(f"snapshot {key!r}: {why}")
    data = _json(entry, key)
    docs = data.get("docs")
    if data.get("format") != SNAPSHOT_FORMAT or not isinstance(docs, dict):
        raise DamagedError(f"remote key {key!r} is not a {SNAPSHOT_FORMAT} manifest")
    owner = data.get("machine")
    if not isinstance(owner, str) or (machine is not None and owner != machine):
        raise DamagedError(f"snapshot {key!r} is not one of {machine!r}")
    parent = data.get("parent")
    if parent is not None and not isinstance(parent, str):
        raise DamagedError(f"snapshot {key!r}: 'parent' is not a key")
    for doc, digest in docs.items():
        if not isinstance(digest, str) or not is_hash(digest) or len(doc) > 512:
            raise DamagedError(f"snapshot {key!r}: {str(doc)[:80]!r} names no revision hash")
    return Manifest(
        key,
        owner,
        _int(data, "seq", key),
        parent,
        _time(data, "created_at", key),
        dict(docs),
        data["signing_key"] if isinstance(data.get("signing_key"), str) else None,
        data,
    )


class LocalState:
    """This machine's bookkeeping about the remote ``rid``, in the store."""

    def __init__(self, store: ContextStore, rid: str) -> None:
        self.store = store
        self.rid = rid

    def get(self, key: str) -> str | None:
        """A value of ``sync_state``."""
        with self.store.reading() as conn:
            row = conn.execute(
                "SELECT value FROM sync_state WHERE remote = ? AND key = ?", (self.rid, key)
            ).fetchone()
        return str(row[0]) if row else None

    def put(self, conn: Any, **values: str | int | None) -> None:
        """Set (or, with None, clear) values inside ``conn``'s transaction."""
        for key, value in values.items():
            if value is None:
                conn.execute("DELETE FROM sync_state WHERE remote = ? AND key = ?", (self.rid, key))
            else:
                conn.execute(
                    "INSERT INTO sync_state VALUES (?, ?, ?) ON CONFLICT(remote, key) DO "
                    "UPDATE SET value = excluded.value",
                    (self.rid, key, str(value)),
                )

    def base(self, machine: str) -> dict[str, str]:
        """``{doc id: revision}`` of ``machine``'s snapshot as last integrated (or pushed)."""
        with self.store.reading() as conn:
            rows = conn.execute(
                "SELECT doc_id, hash FROM sync_base WHERE remote = ?", (f"{self.rid}/{machine}",)
            ).fetchall()
        return dict(rows)

    def set_base(
        self, conn: Any, machine: str, docs: dict[str, str], drop: Iterable[str] = ()
    ) -> None:
        """Record ``docs`` (and forget ``drop``) in ``machine``'s base, inside ``conn``."""
        name = f"{self.rid}/{machine}"
        conn.executemany(
            "INSERT INTO sync_base VALUES (?, ?, ?) ON CONFLICT(remote, doc_id) DO UPDATE SET "
            "hash = excluded.hash",
            [(name, d, h) for d, h in docs.items()],
        )
        conn.executemany(
            "DELETE FROM sync_base WHERE remote = ? AND doc_id = ?", [(name, d) for d in drop]
        )


@contextlib.contextmanager
def sync_lock(store: ContextStore, timeout: float = 600.0) -> Iterator[None]:
    """One sync at a time per store (the CLI, the periodic program, the context agent).

    Raises:
        StoreError: Another sync held the lock for ``timeout`` seconds.
    """
    path = store.directory / "sync.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
                    raise StoreError(
                        f"another sync of {store.directory} (pid {holder}) has run for more "
                        f"than {timeout:g}s; wait for it, or stop it"
                    ) from None
                time.sleep(0.05)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)
