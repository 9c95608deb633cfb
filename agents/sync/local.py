"""A local edit made against a known base: the path from files on disk into the store.

A file captured on this machine is a revision whose parent is the revision this machine last
applied or imported for it (its *file base*), never simply the store's current head. When the
head has moved since (a pull brought another machine's edit), the two are concurrent and are
settled exactly as sync settles concurrent revisions (:func:`agents.sync.merge.settle`):

- a clean merge becomes the new head (a merge revision descending from both), and apply
  writes it back into the file;
- overlapping edits are a conflict waiting for review: the local edit becomes the head (the
  file on disk already says it), the other machine's revision is kept beside it, and both
  machines list the conflict.

The same conflict records, audit rows and ``agents sync resolve`` serve both paths.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any, Literal

from agents.core.errors import NotFoundError
from agents.store.base import DocInfo
from agents.store.canonical import now_iso
from agents.store.conflicts import close_superseded, record_conflict
from agents.store.envelope import Envelope, content_hash_of
from agents.store.store import ContextStore
from agents.sync.merge import Resolution, settle

__all__ = ["LocalEdit", "Outcome", "commit_local", "write_merge"]

Outcome = Literal["created", "updated", "unchanged", "merged", "conflict"]


@dataclass(frozen=True)
class LocalEdit:
    """What became of one local edit: ``outcome``, the revision that holds the local content
    (``local``, the new file base), the head after it (``head``), and the conflict's policy
    when one was recorded."""

    doc_id: str
    outcome: Outcome
    local: str
    head: str
    auto_resolved: bool = False


def write_merge(
    store: ContextStore,
    conn: sqlite3.Connection,
    head: DocInfo,
    res: Resolution,
    *,
    local_hash: str,
    remote_hash: str,
    base_hash: str | None,
    actor: str,
) -> str:
    """Inside ``conn``: make ``res.merged`` the head of its document (``head`` as read in this
    transaction), close the conflicts it settles, and record an auto-resolved decision for
    review; return the merge revision's hash."""
    assert res.merged is not None
    merged = store.apply(
        conn,
        res.merged,
        head,
        actor=actor,
        op="merge",
        force=True,
        detail={"remote": remote_hash, "policy": res.policy, "fields": list(res.fields)[:20]},
    )
    result = merged.hash
    close_superseded(store, conn, res.merged.id, result, actor=actor)
    if res.status == "auto_resolved":
        record_conflict(
            store,
            conn,
            res.merged.id,
            local_hash,
            remote_hash,
            base_hash,
            policy=res.policy,
            status="auto_resolved",
            resolved_hash=result,
            actor=actor,
        )
    return result


def _base(store: ContextStore, conn: sqlite3.Connection, digest: str | None) -> Envelope | None:
    if digest is None:
        return None
    try:
        return store.revision(digest, conn)
    except NotFoundError:  # compacted away: settle as if the base were unknown
        return None


def commit_local(
    store: ContextStore,
    conn: sqlite3.Connection,
    doc_id: str,
    kind: str,
    body: Any,
    *,
    base: str | None,
    scope: dict[str, Any] | None = None,
    secret_refs: list[Any] | None = None,
    deleted: bool = False,
    actor: str = "cli",
) -> LocalEdit:
    """Inside ``conn``'s write transaction, record ``body`` (already normalized) as this
    machine's edit of ``doc_id`` made on top of revision ``base`` (None: made without ever
    having seen the store's revision, e.g. a file that existed before the first restore)."""
    head = store.head_info(doc_id, conn)
    if head is None or head.head == base:
        # nobody moved the head since this machine last saw the file: a plain new revision
        env = store.commit(
            conn,
            doc_id,
            kind,
            body,
            scope=scope,
            deleted=deleted,
            secret_refs=secret_refs,
            actor=actor,
            op="import",
            head=head,
        )
        same = head is not None and env.content_hash == head.content_hash
        outcome: Outcome = "created" if head is None else "unchanged" if same else "updated"
        digest = head.head if same and head is not None else env.hash
        return LocalEdit(doc_id, outcome, digest, digest)
    current = store.revision(head.head, conn)
    ancestor = _base(store, conn, base)
    ancestor_hash = base if ancestor is not None else None
    vv = dict(ancestor.vv if ancestor else {})
    # strictly beyond both the base and the head at this machine: a unique counter, so the
    # edit is never mistaken for (or ordered before) a revision it has not seen
    vv[store.machine_id] = max(vv.get(store.machine_id, 0), head.vv.get(store.machine_id, 0)) + 1
    local = Envelope(
        id=doc_id,
        kind=kind,
        # without a scope of its own the edit keeps the document's scope as it is now (as
        # store.prepare does): a file's text says nothing of where the document applies, so a
        # scope another machine set meanwhile stands, and the merge keeps it
        scope=scope or current.scope,
        body=body,
        vv=vv,
        parents=[ancestor_hash] if ancestor_hash else [],
        origin_machine=store.machine_id,
        updated_at=now_iso(),
        hlc=str(store.clock.now(head.hlc)),
        deleted=deleted,
        secret_refs=secret_refs or [],
    )
    if local.content_hash == current.content_hash:
        return LocalEdit(doc_id, "unchanged", head.head, head.head)
    if ancestor is not None and ancestor.content_hash == content_hash_of(
        kind, scope or ancestor.scope, deleted, body, local.secret_refs
    ):
        # the file still says what this machine last saw: nothing local to merge
        return LocalEdit(doc_id, "unchanged", ancestor_hash or head.head, head.head)
    res = settle(local, local.hash, current, head.head, ancestor)
    base_hash = ancestor_hash
    # the local edit becomes a revision (and the head, for a moment) either way
    stored = store.apply(conn, local, head, actor=actor, op="import", force=True)
    if res.action == "conflict":
        record_conflict(
            store,
            conn,
            doc_id,
            stored.hash,
            head.head,
            base_hash,
            policy=res.policy,
            actor=actor,
        )
        return LocalEdit(doc_id, "conflict", stored.hash, stored.hash)
    after = store.head_info(doc_id, conn)
    assert after is not None
    result = write_merge(
        store,
        conn,
        after,
        res,
        local_hash=stored.hash,
        remote_hash=head.head,
        base_hash=base_hash,
        actor=actor,
    )
    return LocalEdit(
        doc_id, "merged", stored.hash, result, auto_resolved=res.status == "auto_resolved"
    )
