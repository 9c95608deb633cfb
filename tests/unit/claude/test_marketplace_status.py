"""What Claude Code says about the installed plugin, the failures of the ``claude`` command
itself, and uninstalling (the CLI answered by ``tests/unit/claude/claude_cli.py``'s fake)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from pytest_mock import MockerFixture

from agents.claude.marketplace import (
    PluginStatus,
    install_plugin,
    plugin_status,
    uninstall_plugin,
)
from agents.core.errors import AgentError

from .claude_cli import (
    CLAUDE,
    ID,
    INSTALL_PATH,
    INSTALLING,
    LIST_DISABLED,
    LIST_INSTALLED,
    LIST_NOTHING,
    LIST_OTHER_MARKETPLACE,
    LIST_TEXT,
    NOT_INSTALLED,
    RUN,
    UNKNOWN_OPTION,
    FakeClaude,
    answer,
    checkout,
    home_env,
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
