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
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from agents.claude.drafts import Draft, Scope, SecretRef
from agents.claude.machine import Machine
from agents.claude.projects import find_checkouts, project_id, project_paths
from agents.claude.sharing import (
    machine_recipients,
    publish_key,
    receive_secrets,
    share_secrets,
)
from agents.claude.vault import SecretVault
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
            origin=str(env.get("origin_machine") or "") or None,
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
