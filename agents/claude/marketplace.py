"""The context-sync plugin through Claude Code's own plugin commands.

The repository is a plugin marketplace (``.claude-plugin/marketplace.json`` at its root) whose
one plugin, ``context-sync``, lives in ``agents/claude/plugin/``. Installing is what a user
would type: ``claude plugin marketplace add <checkout>`` then ``claude plugin install
context-sync@claude-agents``; this module runs exactly those, then tells the plugin where the
checkout is (its data folder's ``agents-home``, for a copy of the plugin that cannot find it by
itself) and checks with ``claude plugin list --json`` that Claude Code sees it enabled.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agents.core.errors import AgentError, InputError
from agents.core.settings import find_root

__all__ = [
    "MARKETPLACE",
    "PLUGIN",
    "PLUGIN_ID",
    "PluginStatus",
    "checkout_root",
    "find_claude",
    "install_plugin",
    "plugin_status",
    "uninstall_plugin",
]

MARKETPLACE = "claude-agents"
PLUGIN = "context-sync"
PLUGIN_ID = f"{PLUGIN}@{MARKETPLACE}"
NPM_PACKAGE = "@anthropic-ai/claude-code"
TIMEOUT = 120.0


def checkout_root() -> Path:
    """The project root (``$AGENTS_HOME``, else the checkout around the working directory),
    which is the marketplace.

    Raises:
        AgentError: The root has no marketplace file.
    """
    root = find_root()
    if not (root / ".claude-plugin" / "marketplace.json").is_file():
        raise AgentError(
            f"{root} has no .claude-plugin/marketplace.json: install the plugin from a checkout "
            "of claude-agents (git clone, then scripts/start-all-agents local)"
        )
    return root


def find_claude(explicit: str | None = None) -> str:
    """The ``claude`` executable: ``explicit``, else ``claude`` on ``PATH``.

    Raises:
        AgentError: Not found; the message gives the install command.
    """
    found = shutil.which(explicit or "claude")
    if found is None:
        raise AgentError(
            f"Claude Code's CLI ({explicit or 'claude'}) was not found on PATH: install it with "
            f"`npm install -g {NPM_PACKAGE}` (or pass --claude PATH)"
        )
    return found


def _run(
    claude: str, args: Sequence[str], env: Mapping[str, str] | None
) -> subprocess.CompletedProcess[str]:
    try:
        done = subprocess.run(
            [claude, *args],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            env=dict(env) if env is not None else None,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise AgentError(f"`claude {' '.join(args)}` did not run: {exc}") from exc
    if done.returncode != 0:
        said = (done.stderr or done.stdout).strip().splitlines()
        raise AgentError(
            f"`claude {' '.join(args)}` failed (exit {done.returncode}): "
            f"{said[-1] if said else 'no output'}"
        )
    return done


def _claude_dir(env: Mapping[str, str] | None) -> Path:
    source = env if env is not None else os.environ
    custom = source.get("CLAUDE_CONFIG_DIR")
    return Path(custom) if custom else Path(source.get("HOME") or Path.home()) / ".claude"


def _plugin_data(env: Mapping[str, str] | None) -> Path:
    """The plugin's ``$CLAUDE_PLUGIN_DATA``: Claude Code keeps every plugin folder under
    ``$CLAUDE_CODE_PLUGIN_CACHE_DIR`` when it is set, else under its config folder's
    ``plugins``."""
    source = env if env is not None else os.environ
    custom = source.get("CLAUDE_CODE_PLUGIN_CACHE_DIR")
    plugins = Path(custom) if custom else _claude_dir(env) / "plugins"
    return plugins / "data" / f"{PLUGIN}-{MARKETPLACE}"


@dataclass
class PluginStatus:
    """What ``claude plugin list --json`` says about the plugin."""

    installed: bool
    enabled: bool = False
    version: str | None = None
    scope: str | None = None
    install_path: str | None = None
    steps: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "plugin": PLUGIN_ID,
            "installed": self.installed,
            "enabled": self.enabled,
            "version": self.version,
            "scope": self.scope,
            "install_path": self.install_path,
            "steps": self.steps,
        }


def plugin_status(claude: str, env: Mapping[str, str] | None = None) -> PluginStatus:
    """The plugin as Claude Code lists it."""
    done = _run(claude, ["plugin", "list", "--json"], env)
    try:
        entries = json.loads(done.stdout or "[]")
    except ValueError as exc:
        raise AgentError(f"`claude plugin list --json` printed no JSON: {exc}") from exc
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and entry.get("id") == PLUGIN_ID:
            return PluginStatus(
                True,
                bool(entry.get("enabled")),
                entry.get("version"),
                entry.get("scope"),
                entry.get("installPath"),
            )
    return PluginStatus(False)


def install_plugin(
    claude: str,
    *,
    scope: str = "user",
    root: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> PluginStatus:
    """Add the checkout as a marketplace and install the plugin from it (both idempotent).

    Raises:
        InputError: Unknown scope.
        AgentError: A ``claude`` command failed, or Claude Code does not list the plugin after.
    """
    if scope not in ("user", "project", "local"):
        raise InputError(f"scope {scope!r} is not one of user, project, local")
    root = root or checkout_root()
    steps = [
        ["plugin", "marketplace", "add", str(root), "--scope", scope],
        ["plugin", "install", PLUGIN_ID, "--scope", scope],
    ]
    for args in steps:
        _run(claude, args, env)
    data = _plugin_data(env)
    data.mkdir(parents=True, exist_ok=True)
    (data / "agents-home").write_text(f"{root}\n", encoding="utf-8")
    status = plugin_status(claude, env)
    if not (status.installed and status.enabled):
        raise AgentError(
            f"Claude Code does not list {PLUGIN_ID} as installed and enabled after installing "
            f"it; run `claude plugin list` and `claude plugin enable {PLUGIN_ID}`"
        )
    status.steps = [f"claude {' '.join(a)}" for a in steps]
    return status


def uninstall_plugin(
    claude: str, *, scope: str = "user", env: Mapping[str, str] | None = None
) -> None:
    """Uninstall the plugin and remove the marketplace."""
    _run(claude, ["plugin", "uninstall", PLUGIN_ID, "--scope", scope], env)
    _run(claude, ["plugin", "marketplace", "remove", MARKETPLACE], env)
