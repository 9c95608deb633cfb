"""The audit log: append-only, hash-chained rows of who did what to which document.

Each row names its actor (``agent:notion``, ``cli``, ``sync``…), the operation, the document
and its old and new revision hashes, never values or secrets. ``entry_hash`` covers the row's
fields and the previous row's hash, and ``meta.audit_head`` holds the last (seq, hash) in the
same transaction, so editing, removing or reordering any row (the last one included) breaks the
chain. Retention may drop a prefix of old rows; ``meta.audit_anchor`` then keeps the hash the
first remaining row must link to.

A chain can be rewritten and re-chained by whoever can write it; **checkpoints** stop that.
Each push uploads the new rows as one chunk ending with a checkpoint (first and last seq, the
hash the first row links to, the last row's hash, the SHA-256 of the rows), signed by the
machine's signing key, and keeps the same checkpoint here (``meta.audit_checkpoint:<seq>``).
``verify`` checks every checkpoint against the rows; rows rewritten and re-chained no longer
match it, and a new signature needs the machine's key.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agents.store.canonical import canonical, now_iso, sha256_of

if TYPE_CHECKING:
    # cryptography loads only where a signature is made or checked: a Claude Code hook reads
    # the store through this module and must start fast
    from agents.store.identity import Identity

__all__ = [
    "CHECKPOINT",
    "GENESIS",
    "AuditEntry",
    "AuditReport",
    "after",
    "append",
    "append_many",
    "checkpoint",
    "entry_hash_of",
    "prune_before",
    "query",
    "record_checkpoint",
    "verify",
]

GENESIS = "sha256:" + "0" * 64
CHECKPOINT = "ctx-audit-checkpoint/1"
_CHAINED = (
    "seq",
    "ts",
    "machine",
    "actor",
    "op",
    "doc_id",
    "old_hash",
    "new_hash",
    "remote",
    "result",
    "detail",
    "prev_hash",
)
_COLUMNS = (*_CHAINED, "entry_hash")


@dataclass
class AuditEntry:
    """One audit row."""

    seq: int
    ts: str
    machine: str
    actor: str
    op: str
    doc_id: str | None
    old_hash: str | None
    new_hash: str | None
    remote: str | None
    result: str
    detail: str | None
    prev_hash: str
    entry_hash: str

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form, ``detail`` parsed."""
        data = {c: getattr(self, c) for c in _COLUMNS}
        data["detail"] = json.loads(self.detail) if self.detail else None
        return data


def _hash(values: tuple[Any, ...]) -> str:
    return sha256_of(list(values))


def entry_hash_of(row: dict[str, Any]) -> str:
    """The hash a row (as :meth:`AuditEntry.as_dict` gives it) must carry."""
    detail = row.get("detail")
    return _hash(
        tuple(
            (canonical(detail).decode() if detail else None) if c == "detail" else row.get(c)
            for c in _CHAINED
        )
    )


def checkpoint(identity: Identity, rows: list[AuditEntry], data: bytes) -> dict[str, Any]:
    """The signed checkpoint of ``rows`` (non-empty, in order) serialized as ``data``."""
    return identity.sign(
        CHECKPOINT,
        {
            "format": CHECKPOINT,
            "machine": rows[0].machine,
            "first_seq": rows[0].seq,
            "last_seq": rows[-1].seq,
            "prev_hash": rows[0].prev_hash,
            "entry_hash": rows[-1].entry_hash,
            "rows_sha256": sha256_of(data),
            "signing_key": identity.public_key,
        },
    )


def record_checkpoint(conn: sqlite3.Connection, signed: dict[str, Any]) -> None:
    """Keep ``signed`` (from :func:`checkpoint`) in the caller's transaction."""
    conn.execute(
        "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET "
        "value = excluded.value",
        (f"audit_checkpoint:{int(signed['last_seq']):012d}", canonical(signed).decode()),
    )


def _checkpoints(
    conn: sqlite3.Connection, public_key: str | None, report: AuditReport, anchor: int
) -> None:
    rows = conn.execute(
        "SELECT key, value FROM meta WHERE key LIKE 'audit_checkpoint:%' ORDER BY key"
    ).fetchall()
    for _, value in rows:
        try:
            cp = json.loads(value)
            last, digest = int(cp["last_seq"]), str(cp["entry_hash"])
        except (ValueError, KeyError, TypeError):
            report.problems.append("a signed checkpoint is damaged")
            continue
        report.checkpoints += 1
        if public_key is not None and not _verify(CHECKPOINT, cp, public_key):
            report.problems.append(f"the checkpoint at row {last} is not signed by this machine")
        if last <= anchor:
            continue  # pruned by retention
        row = conn.execute("SELECT entry_hash FROM audit WHERE seq = ?", (last,)).fetchone()
        if row is None:
            report.problems.append(f"row {last}, covered by a signed checkpoint, is missing")
        elif row[0] != digest:
            report.problems.append(
                f"rows up to {last} do not match their signed checkpoint: the chain was "
                "rewritten (and re-chained)"
            )


def _pair(conn: sqlite3.Connection, key: str) -> tuple[int, str] | None:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    if row is None:
        return None
    seq, digest = row[0].split(" ", 1)
    return int(seq), digest


def append(
    conn: sqlite3.Connection,
    *,
    machine: str,
    actor: str,
    op: str,
    doc_id: str | None = None,
    old_hash: str | None = None,
    new_hash: str | None = None,
    remote: str | None = None,
    result: str = "ok",
    detail: dict[str, Any] | None = None,
    ts: str | None = None,
) -> int:
    """Append one row inside the caller's transaction; return its seq."""
    return append_many(
        conn,
        machine=machine,
        actor=actor,
        rows=[(op, doc_id, old_hash, new_hash, remote, result, detail)],
        ts=ts,
    )


# op, doc_id, old_hash, new_hash, remote, result, detail
Row = tuple[str, str | None, str | None, str | None, str | None, str, dict[str, Any] | None]


def append_many(
    conn: sqlite3.Connection,
    *,
    machine: str,
    actor: str,
    rows: list[Row],
    ts: str | None = None,
) -> int:
    """Append ``rows`` (op, doc_id, old_hash, new_hash, remote, result, detail) in order, in
    the caller's transaction, chained as one :func:`append` each would; return the last seq."""
    seq, prev = _pair(conn, "audit_head") or _pair(conn, "audit_anchor") or (0, GENESIS)
    stamp = ts or now_iso()
    out = []
    for op, doc_id, old_hash, new_hash, remote, result, detail in rows:
        seq += 1
        values = (
            seq,
            stamp,
            machine,
            actor,
            op,
            doc_id,
            old_hash,
            new_hash,
            remote,
            result,
            canonical(detail).decode() if detail else None,
            prev,
        )
        prev = _hash(values)
        out.append((*values, prev))
    conn.executemany("INSERT INTO audit VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", out)
    conn.execute(
        "INSERT INTO meta(key, value) VALUES ('audit_head', ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (f"{seq} {prev}",),
    )
    return seq


@dataclass
class AuditReport:
    """What ``audit verify`` found."""

    rows: int = 0
    checkpoints: int = 0
    first_seq: int | None = None
    last_seq: int | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the chain is intact."""
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "ok": self.ok,
            "rows": self.rows,
            "checkpoints": self.checkpoints,
            "first_seq": self.first_seq,
            "last_seq": self.last_seq,
            "problems": self.problems,
        }


def verify(
    conn: sqlite3.Connection, *, max_problems: int = 20, public_key: str | None = None
) -> AuditReport:
    """Walk the whole chain and report every break (up to ``max_problems``), then check it
    against every signed checkpoint (their signatures too, given this machine's
    ``public_key``)."""
    report = AuditReport()
    seq, prev = _pair(conn, "audit_anchor") or (0, GENESIS)
    _checkpoints(conn, public_key, report, seq)
    for row in conn.execute(f"SELECT {', '.join(_COLUMNS)} FROM audit ORDER BY seq"):
        values, digest = tuple(row[:-1]), row[-1]
        report.rows += 1
        report.first_seq = report.first_seq or values[0]
        report.last_seq = values[0]
        if values[0] != seq + 1:
            report.problems.append(
                f"rows {seq + 1}..{values[0] - 1} are missing (removed)"
                if values[0] > seq + 1
                else f"row {values[0]} is out of order after row {seq}"
            )
        if values[-1] != prev:
            report.problems.append(
                f"row {values[0]} does not link to the row before it (a row was removed, "
                "inserted or edited)"
            )
        if _hash(values) != digest:
            report.problems.append(f"row {values[0]} was edited (its hash does not match)")
        seq, prev = values[0], digest
        if len(report.problems) >= max_problems:
            report.problems.append("… stopped after too many problems")
            return report
    head = _pair(conn, "audit_head")
    if head is None and report.rows:
        report.problems.append("the chain head record is missing (meta.audit_head)")
    elif head is not None and head != (seq, prev):
        report.problems.append(
            f"the chain ends at row {seq} but its head says row {head[0]}: "
            "the last rows were removed or edited"
        )
    return report


def query(
    conn: sqlite3.Connection,
    *,
    doc_id: str | None = None,
    actor: str | None = None,
    op: str | None = None,
    since: str | None = None,
    limit: int = 100,
) -> list[AuditEntry]:
    """The newest rows first, filtered."""
    clauses, args = [], []
    for column, value in (("doc_id", doc_id), ("actor", actor), ("op", op)):
        if value is not None:
            clauses.append(f"{column} = ?")
            args.append(value)
    if since is not None:
        clauses.append("ts >= ?")
        args.append(since)
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    rows = conn.execute(
        f"SELECT {', '.join(_COLUMNS)} FROM audit {where} ORDER BY seq DESC LIMIT ?",
        (*args, limit),
    )
    return [AuditEntry(*row) for row in rows]


def after(conn: sqlite3.Connection, seq: int, limit: int = 5000) -> list[AuditEntry]:
    """Rows with a seq above ``seq``, oldest first (what sync uploads next)."""
    rows = conn.execute(
        f"SELECT {', '.join(_COLUMNS)} FROM audit WHERE seq > ? ORDER BY seq LIMIT ?",
        (seq, limit),
    )
    return [AuditEntry(*row) for row in rows]


def prune_before(conn: sqlite3.Connection, cutoff: str) -> int:
    """Inside the caller's transaction, drop the rows older than ``cutoff`` (a prefix of the
    chain) and anchor the chain at the last dropped row; return how many were dropped."""
    row = conn.execute(
        "SELECT seq, entry_hash FROM audit WHERE ts < ? ORDER BY seq DESC LIMIT 1", (cutoff,)
    ).fetchone()
    if row is None:
        return 0
    last, digest = row
    count = conn.execute("DELETE FROM audit WHERE seq <= ?", (last,)).rowcount
    conn.execute(
        "INSERT INTO meta(key, value) VALUES ('audit_anchor', ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (f"{last} {digest}",),
    )
    return int(count)


def _verify(kind: str, signed: Any, public_key: str) -> bool:
    from agents.store.identity import verify

    return verify(kind, signed, public_key)
