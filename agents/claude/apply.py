"""Apply (restore): write a plan into a machine's Claude files, never clobbering a change.

:func:`plan_apply` (re-exported from :mod:`agents.claude.plan`) is the dry run. :func:`execute`
writes it: JSON members are spliced into the current text (every key we do not manage keeps its
bytes), files are replaced atomically, modes are kept (new files get the document's mode, 0600
when they hold a resolved secret). It returns the new applied records. A plan with conflicts is
refused unless the caller skips them; :func:`import_changes` captures the changed targets so
the caller can store them first.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from agents.claude import jsontext
from agents.claude.capture import capture
from agents.claude.drafts import Draft
from agents.claude.plan import (
    ApplyPlan,
    Change,
    FilePlan,
    json_text,
    plan_apply,
    read_bytes,
)
from agents.claude.targets import DELETE, Confinement, Disk, unit_hash
from agents.claude.writes import Stage, Stages, flush, process_umask, sync_folders, temp_file
from agents.core.errors import AgentError

__all__ = [
    "ApplyPlan",
    "ApplyResult",
    "Change",
    "TargetChangedError",
    "execute",
    "import_changes",
    "plan_apply",
]


class TargetChangedError(AgentError):
    """Targets changed since they were last applied; nothing was written over them."""

    def __init__(self, changes: Sequence[Change]) -> None:
        lines = "; ".join(f"{c.label}: {c.reason}" for c in changes[:10])
        super().__init__(
            f"{len(changes)} target(s) changed since they were last applied ({lines}); import "
            "those changes first (capture, then merge), or leave them and apply the rest"
        )
        self.changes = list(changes)


@dataclass
class ApplyResult:
    """What :func:`execute` did.

    Attributes:
        applied: The full new set of applied records to persist (written units updated,
            deleted ones removed, everything else as given).
        written: Files written or removed (their paths, as :attr:`FilePlan.where`).
        skipped: Conflicts and blocked units, left untouched.
        changed_meanwhile: Units whose file changed between planning and writing; their
            file was left as it is. Plan again.
    """

    applied: dict[str, str]
    written: list[str]
    skipped: list[Change]
    changed_meanwhile: list[Change] = field(default_factory=list)


def import_changes(plan: ApplyPlan) -> list[Draft]:
    """The conflicting targets as drafts, captured from the machine: store these (a local
    edit to merge) before applying again."""
    return capture(plan.machine).select(plan.conflict_ids) if plan.conflicts else []


def _prune(path: Path, stop: Path) -> None:
    parent = path.parent
    while parent != stop and stop in parent.parents:
        try:
            parent.rmdir()
        except OSError:
            return
        parent = parent.parent


def _content(f: FilePlan) -> tuple[bytes | None, bytes | None]:
    """(what the file holds now, what to write). A JSON file changed since planning is
    re-spliced if our members are still as planned; otherwise TargetChangedError."""
    now = read_bytes(f.where)
    if now in (f.old, f.new):
        return now, f.new
    if not any(c.unit is not None and c.unit.pointer for c in f.changes):
        raise TargetChangedError([_moved(c) for c in f.changes])
    doc = jsontext.parse(now.decode("utf-8")) if now is not None else {}
    stale = [
        c
        for c in f.changes
        if c.unit
        and unit_hash(jsontext.get_member(doc, c.unit.pointer, DELETE), False)
        not in (c.current_hash, c.desired_hash)
    ]
    if stale:
        raise TargetChangedError([_moved(c) for c in stale])
    return now, json_text(now, f.changes)


@dataclass
class _Pending:
    file: FilePlan
    based_on: bytes | None
    new: bytes | None
    tmp: str | None = None
    stage: Stage | None = None  # written into a new folder built aside


def _commit(plan: ApplyPlan, p: _Pending, folders: set[str]) -> None:
    """Put one file in place, unless it changed since it was planned: then its members are
    spliced again into what it holds now (TargetChangedError if ours changed too)."""
    f = p.file
    if read_bytes(f.where) != p.based_on:  # written meanwhile (Claude Code): splice again
        if p.tmp:
            os.unlink(p.tmp)
        p.tmp = None
        p.based_on, p.new = _content(f)
        if p.new is not None and p.new != p.based_on:
            p.tmp = temp_file(f.where, p.new, f.mode, True, folders)
    if p.new is None:
        with contextlib.suppress(FileNotFoundError):
            f.path.unlink()
        _prune(f.path, plan.machine.claude_dir)
    elif p.tmp is None:
        os.chmod(f.where, f.mode)
    else:
        os.replace(p.tmp, f.where)
        p.tmp = None


def _moved(c: Change) -> Change:
    c.action, c.reason = "conflict", "changed while applying"
    return c


def _write_all(plan: ApplyPlan) -> tuple[list[str], list[Change]]:
    """Every temp file first, one flush to disk, then the renames, then one fsync of each
    folder renamed into: each file is whole (old or new) after a crash, and new once this
    returns, at the cost of one ``syncfs`` per filesystem written to rather than one fsync
    per file. A new file in a folder that does not exist yet goes into that folder
    built aside, renamed into place once (see :mod:`agents.claude.writes`). Just before its
    rename each other target is read again, so a file changed since planning is never
    overwritten (see :func:`_commit`)."""
    pending: list[_Pending] = []
    failed: list[Change] = []
    folders: set[str] = set()
    stages = Stages(Confinement(plan.machine, Disk()))
    sync_each = not hasattr(os, "sync")
    umask = process_umask()  # once per apply: most files then need no fchmod
    try:
        for f in plan.files:
            p = _Pending(f, f.old, f.new)
            if f.new is not None and f.new != f.old:
                target = f.where
                p.stage = stages.for_file(target) if f.old is None else None
                if p.stage is not None:
                    p.tmp = p.stage.write(target, f.new, f.mode, sync_each, umask)
                else:
                    p.tmp = temp_file(target, f.new, f.mode, sync_each, folders, umask)
            pending.append(p)
        if not sync_each and any(p.tmp for p in pending):
            flush({*folders, *(os.path.dirname(s.tmp) for s in stages.built.values())})
        renamed: set[str] = set()  # folders whose entries changed: synced at the end
        for stage in stages.built.values():
            if stage.place():
                renamed.add(os.path.dirname(stage.final))
        written = []
        for p in pending:
            if p.stage is not None and p.stage.placed:
                p.tmp = None
            else:
                if p.stage is not None:  # the folder appeared meanwhile: file by file
                    if not stages.confinement.holds(p.file.where):
                        failed += [_moved(c) for c in p.file.changes]
                        continue
                    os.makedirs(os.path.dirname(p.file.where), exist_ok=True)
                try:
                    _commit(plan, p, folders)
                except TargetChangedError as exc:
                    failed += exc.changes
                    continue
                renamed.add(os.path.dirname(p.file.where))
            written.append(p.file.where)
        if not sync_each:
            sync_folders(renamed)
        return written, failed
    finally:
        for p in pending:
            if p.tmp:
                with contextlib.suppress(OSError):
                    os.unlink(p.tmp)
        stages.discard()


def execute(plan: ApplyPlan, *, skip_conflicts: bool = False) -> ApplyResult:
    """Carry out ``plan``.

    Raises:
        TargetChangedError: The plan has conflicts, unless ``skip_conflicts``, which writes
            everything else and leaves those targets untouched. A file that changes between
            planning and writing is left as it is and reported in ``changed_meanwhile``.
    """
    if plan.conflicts and not skip_conflicts:
        raise TargetChangedError(plan.conflicts)
    records = dict(plan.applied)
    skipped = plan.conflicts + plan.by_action("blocked")
    written, failed = _write_all(plan)
    for c in plan.changes:
        if c.action in ("create", "update", "chmod", "unchanged") and c.desired_hash:
            records[c.key] = c.desired_hash
        elif c.action in ("delete", "unchanged") and c.desired is DELETE:
            records.pop(c.key, None)
    return ApplyResult(records, written, skipped, failed)
