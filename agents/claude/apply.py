"""Apply (restore): write drafts into a machine's Claude files, never clobbering a change.

:func:`plan_apply` is the dry run: it renders placeholders for this machine, resolves
``secret://`` references from the vault, reads each target and decides per unit (see
:mod:`agents.claude.targets`) with chezmoi's rule, given the hashes we last wrote
(``applied``, kept by the store per machine):

- current == desired: unchanged;
- nothing there and never written: create;
- current == what we last wrote: update (or delete);
- anything else: conflict. The target changed since we wrote it (or was never ours): import
  it first (:func:`import_changes`) or stop. Never overwrite it.

:func:`execute` writes the plan: JSON members are spliced into the current text (every key we do
not manage keeps its bytes), files are replaced atomically, modes are kept (new files get the
document's mode, 0600 when they hold a resolved secret). It returns the new applied records.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from agents.claude import jsontext
from agents.claude.diff import text_diff
from agents.claude.drafts import Draft
from agents.claude.machine import Machine
from agents.claude.targets import (
    DELETE,
    Blob,
    BlockedError,
    Unit,
    is_missing,
    read_current,
    unit_hash,
    units,
)
from agents.claude.vault import decrypt
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

Action = Literal["create", "update", "delete", "chmod", "unchanged", "conflict", "blocked"]
WRITES = ("create", "update", "delete", "chmod")
Lookup = Callable[[str], Any] | Mapping[str, Any]


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
class Change:
    """What apply does to one unit."""

    draft_id: str
    key: str
    action: Action
    reason: str = ""
    label: str = ""
    current_hash: str | None = None
    desired_hash: str | None = None
    unit: Unit | None = None
    desired: Any = None  # resolved content: bytes (files), JSON value (members) or DELETE
    current: Any = None  # what is there now (same forms), kept to show conflicts
    mode: int | None = None
    uses_secrets: bool = False


@dataclass
class _File:
    path: Path
    old: bytes | None
    new: bytes | None
    mode: int
    changes: list[Change] = field(default_factory=list)


@dataclass
class ApplyPlan:
    """The dry run of an apply; :meth:`diff` shows it, :func:`execute` carries it out."""

    machine: Machine
    changes: list[Change]
    applied: dict[str, str]
    missing_secrets: dict[str, list[str]]  # vault name -> draft ids that need it
    env_refs: dict[str, list[str]]  # ${NAME} left for Claude Code to expand -> draft ids
    files: list[_File] = field(default_factory=list)
    known: dict[str, str] = field(default_factory=dict)

    def by_action(self, *actions: Action) -> list[Change]:
        """The changes with one of ``actions``."""
        return [c for c in self.changes if c.action in actions]

    @property
    def conflicts(self) -> list[Change]:
        """Units changed since they were last applied."""
        return self.by_action("conflict")

    @property
    def conflict_ids(self) -> list[str]:
        """The draft ids to import from this machine before applying again."""
        return sorted({c.draft_id for c in self.conflicts})

    def diff(self) -> str:
        """A unified diff of every file this plan writes, secrets redacted."""
        out = []
        for f in self.files:
            label = _label(self.machine, f.path)
            if f.old != f.new:
                out.append(text_diff(f.old, f.new, label, self.known))
            elif any(c.action == "chmod" for c in f.changes):
                out.append(f"mode {label}: {f.mode:04o}\n")
        for c in self.conflicts:
            out.append(f"# conflict, not written: {c.label} ({c.reason})\n")
            out.append(text_diff(_show(c.current), _show(c.desired), c.label, self.known))
        return "".join(out)

    def summary(self) -> str:
        """One line per action and what is still needed."""
        lines = []
        for action in ("create", "update", "delete", "chmod", "unchanged"):
            n = len(self.by_action(action))
            if n:
                lines.append(f"{action}: {n}")
        lines += [f"conflict: {c.label}: {c.reason}" for c in self.conflicts]
        lines += [f"blocked: {c.label}: {c.reason}" for c in self.by_action("blocked")]
        if self.missing_secrets:
            lines.append("secrets still needed: " + ", ".join(sorted(self.missing_secrets)))
        if self.env_refs:
            names = ", ".join(sorted(self.env_refs))
            lines.append(f"environment variables Claude Code must see: {names}")
        return "\n".join(lines)


@dataclass
class ApplyResult:
    """What :func:`execute` did.

    Attributes:
        applied: The full new set of applied records to persist (written units updated,
            deleted ones removed, everything else as given).
        written: Files written or removed.
        skipped: Conflicts and blocked units, left untouched.
        changed_meanwhile: Units whose file changed between planning and writing; their
            file was left as it is. Plan again.
    """

    applied: dict[str, str]
    written: list[Path]
    skipped: list[Change]
    changed_meanwhile: list[Change] = field(default_factory=list)


def _show(value: Any) -> bytes | None:
    """A unit's content as bytes for a diff: files as they are, JSON members pretty-printed."""
    if value is None or value is DELETE:
        return None
    if isinstance(value, bytes):
        return value
    return (json.dumps(value, indent=2, ensure_ascii=False) + "\n").encode()


def _label(machine: Machine, path: Path) -> str:
    try:
        return "~/" + path.relative_to(machine.home).as_posix()
    except ValueError:
        return str(path)


def _get(lookup: Lookup, key: str) -> Any:
    return lookup.get(key) if isinstance(lookup, Mapping) else lookup(key)


def _map_strings(value: Any, fn: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return fn(value)
    if isinstance(value, dict):
        return {k: _map_strings(v, fn) for k, v in value.items()}
    if isinstance(value, list):
        return [_map_strings(v, fn) for v in value]
    return value


class _Planner:
    def __init__(
        self,
        machine: Machine,
        applied: Mapping[str, str],
        secrets: Lookup,
        blobs: Lookup,
        identities: Sequence[str],
        inline_env: bool,
    ) -> None:
        self.plan = ApplyPlan(machine, [], dict(applied), {}, {})
        self.secrets, self.blobs, self.identities = secrets, blobs, identities
        self.inline_env = inline_env
        self.cache: dict[Path, Any] = {}

    def resolve(self, draft: Draft, value: Any) -> tuple[Any, bool]:
        """Substitute secret values: (value, whether one was used); BlockedError if missing."""
        missing: list[str] = []
        used = False

        def sub(s: str) -> str:
            nonlocal used
            for ref in draft.secret_refs:
                if ref.ref not in s:
                    continue
                if ref.style == "env" and not self.inline_env:
                    self.plan.env_refs.setdefault(ref.name, []).append(draft.id)
                    continue
                secret = _get(self.secrets, ref.name)
                if secret is None:
                    missing.append(ref.name)
                    continue
                self.plan.known[ref.name] = secret
                used = True
                s = s.replace(ref.ref, secret)
            return s

        out = _map_strings(value, sub)
        if missing:
            for name in missing:
                self.plan.missing_secrets.setdefault(name, []).append(draft.id)
            raise BlockedError("needs secret(s) " + ", ".join(sorted(set(missing))))
        return out, used

    def content(self, draft: Draft, unit: Unit) -> tuple[Any, bool]:
        value = unit.value
        if value is DELETE:
            return DELETE, False
        if isinstance(value, Blob):
            data = _get(self.blobs, value.id)
            if data is None:
                raise BlockedError(f"blob {value.id} is not available on this machine; pull it")
            if value.encrypted:
                try:
                    data = decrypt(data, self.identities)
                except AgentError as exc:
                    raise BlockedError(str(exc)) from exc
            if value.templated:
                text = self.plan.machine.placeholders().render(
                    data.decode("utf-8", errors="surrogateescape")
                )
                data = text.encode("utf-8", errors="surrogateescape")
            return bytes(data), False
        resolved, used = self.resolve(draft, value)
        if not unit.pointer:
            return str(resolved).encode("utf-8"), used
        return resolved, used

    def unit(self, draft: Draft, unit: Unit) -> Change:
        label = _label(self.plan.machine, unit.path)
        if unit.pointer:
            label += "#" + "/".join(unit.pointer)
        c = Change(draft.id, unit.key, "blocked", label=label, unit=unit, mode=unit.mode)
        try:
            current = read_current(unit, self.cache)
            c.desired, c.uses_secrets = self.content(draft, unit)
        except BlockedError as exc:
            c.reason = str(exc)
            return c
        whole = not unit.pointer
        c.current = None if is_missing(current) else current
        c.current_hash = unit_hash(current, whole)
        c.desired_hash = unit_hash(c.desired, whole)
        last = self.plan.applied.get(unit.key)
        if c.current_hash == c.desired_hash:
            c.action = "unchanged"
            if whole and c.desired is not DELETE and unit.mode is not None:
                now = unit.path.stat().st_mode & 0o777
                if (now ^ unit.mode) & 0o111:
                    c.action, c.mode = "chmod", (now & ~0o111) | (unit.mode & 0o111)
        elif c.current_hash is None and last is None:
            c.action = "create"
        elif c.current_hash == last:
            c.action = "delete" if c.desired is DELETE else "update"
        else:
            c.action = "conflict"
            c.reason = (
                "deleted since it was last applied"
                if is_missing(current)
                else "exists, differs and was never applied here"
                if last is None
                else "changed since it was last applied"
            )
        return c

    def stale(self, draft: Draft, found: list[Unit]) -> list[Unit]:
        """Files of a skill we wrote before that its new version no longer has."""
        if draft.kind != "skill" or not found:
            return []
        root = str(self.plan.machine.claude_dir / "skills" / str(draft.body.get("name"))) + os.sep
        have = {u.key for u in found}
        return [
            Unit(draft.id, Path(key), (), DELETE)
            for key in sorted(self.plan.applied)
            if key.startswith(root) and "#" not in key and key not in have
        ]

    def add(self, draft: Draft) -> None:
        try:
            found = units(draft, self.plan.machine)
        except BlockedError as exc:
            self.plan.changes.append(Change(draft.id, "", "blocked", str(exc), label=draft.id))
            return
        for u in [*found, *self.stale(draft, found)]:
            self.plan.changes.append(self.unit(draft, u))


def _file_mode(path: Path, changes: list[Change]) -> int:
    with contextlib.suppress(FileNotFoundError):
        mode = path.stat().st_mode & 0o777
        for c in changes:
            if c.action == "chmod" and c.mode is not None:
                mode = c.mode
            elif c.action == "update" and c.mode is not None and not (c.unit and c.unit.pointer):
                mode = (mode & ~0o111) | (c.mode & 0o111)
        return mode
    given = next((c.mode for c in changes if c.mode is not None), None)
    if any(c.uses_secrets for c in changes):
        return 0o600
    return given if given is not None else 0o644


def _json_text(old: bytes | None, changes: list[Change]) -> bytes:
    """The new text of a JSON file after the member changes (spliced into ``old``)."""
    edits = [c for c in changes if c.action in ("create", "update", "delete") and c.unit]
    if old is None:
        doc: dict[str, Any] = {}
        for c in edits:
            if c.desired is DELETE or c.unit is None:
                continue
            cur = doc
            for key in c.unit.pointer[:-1]:
                cur = cur.setdefault(key, {})
            cur[c.unit.pointer[-1]] = c.desired
        return (jsontext.dumps_new(doc)).encode()
    text = old.decode("utf-8")
    for c in edits:
        assert c.unit is not None
        if c.desired is DELETE:
            text = jsontext.delete_member(text, c.unit.pointer)
        else:
            text = jsontext.set_member(text, c.unit.pointer, c.desired)
    return text.encode()


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def _build_files(plan: ApplyPlan) -> None:
    groups: dict[Path, list[Change]] = {}
    for c in plan.changes:
        if c.unit is not None and c.action in WRITES:
            groups.setdefault(c.unit.path, []).append(c)
    for path, changes in groups.items():
        old = _read(path)
        member = any(c.unit is not None and c.unit.pointer for c in changes)
        if member:
            new: bytes | None = _json_text(old, changes)
        else:
            last = changes[-1]
            new = (
                None
                if last.desired is DELETE
                else (last.desired if last.action != "chmod" else old)
            )
        plan.files.append(_File(path, old, new, _file_mode(path, changes), changes))


def plan_apply(
    drafts: Iterable[Draft],
    machine: Machine,
    *,
    applied: Mapping[str, str] | None = None,
    secrets: Lookup | None = None,
    blobs: Lookup | None = None,
    identities: Sequence[str] = (),
    inline_env: bool = False,
) -> ApplyPlan:
    """Decide what applying ``drafts`` to ``machine`` would do; writes nothing.

    Args:
        drafts: The documents to apply (tombstones remove what they manage).
        machine: The target home, platform and project path map.
        applied: Applied-record key -> hash we last wrote there (from the store).
        secrets: Vault name -> value (a mapping, or a function such as ``vault.get``).
        blobs: Blob id -> bytes (a mapping or a function).
        identities: age identities (``AGE-SECRET-KEY-1…``) for encrypted transcripts.
        inline_env: Write the values of ``${NAME}`` references into ``.mcp.json`` instead of
            leaving them for Claude Code to expand from its environment.
    """
    planner = _Planner(machine, applied or {}, secrets or {}, blobs or {}, identities, inline_env)
    for d in drafts:
        planner.add(d)
    _build_files(planner.plan)
    return planner.plan


def import_changes(plan: ApplyPlan) -> list[Draft]:
    """The conflicting targets as drafts, captured from the machine: store these (a local
    edit to merge) before applying again."""
    from agents.claude.capture import capture

    return capture(plan.machine).select(plan.conflict_ids) if plan.conflicts else []


def _atomic_write(path: Path, data: bytes, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _prune(path: Path, stop: Path) -> None:
    parent = path.parent
    while parent != stop and stop in parent.parents:
        try:
            parent.rmdir()
        except OSError:
            return
        parent = parent.parent


def _write_file(plan: ApplyPlan, f: _File) -> None:
    """Write one file; a JSON file changed since planning is re-spliced if our members are
    still as planned, else the whole file is left alone."""
    now = _read(f.path)
    new = f.new
    if now not in (f.old, f.new):
        member = any(c.unit is not None and c.unit.pointer for c in f.changes)
        if not member:
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
        new = _json_text(now, f.changes)
    if new is None:
        with contextlib.suppress(FileNotFoundError):
            f.path.unlink()
        _prune(f.path, plan.machine.claude_dir)
    elif new == now:
        os.chmod(f.path, f.mode)
    else:
        _atomic_write(f.path, new, f.mode)


def _moved(c: Change) -> Change:
    c.action, c.reason = "conflict", "changed while applying"
    return c


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
    written: list[Path] = []
    failed: list[Change] = []
    skipped = plan.conflicts + plan.by_action("blocked")
    for f in plan.files:
        try:
            _write_file(plan, f)
        except TargetChangedError as exc:
            failed += exc.changes
            continue
        written.append(f.path)
    for c in plan.changes:
        if c.action in ("create", "update", "chmod", "unchanged") and c.desired_hash:
            records[c.key] = c.desired_hash
        elif c.action in ("delete", "unchanged") and c.desired is DELETE:
            records.pop(c.key, None)
    return ApplyResult(records, written, skipped, failed)
