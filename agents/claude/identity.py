"""Which project a working directory belongs to, the same on every machine: the repository's
normalised git remote plus the path inside the repository.

``/home/alice/src/api/services/auth`` and ``/Users/alice/work/api/services/auth`` are both
``github.com/acme/api`` at ``services/auth``. Claude Code keys its sessions by the absolute
working directory instead; this is what lets a session follow the project to another machine.
Reads ``.git`` files only (no ``git`` process, no network): a hook runs it on every start.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from agents.claude.projects import project_id

__all__ = ["ProjectRef", "current_branch", "locate"]


@dataclass(frozen=True)
class ProjectRef:
    """A working directory as a project: id, checkout root here, and the path inside it."""

    id: str | None
    root: Path
    subdir: str = ""

    @property
    def name(self) -> str:
        """A short name: the last part of the id (or of the root)."""
        base = (self.id or str(self.root)).rstrip("/").rsplit("/", 1)[-1] or str(self.root)
        return f"{base}/{self.subdir}" if self.subdir else base

    def path_here(self, root: Path | None = None) -> Path:
        """The working directory under ``root`` (another machine's checkout) or this one."""
        base = root if root is not None else self.root
        return base.joinpath(*PurePosixPath(self.subdir).parts) if self.subdir else base


def _repo_root(cwd: Path) -> Path | None:
    for candidate in (cwd, *cwd.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


def locate(cwd: Path, home: Path) -> ProjectRef:
    """The project of ``cwd``: the nearest enclosing git checkout's id and the path inside it;
    outside a checkout, ``cwd`` itself (``~/<path>`` under home, else no id)."""
    cwd = Path(cwd)
    root = _repo_root(cwd)
    if root is None:
        return ProjectRef(project_id(cwd, home), cwd)
    rel = cwd.relative_to(root).as_posix()
    return ProjectRef(project_id(root, home), root, "" if rel == "." else rel)


def current_branch(root: Path) -> str | None:
    """The branch checked out at ``root`` (from ``HEAD``; linked worktrees have their own)."""
    dot = root / ".git"
    head = dot / "HEAD" if dot.is_dir() else None
    if head is None and dot.is_file():
        text = dot.read_text(errors="replace").strip()
        if text.startswith("gitdir:"):
            gd = Path(text[len("gitdir:") :].strip())
            head = (gd if gd.is_absolute() else root / gd) / "HEAD"
    try:
        ref = head.read_text(errors="replace").strip() if head else ""
    except OSError:
        return None
    return ref.removeprefix("ref: refs/heads/") if ref.startswith("ref: refs/heads/") else None
