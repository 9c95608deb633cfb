"""Keeping hostile or corrupt remote data aside so that sync goes on.

A head or snapshot that cannot be read (too large, not a regular file, not JSON, nested too
deeply, a field missing, a timestamp that is not a time) is stored in the store's
``quarantine`` table with the reason, audited, logged, and listed in the pull's report, whose
``sync_record`` carries it to the user (`agents sync status`, `agents sync quarantine`). Each
damaged key is recorded once per version (etag), so a machine left broken on the remote does
not fill the table on every pull. Revisions are quarantined by
:func:`agents.store.replication.receive_many` the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agents.core.logs import get_logger
from agents.store.replication import quarantine
from agents.store.store import ContextStore

if TYPE_CHECKING:
    from agents.sync.pull import PullReport, SyncContext

__all__ = ["quarantine_count", "quarantine_damaged", "quarantined"]

log = get_logger("agents.sync")


def quarantine_damaged(
    ctx: SyncContext,
    report: PullReport,
    key: str,
    machine: str,
    reason: str,
    etag: str | None,
    data: bytes = b"",
) -> None:
    """Set ``key`` of ``machine`` aside with ``reason`` (once per ``etag``, or per reason when
    it could not be read at all)."""
    mark, version = f"quarantined:{key}", etag or reason[:200]  # unread: its size, its kind
    if ctx.state.get(mark) == version:
        return  # recorded when this version was first seen
    log.warning("sync_quarantined", key=key, machine=machine, reason=reason, remote=ctx.source)
    report.quarantined.append({"key": key, "machine": machine, "reason": reason})
    text = data[:4096].decode("utf-8", "replace") if data else f"<{key}: {reason}>"
    with ctx.store.transaction() as conn:
        quarantine(
            ctx.store, conn, text, reason, key, source=ctx.source, actor=ctx.actor, doc_id=None
        )
        ctx.state.put(conn, **{mark: version})


def quarantined(store: ContextStore, limit: int = 200) -> list[dict[str, Any]]:
    """The newest quarantined items (revisions, heads, snapshots), newest first."""
    with store.reading() as conn:
        rows = conn.execute(
            "SELECT id, received_at, source, error, substr(envelope, 1, 200) FROM quarantine "
            "ORDER BY id DESC LIMIT ?",
            (limit,),
        ).fetchall()
    return [
        {"id": r[0], "received_at": r[1], "source": r[2], "error": r[3], "excerpt": r[4]}
        for r in rows
    ]


def quarantine_count(store: ContextStore) -> int:
    """How many items were ever set aside here."""
    with store.reading() as conn:
        return int(conn.execute("SELECT count(*) FROM quarantine").fetchone()[0])
