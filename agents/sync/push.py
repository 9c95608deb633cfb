"""Push: publish this machine's documents as a new snapshot (docs/sync.md).

1. Write the revisions the remote lacks, and their blobs (write-once keys).
2. Write the snapshot manifest (write-once).
3. Move ``heads/<this machine>.json`` to it by compare-and-swap against the etag we last
   wrote. The CAS is a durability point, so the head never names data that is not there.
4. Upload the audit rows written since the last push, as one append-only chunk.

A crash anywhere before step 3 leaves only orphans (gc removes them); after it, the next
push re-sends whatever was not recorded locally. Only this machine writes its head, so
concurrent pushes from several machines never touch each other's snapshots.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from agents.core.logs import get_logger
from agents.store import audit
from agents.store.blobs import blob_refs
from agents.store.canonical import canonical
from agents.store.db import rows_in
from agents.store.identity import verify
from agents.sync.audit_remote import checkpoint_of
from agents.sync.keys import audit_key, blob_key, head_key, object_key
from agents.sync.pull import FETCH, SyncContext
from agents.sync.remote import ObjectConflict, RemoteError
from agents.sync.state import Head, Manifest, etag_of_head, read_heads_checked
from agents.sync.trust import identity_of

__all__ = ["PushReport", "pending", "push", "upload_audit"]

log = get_logger("agents.sync")
AUDIT_CHUNK = 5000


@dataclass
class PushReport:
    """What a push did."""

    pushed: bool = False
    snapshot: str | None = None
    documents: int = 0
    changed: int = 0
    objects: int = 0
    blobs: int = 0
    bytes: int = 0
    audit_rows: int = 0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def pending(ctx: SyncContext) -> tuple[dict[str, str], dict[str, str], list[str]]:
    """(every head here, the heads not pushed yet, the documents pushed but gone here)."""
    pushed = ctx.state.base(ctx.store.machine_id)
    heads = ctx.store.heads()
    changed = {d: h for d, h in heads.items() if pushed.get(d) != h}
    dropped = [d for d in pushed if d not in heads]
    return heads, changed, dropped


def _known(ctx: SyncContext, heads_now: dict[str, Head]) -> set[str]:
    """Revisions in another machine's current snapshot as this one integrated it: present,
    and kept by gc. (This machine's own pushed revisions never come up: a head to push differs
    from the revision pushed for its document, and a revision belongs to one document.)"""
    me = ctx.store.machine_id
    known: set[str] = set()
    for machine, head in heads_now.items():
        if machine != me and ctx.state.get(f"peer:{machine}") == head.snapshot:
            known |= set(ctx.state.base(machine).values())
    return known


def _payload(ctx: SyncContext, hashes: list[str]) -> tuple[list[tuple[str, bytes]], set[str]]:
    """(object key, bytes) of ``hashes`` read from the store, and the blobs they reference."""
    items: list[tuple[str, bytes]] = []
    refs: set[str] = set()
    with ctx.store.reading() as conn:
        sql = "SELECT hash, envelope FROM revisions WHERE hash IN ({marks})"
        for digest, text in rows_in(conn, sql, hashes, FETCH):
            items.append((object_key(digest), text.encode()))
            refs |= blob_refs(text)
    return items, refs


class HeadMoved(Exception):  # noqa: N818 - a state the caller settles, not a failure
    """Our head on the remote is not the one we last wrote (another copy of this store)."""

    def __init__(self, etag: str | None) -> None:
        super().__init__(etag)
        self.etag = etag


def push(ctx: SyncContext) -> PushReport:
    """Publish the local heads as a snapshot (a no-op when nothing changed since the last).

    Raises:
        HeadMoved: Our head on the remote moved; pull it, then push again.
        RemoteError: The remote failed; nothing the head names is missing.
    """
    store, remote, me = ctx.store, ctx.remote, ctx.store.machine_id
    report = PushReport()
    heads, changed, dropped = pending(ctx)
    etag = ctx.state.get("head_etag")
    if not changed and not dropped and etag is not None:
        report.documents = len(heads)
        report.audit_rows = upload_audit(ctx)
        return report
    heads_now, bad = read_heads_checked(remote)
    current = etag_of_head(heads_now, bad, me)
    if current != etag:
        raise HeadMoved(current)
    known = _known(ctx, heads_now)
    items, refs = _payload(ctx, sorted({h for h in changed.values() if h not in known}))
    blobs = []
    for ref in sorted(refs):
        path = store.blobs.path_of(ref)
        if path.exists():
            blobs.append((blob_key(ref), store.blobs.get(ref)))
        else:
            log.warning("sync_blob_missing_here", blob=ref)
    seq = int(ctx.state.get("seq") or 0) + 1
    manifest = Manifest.new(me, seq, ctx.state.get("snapshot"), heads)
    payload = [*items, *blobs]
    with remote.batch(), ctx.progress("push", len(payload)) as advance:
        for i in range(0, len(payload), FETCH):
            remote.put_many(payload[i : i + FETCH])
            advance(len(payload[i : i + FETCH]))
        identity = identity_of(store)
        remote.put_if_absent(manifest.key, manifest.to_bytes(identity))
        new_etag = remote.cas(head_key(me), manifest.head().to_bytes(identity), etag)
    with store.transaction() as conn:
        ctx.state.set_base(conn, me, changed, dropped)
        ctx.state.put(conn, head_etag=new_etag, seq=seq, snapshot=manifest.key)
        store.audit(
            conn,
            actor=ctx.actor,
            op="push",
            remote=ctx.source,
            detail={"snapshot": manifest.key, "documents": len(heads), "objects": len(items)},
        )
    report = PushReport(
        pushed=True,
        snapshot=manifest.key,
        documents=len(heads),
        changed=len(changed) + len(dropped),
        objects=len(items),
        blobs=len(blobs),
        bytes=sum(len(v) for _, v in payload),
    )
    report.audit_rows = upload_audit(ctx)
    return report


def upload_audit(ctx: SyncContext) -> int:
    """Upload the audit rows not uploaded yet, as write-once chunks named by their first seq
    (so a chunk re-sent after a crash lands on the same key); return how many rows."""
    me, sent = ctx.store.machine_id, 0
    done = int(ctx.state.get("audit_seq") or 0)
    while True:
        with ctx.store.reading() as conn:
            rows = audit.after(conn, done, AUDIT_CHUNK)
        if not rows:
            return sent
        key = audit_key(me, f"{rows[0].seq:026d}")
        data = b"".join(canonical(r.as_dict()) + b"\n" for r in rows)
        signed: dict[str, Any] | None = audit.checkpoint(identity_of(ctx.store), rows, data)
        try:
            ctx.remote.put_if_absent(key, data + canonical(signed) + b"\n")
            last = rows[-1].seq
        except ObjectConflict:  # an earlier push died after sending a shorter chunk from here
            last = _sent_before(ctx, key, rows)
            signed = None
        with ctx.store.transaction() as conn:
            ctx.state.put(conn, audit_seq=last)
            if signed is not None:
                audit.record_checkpoint(conn, signed)
        sent += sum(1 for r in rows if r.seq <= last)
        done = last


def _sent_before(ctx: SyncContext, key: str, rows: list[audit.AuditEntry]) -> int:
    """The last of ``rows`` that the chunk already at ``key`` covers: a chunk this machine's
    key signed, starting at ``rows[0]`` (an earlier push that died before noting it, or a copy
    of this store, whose rows differ: logged). No row counts as sent on another's word.

    Raises:
        RemoteError: Something else holds ``key``.
    """
    entry = ctx.remote.get(key)
    tail = checkpoint_of(entry.data, key) if entry else {}
    last = tail.get("last_seq")
    if (
        isinstance(last, int)
        and last >= rows[0].seq
        and tail.get("first_seq") == rows[0].seq
        and verify(audit.CHECKPOINT, tail, identity_of(ctx.store).public_key)
    ):
        last = min(last, rows[-1].seq)
        if {r.seq: r.entry_hash for r in rows}.get(last) != tail.get("entry_hash"):
            log.warning("sync_audit_chunk_of_a_copy", key=key, first=rows[0].seq, last=last)
        return last
    raise RemoteError(
        f"{ctx.source}: {key} is not an audit chunk this machine sent, so its audit rows from "
        f"{rows[0].seq} on stay unsent; remove that object from the remote and push again "
        "(`agents context audit verify --remote` checks the chunks there)"
    )
