"""Import: this machine's Claude files into the store, each edit on top of what this machine
last saw of that file, never simply on top of the store's head.

Per document the store keeps this machine's **file base**: the revision it last applied to
the file or imported from it. A captured draft is a *local change* only when it differs from
that base; it is then committed with :func:`agents.sync.local.commit_local`, which merges it
with whatever the head became meanwhile (another machine's edit, brought by a pull) by the
kind's policy, or records a conflict for review. A file that still says what this machine
last saw is never imported again, so a stale file cannot overwrite a newer head.

A file this machine had written and that is now gone from disk is imported as a deletion
(a tombstone), settled the same way: an edit made elsewhere meanwhile wins over it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from agents.claude.bridge import applied_records, drafts_of
from agents.claude.capture import Capture, capture
from agents.claude.diff import diff_drafts
from agents.claude.drafts import Draft
from agents.claude.machine import Machine
from agents.claude.scan import assert_clean
from agents.claude.targets import BlockedError, Disk, current_hashes, is_missing, units
from agents.claude.vault import SecretVault
from agents.store.canonical import now_iso
from agents.store.envelope import scope_for
from agents.store.store import ContextStore
from agents.sync.local import commit_local

__all__ = [
    "ImportPlan",
    "ImportResult",
    "deleted_here",
    "file_bases",
    "import_capture",
    "last_seen",
    "local_changes",
    "plan_import",
    "run_import",
    "save_applied",
    "set_file_bases",
]


def file_bases(store: ContextStore, conn: sqlite3.Connection | None = None) -> dict[str, str]:
    """Document id -> the revision this machine last applied to or imported from its files."""
    if conn is not None:
        return dict(conn.execute("SELECT doc_id, hash FROM file_bases").fetchall())
    with store.reading() as c:
        return dict(c.execute("SELECT doc_id, hash FROM file_bases").fetchall())


def set_file_bases(conn: sqlite3.Connection, bases: Mapping[str, str]) -> None:
    """Inside ``conn``'s transaction: record ``bases`` (document id -> revision hash)."""
    now = now_iso()
    conn.executemany(
        "INSERT INTO file_bases VALUES (?, ?, ?) ON CONFLICT(doc_id) DO UPDATE SET "
        "hash = excluded.hash, at = excluded.at",
        [(d, h, now) for d, h in bases.items()],
    )


def save_applied(
    store: ContextStore,
    records: dict[str, str],
    *,
    actor: str = "cli",
    only: Iterable[str] | None = None,
    forget: Iterable[str] = (),
    bases: Mapping[str, str] | None = None,
) -> None:
    """Make the applied records ``records``: the whole set, or with ``only``, just those keys
    (an import records what it read without forgetting the rest) minus the keys of
    ``forget``; with ``bases``, also the file bases of the documents written, in the same
    transaction."""
    keys = None if only is None else set(only)
    with store.transaction() as conn:
        conn.executemany("DELETE FROM applied WHERE target_path = ?", [(k,) for k in forget])
        if keys is None:
            kept = set(records)
            gone = [k for (k,) in conn.execute("SELECT target_path FROM applied") if k not in kept]
            conn.executemany("DELETE FROM applied WHERE target_path = ?", [(k,) for k in gone])
        now = now_iso()
        conn.executemany(
            "INSERT INTO applied VALUES (?, NULL, ?, ?) ON CONFLICT(target_path) DO UPDATE SET "
            "hash = excluded.hash, applied_at = excluded.applied_at",
            [(k, h, now) for k, h in records.items() if keys is None or k in keys],
        )
        if bases:
            set_file_bases(conn, bases)
        store.audit(conn, actor=actor, op="apply", detail={"units": len(records)})


def _draft(envelope: dict[str, Any]) -> Draft:
    return Draft.from_json(envelope)


def _unchanged_on_disk(d: Draft, machine: Machine, applied: Mapping[str, str]) -> bool:
    """True when every unit of ``d`` on disk is what apply (or an import) last recorded."""
    now = current_hashes([d], machine)
    return bool(now) and all(applied.get(k) == h for k, h in now.items())


def last_seen(store: ContextStore, ids: Iterable[str]) -> dict[str, tuple[Draft, bool]]:
    """Per document id: what this machine last saw of its files, as a draft, and whether that
    is its recorded base (True) or, without one, the store's head (False). Ids unknown to the
    store are left out."""
    bases = file_bases(store)
    out: dict[str, tuple[Draft, bool]] = {}
    with store.reading() as conn:
        for doc in ids:
            base = bases.get(doc)
            if base is None:
                head = store.head_info(doc, conn)
                if head is None:
                    continue
                digest = head.head
            else:
                digest = base
            out[doc] = (_draft(store.revision(digest, conn).to_dict()), base is not None)
    return out


def local_changes(
    store: ContextStore,
    drafts: Iterable[Draft],
    machine: Machine,
    applied: Mapping[str, str],
    seen: Mapping[str, tuple[Draft, bool]] | None = None,
) -> list[Draft]:
    """The captured ``drafts`` that are edits made on this machine: different from the
    revision this machine last saw of the file (its base). Without a base, a draft that
    differs from the head is a local change unless the file is exactly what was last written
    or read here (the store then simply moved on)."""
    wanted = list(drafts)
    known = seen if seen is not None else last_seen(store, [d.id for d in wanted])
    out: list[Draft] = []
    for d in wanted:
        if d.id not in known:
            out.append(d)  # new here
            continue
        was, is_base = known[d.id]
        if was.content_hash() == d.content_hash():
            continue
        if not is_base and _unchanged_on_disk(d, machine, applied):
            continue
        out.append(d)
    return out


def deleted_here(
    stored: Mapping[str, Draft],
    captured: Iterable[str],
    machine: Machine,
    applied: Mapping[str, str],
) -> list[Draft]:
    """Tombstones for the store's live documents whose every unit this machine had written
    (an applied record) and that are all gone from disk now: files deleted here."""
    seen = set(captured)
    out: list[Draft] = []
    disk = Disk()
    for d in stored.values():
        if d.deleted or d.id in seen or d.kind in ("project", "transcript_archive"):
            continue
        try:
            found = units(d, machine)
        except BlockedError:
            continue
        if found and all(u.key in applied and is_missing(disk.current(u)) for u in found):
            out.append(d.tombstone())
    return out


@dataclass
class ImportResult:
    """What an import wrote: documents ``written`` as this machine's revision, ``merged``
    with another machine's concurrent edit, or in ``conflicts`` waiting for review."""

    written: list[str] = field(default_factory=list)
    merged: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    unchanged: int = 0
    blobs: int = 0
    secrets: int = 0
    skipped: list[str] = field(default_factory=list)


def import_capture(
    store: ContextStore,
    cap: Capture,
    vault: SecretVault,
    machine: Machine,
    *,
    only: Iterable[str] | None = None,
    skip: Iterable[str] = (),
    deletions: Iterable[Draft] = (),
    actor: str = "cli",
) -> ImportResult:
    """Write a capture into the store: secret values to the vault (never to a document),
    blobs, each chosen draft (and each tombstone of ``deletions``) as this machine's edit on
    top of its file base, merged with a concurrent head or recorded as a conflict; then the
    applied records and file bases of what was read.

    Raises:
        SecretLeakError: A draft still holds a known secret value or a token; nothing written.
    """
    picked = None if only is None else set(only)
    chosen = [d for d in cap.drafts if (picked is None or d.id in picked) and d.id not in set(skip)]
    assert_clean([d.to_json() for d in chosen], known=cap.secrets)
    out = ImportResult(skipped=sorted(set(skip) & {d.id for d in cap.drafts}))
    vault.update(cap.secrets)
    out.secrets = len(cap.secrets)
    for ref, data in cap.blobs.items():
        if store.blobs.put(data) == ref:
            out.blobs += 1
    new_bases: dict[str, str] = {}
    gone = list(deletions)
    with store.transaction() as conn:
        bases = file_bases(store, conn)
        for d in [*chosen, *gone]:
            head = store.head_info(d.id, conn)
            body = d.body
            if d.kind == "project" and head is not None and not head.deleted:
                # paths are per machine: keep the other machines' entries
                old = store.revision(head.head, conn).body.get("paths") or {}
                body = {**body, "paths": {**old, **(body.get("paths") or {})}}
                d = replace(d, body=body)
            plain = store.normalize(d.kind, body, d.id)
            edit = commit_local(
                store,
                conn,
                d.id,
                d.kind,
                plain,
                base=bases.get(d.id) if d.kind != "project" else (head.head if head else None),
                scope=None
                if head is not None
                else scope_for(d.kind, store.machine_id, d.scope.level, d.scope.project_id),
                secret_refs=[r.to_json() for r in d.secret_refs],
                deleted=d.deleted,
                actor=actor,
            )
            new_bases[d.id] = edit.local
            if edit.outcome == "unchanged":
                out.unchanged += 1
            elif edit.outcome == "merged":
                out.merged.append(d.id)
            elif edit.outcome == "conflict":
                out.conflicts.append(d.id)
            else:
                out.written.append(d.id)
        set_file_bases(conn, new_bases)
    # the files now agree with the revisions just recorded as their bases
    observed = current_hashes(chosen, machine.with_projects(cap.projects))
    vanished = {u.key for d in gone for u in _units(d, machine)}
    save_applied(store, observed, actor=actor, only=observed, forget=vanished)
    return out


def _units(d: Draft, machine: Machine) -> list[Any]:
    try:
        return units(d, machine)
    except BlockedError:
        return []


@dataclass
class ImportPlan:
    """The dry run of an import: the capture, the drafts that are edits made here
    (``changed``), the deletions made here (``gone``), and what this machine last saw of each
    (``before``), which :meth:`diff` compares them with."""

    machine: Machine
    cap: Capture
    changed: list[Draft]
    gone: list[Draft]
    before: dict[str, Draft]

    @property
    def count(self) -> int:
        """How many documents the import would write."""
        return len(self.changed) + len(self.gone)

    def diff(self) -> str:
        """What the import would change, against what this machine last saw of each file
        (never against another machine's newer edit, which the import merges with)."""
        return diff_drafts(self.before, [*self.changed, *self.gone])


def plan_import(
    store: ContextStore,
    machine: Machine,
    *,
    only: Iterable[str] | None = None,
    exclude: tuple[str, ...] = (),
    transcripts_to: list[str] | None = None,
) -> ImportPlan:
    """Capture ``machine`` and find its local edits and deletions (of the documents ``only``,
    default all; never ids starting with one of ``exclude``)."""
    picked = None if only is None else set(only)

    def wanted(doc_id: str) -> bool:
        return (picked is None or doc_id in picked) and not doc_id.startswith(exclude)

    old = drafts_of(store)
    cap = capture(machine, transcripts_to=transcripts_to, previous=old)
    drafts = [d for d in cap.drafts if wanted(d.id)]
    applied = applied_records(store)
    seen = last_seen(store, [d.id for d in drafts])
    changed = local_changes(store, drafts, machine, applied, seen)
    stored = {i: d for i, d in old.items() if wanted(i)}
    gone = deleted_here(stored, {d.id for d in cap.drafts}, machine, applied)
    before = {d.id: seen[d.id][0] for d in changed if d.id in seen}
    before.update({d.id: old[d.id] for d in gone})
    return ImportPlan(machine, cap, changed, gone, before)


def run_import(
    store: ContextStore, plan: ImportPlan, vault: SecretVault, *, actor: str = "cli"
) -> ImportResult:
    """Carry out ``plan`` (see :func:`import_capture`)."""
    return import_capture(
        store,
        plan.cap,
        vault,
        plan.machine,
        only=[d.id for d in plan.changed],
        deletions=plan.gone,
        actor=actor,
    )
