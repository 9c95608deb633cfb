"""Installing the context-sync plugin through Claude Code's plugin commands (answered by
``tests/unit/claude/claude_cli.py``'s fake of the real CLI): where the checkout comes from,
which ``claude`` runs, the commands and their order, the plugin's data folder, failures."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytest_mock import MockerFixture

from agents.claude.marketplace import (
    PluginStatus,
    checkout_root,
    find_claude,
    install_plugin,
)
from agents.core.errors import AgentError, InputError

from .claude_cli import (
    ADDED,
    CLAUDE,
    ID,
    INSTALL_PATH,
    INSTALLING,
    LIST_DISABLED,
    LIST_NOTHING,
    LIST_OTHER_MARKETPLACE,
    NOT_IN_MARKETPLACE,
    RUN,
    FakeClaude,
    agents_home_of,
    answer,
    checkout,
    home_env,
)

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
