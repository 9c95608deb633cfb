"""Claude Code's plugin commands without Claude Code, for the tests of
``agents.claude.marketplace``: ``FakeClaude`` replaces ``subprocess.run``, the module's one
call into the CLI; it keeps the marketplace and the plugin in memory and answers each command
with what the real CLI printed for it (the constants below). The real CLI runs in
``tests/integration/claude/test_plugin.py``.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_mock import MockerFixture

# What Claude Code 2.1.197 (npm @anthropic-ai/claude-code; `claude --version`: "2.1.197 (Claude
# Code)") printed, run with HOME a fresh temporary folder, the marketplace this repository's
# checkout. `{path}` stands for the path the command was given.
ADDED = (
    "Adding marketplace…✔ Successfully added marketplace: claude-agents "
    "(declared in user settings)\n"
)
ADDED_AGAIN = (
    "Adding marketplace…✔ Marketplace 'claude-agents' already on disk — declared in user settings\n"
)
ADDING = "Adding marketplace…\n"
NO_PATH = "✘ Path does not exist: {path}\n"
NO_MARKETPLACE_FILE = (
    "✘ Failed to add marketplace: Marketplace file not found at "
    "{path}/.claude-plugin/marketplace.json\n"
)
INSTALLING = 'Installing plugin "context-sync@claude-agents"...\n'
INSTALLED = (
    'Installing plugin "context-sync@claude-agents"...✔ Successfully installed plugin: '
    "context-sync@claude-agents (scope: user)\n"
)
INSTALLED_ALREADY = (
    'Installing plugin "context-sync@claude-agents"...✔ Plugin "context-sync@claude-agents" '
    "is already installed (scope: user)\n"
)
NOT_IN_MARKETPLACE = (
    '✘ Failed to install plugin "context-sync@claude-agents": Plugin "context-sync" not found '
    'in marketplace "claude-agents". Your local copy may be out of date — try '
    "`claude plugin marketplace update claude-agents`.\n"
)
UNINSTALLED = "✔ Successfully uninstalled plugin: context-sync (scope: user)\n"
NOT_INSTALLED = (
    '✘ Failed to uninstall plugin "context-sync@claude-agents": Plugin '
    '"context-sync@claude-agents" not found in installed plugins\n'
)
REMOVED = "✔ Successfully removed marketplace: claude-agents\n"
NO_SUCH_MARKETPLACE = "✘ Failed to remove marketplace: Marketplace 'claude-agents' not found\n"
UNKNOWN_OPTION = "error: unknown option '--bogus'\n"
# `claude plugin list --json`: nothing installed; the plugin installed; after `claude plugin
# disable context-sync@claude-agents`; only a plugin of the same name from another
# marketplace (a directory marketplace "elsewhere" whose plugin is also "context-sync").
LIST_NOTHING = "[]\n"
LIST_INSTALLED = """\
[
  {
    "id": "context-sync@claude-agents",
    "version": "0.1.0",
    "scope": "user",
    "enabled": true,
    "installPath": "/tmp/pt/home/.claude/plugins/cache/claude-agents/context-sync/0.1.0",
    "installedAt": "2026-12-07T13:28:14.526Z",
    "lastUpdated": "2026-12-07T13:28:14.526Z",
    "mcpServers": {
      "context": {
        "command": "${CLAUDE_PLUGIN_ROOT}/bin/agents-mcp",
        "args": [
          "context"
        ]
      }
    }
  }
]
"""
LIST_DISABLED = LIST_INSTALLED.replace('"enabled": true', '"enabled": false')
LIST_OTHER_MARKETPLACE = """\
[
  {
    "id": "context-sync@elsewhere",
    "version": "9.9.9",
    "scope": "user",
    "enabled": true,
    "installPath": "/tmp/pt/home/.claude/plugins/cache/elsewhere/context-sync/9.9.9",
    "installedAt": "2026-12-07T13:28:25.461Z",
    "lastUpdated": "2026-12-07T13:28:25.461Z"
  }
]
"""
# `claude plugin list` without --json: text, standing in for a --json listing that is not JSON
LIST_TEXT = "No plugins installed. Use `claude plugin install` to install a plugin.\n"

CLAUDE = "/opt/claude/bin/claude"
ID = "context-sync@claude-agents"
# the one call into the CLI, replaced
RUN = "agents.claude.marketplace.subprocess.run"
INSTALL_PATH = "/tmp/pt/home/.claude/plugins/cache/claude-agents/context-sync/0.1.0"


def answer(code: int, stdout: str = "", stderr: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.CompletedProcess([], code, stdout, stderr)


@dataclass
class Call:
    argv: list[str]
    kwargs: dict[str, Any]


@dataclass
class FakeClaude:
    """Claude Code's plugin commands, answered as the real CLI answers them."""

    calls: list[Call] = field(default_factory=list)
    marketplace: str | None = None
    installed: bool = False
    enabled: bool = False
    listing: str | None = None  # `plugin list --json` prints this instead, when set

    def __call__(self, argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        self.calls.append(Call(list(argv), kwargs))
        match argv[1:]:
            case ["plugin", "marketplace", "add", path, "--scope", _]:
                if not Path(path).exists():
                    return answer(1, ADDING, NO_PATH.format(path=path))
                if not (Path(path) / ".claude-plugin" / "marketplace.json").is_file():
                    return answer(1, ADDING, NO_MARKETPLACE_FILE.format(path=path))
                again, self.marketplace = self.marketplace == path, path
                return answer(0, ADDED_AGAIN if again else ADDED)
            case ["plugin", "install", "context-sync@claude-agents", "--scope", _]:
                if self.marketplace is None:
                    return answer(1, INSTALLING, NOT_IN_MARKETPLACE)
                again, self.installed, self.enabled = self.installed, True, True
                return answer(0, INSTALLED_ALREADY if again else INSTALLED)
            case ["plugin", "list", "--json"]:
                if self.listing is not None:
                    return answer(0, self.listing)
                if not self.installed:
                    return answer(0, LIST_NOTHING)
                return answer(0, LIST_INSTALLED if self.enabled else LIST_DISABLED)
            case ["plugin", "uninstall", "context-sync@claude-agents", "--scope", _]:
                if not self.installed:
                    return answer(1, "", NOT_INSTALLED)
                self.installed = False
                return answer(0, UNINSTALLED)
            case ["plugin", "marketplace", "remove", "claude-agents"]:
                if self.marketplace is None:
                    return answer(1, "", NO_SUCH_MARKETPLACE)
                self.marketplace = None
                return answer(0, REMOVED)
        raise AssertionError(f"not a command the module should run: {argv}")

    def commands(self) -> list[list[str]]:
        """Each command run, without the executable."""
        assert all(c.argv[0] == CLAUDE for c in self.calls), self.calls
        return [c.argv[1:] for c in self.calls]


def fake_claude(mocker: MockerFixture) -> FakeClaude:
    """A :class:`FakeClaude` answering in place of ``subprocess.run`` for the module."""
    fake = FakeClaude()
    mocker.patch(RUN, side_effect=fake)
    return fake


def checkout(path: Path) -> Path:
    """A folder that is a marketplace, as a claude-agents checkout is."""
    (path / ".claude-plugin").mkdir(parents=True)
    (path / ".claude-plugin" / "marketplace.json").write_text("{}\n")
    return path


def home_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"HOME": str(tmp_path / "home"), "PATH": "/usr/bin", **extra}


def agents_home_of(config: Path) -> Path:
    """Where Claude Code's CLAUDE_PLUGIN_DATA for the plugin is under a config folder."""
    return config / "plugins" / "data" / "context-sync-claude-agents" / "agents-home"
