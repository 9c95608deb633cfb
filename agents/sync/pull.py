"""Pull: bring every other machine's newest snapshot into the local store (docs/sync.md).

For each machine whose head moved since we last integrated it, read its manifest, fetch
the revisions (and blobs) we lack in bulk, validate them (a bad one is quarantined, never
applied), then settle each document that changed on that machine with
:func:`agents.sync.merge.reconcile`: fast-forward, keep, merge, or record a conflict.
Documents are settled in short transactions, each head moved by compare-and-swap against
the head it was decided on, so agents keep writing meanwhile and nothing they write is lost.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from agents.core.logs import get_logger
from agents.store import audit
from agents.store.blobs import blob_refs
from agents.store.canonical import now_iso, sha256_of
from agents.store.conflicts import close_superseded, record_conflict
from agents.store.db import rows_in
from agents.store.identity import fingerprint
from agents.store.replication import point_head, receive_many
from agents.store.search_index import bulk_indexed
from agents.store.store import ContextStore
from agents.sync.ancestry import find_base
from agents.sync.keys import blob_key, object_key
from agents.sync.limits import DamagedError
from agents.sync.local import write_merge
from agents.sync.merge import reconcile
from agents.sync.quarantine import quarantine_damaged
from agents.sync.remote import Remote
from agents.sync.state import Head, LocalState, Manifest, read_heads_checked, read_manifest
from agents.sync.trust import TrustSet, check_head, check_manifest, note_seen, trusted_set

__all__ = ["Progress", "PullReport", "SyncContext", "no_progress", "pull"]

log = get_logger("agents.sync")
CHUNK = 2000
FETCH = 1000
SCAN_FROM = 2000  # revisions to fetch from which reading the whole prefix is cheaper
MAX_LISTED = 100  # changes and conflicts listed by name in a report (the rest are counted)


class Progress(Protocol):
    """Opens a progress display for ``total`` items of a phase; yields an ``advance(n)``."""

    def __call__(self, phase: str, total: int) -> AbstractContextManager[Callable[[int], None]]: ...


def no_progress(phase: str, total: int) -> AbstractContextManager[Callable[[int], None]]:
    """A progress display that shows nothing."""
    return nullcontext(lambda n: None)


@dataclass
class SyncContext:
    """One sync's store, remote and bookkeeping."""

    store: ContextStore
    remote: Remote
    state: LocalState
    progress: Progress = no_progress
    actor: str = "sync"
    verify_signatures: bool = True  # False only to measure what verification costs

    @property
    def source(self) -> str:
        """The remote as audit rows and records name it (no secrets)."""
        return self.remote.display_url


@dataclass
class PullReport:
    """What a pull did."""

    machines: list[str] = field(default_factory=list)
    received: int = 0
    blobs: int = 0
    fast_forwarded: int = 0
    merged: int = 0
    kept: int = 0
    refused: dict[str, str] = field(default_factory=dict)
    pending: dict[str, str] = field(default_factory=dict)  # untrusted machine -> fingerprint
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    quarantined: list[dict[str, Any]] = field(default_factory=list)  # heads, snapshots
    added: list[dict[str, Any]] = field(default_factory=list)
    modified: list[dict[str, Any]] = field(default_factory=list)

    @property
    def changed(self) -> int:
        """Documents whose head moved here."""
        return self.fast_forwarded + self.merged

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {**asdict(self), "changed": self.changed}

    def note(self, bucket: list[dict[str, Any]], entry: dict[str, Any]) -> None:
        """List ``entry`` unless the bucket is full (counts stay exact)."""
        if len(bucket) < MAX_LISTED:
            bucket.append(entry)


def pull(ctx: SyncContext) -> PullReport:
    """Integrate the newest snapshot of every machine this one trusts; our own head too, when
    another copy of this store wrote it. Untrusted machines stay pending (nothing of them is
    merged). A head or snapshot that cannot be read, or is not signed by its machine's
    trusted key, is quarantined and the pull goes on with the other machines. Trust is
    computed again after each machine, since its snapshot may carry trust decisions."""
    report = PullReport()
    heads, bad = read_heads_checked(ctx.remote)
    for b in bad:
        quarantine_damaged(ctx, report, b.key, b.machine, b.reason, b.etag, b.data)
    done: set[str] = set()
    while True:
        trust = trusted_set(ctx.store)  # again after each machine: it may have moved trust
        for machine, head in sorted(heads.items()):
            if machine not in done and _pull_one(ctx, trust, head, report):
                done.add(machine)
                report.pending.pop(machine, None)
                break
        else:
            return report


def _pull_one(ctx: SyncContext, trust: TrustSet, head: Head, report: PullReport) -> bool:
    """Integrate ``head``'s snapshot if its machine is trusted and its signatures check; False
    while it waits (pending)."""
    machine = head.machine
    if machine != ctx.store.machine_id:
        note_seen(ctx.store, machine, head.signing_key, head.updated_at)
    elif head.etag == ctx.state.get("head_etag"):
        return True
    problem = check_head(trust, head, verify_signatures=ctx.verify_signatures)
    if problem == "pending":
        report.pending[machine] = fingerprint(head.signing_key) if head.signing_key else "unsigned"
        return False
    if problem is None and head.seq < int(ctx.state.get(f"peer_seq:{machine}") or 0):
        problem = f"head of {machine} goes back to seq {head.seq}: an old head replayed"
    if problem is None and head.snapshot == ctx.state.get(f"peer:{machine}"):
        return True
    key = f"heads/{machine}.json"
    try:
        if problem is None:
            manifest = read_manifest(ctx.remote, head.snapshot, machine)
            key = head.snapshot
            problem = check_manifest(trust, head, manifest, verify_signatures=ctx.verify_signatures)
        if problem is None:
            integrate(ctx, manifest, report)
    except (DamagedError, ValueError, KeyError, TypeError, RecursionError) as exc:
        # hostile or corrupt data of one machine: keep it aside, sync the others
        problem = str(exc) if isinstance(exc, DamagedError) else f"{type(exc).__name__}: {exc}"
        key = head.snapshot
    if problem is not None:
        quarantine_damaged(ctx, report, key, machine, problem[:500], head.etag)
        return True
    with ctx.store.transaction() as conn:
        ctx.state.put(conn, **{f"peer_seq:{machine}": head.seq})
    report.machines.append(machine)
    return True


def _present(conn: sqlite3.Connection, hashes: list[str]) -> set[str]:
    return {
        r[0] for r in rows_in(conn, "SELECT hash FROM revisions WHERE hash IN ({marks})", hashes)
    }


def _objects(ctx: SyncContext, hashes: list[str]) -> Iterator[list[tuple[str, bytes | None]]]:
    """The bytes of revisions ``hashes`` (None when missing), in batches of ``FETCH``.

    Many at once (a restore) stream the whole ``objects/`` prefix, the backends' bulk read
    (PostgreSQL: pages of binary COPY), and keep what is wanted; a few are read by key.
    """
    wanted = {object_key(h): h for h in hashes}
    if len(hashes) >= SCAN_FROM:
        batch: list[tuple[str, bytes | None]] = []
        for key, entry in ctx.remote.scan("objects/"):
            digest = wanted.pop(key, None)
            if digest is not None:
                batch.append((digest, entry.data))
                if len(batch) >= FETCH:
                    yield batch
                    batch = []
        if batch:
            yield batch
    rest = list(wanted)
    for i in range(0, len(rest), FETCH):
        found = ctx.remote.get_many(rest[i : i + FETCH])
        yield [(wanted[k], found[k].data if k in found else None) for k in rest[i : i + FETCH]]


def _fetch(ctx: SyncContext, hashes: list[str], report: PullReport, machine: str = "") -> None:
    """Fetch, check and store revisions ``hashes`` and the blobs they reference."""
    missing_blobs: set[str] = set()
    with ctx.progress("fetch", len(hashes)) as advance:
        for batch in _objects(ctx, hashes):
            items = []
            for h, data in batch:
                if data is None:
                    key = object_key(h)
                    why = ctx.remote.refused.get(key)
                    report.refused[h] = f"object {h}: {why or 'missing from the remote'}"
                    if why:  # there, but too large or not a file: keep the evidence
                        quarantine_damaged(ctx, report, key, machine, why, None)
                    continue
                items.append((h, data))
                for ref in blob_refs(data.decode("utf-8", "replace")):
                    if not ctx.store.blobs.path_of(ref).exists():
                        missing_blobs.add(ref)
            got = receive_many(
                ctx.store, items, source=ctx.source, actor=ctx.actor, skew=ctx.remote.max_skew
            )
            report.received += len(got.stored)
            report.refused.update(got.refused)
            advance(len(batch))
    refs = sorted(missing_blobs)
    for i in range(0, len(refs), FETCH):
        found = ctx.remote.get_many(blob_key(r) for r in refs[i : i + FETCH])
        for ref in refs[i : i + FETCH]:
            entry = found.get(blob_key(ref))
            if entry is not None and sha256_of(entry.data) == ref:
                ctx.store.blobs.put(entry.data)
                report.blobs += 1
            else:
                log.warning("sync_blob_unavailable", blob=ref, remote=ctx.source)


def integrate(ctx: SyncContext, manifest: Manifest, report: PullReport) -> None:
    """Settle every document that changed in ``manifest`` since we last integrated its
    machine, then remember the manifest as integrated."""
    store, machine = ctx.store, manifest.machine
    base = ctx.state.base(machine)
    local = store.heads()
    agreed: dict[str, str] = {}
    todo: dict[str, str] = {}
    for doc, digest in manifest.docs.items():
        if base.get(doc) == digest:
            continue
        if local.get(doc) == digest or (doc not in local and doc in base):
            agreed[doc] = digest  # the same here already, or compacted here since
        else:
            todo[doc] = digest
    with store.reading() as conn:
        held = _present(conn, sorted(set(todo.values())))
    with store.deferred_sync():
        _fetch(ctx, sorted(set(todo.values()) - held), report, machine)
        _merge(ctx, manifest.machine, todo, base, agreed, report)
    with store.transaction() as conn:  # at the store's own durability: everything above too
        ctx.state.set_base(conn, machine, agreed)
        ctx.state.put(conn, **{f"peer:{machine}": manifest.key})


def _merge(
    ctx: SyncContext,
    machine: str,
    todo: dict[str, str],
    base: dict[str, str],
    agreed: dict[str, str],
    report: PullReport,
) -> None:
    """Settle the documents of ``todo`` in chunks, one transaction each."""
    store = ctx.store
    docs = sorted(todo)
    with ctx.progress("merge", len(docs)) as advance:
        for i in range(0, len(docs), CHUNK):
            part = [d for d in docs[i : i + CHUNK] if todo[d] not in report.refused]
            with store.transaction() as conn:
                held = _heads(conn, part)
                fresh = [d for d in part if d not in held]
                agreed.update(_adopt(ctx, conn, {d: todo[d] for d in fresh}, report))
                for doc in part:
                    if doc in held and _settle(ctx, conn, doc, todo[doc], base.get(doc), report):
                        agreed[doc] = todo[doc]
                ctx.state.set_base(conn, machine, agreed)
                agreed.clear()
            advance(len(docs[i : i + CHUNK]))


def _heads(conn: sqlite3.Connection, docs: list[str]) -> set[str]:
    return {r[0] for r in rows_in(conn, "SELECT id FROM docs WHERE id IN ({marks})", docs)}


# a document new here takes the revision's head as it is (params: updated_at, revision hash)
ADOPT_SQL = (
    "INSERT INTO docs(id, kind, head, content_hash, vv, hlc, deleted, updated_at) "
    "SELECT doc_id, kind, hash, content_hash, json_extract(envelope, '$.rev.vv'), "
    "json_extract(envelope, '$.hlc'), json_extract(envelope, '$.deleted'), ? "
    "FROM revisions WHERE hash = ?"
)


def _adopt(
    ctx: SyncContext, conn: sqlite3.Connection, fresh: dict[str, str], report: PullReport
) -> dict[str, str]:
    """Fast-forward documents that do not exist here yet, in bulk (a restore is all of
    them); return the ones adopted. A revision of another document than the manifest says
    is refused."""
    if not fresh:
        return {}
    hashes = sorted(set(fresh.values()))
    owner: dict[str, str] = dict(
        rows_in(conn, "SELECT hash, doc_id FROM revisions WHERE hash IN ({marks})", hashes)
    )
    adopted = {d: h for d, h in fresh.items() if owner.get(h) == d}
    for doc, digest in fresh.items():
        if doc not in adopted:
            report.refused[digest] = (
                f"the manifest names {digest} for {doc!r}, a revision of another document"
            )
    with bulk_indexed(conn, list(adopted)):
        conn.executemany(ADOPT_SQL, [(now_iso(), h) for h in adopted.values()])
    audit.append_many(
        conn,
        machine=ctx.store.machine_id,
        actor=ctx.actor,
        rows=[("fast_forward", d, None, h, ctx.source, "ok", None) for d, h in adopted.items()],
    )
    report.fast_forwarded += len(adopted)
    for doc, digest in adopted.items():
        report.note(report.added, {"doc_id": doc, "new_hash": digest})
    return adopted


def _settle(
    ctx: SyncContext,
    conn: sqlite3.Connection,
    doc: str,
    digest: str,
    hint: str | None,
    report: PullReport,
) -> bool:
    """Settle one document inside ``conn``; True when the local head now descends from
    ``digest`` (so it becomes the base for that machine)."""
    store = ctx.store
    head = store.head_info(doc, conn)
    remote = store.revision(digest, conn)
    if remote.id != doc:
        report.refused[digest] = (
            f"the manifest names {digest} for {doc!r}, a revision of {remote.id!r}"
        )
        return False
    if head is None:
        point_head(store, conn, digest, expect=None, actor=ctx.actor, remote=ctx.source)
        report.fast_forwarded += 1
        report.note(report.added, {"doc_id": doc, "new_hash": digest})
        return True
    local = store.revision(head.head, conn)
    base = find_base(store, conn, head.head, digest, hint)
    res = reconcile(local, head.head, remote, digest, base)
    if res.action == "same":
        return True
    if res.action == "keep":
        report.kept += 1
        return True
    if res.action == "fast_forward":
        point_head(store, conn, digest, expect=head.head, actor=ctx.actor, remote=ctx.source)
        close_superseded(store, conn, doc, digest, actor=ctx.actor)
        report.fast_forwarded += 1
        report.note(report.modified, {"doc_id": doc, "old_hash": head.head, "new_hash": digest})
        return True
    base_hash = base.hash if base is not None else None
    entry: dict[str, Any] = {
        "doc_id": doc,
        "conflict_type": "concurrent_edit",
        "resolution_strategy": res.policy,
        "local_hash": head.head,
        "remote_hash": digest,
        "base_hash": base_hash,
    }
    if res.action == "conflict":
        record_conflict(
            store, conn, doc, head.head, digest, base_hash, policy=res.policy, actor=ctx.actor
        )
        report.note(report.conflicts, {**entry, "resolution": "needs_review"})
        return False
    result = write_merge(
        store,
        conn,
        head,
        res,
        local_hash=head.head,
        remote_hash=digest,
        base_hash=base_hash,
        actor=ctx.actor,
    )
    report.merged += 1
    report.note(report.modified, {"doc_id": doc, "old_hash": head.head, "new_hash": result})
    if res.status == "auto_resolved":
        report.note(report.conflicts, {**entry, "resolution": "merge", "result_hash": result})
    return True
