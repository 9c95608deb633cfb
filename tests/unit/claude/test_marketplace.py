"""Installing the context-sync plugin through Claude Code's plugin commands, without Claude Code.

``subprocess.run``, the one call into the CLI, is replaced by ``FakeClaude``: it keeps the
marketplace and the plugin in memory and answers each command with what the real CLI printed
for it (the constants below). The real CLI runs in ``tests/integration/claude/test_plugin.py``.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pytest_mock import MockerFixture

from agents.claude.marketplace import (
    PluginStatus,
    checkout_root,
    find_claude,
    install_plugin,
    plugin_status,
    uninstall_plugin,
)
from agents.core.errors import AgentError, InputError

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


@pytest.fixture(name="cli")
def _cli(mocker: MockerFixture) -> FakeClaude:
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


# --- checkout_root ---------------------------------------------------------------------------


def test_the_checkout_holding_the_marketplace_file_is_the_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``$AGENTS_HOME`` with ``.claude-plugin/marketplace.json`` is the marketplace to add."""
    root = checkout(tmp_path / "claude-agents")
    monkeypatch.setenv("AGENTS_HOME", str(root))
    assert checkout_root() == root


@pytest.mark.parametrize("made", ["nothing", "folder"])
def test_a_root_without_a_marketplace_file_is_refused_naming_how_to_get_a_checkout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, made: str
) -> None:
    """No ``.claude-plugin/marketplace.json`` file (none, or a folder of that name): the
    message names the root and says to install from a checkout of claude-agents."""
    root = tmp_path / "not-a-checkout"
    if made == "folder":
        (root / ".claude-plugin" / "marketplace.json").mkdir(parents=True)
    else:
        root.mkdir()
    monkeypatch.setenv("AGENTS_HOME", str(root))
    with pytest.raises(AgentError) as caught:
        checkout_root()
    assert str(caught.value) == (
        f"{root} has no .claude-plugin/marketplace.json: install the plugin from a checkout of "
        "claude-agents (git clone, then scripts/start-all-agents local)"
    )


# --- find_claude -----------------------------------------------------------------------------


def executable(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(0o755)
    return path


def test_claude_is_found_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without ``--claude``, the ``claude`` on ``PATH``."""
    found = executable(tmp_path / "bin" / "claude")
    monkeypatch.setenv("PATH", str(found.parent))
    assert find_claude() == str(found)


def test_an_explicit_claude_wins_over_the_one_on_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--claude PATH`` is used as given, a bare name is looked up on ``PATH``."""
    executable(tmp_path / "bin" / "claude")
    beta = executable(tmp_path / "bin" / "claude-beta")
    mine = executable(tmp_path / "elsewhere" / "claude")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    assert find_claude(str(mine)) == str(mine)
    assert find_claude("claude-beta") == str(beta)


def test_claude_missing_from_path_names_the_npm_package_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not on ``PATH``: the message gives the npm command and the ``--claude`` option."""
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(AgentError) as caught:
        find_claude()
    assert str(caught.value) == (
        "Claude Code's CLI (claude) was not found on PATH: install it with "
        "`npm install -g @anthropic-ai/claude-code` (or pass --claude PATH)"
    )


def test_an_explicit_claude_that_is_not_there_is_named_in_the_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ``--claude`` path that does not exist (or is not executable) is quoted back."""
    executable(tmp_path / "bin" / "claude")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    plain = tmp_path / "plain"
    plain.write_text("not a program\n")
    for given in (str(tmp_path / "gone" / "claude"), str(plain)):
        with pytest.raises(AgentError) as caught:
            find_claude(given)
        assert str(caught.value) == (
            f"Claude Code's CLI ({given}) was not found on PATH: install it with "
            "`npm install -g @anthropic-ai/claude-code` (or pass --claude PATH)"
        )


# --- install_plugin --------------------------------------------------------------------------


def test_install_adds_the_checkout_as_a_marketplace_then_installs_the_plugin_from_it(
    tmp_path: Path, cli: FakeClaude
) -> None:
    """The two commands a user would type, in that order, then ``plugin list --json``; the
    status returned is what the listing says, with the commands run as its steps."""
    root = checkout(tmp_path / "claude-agents")
    status = install_plugin(CLAUDE, root=root, env=home_env(tmp_path))
    assert cli.commands() == [
        ["plugin", "marketplace", "add", str(root), "--scope", "user"],
        ["plugin", "install", ID, "--scope", "user"],
        ["plugin", "list", "--json"],
    ]
    assert status == PluginStatus(
        installed=True,
        enabled=True,
        version="0.1.0",
        scope="user",
        install_path=INSTALL_PATH,
        steps=[
            f"claude plugin marketplace add {root} --scope user",
            f"claude plugin install {ID} --scope user",
        ],
    )


@pytest.mark.parametrize("scope", ["project", "local"])
def test_install_passes_the_scope_to_both_commands(
    tmp_path: Path, cli: FakeClaude, scope: str
) -> None:
    """``--scope project`` or ``local`` goes to the marketplace and to the plugin alike."""
    root = checkout(tmp_path / "claude-agents")
    status = install_plugin(CLAUDE, scope=scope, root=root, env=home_env(tmp_path))
    assert cli.commands()[:2] == [
        ["plugin", "marketplace", "add", str(root), "--scope", scope],
        ["plugin", "install", ID, "--scope", scope],
    ]
    assert status.steps == [
        f"claude plugin marketplace add {root} --scope {scope}",
        f"claude plugin install {ID} --scope {scope}",
    ]


@pytest.mark.parametrize("scope", ["global", "User", ""])
def test_an_unknown_scope_is_refused_before_any_command_runs(
    tmp_path: Path, cli: FakeClaude, scope: str
) -> None:
    """Claude Code's scopes are user, project and local; anything else is an input error."""
    with pytest.raises(InputError) as caught:
        install_plugin(CLAUDE, scope=scope, root=checkout(tmp_path / "c"), env=home_env(tmp_path))
    assert str(caught.value) == f"scope {scope!r} is not one of user, project, local"
    assert cli.calls == []


def test_install_without_a_root_uses_the_checkout_of_agents_home(
    tmp_path: Path, cli: FakeClaude, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No ``root``: the checkout ``checkout_root`` finds is added and left in agents-home."""
    root = checkout(tmp_path / "claude-agents")
    monkeypatch.setenv("AGENTS_HOME", str(root))
    install_plugin(CLAUDE, env=home_env(tmp_path))
    assert cli.commands()[0] == ["plugin", "marketplace", "add", str(root), "--scope", "user"]
    assert agents_home_of(tmp_path / "home" / ".claude").read_text() == f"{root}\n"


def test_install_leaves_the_checkout_path_in_the_plugins_data_folder_under_home(
    tmp_path: Path, cli: FakeClaude
) -> None:
    """``~/.claude/plugins/data/context-sync-claude-agents/agents-home`` holds the checkout's
    path and a newline: where a copied plugin's hooks read it (``$CLAUDE_PLUGIN_DATA``)."""
    root = checkout(tmp_path / "claude-agents")
    install_plugin(CLAUDE, root=root, env=home_env(tmp_path))
    assert agents_home_of(tmp_path / "home" / ".claude").read_bytes() == f"{root}\n".encode()
    assert [p.name for p in (tmp_path / "home" / ".claude" / "plugins" / "data").iterdir()] == [
        "context-sync-claude-agents"
    ]


def test_install_leaves_the_checkout_path_under_claude_config_dir_when_it_is_set(
    tmp_path: Path, cli: FakeClaude
) -> None:
    """Claude Code keeps its plugins in ``$CLAUDE_CONFIG_DIR`` when set; nothing goes to HOME."""
    root = checkout(tmp_path / "claude-agents")
    env = home_env(tmp_path, CLAUDE_CONFIG_DIR=str(tmp_path / "config"))
    install_plugin(CLAUDE, root=root, env=env)
    assert agents_home_of(tmp_path / "config").read_text() == f"{root}\n"
    assert not (tmp_path / "home").exists()


def test_install_leaves_the_checkout_path_under_claude_code_plugin_cache_dir_when_it_is_set(
    tmp_path: Path, cli: FakeClaude
) -> None:
    """``$CLAUDE_CODE_PLUGIN_CACHE_DIR`` replaces Claude Code's whole plugins folder (2.1.197
    installs into ``$CLAUDE_CODE_PLUGIN_CACHE_DIR/cache``), its data folders included, ahead
    of ``$CLAUDE_CONFIG_DIR``."""
    root = checkout(tmp_path / "claude-agents")
    env = home_env(
        tmp_path,
        CLAUDE_CONFIG_DIR=str(tmp_path / "config"),
        CLAUDE_CODE_PLUGIN_CACHE_DIR=str(tmp_path / "plugins"),
    )
    install_plugin(CLAUDE, root=root, env=env)
    data = tmp_path / "plugins" / "data" / "context-sync-claude-agents" / "agents-home"
    assert data.read_text() == f"{root}\n"
    assert not (tmp_path / "config").exists() and not (tmp_path / "home").exists()
    del env["CLAUDE_CODE_PLUGIN_CACHE_DIR"]
    install_plugin(CLAUDE, root=root, env={**env, "CLAUDE_CODE_PLUGIN_CACHE_DIR": ""})
    assert agents_home_of(tmp_path / "config").read_text() == f"{root}\n"


def test_an_empty_claude_config_dir_counts_as_unset(tmp_path: Path, cli: FakeClaude) -> None:
    """``CLAUDE_CONFIG_DIR=`` (set but empty) leaves the data folder under HOME (Claude Code
    2.1.197 itself would take the working directory for its config folder then)."""
    root = checkout(tmp_path / "claude-agents")
    install_plugin(CLAUDE, root=root, env=home_env(tmp_path, CLAUDE_CONFIG_DIR=""))
    assert agents_home_of(tmp_path / "home" / ".claude").read_text() == f"{root}\n"


def test_without_an_env_the_data_folder_follows_this_process_environment(
    tmp_path: Path, cli: FakeClaude, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``env=None`` (the CLI's case): the commands inherit the environment and the data folder
    is under this process's ``$CLAUDE_CONFIG_DIR``, else its ``$HOME``."""
    root = checkout(tmp_path / "claude-agents")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("CLAUDE_CONFIG_DIR", raising=False)
    install_plugin(CLAUDE, root=root)
    assert agents_home_of(tmp_path / "home" / ".claude").read_text() == f"{root}\n"
    assert {c.kwargs["env"] for c in cli.calls} == {None}
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "config"))
    install_plugin(CLAUDE, root=root)
    assert agents_home_of(tmp_path / "config").read_text() == f"{root}\n"


def test_an_env_without_home_falls_back_to_this_users_home(
    tmp_path: Path, cli: FakeClaude, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An ``env`` naming neither ``CLAUDE_CONFIG_DIR`` nor ``HOME``: the data folder is under
    this user's home directory."""
    root = checkout(tmp_path / "claude-agents")
    monkeypatch.setenv("HOME", str(tmp_path / "me"))
    install_plugin(CLAUDE, root=root, env={"PATH": "/usr/bin"})
    assert agents_home_of(tmp_path / "me" / ".claude").read_text() == f"{root}\n"


def test_each_command_gets_the_env_a_timeout_and_its_output_captured_as_text(
    tmp_path: Path, cli: FakeClaude
) -> None:
    """Output captured as text, two minutes at most, the given environment (a copy), and the
    exit code checked by the module rather than by ``subprocess``."""
    env = home_env(tmp_path)
    install_plugin(CLAUDE, root=checkout(tmp_path / "c"), env=env)
    assert len(cli.calls) == 3
    for call in cli.calls:
        assert call.kwargs == {
            "capture_output": True,
            "text": True,
            "timeout": 120.0,
            "env": env,
            "check": False,
        }


def test_installing_twice_is_a_no_op(tmp_path: Path, cli: FakeClaude) -> None:
    """The second install runs the same commands (Claude Code answers "already"), rewrites the
    same agents-home and returns the same status."""
    root = checkout(tmp_path / "claude-agents")
    env = home_env(tmp_path)
    first = install_plugin(CLAUDE, root=root, env=env)
    second = install_plugin(CLAUDE, root=root, env=env)
    assert second == first
    assert cli.commands()[3:] == cli.commands()[:3]
    assert agents_home_of(tmp_path / "home" / ".claude").read_text() == f"{root}\n"


def test_install_moves_the_marketplace_to_this_checkout(tmp_path: Path, cli: FakeClaude) -> None:
    """Installing from another checkout adds that one and points agents-home at it."""
    env = home_env(tmp_path)
    install_plugin(CLAUDE, root=checkout(tmp_path / "old"), env=env)
    new = checkout(tmp_path / "new")
    install_plugin(CLAUDE, root=new, env=env)
    assert cli.marketplace == str(new)
    assert agents_home_of(tmp_path / "home" / ".claude").read_text() == f"{new}\n"


def test_a_failed_marketplace_add_stops_the_install_quoting_claude(
    tmp_path: Path, cli: FakeClaude
) -> None:
    """A folder that is not a marketplace: Claude Code's error is quoted, nothing is installed
    and no agents-home is written."""
    root = tmp_path / "empty"
    root.mkdir()
    with pytest.raises(AgentError) as caught:
        install_plugin(CLAUDE, root=root, env=home_env(tmp_path))
    assert str(caught.value) == (
        f"`claude plugin marketplace add {root} --scope user` failed (exit 1): "
        f"✘ Failed to add marketplace: Marketplace file not found at "
        f"{root}/.claude-plugin/marketplace.json"
    )
    assert len(cli.calls) == 1
    assert not (tmp_path / "home").exists()


def test_a_failed_plugin_install_stops_before_writing_agents_home(
    tmp_path: Path, mocker: MockerFixture
) -> None:
    """``claude plugin install`` failing (a stale marketplace copy): its error, with the
    command Claude Code suggests, is the message; agents-home is not written."""
    mocker.patch(
        RUN,
        side_effect=[answer(0, ADDED), answer(1, INSTALLING, NOT_IN_MARKETPLACE)],
    )
    with pytest.raises(AgentError) as caught:
        install_plugin(CLAUDE, root=checkout(tmp_path / "c"), env=home_env(tmp_path))
    assert str(caught.value) == (
        f"`claude plugin install {ID} --scope user` failed (exit 1): {NOT_IN_MARKETPLACE.strip()}"
    )
    assert not (tmp_path / "home").exists()


@pytest.mark.parametrize(
    "listing",
    [LIST_DISABLED, LIST_NOTHING, LIST_OTHER_MARKETPLACE],
    ids=["disabled", "nothing", "other-marketplace"],
)
def test_install_fails_when_claude_does_not_then_list_the_plugin_enabled(
    tmp_path: Path, cli: FakeClaude, listing: str
) -> None:
    """Installed but disabled, or not listed at all (another marketplace's context-sync does
    not count): the message says which commands to run."""
    cli.listing = listing
    with pytest.raises(AgentError) as caught:
        install_plugin(CLAUDE, root=checkout(tmp_path / "c"), env=home_env(tmp_path))
    assert str(caught.value) == (
        f"Claude Code does not list {ID} as installed and enabled after installing it; run "
        f"`claude plugin list` and `claude plugin enable {ID}`"
    )


# --- plugin_status ---------------------------------------------------------------------------


def test_status_reads_the_plugins_entry_from_the_json_listing(cli: FakeClaude) -> None:
    """Installed, enabled, version, scope and install path from ``plugin list --json``."""
    cli.listing = LIST_INSTALLED
    assert plugin_status(CLAUDE) == PluginStatus(True, True, "0.1.0", "user", INSTALL_PATH)
    assert cli.commands() == [["plugin", "list", "--json"]]
    assert cli.calls[0].kwargs["env"] is None


def test_a_disabled_plugin_is_installed_but_not_enabled(cli: FakeClaude) -> None:
    """``"enabled": false`` after ``claude plugin disable``."""
    cli.listing = LIST_DISABLED
    status = plugin_status(CLAUDE)
    assert status.installed is True and status.enabled is False
    assert (status.version, status.scope) == ("0.1.0", "user")


@pytest.mark.parametrize(
    "listing",
    [
        LIST_NOTHING,
        "",
        LIST_OTHER_MARKETPLACE,
        '{"id": "context-sync@claude-agents"}',
        '["x"]',
        "null\n",
        "2\n",
    ],
    ids=["empty-list", "no-output", "other-marketplace", "an-object", "not-entries", "null", "2"],
)
def test_a_listing_without_our_plugin_says_not_installed(cli: FakeClaude, listing: str) -> None:
    """Nothing installed, no output, only a ``context-sync`` of another marketplace, or JSON
    that is not a list of entries (nor a list at all, not even iterable): not installed,
    every other field empty."""
    cli.listing = listing
    assert plugin_status(CLAUDE) == PluginStatus(False, False, None, None, None)


def test_our_entry_is_found_after_another_marketplaces_plugin_of_the_same_name(
    cli: FakeClaude,
) -> None:
    """Entries of other plugins before ours (a bare string, a same-named plugin of another
    marketplace) are skipped; ours is read."""
    other = json.loads(LIST_OTHER_MARKETPLACE)
    ours = json.loads(LIST_INSTALLED)
    cli.listing = json.dumps(["context-sync@claude-agents", *other, *ours])
    assert plugin_status(CLAUDE) == PluginStatus(True, True, "0.1.0", "user", INSTALL_PATH)


def test_an_entry_without_enabled_or_version_reads_as_disabled_and_unversioned(
    cli: FakeClaude,
) -> None:
    """Missing fields are ``False`` and ``None``, never a failure."""
    cli.listing = json.dumps([{"id": ID}])
    status = plugin_status(CLAUDE)
    assert status == PluginStatus(True, False, None, None, None)
    assert status.enabled is False


def test_a_listing_that_is_not_json_is_an_error_naming_the_command(cli: FakeClaude) -> None:
    """A CLI that prints text for ``--json``: the command and the parse error are named."""
    cli.listing = LIST_TEXT
    with pytest.raises(AgentError) as caught:
        plugin_status(CLAUDE)
    assert str(caught.value) == (
        "`claude plugin list --json` printed no JSON: Expecting value: line 1 column 1 (char 0)"
    )
    assert isinstance(caught.value.__cause__, ValueError)


# --- PluginStatus.as_dict --------------------------------------------------------------------


def test_the_status_as_json_names_the_plugin_and_every_field(
    tmp_path: Path, cli: FakeClaude
) -> None:
    """``--json`` output: the plugin id, the listing's fields and the steps run."""
    root = checkout(tmp_path / "c")
    status = install_plugin(CLAUDE, root=root, env=home_env(tmp_path))
    assert status.as_dict() == {
        "plugin": ID,
        "installed": True,
        "enabled": True,
        "version": "0.1.0",
        "scope": "user",
        "install_path": INSTALL_PATH,
        "steps": [
            f"claude plugin marketplace add {root} --scope user",
            f"claude plugin install {ID} --scope user",
        ],
    }
    assert PluginStatus(False).as_dict() == {
        "plugin": ID,
        "installed": False,
        "enabled": False,
        "version": None,
        "scope": None,
        "install_path": None,
        "steps": [],
    }


# --- failures of the claude command itself ---------------------------------------------------


def test_a_failed_command_quotes_the_last_line_claude_printed_on_stderr(
    mocker: MockerFixture,
) -> None:
    """Exit code and the last line of stderr (Claude Code's error is its last line; the
    warnings before it are made up)."""
    stderr = "Warning: one\nWarning: two\n" + UNKNOWN_OPTION + "\n"
    mocker.patch(RUN, return_value=answer(1, "[]\n", stderr))
    with pytest.raises(AgentError) as caught:
        plugin_status(CLAUDE)
    assert str(caught.value) == (
        "`claude plugin list --json` failed (exit 1): error: unknown option '--bogus'"
    )


def test_a_failed_command_with_nothing_on_stderr_quotes_stdout(mocker: MockerFixture) -> None:
    """An error printed on stdout only is still shown (2.1.197 prints errors on stderr)."""
    mocker.patch(RUN, return_value=answer(2, INSTALLING, ""))
    with pytest.raises(AgentError) as caught:
        plugin_status(CLAUDE)
    assert str(caught.value) == (
        "`claude plugin list --json` failed (exit 2): "
        'Installing plugin "context-sync@claude-agents"...'
    )


def test_a_failed_command_that_printed_nothing_says_so(mocker: MockerFixture) -> None:
    """No output at all: "no output" rather than an empty quote."""
    mocker.patch(RUN, return_value=answer(137, "", " \n"))
    with pytest.raises(AgentError) as caught:
        plugin_status(CLAUDE)
    assert str(caught.value) == "`claude plugin list --json` failed (exit 137): no output"


def test_a_command_that_times_out_is_named_with_the_timeout(mocker: MockerFixture) -> None:
    """A hung ``claude`` is stopped after two minutes and the command named."""

    def hang(argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        raise subprocess.TimeoutExpired(argv, kwargs["timeout"])

    mocker.patch(RUN, side_effect=hang)
    with pytest.raises(AgentError) as caught:
        uninstall_plugin(CLAUDE)
    assert str(caught.value) == (
        f"`claude plugin uninstall {ID} --scope user` did not run: Command "
        f"'['{CLAUDE}', 'plugin', 'uninstall', '{ID}', '--scope', 'user']' timed out after "
        "120.0 seconds"
    )
    assert isinstance(caught.value.__cause__, subprocess.TimeoutExpired)


def test_a_claude_that_cannot_be_started_is_named_with_the_reason(tmp_path: Path) -> None:
    """A path that is gone or not executable (the real ``subprocess.run``): the OS error."""
    gone = tmp_path / "gone" / "claude"
    plain = tmp_path / "plain"
    plain.write_text("not a program\n")
    for path, reason in ((gone, "No such file or directory"), (plain, "Permission denied")):
        with pytest.raises(AgentError) as caught:
            plugin_status(str(path))
        errno = 2 if path == gone else 13
        assert str(caught.value) == (
            f"`claude plugin list --json` did not run: [Errno {errno}] {reason}: '{path}'"
        )
        assert isinstance(caught.value.__cause__, OSError)


# --- uninstall_plugin ------------------------------------------------------------------------


def test_uninstall_removes_the_plugin_then_the_marketplace(tmp_path: Path, cli: FakeClaude) -> None:
    """``plugin uninstall`` with the scope, then ``plugin marketplace remove``."""
    env = home_env(tmp_path)
    install_plugin(CLAUDE, root=checkout(tmp_path / "c"), env=env)
    del cli.calls[:]
    uninstall_plugin(CLAUDE, env=env)
    assert cli.commands() == [
        ["plugin", "uninstall", ID, "--scope", "user"],
        ["plugin", "marketplace", "remove", "claude-agents"],
    ]
    assert all(c.kwargs["env"] == env for c in cli.calls)
    assert (cli.installed, cli.marketplace) == (False, None)


def test_uninstall_passes_its_scope(cli: FakeClaude) -> None:
    """``--scope project`` goes to ``plugin uninstall``; the marketplace has no scope."""
    cli.installed, cli.marketplace = True, "/somewhere"
    uninstall_plugin(CLAUDE, scope="project")
    assert cli.commands() == [
        ["plugin", "uninstall", ID, "--scope", "project"],
        ["plugin", "marketplace", "remove", "claude-agents"],
    ]


def test_uninstalling_what_is_not_installed_fails_quoting_claude(cli: FakeClaude) -> None:
    """Unlike install, uninstall is not idempotent: Claude Code's error, and the marketplace
    is left alone."""
    cli.marketplace = "/somewhere"
    with pytest.raises(AgentError) as caught:
        uninstall_plugin(CLAUDE)
    assert str(caught.value) == (
        f"`claude plugin uninstall {ID} --scope user` failed (exit 1): {NOT_INSTALLED.strip()}"
    )
    assert len(cli.calls) == 1 and cli.marketplace == "/somewhere"
