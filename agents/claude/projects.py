"""Project identity across machines: a project is its normalised git remote URL.

The same repository lives at ``/home/alice/src/api`` on one machine and ``/Users/alice/work/api``
on another; both read ``origin`` from ``.git/config`` (no network) and agree on the id
``github.com/acme/api``. A project without a remote is identified by its path under home
(``~/notes``), which matches when the other machine keeps it at the same place.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from agents.claude.drafts import Draft, Scope

__all__ = [
    "find_checkouts",
    "git_dir",
    "normalize_remote",
    "project_draft",
    "project_id",
    "project_paths",
    "read_remote",
    "slug",
]

_SCP = re.compile(r"^(?:[^@/]+@)?([^:/]+):(?!//)(.+)$")  # git@github.com:acme/api.git
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://(?:[^@/]*@)?([^/:]+)(?::(\d+))?(/.*)?$", re.I)
_DEFAULT_PORTS = {"22", "80", "443", "9418"}


def normalize_remote(url: str) -> str | None:
    """``host/path`` of a git remote URL, lower-cased, without scheme, user, password, port
    defaults or ``.git``; ``None`` for local paths.

    ``git@github.com:Acme/API.git``, ``https://token@github.com/acme/api`` and
    ``ssh://git@github.com:22/acme/api/`` all give ``github.com/acme/api``.
    """
    url = url.strip()
    host = port = None
    path = ""
    m = _URL.match(url)
    if m:
        if url.lower().startswith("file:"):
            return None
        host, port, path = m.group(1), m.group(2), m.group(3) or ""
    else:
        s = _SCP.match(url)
        if not s or "/" in s.group(1) or len(s.group(1)) == 1:  # C:\repo is a path, not a host
            return None
        host, path = s.group(1), s.group(2)
    path = path.strip("/")
    path = path.removesuffix(".git").rstrip("/")
    if not host or not path:
        return None
    netloc = host if not port or port in _DEFAULT_PORTS else f"{host}:{port}"
    return f"{netloc}/{path}".lower()


def git_dir(repo: Path) -> Path | None:
    dot = repo / ".git"
    if dot.is_dir():
        return dot
    if dot.is_file():  # a worktree or submodule: "gitdir: <path>", config in its common dir
        text = dot.read_text(errors="replace").strip()
        if not text.startswith("gitdir:"):
            return None
        gitdir = Path(text[len("gitdir:") :].strip())
        gitdir = gitdir if gitdir.is_absolute() else (repo / gitdir)
        common = gitdir / "commondir"
        if common.is_file():
            c = Path(common.read_text().strip())
            return c if c.is_absolute() else (gitdir / c)
        return gitdir
    return None


def read_remote(repo: Path) -> str | None:
    """The URL of ``origin`` (else of the first remote) from the repository's git config."""
    found = git_dir(repo)
    config = found / "config" if found else None
    if config is None or not config.is_file():
        return None
    remotes: dict[str, str] = {}
    section: str | None = None
    for raw in config.read_text(errors="replace").splitlines():
        line = raw.strip()
        head = re.match(r'^\[\s*remote\s+"([^"]+)"\s*\]', line)
        if head:
            section = head.group(1)
            continue
        if line.startswith("["):
            section = None
            continue
        kv = re.match(r"^url\s*=\s*(.+?)\s*$", line, re.I)
        if section and kv and section not in remotes:
            remotes[section] = kv.group(1).strip('"')
    if not remotes:
        return None
    return remotes.get("origin") or next(iter(remotes.values()))


def project_id(path: Path, home: Path) -> str | None:
    """The project id of the repository at ``path``: its normalised remote, else ``~/<path
    under home>``; ``None`` for a project outside home without a remote (machine-local)."""
    remote = read_remote(path)
    normal = normalize_remote(remote) if remote else None
    if normal:
        return normal
    try:
        rel = path.relative_to(home)
    except ValueError:
        return None
    return "~/" + rel.as_posix() if rel.parts else None


def slug(path: str) -> str:
    """The directory name Claude Code uses under ``~/.claude/projects/`` for a working dir."""
    return re.sub(r"[^A-Za-z0-9]", "-", path)


def project_draft(pid: str, path: Path, machine_id: str) -> Draft:
    """The ``project`` document: identity plus this machine's path (a per-machine field)."""
    body: dict[str, Any] = {"name": pid.rstrip("/").rsplit("/", 1)[-1] or pid}
    if not pid.startswith("~/"):
        body["remote_url"] = pid
    body["paths"] = {machine_id: str(path)}
    return Draft(f"project:{pid}", "project", body, Scope("project", project_id=pid))


_SKIP_WALK = frozenset({"node_modules", "__pycache__", ".venv", "venv", "Library", "AppData"})


def find_checkouts(
    home: Path, wanted: Iterable[str], *, depth: int = 4, limit: int = 20_000
) -> dict[str, Path]:
    """Git checkouts under ``home`` (at most ``depth`` levels, ``limit`` directories) whose
    project id is one of ``wanted``: how a new machine maps projects it has cloned but not
    yet opened in Claude Code. The first found (shallowest) wins."""
    todo = set(wanted)
    found: dict[str, Path] = {}
    level = [home]
    seen = 0
    for _ in range(depth):
        nxt: list[Path] = []
        for folder in level:
            try:
                children = sorted(p for p in folder.iterdir() if p.is_dir() and not p.is_symlink())
            except OSError:
                continue
            for child in children:
                seen += 1
                if seen > limit or not todo:
                    return found
                if child.name.startswith(".") or child.name in _SKIP_WALK:
                    continue
                if (child / ".git").exists():
                    pid = project_id(child, home)
                    if pid in todo:
                        found[pid] = child
                        todo.discard(pid)
                    continue
                nxt.append(child)
        level = nxt
    return found


def project_paths(drafts: Iterable[Draft], machine_id: str, home: Path) -> dict[str, Path]:
    """The path map of this machine from ``project`` documents: the path recorded for
    ``machine_id``, else ``~/…`` ids under this home."""
    out: dict[str, Path] = {}
    for d in drafts:
        if d.kind != "project" or d.deleted:
            continue
        pid = d.id.removeprefix("project:")
        paths: Mapping[str, Any] = d.body.get("paths") or {}
        if machine_id in paths:
            out[pid] = Path(paths[machine_id])
        elif pid.startswith("~/"):
            out[pid] = home / pid[2:]
    return out
