"""Capture (import): read a machine's Claude files into document drafts.

Pure with respect to the machine: it reads files under ``machine.home`` (and the Desktop config
for ``machine.platform``) and writes nothing. Secret values come back separately in
:attr:`Capture.secrets` for the vault; the drafts hold only references.

Read: ``~/.claude/settings.json`` (one ``pref:<key>`` per top-level key), ``CLAUDE.md``,
``rules/``, ``agents/``, ``commands/``, ``skills/``, the ``mcpServers`` of ``~/.claude.json``
(top level and per project, nothing else of that file), each registered project's ``.mcp.json``
and auto-memory, Claude Desktop's ``mcpServers``, and transcripts only when asked (encrypted).
Never read: ``.credentials.json``, OAuth state, caches, history, ``settings.local.json``.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agents.claude import jsontext
from agents.claude.bodies import file_entry, front_matter, server_body, split_tools
from agents.claude.drafts import Draft, RefStyle, Scope, SecretRef
from agents.claude.machine import Machine, Placeholders
from agents.claude.projects import project_draft, project_id, slug
from agents.claude.secrets import Extractor, pointer
from agents.claude.targets import Disk, current_hashes
from agents.claude.transcripts import capture_transcripts

__all__ = ["Capture", "capture", "capture_skill", "mcp_server_id"]

# never descended into inside a skill or memory directory
_SKIP_DIRS = frozenset({".git", "__pycache__", "node_modules", ".venv"})
_SKIP_FILES = frozenset({".DS_Store", "Thumbs.db"})


@dataclass
class Capture:
    """What one capture found.

    Attributes:
        drafts: The documents, in a stable order.
        blobs: Content-addressed bytes that bodies point to (``sha256:…`` -> bytes).
        secrets: Vault name -> value, for every reference in the drafts. Never store these
            with the documents.
        observed: Applied-record key -> hash of each unit as read, so the store can mark
            "store and file agree" right after importing.
        projects: Project id -> path on this machine (from ``~/.claude.json``'s projects).
        warnings: Files skipped and why.
    """

    drafts: list[Draft] = field(default_factory=list)
    blobs: dict[str, bytes] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    observed: dict[str, str] = field(default_factory=dict)
    projects: dict[str, Path] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def select(self, ids: Iterable[str]) -> list[Draft]:
        """The drafts whose ids are in ``ids`` (e.g. the conflicts of an apply plan)."""
        wanted = set(ids)
        return [d for d in self.drafts if d.id in wanted]

    def by_id(self) -> dict[str, Draft]:
        """id -> draft."""
        return {d.id: d for d in self.drafts}


def mcp_server_id(source: str, name: str, project: str | None = None) -> str:
    """``mcp_server:<name>`` (Claude Code user scope), ``mcp_server:desktop/<name>``,
    ``mcp_server:local/<name>@<project>`` or ``mcp_server:project/<name>@<project>``."""
    if source == "claude_code_user":
        return f"mcp_server:{name}"
    if source == "claude_desktop":
        return f"mcp_server:desktop/{name}"
    where = "local" if source == "claude_code_local" else "project"
    return f"mcp_server:{where}/{name}@{project}"


class _Reader:
    def __init__(self, machine: Machine, out: Capture) -> None:
        self.machine = machine
        self.out = out
        self.ex = Extractor()
        self.ph = Placeholders(str(machine.home))
        self.disk = Disk()  # each file read once: its draft and its observed hash agree

    def rel(self, path: Path) -> str:
        try:
            return "~/" + path.relative_to(self.machine.home).as_posix()
        except ValueError:
            return str(path)

    def read_json(self, path: Path) -> dict[str, Any] | None:
        try:
            data = self.disk.read(path)
            return None if data is None else jsontext.parse(data.decode("utf-8"))
        except (OSError, UnicodeDecodeError, jsontext.JsonTextError) as exc:
            self.out.warnings.append(f"{self.rel(path)} skipped: {exc}")
            return None

    def file_entry(self, path: Path, ptr: str, refs: list[SecretRef]) -> dict[str, Any]:
        data, mode = self.disk.read(path), self.disk.mode(path)
        if data is None or mode is None:
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), str(path))
        entry, blob = file_entry(data, mode)
        if blob is not None:
            self.out.blobs[entry["blob"]["blob"]] = blob
        else:
            entry["text"] = self.ph.unrender(self.ex.scrub_text(entry["text"], ptr + "/text", refs))
        return entry

    def tree(self, root: Path, refs: list[SecretRef]) -> list[dict[str, Any]]:
        files: list[dict[str, Any]] = []
        for path in sorted(root.rglob("*")):
            parts = path.relative_to(root).parts
            if any(p in _SKIP_DIRS for p in parts) or path.name in _SKIP_FILES:
                continue
            if path.is_file():
                try:
                    entry = self.file_entry(path, pointer("files", len(files)), refs)
                except OSError as exc:
                    self.out.warnings.append(f"{self.rel(path)} skipped: {exc}")
                    continue
                files.append({"path": "/".join(parts), **entry})
        return files

    def add(
        self,
        id: str,
        kind: str,
        body: dict[str, Any],
        refs: list[SecretRef],
        scope: Scope | None = None,
    ) -> None:
        self.out.drafts.append(Draft(id, kind, body, scope or Scope(), tuple(refs)))

    # --- Claude Code, user scope ---------------------------------------------------------

    def settings(self) -> None:
        doc = self.read_json(self.machine.settings_json)
        for key, value in (doc or {}).items():
            refs: list[SecretRef] = []
            if key == "env" and isinstance(value, dict):
                value = self.ex.scrub_all(value, "/value", refs, "claude-code/env", "uri")
            else:
                value = self.ex.scrub_json(value, "/value", refs, f"claude-code/settings/{key}")
            body = {
                "key": key,
                "value": self.ph.unrender_json(value),
                "category": "claude_settings",
            }
            self.add(f"pref:{key}", "preference", body, refs)

    def claude_file(
        self, id: str, path: Path, rel: str, source: str, scope: Scope | None = None
    ) -> None:
        refs: list[SecretRef] = []
        try:
            entry = self.file_entry(path, "", refs)
        except OSError as exc:
            self.out.warnings.append(f"{self.rel(path)} skipped: {exc}")
            return
        fmt = "markdown" if path.suffix == ".md" else "text"
        body = {"path": rel, "format": fmt, **entry, "source": source}
        self.add(id, "claude_file", body, refs, scope)

    def markdown(self) -> None:
        claude = self.machine.claude_dir
        found = [claude / "CLAUDE.md"]
        for sub in ("rules", "agents", "commands"):
            found += sorted((claude / sub).rglob("*.md")) if (claude / sub).is_dir() else []
        for path in found:
            if path.is_file():
                rel = path.relative_to(claude).as_posix()
                self.claude_file(f"claude_file:user/{rel}", path, rel, "claude_code")

    def skills(self) -> None:
        root = self.machine.claude_dir / "skills"
        for skill in sorted(root.iterdir()) if root.is_dir() else []:
            if skill.is_dir() and not skill.name.startswith("."):
                self.skill(skill, skill.name)

    def skill(self, root: Path, name: str) -> None:
        refs: list[SecretRef] = []
        files = self.tree(root, refs)
        main = next((f for f in files if f["path"] == "SKILL.md" and "text" in f), None)
        if main is None:
            self.out.warnings.append(f"{self.rel(root)} skipped: no SKILL.md")
            return
        meta = front_matter(main["text"])
        body: dict[str, Any] = {"name": name}
        if isinstance(meta.get("description"), str):
            body["description"] = meta["description"]
        if "allowed-tools" in meta:
            body["allowed_tools"] = split_tools(meta["allowed-tools"])
        body["files"] = files
        self.add(f"skill:{name}", "skill", body, refs)

    # --- MCP servers ---------------------------------------------------------------------

    def servers(
        self,
        servers: Any,
        source: str,
        namespace: str,
        style: RefStyle,
        project: str | None = None,
    ) -> None:
        if not isinstance(servers, dict):
            return
        for name, config in servers.items():
            if not isinstance(config, dict):
                continue
            refs: list[SecretRef] = []
            body = server_body(name, config, source, project)
            body = self.ex.scrub_server(name, body, "", refs, namespace, style)
            scope = Scope("project", project_id=project) if project else Scope()
            id = mcp_server_id(source, name, project)
            self.add(id, "mcp_server", self.ph.unrender_json(body), refs, scope)

    def claude_json(self) -> dict[str, Any]:
        """``mcpServers`` and the projects map of ``~/.claude.json``; nothing else is kept."""
        doc = self.read_json(self.machine.claude_json) or {}
        projects = doc.get("projects")
        return {
            "mcpServers": doc.get("mcpServers"),
            "projects": {
                path: {"mcpServers": entry.get("mcpServers")}
                for path, entry in (projects.items() if isinstance(projects, dict) else [])
                if isinstance(entry, dict)
            },
        }

    def discover(self, projects: Mapping[str, Any]) -> dict[str, Path]:
        found: dict[str, Path] = {}
        for raw in sorted(projects):
            path = Path(raw)
            if not path.is_dir():
                continue
            pid = project_id(path, self.machine.home)
            if pid is None:
                self.out.warnings.append(
                    f"project {raw} has no git remote and is outside home: not captured"
                )
            elif pid not in found:
                found[pid] = path
        return found

    def projects(self, cj: dict[str, Any]) -> None:
        paths = {str(p): pid for pid, p in self.out.projects.items()}
        for pid, path in sorted(self.out.projects.items()):
            self.out.drafts.append(project_draft(pid, path, self.machine.machine_id))
        for raw, entry in sorted(cj["projects"].items()):
            if raw in paths:
                pid = paths[raw]
                ns = f"claude-code-local/{pid}"
                self.servers(entry["mcpServers"], "claude_code_local", ns, "uri", pid)
        for pid, path in sorted(self.out.projects.items()):
            mcp = self.read_json(path / ".mcp.json")
            if mcp:
                ns = f"mcp-json/{pid}"
                self.servers(mcp.get("mcpServers"), "claude_code_project", ns, "env", pid)
            data = self.machine.claude_dir / "projects" / slug(str(path))
            memory = data / "memory"
            for file in sorted(memory.rglob("*")) if memory.is_dir() else []:
                if file.is_file() and file.name not in _SKIP_FILES:
                    rel = file.relative_to(data).as_posix()
                    scope = Scope("project", project_id=pid)
                    self.claude_file(
                        f"claude_file:project/{rel}@{pid}", file, rel, "project", scope
                    )


def capture_skill(root: Path, machine: Machine, name: str | None = None) -> Capture:
    """One skill directory (anywhere, e.g. shipped in a package) as a ``skill`` draft for
    ``machine``; empty drafts with a warning when it has no SKILL.md."""
    out = Capture()
    r = _Reader(machine, out)
    r.skill(root, name or root.name)
    out.secrets = dict(r.ex.values)
    return out


def capture(
    machine: Machine,
    *,
    code: bool = True,
    desktop: bool = True,
    transcripts_to: Sequence[str] | None = None,
    previous: Mapping[str, Draft] | None = None,
) -> Capture:
    """Read ``machine``'s Claude files into drafts.

    Args:
        machine: The home, platform and machine id to read.
        code: Read Claude Code's files.
        desktop: Read Claude Desktop's config.
        transcripts_to: Opt-in: age recipients (``age1…``) to encrypt session transcripts to.
            ``None`` (the default) never reads transcripts.
        previous: The store's current drafts by id; an unchanged transcript keeps its old
            encrypted blob instead of being encrypted again.
    """
    out = Capture()
    r = _Reader(machine, out)
    cj = r.claude_json() if code else {"mcpServers": None, "projects": {}}
    out.projects = {**r.discover(cj["projects"]), **dict(machine.project_paths)}
    here = machine.with_projects(out.projects)
    r.ph = here.placeholders()
    if code:
        r.settings()
        r.markdown()
        r.skills()
        r.servers(cj["mcpServers"], "claude_code_user", "claude-code", "uri")
        r.projects(cj)
    if desktop:
        doc = r.read_json(machine.desktop_config)
        r.servers((doc or {}).get("mcpServers"), "claude_desktop", "claude-desktop", "uri")
    if code and transcripts_to is not None:
        capture_transcripts(here, out, transcripts_to, previous or {})
    out.secrets = dict(r.ex.values)
    out.observed = current_hashes(out.drafts, here, r.disk)
    return out
