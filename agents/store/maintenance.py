"""Retention and health: ``compact --keep-days N`` and ``check``."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from agents.core.errors import InputError, StoreError
from agents.store import audit
from agents.store.blobs import blob_refs
from agents.store.canonical import iso_of
from agents.store.db import FORMAT_VERSION
from agents.store.store import ContextStore

__all__ = ["CompactResult", "check", "compact"]

# A blob younger than this may belong to a record whose transaction has not committed yet.
_BLOB_GRACE_SECONDS = 3600.0


@dataclass
class CompactResult:
    """What ``compact`` removed."""

    cutoff: str
    outputs: int = 0
    records: int = 0
    revisions: int = 0
    blobs: int = 0
    audit_rows: int = 0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def _cutoff(keep_days: float) -> str:
    if keep_days < 0:
        raise InputError(f"--keep-days {keep_days:g} is negative: give 0 or more days")
    return iso_of(datetime.now(UTC) - timedelta(days=keep_days))


def compact(
    store: ContextStore,
    keep_days: float,
    *,
    prune_audit: bool = False,
    actor: str | None = None,
    batch: int = 2000,
) -> CompactResult:
    """Drop agent outputs, sync records and superseded machine-state revisions older than
    ``keep_days``, then blobs nothing references; with ``prune_audit``, also the audit rows
    older than that (the chain stays verifiable from its new anchor). Works in short
    transactions so agents keep recording meanwhile; each one carries its own ``compact`` audit
    row."""
    result = CompactResult(cutoff=_cutoff(keep_days))
    # logs, not state: sync never brings a compacted one back (it was integrated before)
    for kind in ("agent_output", "sync_record"):
        _drop_old(store, kind, result, actor, batch)
    with store.transaction() as conn:
        revs = conn.execute(
            "DELETE FROM revisions WHERE kind = 'machine_state' AND created_at < ? AND hash NOT IN"
            " (SELECT head FROM docs WHERE kind = 'machine_state')",
            (result.cutoff,),
        ).rowcount
        if revs:
            store.audit(
                conn,
                actor=actor or store.actor,
                op="compact",
                detail={"kind": "machine_state", "revisions": revs, "cutoff": result.cutoff},
            )
    result.revisions += revs
    with store.reading() as conn:
        referenced = {
            ref
            for (text,) in conn.execute(
                'SELECT envelope FROM revisions WHERE instr(envelope, \'"blob":"sha256:\') > 0'
            )
            for ref in blob_refs(text)
        }
    result.blobs = store.blobs.remove_unreferenced(referenced, _BLOB_GRACE_SECONDS)
    if prune_audit:
        with store.transaction() as conn:
            report = audit.verify(conn)
            if not report.ok:
                raise StoreError(
                    "the audit chain is broken, so it is not pruned: "
                    + "; ".join(report.problems[:3])
                    + " (run `agents context audit verify`)"
                )
            result.audit_rows = audit.prune_before(conn, result.cutoff)
            store.audit(
                conn,
                actor=actor or store.actor,
                op="compact",
                detail={"kind": "audit", "rows": result.audit_rows, "cutoff": result.cutoff},
            )
    return result


def _drop_old(
    store: ContextStore, kind: str, result: CompactResult, actor: str | None, batch: int
) -> None:
    while True:
        with store.transaction() as conn:
            ids = [
                r[0]
                for r in conn.execute(
                    "SELECT id FROM docs WHERE kind = ? AND updated_at < ? LIMIT ?",
                    (kind, result.cutoff, batch),
                )
            ]
            if not ids:
                return
            marks = ", ".join("?" for _ in ids)
            conn.execute(f"DELETE FROM docs WHERE id IN ({marks})", ids)
            revs = conn.execute(f"DELETE FROM revisions WHERE doc_id IN ({marks})", ids).rowcount
            store.audit(
                conn,
                actor=actor or store.actor,
                op="compact",
                detail={"kind": kind, "documents": len(ids), "cutoff": result.cutoff},
            )
        if kind == "agent_output":
            result.outputs += len(ids)
        else:
            result.records += len(ids)
        result.revisions += revs


def check(store: ContextStore) -> dict[str, Any]:
    """SQLite's integrity check, the audit chain, and what the store holds."""
    with store.reading() as conn:
        integrity = [r[0] for r in conn.execute("PRAGMA quick_check").fetchall()]
        report = audit.verify(conn)
        revisions = conn.execute("SELECT count(*) FROM revisions").fetchone()[0]
        snapshots = conn.execute("SELECT count(*) FROM snapshots").fetchone()[0]
    return {
        "path": str(store.path),
        "machine_id": store.machine_id,
        "format_version": FORMAT_VERSION,
        "integrity": "ok" if integrity == ["ok"] else integrity,
        "audit": report.as_dict(),
        "documents": store.counts(),
        "revisions": revisions,
        "snapshots": snapshots,
        "blobs": sum(1 for _ in store.blobs),
        "ok": integrity == ["ok"] and report.ok,
    }
