"""The gate a pulled head and snapshot pass (agents.sync.trust.check_head, check_manifest):
with no argument it verifies signatures; a snapshot must be the one its head names; an
unsigned head is refused with a message, never a crash."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from agents.store.identity import Identity, fingerprint
from agents.sync.state import HEAD_FORMAT, SNAPSHOT_FORMAT
from agents.sync.trust import PURPOSE, TrustSet, check_head, check_manifest, compute

ME, M1 = Identity.generate(), Identity.generate()
ATTACKER = Identity.generate()
TRUST = TrustSet("me", {"me": ME.public_key, "m1": M1.public_key})


def head(signer: Identity | None, key: str | None = M1.public_key, seq: int = 3) -> Any:
    body = {"machine": "m1", "seq": seq, "snapshot": "snapshots/m1/3.json"}
    raw = signer.sign(HEAD_FORMAT, body) if signer else body
    return SimpleNamespace(machine="m1", signing_key=key, seq=seq, raw=raw)


def manifest(signer: Identity, machine: str = "m1", seq: int = 3) -> Any:
    raw = signer.sign(SNAPSHOT_FORMAT, {"machine": machine, "seq": seq, "docs": {}})
    return SimpleNamespace(
        key="snapshots/m1/3.json",
        machine=machine,
        seq=seq,
        signing_key=M1.public_key,
        raw=raw,
    )


def test_a_head_signed_by_its_trusted_key_passes_and_a_forged_signature_is_refused() -> None:
    assert check_head(TRUST, head(M1)) is None
    assert "bad signature" in str(check_head(TRUST, head(ATTACKER)))


def test_a_head_of_an_untrusted_machine_is_pending() -> None:
    stranger = SimpleNamespace(machine="m9", signing_key=M1.public_key, seq=1, raw={})
    assert check_head(TRUST, stranger) == "pending"


def test_a_head_presenting_another_key_or_none_is_refused_naming_both_fingerprints() -> None:
    other = check_head(TRUST, head(ATTACKER, ATTACKER.public_key))
    assert other is not None
    assert f"signed by {fingerprint(ATTACKER.public_key)}" in other
    assert f"not by its trusted key {fingerprint(M1.public_key)}" in other
    unsigned = check_head(TRUST, head(None, None))
    assert unsigned is not None and "signed by no key, not by its trusted key" in unsigned


def test_a_snapshot_signed_by_its_trusted_key_passes_and_a_forged_one_is_refused() -> None:
    assert check_manifest(TRUST, head(M1), manifest(M1)) is None
    refused = check_manifest(TRUST, head(M1), manifest(ATTACKER))
    assert refused is not None and "not signed by m1's trusted key" in refused


def test_a_snapshot_of_another_machine_or_another_seq_is_refused() -> None:
    for wrong in (manifest(M1, machine="m2"), manifest(M1, seq=2)):
        refused = check_manifest(TRUST, head(M1), wrong)
        assert refused is not None and "is not the one head of m1 names" in refused


def test_decisions_that_undo_each_other_in_a_cycle_settle_on_a_self_supported_set() -> None:
    """me trusts m1, m1 trusts m2, m2 revokes m1 later: each round flips the set. The answer
    is the largest set whose every member is supported by a decision of a member: me alone."""

    def decide(signer: Identity, by: str, subject: str, key: str, trusted: bool, at: int) -> Any:
        body = {
            "machine_id": subject,
            "signing_key": key,
            "trusted": trusted,
            "decided_by": by,
            "decided_at": f"2026-01-01T00:00:0{at}Z",
        }
        return signer.sign(PURPOSE, body)

    m2 = Identity.generate()
    decisions = [
        decide(ME, "me", "m1", M1.public_key, True, 1),
        decide(M1, "m1", "m2", m2.public_key, True, 2),
        decide(m2, "m2", "m1", M1.public_key, False, 3),
    ]
    assert compute("me", ME.public_key, decisions).keys == {"me": ME.public_key}
