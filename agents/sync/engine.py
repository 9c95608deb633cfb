"""``Syncer``: push, pull, sync and status of one store against one remote, and ``resolve``.

Every operation runs under the store's sync lock (one sync at a time per store; agents keep
writing meanwhile). Each pull, push or sync that changed anything writes a ``sync_record``
document: what moved, every automatic decision, and the conflicts it left for review. The
record of a push is written before its snapshot is taken, so it travels with it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from agents.core.errors import AgentError, InputError, NotFoundError
from agents.store.canonical import is_hash, now_iso, ulid
from agents.store.clock import vv_bump, vv_merge
from agents.store.conflicts import close_conflicts, conflicts, open_conflicts
from agents.store.envelope import Envelope
from agents.store.identity import fingerprint
from agents.store.store import ContextStore
from agents.sync.keys import object_key
from agents.sync.pull import Progress, PullReport, SyncContext, no_progress, pull
from agents.sync.push import HeadMoved, PushReport, pending, push
from agents.sync.quarantine import quarantine_count
from agents.sync.remote import CasConflict, Remote, RemoteError
from agents.sync.state import (
    LocalState,
    etag_of_head,
    read_heads_checked,
    remote_id,
    sync_lock,
)
from agents.sync.trust import trusted_set

__all__ = ["SyncReport", "Syncer", "pending_hint", "resolve"]

MAX_SHOWN = 20  # quarantined items named in a summary or a sync_record


@dataclass
class SyncReport:
    """What one ``pull``, ``push`` or ``sync`` did."""

    operation: str
    remote: str
    pull: PullReport | None = None
    push: PushReport | None = None
    record: str | None = None
    duration_ms: float = 0.0
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "operation": self.operation,
            "remote": self.remote,
            "pull": self.pull.as_dict() if self.pull else None,
            "push": self.push.as_dict() if self.push else None,
            "record": self.record,
            "duration_ms": round(self.duration_ms, 1),
            "notes": self.notes,
        }

    def summary(self) -> str:
        """What the operation did, in a few lines."""
        lines = []
        if self.pull is not None:
            p = self.pull
            lines.append(
                f"pulled from {len(p.machines)} machine(s): {p.fast_forwarded} fast-forwarded, "
                f"{p.merged} merged, {p.kept} kept "
                f"({p.received} revisions, {p.blobs} blobs fetched)"
            )
            review = [c for c in p.conflicts if c["resolution"] == "needs_review"]
            if review:
                lines.append(
                    f"{len(review)} conflict(s) need review: `agents sync conflicts` lists them, "
                    "`agents sync resolve <doc> --take local|remote` settles one"
                )
            if p.refused:
                lines.append(f"{len(p.refused)} revision(s) refused and quarantined")
            lines += [
                f"quarantined {q['key']} of {q['machine']}: {q['reason']}"
                for q in p.quarantined[:MAX_SHOWN]
            ]
            if p.refused or p.quarantined:
                lines.append("`agents sync quarantine` lists what was set aside")
            if p.pending:
                lines.append(pending_hint(p.pending))
        if self.push is not None:
            s = self.push
            lines.append(
                f"pushed {s.changed} change(s) as {s.snapshot} "
                f"({s.objects} objects, {s.blobs} blobs)"
                if s.pushed
                else "nothing to push"
            )
        lines += self.notes
        return "\n".join(lines) or "nothing to do"


class Syncer:
    """Sync ``store`` with ``remote``."""

    def __init__(
        self,
        store: ContextStore,
        remote: Remote,
        *,
        progress: Progress = no_progress,
        actor: str = "sync",
        verify_signatures: bool = True,
    ) -> None:
        self.store = store
        self.remote = remote
        self.progress = progress
        self.actor = actor
        self.verify_signatures = verify_signatures  # False only to measure what it costs

    def _context(self, *, create: bool) -> SyncContext | None:
        rid = remote_id(self.remote, create=create)
        if rid is None:
            return None
        return SyncContext(
            self.store,
            self.remote,
            LocalState(self.store, rid),
            self.progress,
            self.actor,
            self.verify_signatures,
        )

    def pull(self) -> SyncReport:
        """Integrate every other machine's newest snapshot."""
        return self._run("pull")

    def push(self) -> SyncReport:
        """Publish this machine's documents."""
        return self._run("push")

    def sync(self) -> SyncReport:
        """Pull, then push the merged result."""
        return self._run("sync")

    def _run(self, operation: str) -> SyncReport:
        started = time.monotonic()
        report = SyncReport(operation, self.remote.display_url)
        with sync_lock(self.store):
            ctx = self._context(create=operation != "pull")
            if ctx is None:
                report.notes.append("the remote is empty: nothing to pull")
                return report
            try:
                if operation in ("pull", "sync"):
                    report.pull = pull(ctx)
                if operation in ("push", "sync"):
                    report.push = self._push(ctx, report)
                elif report.pull and (
                    report.pull.changed
                    or report.pull.conflicts
                    or report.pull.quarantined
                    or report.pull.refused
                ):
                    report.record = self._record(ctx, report, "ok", started)
            except AgentError as exc:
                report.record = self._record(ctx, report, "failed", started, error=str(exc))
                raise
        report.duration_ms = (time.monotonic() - started) * 1000
        return report

    def _push(self, ctx: SyncContext, report: SyncReport) -> PushReport:
        _, changed, dropped = pending(ctx)
        pulled = report.pull is not None and bool(
            report.pull.changed
            or report.pull.conflicts
            or report.pull.quarantined
            or report.pull.refused
        )
        if changed or dropped or pulled or ctx.state.get("head_etag") is None:
            report.record = self._record(ctx, report, "ok", time.monotonic(), pushing=True)
        for _ in range(3):
            try:
                return push(ctx)
            except (HeadMoved, CasConflict):
                # another copy of this store moved our head: integrate it, then push again
                report.notes.append("this machine's head on the remote was moved elsewhere")
                extra = pull(ctx)
                report.pull = report.pull or extra
                current = etag_of_head(*read_heads_checked(ctx.remote), self.store.machine_id)
                with self.store.transaction() as conn:
                    ctx.state.put(conn, head_etag=current)
        raise RemoteError(
            f"{ctx.source}: heads/{self.store.machine_id}.json keeps moving under this push; "
            "is another store with the same machine id syncing to this remote?"
        )

    def _record(
        self,
        ctx: SyncContext,
        report: SyncReport,
        status: str,
        started: float,
        *,
        error: str | None = None,
        pushing: bool = False,
    ) -> str:
        pulled = report.pull
        conflicts = pulled.conflicts if pulled else []
        items = pulled.changed if pulled else 0
        if pushing:
            _, changed, dropped = pending(ctx)
            items += len(changed) + len(dropped)
        body: dict[str, Any] = {
            "operation": report.operation,
            "status": "conflict"
            if any(c["resolution"] == "needs_review" for c in conflicts) and status == "ok"
            else status,
            "remote": ctx.source,
            "source": {"machine_id": self.store.machine_id, "timestamp": now_iso()},
            "items_synced": items,
            "changes": {
                "added": pulled.added if pulled else [],
                "modified": pulled.modified if pulled else [],
            },
            "conflicts": conflicts,
            "metrics": {
                "documents": items,
                "objects": pulled.received if pulled else 0,
                "duration_ms": round((time.monotonic() - started) * 1000, 1),
            },
            "error": error,
        }
        damaged = [*(pulled.quarantined if pulled else [])]
        damaged += [
            {"key": object_key(h), "reason": why[:500]}
            for h, why in list((pulled.refused if pulled else {}).items())[:MAX_SHOWN]
        ]
        if damaged:
            body["quarantined"] = damaged[:MAX_SHOWN]
            if body["status"] == "ok":
                body["status"] = "partial"
        doc_id = f"sync_record:{ulid()}"
        self.store.put(doc_id, "sync_record", body, actor=self.actor)
        return doc_id

    def status(self) -> dict[str, Any]:
        """Where this machine stands against the remote (reads only)."""
        rid = remote_id(self.remote, create=False)
        me = self.store.machine_id
        out: dict[str, Any] = {
            "remote": self.remote.display_url,
            "remote_id": rid,
            "machine": me,
            "machines": [],
            "conflicts": len(conflicts(self.store, "needs_review")),
        }
        state = LocalState(self.store, rid or "-")
        ctx = SyncContext(self.store, self.remote, state)
        heads, changed, dropped = pending(ctx)
        out["documents"] = len(heads)
        out["unpushed"] = len(changed) + len(dropped)
        if rid is None:
            return out
        remote_heads, bad = read_heads_checked(self.remote)
        out["damaged"] = [{"key": b.key, "machine": b.machine, "reason": b.reason} for b in bad]
        out["quarantined"] = quarantine_count(self.store)
        trust = trusted_set(self.store)
        out["pending"] = []
        for machine, head in sorted(remote_heads.items()):
            seen = state.get("snapshot" if machine == me else f"peer:{machine}")
            trusted = trust.trusts(machine, head.signing_key)
            if not trusted:
                out["pending"].append(
                    {
                        "machine": machine,
                        "fingerprint": fingerprint(head.signing_key) if head.signing_key else None,
                    }
                )
            out["machines"].append(
                {
                    "machine": machine,
                    "this": machine == me,
                    "trusted": trusted,
                    "snapshot": head.snapshot,
                    "seq": head.seq,
                    "updated_at": head.updated_at,
                    "documents": head.documents,
                    "integrated": seen == head.snapshot,
                }
            )
        out["behind"] = [
            m["machine"] for m in out["machines"] if m["trusted"] and not m["integrated"]
        ]
        return out


def pending_hint(pending: dict[str, str]) -> str:
    """What to do about machines on the remote this one does not trust (machine -> fingerprint)."""
    names = ", ".join(f"{m} ({fp})" for m, fp in sorted(pending.items()))
    return (
        f"pending, not merged (not trusted here): {names}. If it is yours, compare the "
        "fingerprint with `agents machines list` on it, then `agents machines trust ID`"
    )


def resolve(store: ContextStore, doc_id: str, take: str, *, actor: str = "cli") -> Envelope:
    """Settle ``doc_id``'s open conflicts with the ``local`` head, the ``remote`` revision, or
    the revision ``take`` names (a hash, or a unique prefix of at least 8 hex digits).

    The result is a new revision descending from both sides, so every machine takes it as a
    fast-forward; the other revisions stay in the history.

    Raises:
        NotFoundError: No open conflict for ``doc_id``, or no such revision of it.
        InputError: ``take`` names another document's revision, or is ambiguous.
    """
    with store.transaction() as conn:
        pending_conflicts = open_conflicts(store, doc_id, conn)
        if not pending_conflicts:
            raise NotFoundError(
                f"no open conflict for {doc_id!r}; `agents sync conflicts --all` lists them"
            )
        head = store.head_info(doc_id, conn)
        if head is None:
            raise NotFoundError(f"no document {doc_id!r}")
        remote_hash = pending_conflicts[-1].remote_hash
        chosen_hash = {"local": head.head, "remote": remote_hash}.get(take) or _revision_named(
            store, conn, doc_id, take
        )
        chosen = store.revision(chosen_hash, conn)
        if chosen.id != doc_id:
            raise InputError(f"revision {chosen_hash} belongs to {chosen.id!r}, not {doc_id!r}")
        vv = head.vv
        for c in pending_conflicts:
            vv = vv_merge(vv, store.revision(c.remote_hash, conn).vv)
        envelope = Envelope(
            id=doc_id,
            kind=head.kind,
            scope=chosen.scope,
            body=chosen.body,
            vv=vv_bump(vv, store.machine_id),
            parents=sorted({head.head, remote_hash}),
            origin_machine=store.machine_id,
            updated_at=now_iso(),
            hlc=str(store.clock.now(head.hlc)),
            deleted=chosen.deleted,
            secret_refs=chosen.secret_refs,
        )
        written = store.apply(
            conn, envelope, head, actor=actor, op="resolve", force=True, detail={"took": take}
        )
        close_conflicts(store, conn, doc_id, written.hash, actor=actor)
    return written


def _revision_named(store: ContextStore, conn: Any, doc_id: str, ref: str) -> str:
    text = ref if ref.startswith("sha256:") else f"sha256:{ref}"
    if is_hash(text):
        return text
    digits = text.removeprefix("sha256:")
    if len(digits) < 8 or any(c not in "0123456789abcdef" for c in digits):
        raise InputError(
            f"--take {ref!r}: use local, remote, or a revision hash (at least 8 hex digits); "
            f"`agents context history {doc_id}` lists them"
        )
    rows = conn.execute(
        "SELECT hash FROM revisions WHERE doc_id = ? AND substr(hash, 1, ?) = ?",
        (doc_id, len(text), text),
    ).fetchall()
    if not rows:
        raise NotFoundError(f"no revision {ref!r} of {doc_id!r}")
    if len(rows) > 1:
        raise InputError(f"revision prefix {ref!r} is ambiguous; give more digits")
    return str(rows[0][0])
