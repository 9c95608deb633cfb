"""Claude's files and the context store: import (capture into documents), apply (documents
back into files), the applied records, and secrets shared between machines with age.

The store never holds a secret value: capture replaces them by references, the values go to
this machine's vault (keyring, or a 0600 file), and the scanner checks every draft before it
is written. Sharing is opt-in: ``share_secrets`` seals the vault's values to every machine's
public key (``machine_key`` documents) as one ``secrets_bundle`` blob; ``receive_secrets``
opens the bundles sealed to this machine.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from agents.claude.drafts import Draft, Scope, SecretRef
from agents.claude.machine import Machine
from agents.claude.projects import find_checkouts, project_id, project_paths
from agents.claude.vault import MachineKey, SecretVault, seal, unseal
from agents.core.errors import AgentError, NotFoundError
from agents.store.canonical import now_iso
from agents.store.store import ContextStore

__all__ = [
    "CLAUDE_KINDS",
    "applied_records",
    "drafts_of",
    "machine_for",
    "machine_recipients",
    "publish_key",
    "receive_secrets",
    "record_path",
    "share_secrets",
    "vault_of",
]

CLAUDE_KINDS = ("claude_file", "mcp_server", "preference", "project", "skill", "transcript_archive")


def vault_of(store: ContextStore) -> SecretVault:
    """This machine's secret vault for the store's environment (``<store>/vault``)."""
    return SecretVault(store.directory / "vault")


def _ref(entry: dict[str, Any]) -> SecretRef:
    ref = str(entry["ref"])
    if ref.startswith("${") and ref.endswith("}"):
        return SecretRef(str(entry["path"]), ref[2:-1], "env")
    return SecretRef(str(entry["path"]), ref.removeprefix("secret://"), "uri")


def drafts_of(
    store: ContextStore,
    kinds: Iterable[str] = CLAUDE_KINDS,
    *,
    heads: dict[str, str] | None = None,
) -> dict[str, Draft]:
    """The store's heads of Claude's kinds as drafts, tombstones included (so apply removes
    what they managed). Preferences that are not Claude settings keys are left out. With
    ``heads``, also fills it with each draft's revision hash, read at the same moment."""
    wanted = tuple(kinds)
    marks = ",".join("?" * len(wanted))
    with store.reading() as conn:
        rows = conn.execute(
            "SELECT r.envelope, d.head FROM docs d JOIN revisions r ON r.hash = d.head "
            f"WHERE d.kind IN ({marks}) ORDER BY d.id",
            wanted,
        ).fetchall()
    out: dict[str, Draft] = {}
    for text, head in rows:
        env = json.loads(text)
        body = env["body"]
        if env["kind"] == "preference" and not env["id"].startswith("pref:"):
            continue  # a preference of the user's, not a key of Claude's settings.json
        scope = env["scope"]
        out[env["id"]] = Draft(
            env["id"],
            env["kind"],
            body,
            Scope(scope["level"], scope["project_id"], scope["machine_id"]),
            tuple(_ref(r) for r in env["secret_refs"]),
            bool(env["deleted"]),
        )
        if heads is not None:
            heads[env["id"]] = head
    return out


def machine_for(store: ContextStore, home: Path | None = None, *, discover: bool = True) -> Machine:
    """This machine (or a simulated one at ``home``), with its project paths: those the
    store's ``project`` documents record for it, then, with ``discover``, projects Claude Code
    opened here (``~/.claude.json``) or cloned under the home; newly found paths are written
    to the project documents so the other machines learn them."""
    base = (
        Machine.current(machine_id=store.machine_id)
        if home is None
        else Machine(home=home, machine_id=store.machine_id)
    )
    projects = [d for d in drafts_of(store, ("project",)).values() if not d.deleted]
    paths = project_paths(projects, store.machine_id, base.home)
    missing = {d.id.removeprefix("project:") for d in projects} - set(paths)
    if discover and missing:
        found = _opened_here(base, missing)
        found.update(find_checkouts(base.home, missing - set(found)))
        for pid, path in sorted(found.items()):
            record_path(store, pid, path)
        paths.update(found)
    return base.with_projects(paths)


def _opened_here(machine: Machine, wanted: set[str]) -> dict[str, Path]:
    try:
        doc = json.loads(machine.claude_json.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    out: dict[str, Path] = {}
    for raw in sorted((doc.get("projects") or {}) if isinstance(doc, dict) else {}):
        path = Path(raw)
        pid = project_id(path, machine.home) if path.is_dir() else None
        if pid in wanted and pid not in out:
            out[pid] = path
    return out


def record_path(store: ContextStore, pid: str, path: Path, *, actor: str = "cli") -> None:
    """Add this machine's checkout of project ``pid`` to its document (a per-machine field)."""

    def change(current: Any) -> Any:
        body = dict(current or {"name": pid.rstrip("/").rsplit("/", 1)[-1] or pid})
        body["paths"] = {**(body.get("paths") or {}), store.machine_id: str(path)}
        return body

    store.update(f"project:{pid}", "project", change, actor=actor)


def applied_records(store: ContextStore) -> dict[str, str]:
    """Applied-record key -> the hash apply last wrote there (chezmoi's guard)."""
    with store.reading() as conn:
        return dict(conn.execute("SELECT target_path, hash FROM applied").fetchall())


# --- shared secrets ----------------------------------------------------------------------------


def publish_key(store: ContextStore, vault: SecretVault) -> str:
    """Make sure this machine's age public key is in the store (``machine_key:<id>``);
    return it. Synced like any document, so other machines can seal secrets to it."""
    key = MachineKey.load_or_create(vault)
    body = {
        "machine_id": store.machine_id,
        "recipient": key.recipient,
        "host": socket.gethostname(),
    }
    doc_id = f"machine_key:{store.machine_id}"
    head = store.head_info(doc_id)
    if head is None or store.get(doc_id).body.get("recipient") != key.recipient:
        store.put(doc_id, "machine_key", {**body, "created_at": now_iso()}, actor="cli")
    return key.recipient


def machine_recipients(store: ContextStore, vault: SecretVault) -> list[str]:
    """Every machine's age public key in the store, this machine's included (published first):
    who a transcript archive or a secrets bundle is sealed to."""
    mine = publish_key(store, vault)
    return sorted({mine, *(e.body["recipient"] for e in store.list("machine_key", limit=10_000))})


def share_secrets(store: ContextStore, vault: SecretVault) -> dict[str, Any]:
    """Seal every secret this machine holds to every known machine key (``secrets_bundle:<id>``).

    Raises:
        NotFoundError: The vault holds no secret to share.
    """
    recipients = machine_recipients(store, vault)
    values = vault.values()
    if not values:
        raise NotFoundError(f"no secrets in {vault.where} to share; import first")
    sealed = seal(values, recipients)
    ref = store.blobs.put(sealed)
    body = {
        "machine_id": store.machine_id,
        "recipients": recipients,
        "names": sorted(values),
        "blob": {"blob": ref, "bytes": len(sealed), "media_type": "application/age"},
        "sealed_at": now_iso(),
    }
    store.put(f"secrets_bundle:{store.machine_id}", "secrets_bundle", body, actor="cli")
    return {"recipients": len(recipients), "secrets": len(values)}


def receive_secrets(store: ContextStore, vault: SecretVault) -> dict[str, list[str]]:
    """Open the bundles other machines sealed to this machine's key and keep the values this
    machine lacks; returns ``added`` names and the machines whose bundle ``waiting`` does not
    include this machine yet."""
    key = MachineKey.load_or_create(vault)
    added: list[str] = []
    waiting: list[str] = []
    have = set(vault.names())
    for bundle in store.list("secrets_bundle", limit=10_000):
        body = bundle.body
        if body["machine_id"] == store.machine_id:
            continue
        if key.recipient not in body["recipients"]:
            waiting.append(body["machine_id"])
            continue
        try:
            values = unseal(store.blobs.get(body["blob"]["blob"]), key.identity)
        except (AgentError, NotFoundError):
            waiting.append(body["machine_id"])
            continue
        fresh = {k: v for k, v in values.items() if k not in have}
        vault.update(fresh)
        have |= set(fresh)
        added += sorted(fresh)
    return {"added": sorted(set(added)), "waiting": sorted(set(waiting))}
