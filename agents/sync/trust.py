"""Which machines this one trusts: signed trust decisions, the trusted set, and the gate every
head and snapshot read from a remote passes before anything of it is merged.

A decision is a document ``machine_trust:<decider>/<subject>`` naming the subject's signing
key, signed by the decider. It syncs like any document. The trusted set grows from this
machine outward: decisions count only when their decider is trusted here (this machine
always is), and for each subject the latest counting decision wins; decisions of the same
time that disagree (a revocation, or another key) leave the subject untrusted, so every
machine reaches the same set whatever order it reads them in.
A machine whose head is on the remote but not in the set is *pending*: nothing of it is
merged, applied or shared to. See docs/security.md.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from agents.core.errors import InputError, NotFoundError
from agents.store.canonical import now_iso
from agents.store.identity import Identity, fingerprint, verify
from agents.store.store import ContextStore
from agents.sync.state import HEAD_FORMAT, SNAPSHOT_FORMAT

__all__ = [
    "KIND",
    "MachineRow",
    "TrustSet",
    "check_head",
    "check_manifest",
    "compute",
    "decide",
    "identity_of",
    "known_key",
    "machines",
    "note_seen",
    "trusted_set",
]

KIND = "machine_trust"
PURPOSE = "ctx-trust/1"
_ROUNDS = 64
_SEEN = (
    "CREATE TABLE IF NOT EXISTS seen_machines(id TEXT PRIMARY KEY, signing_key TEXT, "
    "last_seen TEXT, checked_at TEXT NOT NULL)"
)
_IDENTITIES: dict[str, Identity] = {}


def identity_of(store: ContextStore) -> Identity:
    """The signing key of ``store``'s machine (``<store>/vault/signing.key``), made once."""
    key = str(store.directory)
    if key not in _IDENTITIES:
        _IDENTITIES[key] = Identity.load_or_create(store.directory)
    return _IDENTITIES[key]


@dataclass(frozen=True)
class TrustSet:
    """The machines this one trusts, each with the signing key trusted for it."""

    me: str
    keys: dict[str, str]

    def trusts(self, machine: str, key: str | None = None) -> bool:
        """True when ``machine`` is trusted (with ``key``, when given)."""
        trusted = self.keys.get(machine)
        return trusted is not None and (key is None or key == trusted)


def _decisions(store: ContextStore) -> list[dict[str, Any]]:
    return [e.body for e in store.list(KIND, limit=100_000) if isinstance(e.body, dict)]


def trusted_set(store: ContextStore, identity: Identity | None = None) -> TrustSet:
    """Who this machine trusts, from every decision in the store (see :func:`compute`)."""
    own = (identity or identity_of(store)).public_key
    return compute(store.machine_id, own, _decisions(store))


def compute(me: str, own: str, decisions: list[dict[str, Any]]) -> TrustSet:
    """The trusted set from this machine outward: ``me`` with key ``own``; then, repeatedly,
    for each other subject the latest decision among those whose decider is trusted and whose
    signature checks with the decider's trusted key (latest decisions that disagree, a
    revocation or another key, leave it untrusted). When
    decisions undo each other in a cycle, the set is shrunk until every member is supported
    by a decision of a member (never grown): the result is always self-consistent."""
    keys: dict[str, str] = {me: own}
    for _ in range(_ROUNDS):
        new = _round(me, own, decisions, keys)
        if new == keys:
            return TrustSet(me, keys)
        keys = new
    while True:  # a cycle: keep only the members the set itself still supports
        kept = {m: k for m, k in _round(me, own, decisions, keys).items() if keys.get(m) == k}
        if kept == keys:
            return TrustSet(me, keys)
        keys = kept


def _round(
    me: str, own: str, decisions: list[dict[str, Any]], keys: dict[str, str]
) -> dict[str, str]:
    """Who the decisions of the machines in ``keys`` make trusted (``me`` always)."""
    latest: dict[str, tuple[str, list[dict[str, Any]]]] = {}  # subject: (time, its decisions)
    for d in decisions:
        decider, subject = d.get("decided_by"), d.get("machine_id")
        if decider not in keys or subject == me or not isinstance(subject, str):
            continue
        if not verify(PURPOSE, d, keys[str(decider)]):
            continue
        at = str(d.get("decided_at"))
        best = latest.get(subject)
        if best is None or at > best[0]:
            latest[subject] = (at, [d])
        elif at == best[0]:
            best[1].append(d)
    out = {me: own}
    for subject, (_, tied) in latest.items():
        named = {d.get("signing_key") for d in tied}
        key = named.pop()
        if not named and isinstance(key, str) and all(d.get("trusted") is True for d in tied):
            out[subject] = key
    return out


def decide(
    store: ContextStore, subject: str, signing_key: str, *, trusted: bool, actor: str = "cli"
) -> dict[str, Any]:
    """Write this machine's signed decision about ``subject``'s ``signing_key``.

    Raises:
        InputError: ``subject`` is this machine (it always trusts itself).
    """
    if subject == store.machine_id:
        raise InputError(f"{subject} is this machine: a machine always trusts itself")
    identity = identity_of(store)
    body = identity.sign(
        PURPOSE,
        {
            "machine_id": subject,
            "signing_key": signing_key,
            "fingerprint": fingerprint(signing_key),
            "trusted": trusted,
            "decided_by": store.machine_id,
            "decided_at": now_iso(),
        },
    )
    store.put(f"{KIND}:{store.machine_id}/{subject}", KIND, body, actor=actor)
    return body


# --- what heads on the remote said -------------------------------------------------------------


def note_seen(store: ContextStore, machine: str, signing_key: str | None, last_seen: str) -> None:
    """Remember the key ``machine``'s head presented and when it last pushed (for ``machines
    list`` and ``trust``), whether or not it is trusted."""
    with store.transaction() as conn:
        _note(conn, machine, signing_key, last_seen)


def _note(conn: sqlite3.Connection, machine: str, key: str | None, last_seen: str) -> None:
    conn.execute(_SEEN)
    conn.execute(
        "INSERT INTO seen_machines VALUES (?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
        "signing_key = excluded.signing_key, last_seen = excluded.last_seen, "
        "checked_at = excluded.checked_at",
        (machine, key, last_seen, now_iso()),
    )


def _seen(store: ContextStore) -> dict[str, tuple[str | None, str | None]]:
    with store.transaction() as conn:
        conn.execute(_SEEN)
        rows = conn.execute("SELECT id, signing_key, last_seen FROM seen_machines").fetchall()
    return {r[0]: (r[1], r[2]) for r in rows}


def known_key(store: ContextStore, machine: str) -> str:
    """The signing key ``machine`` presents: from its head on the remote as last seen here,
    else from a decision about it.

    Raises:
        NotFoundError: No head of ``machine`` was seen here and no decision names it.
    """
    key = _seen(store).get(machine, (None, None))[0]
    if key:
        return key
    for d in sorted(_decisions(store), key=lambda d: str(d.get("decided_at")), reverse=True):
        if d.get("machine_id") == machine and isinstance(d.get("signing_key"), str):
            return str(d["signing_key"])
    raise NotFoundError(
        f"no machine {machine!r} has been seen on the remote from here: run `agents machines "
        "list` (it reads the remote's heads) or `agents sync pull` first, and check the id"
    )


@dataclass(frozen=True)
class MachineRow:
    """One row of ``agents machines list``."""

    id: str
    fingerprint: str | None
    trusted: bool
    this: bool
    last_seen: str | None

    def as_dict(self) -> dict[str, Any]:
        """The JSON row: ``{id, fingerprint, trusted, this, last_seen}``."""
        return {
            "id": self.id,
            "fingerprint": self.fingerprint,
            "trusted": self.trusted,
            "this": self.this,
            "last_seen": self.last_seen,
        }


def machines(store: ContextStore) -> list[MachineRow]:
    """Every machine known here: this one, those whose heads were seen on the remote, and
    those trust decisions name; trusted means trusted with the key its head presents."""
    trust = trusted_set(store)
    seen = _seen(store)
    named = {str(d.get("machine_id")) for d in _decisions(store)}
    rows = []
    for machine in sorted({store.machine_id, *seen, *trust.keys, *named}):
        presented, last_seen = seen.get(machine, (None, None))
        key = presented or trust.keys.get(machine)
        rows.append(
            MachineRow(
                machine,
                fingerprint(key) if key else None,
                trust.trusts(machine, key),
                machine == store.machine_id,
                last_seen,
            )
        )
    return rows


# --- the gate ----------------------------------------------------------------------------------


def check_head(trust: TrustSet, head: Any, *, verify_signatures: bool = True) -> str | None:
    """Why ``head`` (a :class:`~agents.sync.state.Head`) may not be integrated, or None.

    ``"pending"`` means its machine is not trusted here; any other text is a refusal (a
    forged or unsigned head of a trusted machine).
    """
    if not trust.trusts(head.machine):
        return "pending"
    expected = trust.keys[head.machine]
    if head.signing_key != expected:
        shown = fingerprint(head.signing_key) if head.signing_key else "no key"
        return (
            f"head of {head.machine} is signed by {shown}, not by its trusted key "
            f"{fingerprint(expected)}: forged, or the machine got a new key (then trust it "
            "again after comparing fingerprints)"
        )
    if verify_signatures and not verify(HEAD_FORMAT, head.raw, expected):
        return f"head of {head.machine} has a bad signature: forged or damaged; ignored"
    return None


def check_manifest(
    trust: TrustSet, head: Any, manifest: Any, *, verify_signatures: bool = True
) -> str | None:
    """Why ``manifest`` may not be integrated as ``head``'s snapshot, or None."""
    expected = trust.keys[head.machine]
    if manifest.machine != head.machine or manifest.seq != head.seq:
        return (
            f"snapshot {manifest.key} is not the one head of {head.machine} names "
            f"(machine {manifest.machine!r}, seq {manifest.seq} against {head.seq})"
        )
    if manifest.signing_key != expected or (
        verify_signatures and not verify(SNAPSHOT_FORMAT, manifest.raw, expected)
    ):
        return f"snapshot {manifest.key} is not signed by {head.machine}'s trusted key; ignored"
    return None
