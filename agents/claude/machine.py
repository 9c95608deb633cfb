"""Where a machine keeps its Claude files, and the ``{{home}}``/``{{project:<id>}}`` placeholders.

Every function takes an explicit :class:`Machine` (home directory, platform, environment), so
tests and restores work on simulated homes and never touch the real user's files.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "PLATFORMS",
    "Machine",
    "Placeholders",
    "desktop_config_path",
    "map_strings",
]

Platform = Literal["linux", "darwin", "win32"]
PLATFORMS: tuple[Platform, ...] = ("linux", "darwin", "win32")


def _platform(name: str) -> Platform:
    if name.startswith("linux"):
        return "linux"
    if name in ("darwin", "win32"):
        return name  # type: ignore[return-value]
    if name.startswith(("cygwin", "msys")):
        return "win32"
    return "linux"  # BSDs follow the XDG layout Desktop uses on Linux


def desktop_config_path(home: Path, platform: str, env: Mapping[str, str] | None = None) -> Path:
    """``claude_desktop_config.json`` on ``platform`` for a user whose home is ``home``.

    Linux: ``$XDG_CONFIG_HOME/Claude/`` (default ``~/.config/Claude/``); macOS:
    ``~/Library/Application Support/Claude/``; Windows: ``%APPDATA%\\Claude\\`` (default
    ``~\\AppData\\Roaming\\Claude\\``).
    """
    env = env or {}
    plat = _platform(platform)
    if plat == "darwin":
        base = home / "Library" / "Application Support"
    elif plat == "win32":
        base = Path(env["APPDATA"]) if env.get("APPDATA") else home / "AppData" / "Roaming"
    else:
        xdg = env.get("XDG_CONFIG_HOME")
        base = Path(xdg) if xdg else home / ".config"
    return base / "Claude" / "claude_desktop_config.json"


@dataclass(frozen=True)
class Machine:
    """One machine's view of Claude: its home, platform, id and the paths of its projects.

    ``env`` supplies ``CLAUDE_CONFIG_DIR``, ``APPDATA`` and ``XDG_CONFIG_HOME`` when set; it is
    never read from the process unless :meth:`current` builds the machine.
    """

    home: Path
    platform: Platform = "linux"
    machine_id: str = "local"
    project_paths: Mapping[str, Path] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def current(
        cls, machine_id: str = "local", project_paths: Mapping[str, Path] | None = None
    ) -> Machine:
        """This process's user and platform."""
        keys = ("CLAUDE_CONFIG_DIR", "APPDATA", "XDG_CONFIG_HOME")
        return cls(
            home=Path.home(),
            platform=_platform(sys.platform),
            machine_id=machine_id,
            project_paths=dict(project_paths or {}),
            env={k: os.environ[k] for k in keys if os.environ.get(k)},
        )

    def with_projects(self, paths: Mapping[str, Path]) -> Machine:
        """The same machine with ``paths`` added to its project path map."""
        merged = {**self.project_paths, **paths}
        return Machine(self.home, self.platform, self.machine_id, merged, self.env)

    @cached_property
    def home_prefix(self) -> str:
        """The home as a folder prefix: its path and one separator."""
        return str(self.home).rstrip(os.sep) + os.sep

    @cached_property
    def claude_dir(self) -> Path:
        """``~/.claude`` (or ``$CLAUDE_CONFIG_DIR``)."""
        custom = self.env.get("CLAUDE_CONFIG_DIR")
        return Path(custom) if custom else self.home / ".claude"

    @cached_property
    def claude_json(self) -> Path:
        """``~/.claude.json`` (inside ``$CLAUDE_CONFIG_DIR`` when that is set)."""
        custom = self.env.get("CLAUDE_CONFIG_DIR")
        return Path(custom) / ".claude.json" if custom else self.home / ".claude.json"

    @cached_property
    def settings_json(self) -> Path:
        """``~/.claude/settings.json``."""
        return self.claude_dir / "settings.json"

    @cached_property
    def desktop_config(self) -> Path:
        """Claude Desktop's config file on this machine's platform."""
        return desktop_config_path(self.home, self.platform, self.env)

    def placeholders(self) -> Placeholders:
        """The placeholder table of this machine (home and every mapped project)."""
        return self._placeholders

    @cached_property
    def _placeholders(self) -> Placeholders:
        return Placeholders(str(self.home), {k: str(v) for k, v in self.project_paths.items()})


# {{home}}, {{project:<id>}}, and {{raw:<text>}} which renders to a literal {{<text>}}
_TOKEN = re.compile(r"\{\{(home|project:[^{}]+|raw:[^{}]*)\}\}")
# a path prefix ends where the next character cannot continue a file name ("." only at the
# end of a sentence: /home/alice.bak is another file)
_END = r"(?=$|[/\\\s\"'`:;,()\[\]{}<>|=&*?$@#!]|\.(?:\s|$))"


class UnknownProjectError(KeyError):
    """A ``{{project:<id>}}`` placeholder names a project with no path on this machine."""


@dataclass(frozen=True)
class Placeholders:
    """Turns absolute paths into placeholders (capture) and back (apply).

    Literal ``{{home}}``-like text already in a file is escaped as ``{{raw:home}}`` on capture,
    so rendering gives back exactly the original bytes.
    """

    home: str
    projects: Mapping[str, str] = field(default_factory=dict)

    def _prefixes(self) -> list[tuple[str, str]]:
        pairs = [("{{home}}", self.home)]
        home = self.home.rstrip("/\\")
        for pid, path in self.projects.items():
            p = path.rstrip("/\\")
            # a project at (or above) home would swallow {{home}}: leave those to {{home}}
            if p and p != home and not home.startswith(p + "/") and len(p) > 1:
                pairs.append((f"{{{{project:{pid}}}}}", p))
        return sorted(pairs, key=lambda kv: len(kv[1]), reverse=True)

    @cached_property
    def _unrender_table(self) -> tuple[list[tuple[str, str]], re.Pattern[str] | None]:
        prefixes = [(tok, p.rstrip("/\\")) for tok, p in self._prefixes() if p.rstrip("/\\")]
        if not prefixes:
            return prefixes, None
        return prefixes, re.compile("|".join(f"({re.escape(p)}){_END}" for _, p in prefixes))

    def unrender(self, text: str) -> str:
        """Escape literal placeholders, then replace known absolute paths with placeholders."""
        out = _TOKEN.sub(lambda m: "{{raw:" + m.group(1) + "}}", text)
        prefixes, pattern = self._unrender_table
        if pattern is None or not any(p in out for _, p in prefixes):
            return out  # most files name no path of this machine: one substring pass each
        return pattern.sub(lambda m: prefixes[(m.lastindex or 1) - 1][0], out)

    def render(self, text: str) -> str:
        """Replace placeholders with this machine's paths.

        Raises:
            UnknownProjectError: A ``{{project:<id>}}`` has no path on this machine.
        """
        if "{{" not in text:
            return text

        def sub(m: re.Match[str]) -> str:
            token = m.group(1)
            if token == "home":
                return self.home.rstrip("/\\") or self.home
            if token.startswith("raw:"):
                return "{{" + token[4:] + "}}"
            pid = token[len("project:") :]
            if pid not in self.projects:
                raise UnknownProjectError(pid)
            return self.projects[pid].rstrip("/\\")

        return _TOKEN.sub(sub, text)

    def unrender_json(self, value: Any) -> Any:
        """:meth:`unrender` applied to every string value (not to keys)."""
        return map_strings(value, self.unrender)

    def render_json(self, value: Any) -> Any:
        """:meth:`render` applied to every string value (not to keys)."""
        return map_strings(value, self.render)


def map_strings(value: Any, fn: Callable[[str], str]) -> Any:
    """``value`` (JSON-like) with ``fn`` applied to every string in it, keys left alone."""
    if isinstance(value, str):
        return fn(value)
    if isinstance(value, dict):
        return {k: map_strings(v, fn) for k, v in value.items()}
    if isinstance(value, list):
        return [map_strings(v, fn) for v in value]
    return value
