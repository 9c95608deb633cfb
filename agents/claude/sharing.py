"""Secret values shared between this user's machines with age, only among trusted machines.

Each machine publishes its age public key as ``machine_key:<id>``, signed by its signing key.
``share_secrets`` seals the vault's values to the age keys of the machines this one trusts
(a key counts only when its signature checks with that machine's trusted signing key), as one
signed ``secrets_bundle:<id>``; ``receive_secrets`` opens only bundles signed by a trusted
machine. A forged ``machine_key`` document therefore never receives a secret, and a forged
bundle is never opened. See docs/security.md.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import Any

from agents.claude.vault import MachineKey, SecretVault, seal, unseal
from agents.core.errors import AgentError, NotFoundError
from agents.store.canonical import now_iso
from agents.store.identity import fingerprint, verify
from agents.store.store import ContextStore
from agents.sync.trust import TrustSet, identity_of, trusted_set

__all__ = [
    "Recipient",
    "machine_recipients",
    "publish_key",
    "receive_secrets",
    "recipients",
    "reseal",
    "share_secrets",
]

KEY_PURPOSE = "ctx-machine-key/1"
BUNDLE_PURPOSE = "ctx-secrets-bundle/1"


def publish_key(store: ContextStore, vault: SecretVault) -> str:
    """Make sure this machine's age public key is in the store (``machine_key:<id>``), signed
    by its signing key; return it. Synced like any document, so other machines can seal
    secrets to it once they trust this machine."""
    key = MachineKey.load_or_create(vault)
    identity = identity_of(store)
    doc_id = f"machine_key:{store.machine_id}"
    head = store.head_info(doc_id)
    if head is not None:
        body = store.get(doc_id).body
        if body.get("recipient") == key.recipient and verify(
            KEY_PURPOSE, body, identity.public_key
        ):
            return key.recipient
    signed = identity.sign(
        KEY_PURPOSE,
        {
            "machine_id": store.machine_id,
            "recipient": key.recipient,
            "host": socket.gethostname(),
            "created_at": now_iso(),
            "signing_key": identity.public_key,
        },
    )
    store.put(doc_id, "machine_key", signed, actor="cli")
    return key.recipient


@dataclass(frozen=True)
class Recipient:
    """A machine a bundle is sealed to."""

    machine: str
    fingerprint: str
    recipient: str

    def as_dict(self) -> dict[str, str]:
        """JSON-ready form."""
        return {"id": self.machine, "fingerprint": self.fingerprint, "recipient": self.recipient}


def recipients(
    store: ContextStore, trust: TrustSet | None = None
) -> tuple[list[Recipient], dict[str, str]]:
    """(the trusted machines whose signed age key this machine may seal to, and every other
    machine key in the store with why it is left out)."""
    trust = trust or trusted_set(store)
    chosen: list[Recipient] = []
    left_out: dict[str, str] = {}
    for envelope in store.list("machine_key", limit=100_000):
        body = envelope.body
        machine = str(body.get("machine_id"))
        if envelope.id != f"machine_key:{machine}":
            left_out[envelope.id] = "its id names another machine"
        elif not trust.trusts(machine):
            left_out[machine] = f"not trusted (`agents machines trust {machine}` first)"
        elif not verify(KEY_PURPOSE, body, trust.keys[machine]):
            left_out[machine] = "its age key is not signed by its trusted signing key (forged?)"
        else:
            chosen.append(
                Recipient(machine, fingerprint(trust.keys[machine]), str(body["recipient"]))
            )
    return sorted(chosen, key=lambda r: r.machine), left_out


def machine_recipients(store: ContextStore, vault: SecretVault) -> list[str]:
    """The age keys of the machines this one trusts, this machine's included (published
    first): who a transcript archive or a secrets bundle is sealed to."""
    publish_key(store, vault)
    return [r.recipient for r in recipients(store)[0]]


def share_secrets(store: ContextStore, vault: SecretVault) -> dict[str, Any]:
    """Seal every secret this machine holds to the trusted machines' age keys, as a signed
    ``secrets_bundle:<this machine>``; the result lists the recipients and who was left out.

    Raises:
        NotFoundError: The vault holds no secret to share.
    """
    publish_key(store, vault)
    values = vault.values()
    if not values:
        raise NotFoundError(f"no secrets in {vault.where} to share; import first")
    chosen, left_out = recipients(store)
    sealed = seal(values, [r.recipient for r in chosen])
    ref = store.blobs.put(sealed)
    identity = identity_of(store)
    body = identity.sign(
        BUNDLE_PURPOSE,
        {
            "machine_id": store.machine_id,
            "recipients": [r.recipient for r in chosen],
            "names": sorted(values),
            "blob": {"blob": ref, "bytes": len(sealed), "media_type": "application/age"},
            "sealed_at": now_iso(),
            "signing_key": identity.public_key,
        },
    )
    store.put(f"secrets_bundle:{store.machine_id}", "secrets_bundle", body, actor="cli")
    return {
        "recipients": [r.as_dict() for r in chosen],
        "left_out": left_out,
        "secrets": len(values),
    }


def reseal(store: ContextStore, vault: SecretVault) -> dict[str, Any] | None:
    """Seal this machine's bundle again when it is sealed to a key that is no longer a
    trusted machine's (after a revocation); None when there is no bundle or it is current."""
    doc_id = f"secrets_bundle:{store.machine_id}"
    if store.head_info(doc_id) is None or store.get(doc_id).deleted:
        return None
    current = set(store.get(doc_id).body.get("recipients") or [])
    wanted = {r.recipient for r in recipients(store)[0]}
    if current <= wanted or not vault.values():
        return None
    return share_secrets(store, vault)


def receive_secrets(store: ContextStore, vault: SecretVault) -> dict[str, list[str]]:
    """Open the bundles trusted machines sealed to this machine's key and keep the values this
    machine lacks. Returns ``added`` names, the machines whose bundle is ``waiting`` (not
    sealed to this machine yet) and those ``refused`` (not trusted, or a bad signature)."""
    key = MachineKey.load_or_create(vault)
    trust = trusted_set(store)
    added: list[str] = []
    waiting: list[str] = []
    refused: list[str] = []
    have = set(vault.names())
    for bundle in store.list("secrets_bundle", limit=10_000):
        body = bundle.body
        machine = str(body.get("machine_id"))
        if machine == store.machine_id:
            continue
        if (
            bundle.id != f"secrets_bundle:{machine}"
            or not trust.trusts(machine)
            or not verify(BUNDLE_PURPOSE, body, trust.keys[machine])
        ):
            refused.append(machine)
            continue
        if key.recipient not in body["recipients"]:
            waiting.append(machine)
            continue
        try:
            values = unseal(store.blobs.get(body["blob"]["blob"]), key.identity)
        except (AgentError, NotFoundError):
            waiting.append(machine)
            continue
        fresh = {k: v for k, v in values.items() if k not in have}
        vault.update(fresh)
        have |= set(fresh)
        added += sorted(fresh)
    return {
        "added": sorted(set(added)),
        "waiting": sorted(set(waiting)),
        "refused": sorted(set(refused)),
    }
