"""``agents context audit verify --remote``: check every audit chunk on the remote.

Each chunk (``audit/<machine>/<first seq>.jsonl``) is the rows a push uploaded and, last, a
checkpoint signed by that machine's key: first and last seq, the hash the first row links
to, the last row's hash, and the SHA-256 of the rows' bytes. Rows rewritten and re-chained
on the remote no longer match the checkpoint, and a new checkpoint needs the machine's key.
Chunks of machines this one does not trust are listed, not judged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from agents.store import untrusted
from agents.store.audit import CHECKPOINT, GENESIS, entry_hash_of
from agents.store.canonical import sha256_of
from agents.store.identity import verify
from agents.store.store import ContextStore
from agents.sync.keys import KeyKind, parse_keys
from agents.sync.remote import Remote
from agents.sync.trust import trusted_set

__all__ = ["RemoteAuditReport", "checkpoint_of", "verify_remote"]


@dataclass
class RemoteAuditReport:
    """What the remote's audit chunks hold and what is wrong with them."""

    chunks: int = 0
    rows: int = 0
    machines: list[str] = field(default_factory=list)
    untrusted: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every chunk of every trusted machine checks."""
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "ok": self.ok,
            "chunks": self.chunks,
            "rows": self.rows,
            "machines": self.machines,
            "untrusted": self.untrusted,
            "problems": self.problems,
        }


def checkpoint_of(data: bytes, key: str) -> dict[str, Any]:
    """The last line of the chunk ``data`` (at ``key``) as a JSON object, where a chunk keeps
    its signed checkpoint; ``{}`` when there is none or it is no JSON object (unverified)."""
    lines = data.splitlines()
    try:
        tail = untrusted.loads(lines[-1], key) if lines else {}
    except ValueError:
        return {}
    return tail if isinstance(tail, dict) else {}


def _chunk(
    key: str, first: int, data: bytes, public_key: str, report: RemoteAuditReport
) -> tuple[int, str]:
    """Check one chunk, named for its ``first`` row; return (its last seq, its last row's
    hash), or (0, "") if unusable."""
    lines = data.splitlines()
    tail = checkpoint_of(data, key)
    if tail.get("format") != CHECKPOINT:
        report.problems.append(f"{key}: no signed checkpoint (unsigned or truncated chunk)")
        return 0, ""
    if not verify(CHECKPOINT, tail, public_key):
        report.problems.append(f"{key}: its checkpoint is not signed by the machine's key")
        return 0, ""
    if tail.get("first_seq") != first:
        report.problems.append(
            f"{key}: its checkpoint signs rows from {tail.get('first_seq')}, not from {first} "
            "as its name says (a chunk copied under another name)"
        )
        return 0, ""
    body = b"".join(line + b"\n" for line in lines[:-1])
    if sha256_of(body) != tail.get("rows_sha256"):
        report.problems.append(f"{key}: its rows are not the rows the checkpoint signed")
    prev = str(tail.get("prev_hash"))
    seq = int(tail.get("first_seq", 0)) - 1
    for line in lines[:-1]:
        try:
            row = untrusted.loads(line, key)
        except ValueError:
            report.problems.append(f"{key}: a row is not JSON")
            return 0, ""
        if not isinstance(row, dict):
            report.problems.append(f"{key}: a row is not a JSON object")
            return 0, ""
        report.rows += 1
        if row.get("seq") != seq + 1 or row.get("prev_hash") != prev:
            report.problems.append(f"{key}: row {row.get('seq')} does not follow row {seq}")
        if entry_hash_of(row) != row.get("entry_hash"):
            report.problems.append(f"{key}: row {row.get('seq')} was edited")
        given = row.get("seq")  # a seq that is no integer was reported just above
        seq = given if type(given) is int else seq + 1
        prev = str(row.get("entry_hash"))
    if (seq, prev) != (tail.get("last_seq"), tail.get("entry_hash")):
        report.problems.append(f"{key}: the rows end elsewhere than the signed checkpoint says")
    return int(tail.get("last_seq", 0)), str(tail.get("entry_hash"))


def verify_remote(
    store: ContextStore, remote: Remote, *, max_problems: int = 50
) -> RemoteAuditReport:
    """Check every audit chunk of every trusted machine on ``remote`` (reads only)."""
    report = RemoteAuditReport()
    trust = trusted_set(store)
    by_machine: dict[str, list[str]] = {}
    strays: list[str] = []  # in the listing's order
    listed = remote.list("audit/")
    layout, _ = parse_keys(listed)
    for key in listed:
        parsed = layout.get(key)
        machine = parsed.machine if parsed and parsed.kind is KeyKind.AUDIT else None
        if parsed and machine and str(parsed.ident).isdigit():
            by_machine.setdefault(machine, []).append(key)
        else:
            strays.append(key)
    for machine, keys in sorted(by_machine.items()):
        if not trust.trusts(machine):
            report.untrusted.append(machine)
            continue
        report.machines.append(machine)
        found = remote.get_many(sorted(keys))
        last_seq, last_hash = 0, GENESIS
        follows = False  # the chunk before this one checked (a broken one is named already)
        for key in sorted(keys):
            entry = found.get(key)
            if entry is None:
                report.problems.append(f"{key}: listed but cannot be read")
                follows = False
                continue
            report.chunks += 1
            first = int(key.rsplit("/", 1)[1].removesuffix(".jsonl"))
            seq, digest = _chunk(key, first, entry.data, trust.keys[machine], report)
            if seq and first == last_seq + 1 and last_seq:
                if checkpoint_of(entry.data, key).get("prev_hash") != last_hash:
                    report.problems.append(f"{key}: does not link to the chunk before it")
            elif seq and follows and first > last_seq + 1:
                report.problems.append(
                    f"{key}: rows {last_seq + 1}-{first - 1} before it are not on the remote (a "
                    "chunk was removed, or the machine pruned them before it pushed)"
                )
            if seq:
                last_seq, last_hash = seq, digest
            follows = bool(seq)
            if len(report.problems) >= max_problems:
                report.problems.append("… stopped after too many problems")
                return report
    room = max_problems - len(report.problems)
    for key in strays[:room]:
        report.problems.append(f"{key}: not an audit chunk (a name outside the key layout)")
    if len(strays) > room:
        report.problems.append("… stopped after too many problems")
    return report
