"""Planning an apply: the dry run that decides, per unit, what may be written.

:func:`plan_apply` renders placeholders for this machine, resolves ``secret://`` references
from the vault, reads each target and decides per unit (see :mod:`agents.claude.targets`)
with chezmoi's rule, given the hashes we last wrote (``applied``, kept by the store per
machine):

- current == desired: unchanged;
- nothing there and never written: create;
- current == what we last wrote: update (or delete);
- anything else: conflict. The target changed since we wrote it (or was never ours): import
  it first or stop. Never overwrite it.

It also builds each file's new content (JSON members spliced into the current text), which
:meth:`ApplyPlan.diff` shows and :func:`agents.claude.apply.execute` writes.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from agents.claude import jsontext
from agents.claude.diff import text_diff
from agents.claude.drafts import Draft
from agents.claude.machine import Machine, map_strings
from agents.claude.risk import classify
from agents.claude.targets import (
    DELETE,
    Blob,
    BlockedError,
    Confinement,
    Disk,
    Unit,
    is_missing,
    unit_hash,
    units,
)
from agents.claude.vault import decrypt
from agents.core.errors import AgentError

__all__ = [
    "WRITES",
    "ApplyPlan",
    "Change",
    "FilePlan",
    "build_files",
    "json_text",
    "plan_apply",
    "read_bytes",
]

Action = Literal["create", "update", "delete", "chmod", "unchanged", "conflict", "blocked", "held"]
WRITES = ("create", "update", "delete", "chmod")
Lookup = Callable[[str], Any] | Mapping[str, Any]


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
    risk: str = ""  # why this write runs code or carries credentials (agents.claude.risk)
    origin: str | None = None  # the machine the document's revision came from


@dataclass
class FilePlan:
    """One file a plan writes: ``where`` its path (as :attr:`Unit.where` spells it)."""

    where: str
    old: bytes | None
    new: bytes | None
    mode: int
    changes: list[Change] = field(default_factory=list)

    @cached_property
    def path(self) -> Path:
        """The file, as a ``Path``."""
        return Path(self.where)


@dataclass
class ApplyPlan:
    """The dry run of an apply; :meth:`diff` shows it, :func:`execute` carries it out."""

    machine: Machine
    changes: list[Change]
    applied: dict[str, str]
    missing_secrets: dict[str, list[str]]  # vault name -> draft ids that need it
    env_refs: dict[str, list[str]]  # ${NAME} left for Claude Code to expand -> draft ids
    files: list[FilePlan] = field(default_factory=list)
    known: dict[str, str] = field(default_factory=dict)
    heads: dict[str, str] = field(default_factory=dict)  # draft id -> store revision planned
    disk: Disk = field(default_factory=Disk, repr=False)  # the targets as the plan read them

    def settled(self, failed: Iterable[Change] = ()) -> dict[str, str]:
        """Draft id -> revision, for the documents whose every unit this plan leaves equal
        to the store (written, or unchanged) unless listed in ``failed``: the new file
        bases of an executed plan."""
        bad = {c.draft_id for c in failed}
        bad |= {c.draft_id for c in self.changes if c.action in ("conflict", "blocked", "held")}
        ids = {c.draft_id for c in self.changes} - bad
        return {d: self.heads[d] for d in sorted(ids) if d in self.heads}

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
            label = _label(self.machine, f.where)
            if f.old != f.new:
                out.append(text_diff(f.old, f.new, label, self.known))
            elif any(c.action == "chmod" for c in f.changes):
                out.append(f"mode {label}: {f.mode:04o}\n")
        for c in self.conflicts:
            out.append(f"# conflict, not written: {c.label} ({c.reason})\n")
            out.append(text_diff(_show(c.current), _show(c.desired), c.label, self.known))
        return "".join(out)

    def summary(self, *, secrets: bool = True) -> str:
        """One line per action and what is still needed (``secrets``: with the line naming
        missing secrets; a caller that explains them itself leaves it out)."""
        lines = []
        for action in ("create", "update", "delete", "chmod", "unchanged"):
            n = len(self.by_action(action))
            if n:
                lines.append(f"{action}: {n}")
        lines += [f"conflict: {c.label}: {c.reason}" for c in self.conflicts]
        lines += [f"blocked: {c.label}: {c.reason}" for c in self.by_action("blocked")]
        lines += [f"held, left as it is: {c.label}: {c.reason}" for c in self.by_action("held")]
        if secrets and self.missing_secrets:
            lines.append("secrets still needed: " + ", ".join(sorted(self.missing_secrets)))
        if self.env_refs:
            names = ", ".join(sorted(self.env_refs))
            lines.append(f"environment variables Claude Code must see: {names}")
        return "\n".join(lines)


def _show(value: Any) -> bytes | None:
    """A unit's content as bytes for a diff: files as they are, JSON members pretty-printed."""
    if value is None or value is DELETE:
        return None
    if isinstance(value, bytes):
        return value
    return jsontext.dumps_new(value).encode()


def _label(machine: Machine, path: Path | str) -> str:
    text, home = str(path), machine.home_prefix
    if text.startswith(home):
        return "~/" + text[len(home) :].replace(os.sep, "/")
    return text


def _get(lookup: Lookup, key: str) -> Any:
    return lookup.get(key) if isinstance(lookup, Mapping) else lookup(key)


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
        self.confinement = Confinement(machine, self.plan.disk)
        self.confined: set[str] = set()  # files checked, once each (a JSON file has many units)

    def resolve(self, draft: Draft, value: Any) -> tuple[Any, bool]:
        """Substitute secret values: (value, whether one was used); BlockedError if missing."""
        if not draft.secret_refs:
            return value, False  # nothing to substitute: no walk over the value
        missing: list[str] = []
        used = False

        # longest first: secret://t is the start of secret://t_2, which it must not cut
        refs = sorted(draft.secret_refs, key=lambda r: -len(r.ref))

        def sub(s: str) -> str:
            nonlocal used
            for ref in refs:
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

        out = map_strings(value, sub)
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
        label = _label(self.plan.machine, unit.where)
        if unit.pointer:
            label += "#" + "/".join(unit.pointer)
        key = unit.key
        c = Change(draft.id, key, "blocked", label=label, unit=unit, mode=unit.mode)
        try:
            if unit.where not in self.confined:
                self.confinement.check(unit.where)
                self.confined.add(unit.where)
            current = self.plan.disk.current(unit)
            c.desired, c.uses_secrets = self.content(draft, unit)
        except BlockedError as exc:
            c.reason = str(exc)
            return c
        whole = not unit.pointer
        c.current = None if is_missing(current) else current
        c.current_hash = unit_hash(current, whole)
        c.desired_hash = unit_hash(c.desired, whole)
        last = self.plan.applied.get(key)
        if c.current_hash == c.desired_hash:
            c.action = "unchanged"
            if whole and c.desired is not DELETE and unit.mode is not None:
                now = self.plan.disk.mode(unit.where) or 0
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
        if c.action in ("create", "update", "chmod") and draft.origin is not None:
            c.origin = draft.origin
            c.risk = (
                classify(
                    unit.path,
                    unit.pointer,
                    c.desired,
                    c.current,
                    settings=self.plan.machine.settings_json,
                    skills=self.plan.machine.claude_dir / "skills",
                    mode=unit.mode,
                )
                or ""
            )
        return c

    def stale(self, draft: Draft, found: list[Unit]) -> list[Unit]:
        """Files of a skill we wrote before that its new version no longer has. Every key
        under a skill's folder is a whole file's (no JSON member lives there), so a ``#`` in
        it is part of the file's name."""
        if draft.kind != "skill" or not found or not self.plan.applied:
            return []
        root = str(self.plan.machine.claude_dir / "skills" / str(draft.body.get("name"))) + os.sep
        have = {u.key for u in found}
        return [
            Unit(key, (), DELETE)
            for key in sorted(self.plan.applied)
            if key.startswith(root) and key not in have
        ]

    def add(self, draft: Draft) -> None:
        try:
            found = units(draft, self.plan.machine, self.plan.disk)
        except BlockedError as exc:
            self.plan.changes.append(Change(draft.id, "", "blocked", str(exc), label=draft.id))
            return
        for u in [*found, *self.stale(draft, found)]:
            self.plan.changes.append(self.unit(draft, u))


CREDENTIAL_FILES = frozenset({".credentials.json"})


def clamp_mode(mode: int, path: Path | str) -> int:
    """A written file's mode: never looser than 0755 (no group or other write, no setuid,
    setgid or sticky bit), and 0600 for a credential file."""
    return 0o600 if os.path.basename(path) in CREDENTIAL_FILES else mode & 0o755


def _file_mode(mode: int | None, path: str, changes: list[Change]) -> int:
    return clamp_mode(_wanted_mode(mode, changes), path)


def _wanted_mode(mode: int | None, changes: list[Change]) -> int:
    """The mode a file written by ``changes`` gets; ``mode``: its mode now (None: absent)."""
    if mode is not None:
        for c in changes:
            if c.action == "chmod" and c.mode is not None:
                mode = c.mode
            elif c.action == "update" and c.mode is not None and not (c.unit and c.unit.pointer):
                mode = (mode & ~0o111) | (c.mode & 0o111)
        if any(c.uses_secrets and c.action in ("create", "update") for c in changes):
            mode &= ~0o077  # now holds a secret value: no longer readable by others
        return mode
    given = None
    for c in changes:
        if c.uses_secrets:
            return 0o600
        if given is None:
            given = c.mode
    return given if given is not None else 0o644


def json_text(old: bytes | None, changes: list[Change]) -> bytes:
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


def read_bytes(path: Path | str) -> bytes | None:
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return None


def build_files(plan: ApplyPlan) -> None:
    """(Re)build the new content of every file the plan writes, from its changes."""
    plan.files = []
    groups: dict[str, list[Change]] = {}  # by path
    for c in plan.changes:
        if c.unit is not None and c.action in WRITES:
            groups.setdefault(c.unit.where, []).append(c)
    for path, changes in groups.items():
        old = plan.disk.read(path)
        member = any(c.unit is not None and c.unit.pointer for c in changes)
        if member:
            new: bytes | None = json_text(old, changes)
        else:
            last = changes[-1]
            new = (
                None
                if last.desired is DELETE
                else (last.desired if last.action != "chmod" else old)
            )
        mode = _file_mode(plan.disk.mode(path), path, changes)
        plan.files.append(FilePlan(path, old, new, mode, changes))


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
    build_files(planner.plan)
    return planner.plan
