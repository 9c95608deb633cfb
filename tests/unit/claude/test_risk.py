"""What counts as running code or carrying credentials (agents.claude.risk.classify), one
rule at a time: each setting, env name, file and suffix named in the module is risky, and the
harmless neighbours are not. Lists here are written out, not read from the module, so dropping
an entry there fails a test."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agents.claude.risk import Approvals, classify, risky_env_names

HOME = Path("/home/u")
SETTINGS = HOME / ".claude" / "settings.json"
SKILLS = HOME / ".claude" / "skills"

COMMANDS = [
    "hooks",
    "statusLine",
    "apiKeyHelper",
    "awsAuthRefresh",
    "awsCredentialExport",
    "otelHeadersHelper",
    "fileSuggestion",
    "forceLoginMethod",
    "disableAllHooks",
    "someNewHelper",
    "someNewCommand",
]
PLUGINS = ["enabledPlugins", "extraKnownMarketplaces", "plugins"]
ENV_NAMES = [
    "PATH",
    "NODE_OPTIONS",
    "NODE_PATH",
    "NODE_EXTRA_CA_CERTS",
    "PYTHONPATH",
    "PYTHONSTARTUP",
    "PYTHONHOME",
    "BASH_ENV",
    "ENV",
    "SHELL",
    "PROMPT_COMMAND",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "GIT_SSH",
    "GIT_SSH_COMMAND",
    "GIT_ASKPASS",
    "EDITOR",
    "VISUAL",
    "PAGER",
    "CLAUDE_CODE_USE_BEDROCK",
    "CLAUDE_CODE_USE_VERTEX",
    "AWS_CREDENTIAL_HELPER",
    "ANTHROPIC_BASE_URL",
    "HTTPS_PROXY",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "DOCKER_HOST",
    "SOME_URL",
    "LD_PRELOAD",
    "DYLD_INSERT_LIBRARIES",
    "path",
    "https_proxy",
]
SCRIPT_SUFFIXES = [
    ".sh",
    ".bash",
    ".zsh",
    ".fish",
    ".py",
    ".js",
    ".mjs",
    ".cjs",
    ".ts",
    ".rb",
    ".pl",
    ".ps1",
    ".bat",
    ".cmd",
    ".exe",
    ".bin",
    ".so",
    ".dylib",
    ".SH",
]


def setting(key: str, desired: Any, current: Any = None) -> str | None:
    return classify(SETTINGS, (key,), desired, current, settings=SETTINGS, skills=SKILLS)


def file(path: Path, desired: Any = b"text", mode: int | None = None) -> str | None:
    return classify(path, (), desired, None, settings=SETTINGS, skills=SKILLS, mode=mode)


@pytest.mark.parametrize("key", COMMANDS)
def test_every_setting_that_runs_a_command_is_risky(key: str) -> None:
    assert setting(key, "x") == f"settings {key} runs a command"


@pytest.mark.parametrize("key", PLUGINS)
def test_plugin_and_marketplace_settings_are_risky(key: str) -> None:
    assert setting(key, {"x": True}) == f"settings {key}: plugins and marketplaces"


@pytest.mark.parametrize("key", ["theme", "model", "cleanupPeriodDays", "includeCoAuthoredBy"])
def test_plain_settings_are_not_risky(key: str) -> None:
    assert setting(key, "x") is None


def test_a_command_setting_is_risky_only_at_the_top_of_settings_json() -> None:
    other = HOME / ".claude" / "other.json"
    assert classify(other, ("hooks",), "x", None, settings=SETTINGS, skills=SKILLS) is None
    assert setting("statusLine", "x") is not None
    assert (
        classify(SETTINGS, ("statusLine", "x"), "x", None, settings=SETTINGS, skills=SKILLS) is None
    )


@pytest.mark.parametrize("name", ENV_NAMES)
def test_env_names_that_run_code_or_redirect_traffic_are_risky(name: str) -> None:
    assert setting("env", {name: "v"}, {}) == f"env {name}"


@pytest.mark.parametrize("name", ["LANG", "TZ", "MY_TOKEN_NAME", "PATHS", "XENV", "URLS_SEEN"])
def test_plain_env_names_are_not_risky(name: str) -> None:
    assert setting("env", {name: "v"}, {}) is None


def test_env_names_only_what_is_added_or_changed_sorted() -> None:
    desired = {"PATH": "/evil", "HTTPS_PROXY": "p", "LANG": "C", "EDITOR": "vi"}
    assert setting("env", desired, {"EDITOR": "vi"}) == "env HTTPS_PROXY, PATH"
    assert setting("env", desired, desired) is None
    assert setting("env", "not a mapping", {}) is None
    assert risky_env_names({"PATH": "x"}, "not a mapping") == ["PATH"]


def test_permissions_that_loosen_what_claude_may_do_are_risky() -> None:
    now = {"defaultMode": "default", "allow": ["Read"], "additionalDirectories": ["/a"]}
    assert setting("permissions", now, now) is None
    assert setting("permissions", {**now, "defaultMode": "bypassPermissions"}, now) == (
        "permissions: defaultMode bypassPermissions"
    )
    assert setting("permissions", {**now, "allow": ["Read", "Bash(*)", "Edit"]}, now) == (
        "permissions: allow Bash(*), Edit"
    )
    assert setting("permissions", {**now, "additionalDirectories": ["/a", "/"]}, now) == (
        "permissions: additionalDirectories /"
    )
    assert setting("permissions", {"defaultMode": "plan", "allow": ["X"]}, None) == (
        "permissions: defaultMode plan; allow X"
    )
    assert setting("permissions", {"defaultMode": None, "deny": ["Bash"]}, now) is None
    assert setting("permissions", ["not", "a", "mapping"], now) is None


def test_an_mcp_server_says_what_it_runs_or_where_it_sends_and_its_secret_names() -> None:
    def server(desired: Any) -> str | None:
        return classify(
            HOME / ".claude.json",
            ("mcpServers", "s"),
            desired,
            None,
            settings=SETTINGS,
            skills=SKILLS,
        )

    assert server({"command": "sh", "args": ["-c", "curl x | sh"]}) == (
        "MCP server runs `sh -c curl x | sh`"
    )
    assert server({"command": "npx", "env": {"TOKEN": "t", "A": "b"}}) == (
        "MCP server runs `npx` with env A, TOKEN"
    )
    assert server({"url": "https://evil.example/mcp", "headers": {"X-Key": "k"}}) == (
        "MCP server at https://evil.example/mcp with headers X-Key"
    )
    assert server({"url": "https://e.example"}) == "MCP server at https://e.example"
    assert server("not a mapping") == "MCP server"


@pytest.mark.parametrize("name", [".credentials.json", "settings.json", "settings.local.json"])
def test_credentials_and_settings_as_whole_files_are_risky(name: str) -> None:
    assert file(HOME / ".claude" / name) == f"{name}: credentials or settings as a whole file"


@pytest.mark.parametrize("mode", [0o755, 0o744, 0o654, 0o645])
def test_any_executable_bit_makes_a_file_risky(mode: int) -> None:
    assert file(HOME / ".claude" / "agents" / "a.md", mode=mode) == "an executable file"


def test_plugin_and_hook_files_are_risky() -> None:
    assert file(HOME / ".claude" / "plugins" / "p" / "x.json") == "a plugin or hook file"
    assert file(HOME / ".claude" / "hooks" / "x.txt") == "a plugin or hook file"


@pytest.mark.parametrize("suffix", SCRIPT_SUFFIXES)
def test_a_skill_script_is_risky_by_its_suffix(suffix: str) -> None:
    assert file(SKILLS / "s" / f"run{suffix}", b"echo") == "a skill script"


def test_a_skill_file_starting_with_a_shebang_is_a_script_and_plain_ones_are_not() -> None:
    assert file(SKILLS / "s" / "run", b"#!/bin/sh\nid\n") == "a skill script"
    assert file(SKILLS / "s" / "SKILL.md", b"# Skill\n") is None
    assert file(SKILLS / "s" / "notes.txt", "#!/bin/sh as text") is None
    assert file(HOME / ".claude" / "agents" / "run.sh", b"echo", mode=0o644) is None
    assert file(HOME / ".claude" / "CLAUDE.md", mode=0o600) is None


def test_approvals_remember_up_to_eight_hashes_per_unit_in_a_private_file(
    tmp_path: Path,
) -> None:
    path = tmp_path / "store" / "approvals.json"
    approvals = Approvals(path)
    approvals.remember([("u", f"h{i}") for i in range(10)] + [("v", None)])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = Approvals(path)
    assert [again.approved("u", f"h{i}") for i in range(10)] == [False] * 2 + [True] * 8
    assert not again.approved("v", None) and not again.approved("u", None)
    assert json.loads(path.read_text()) == {"u": [f"h{i}" for i in range(2, 10)]}


def test_nothing_is_approved_from_an_unreadable_or_malformed_approvals_file(
    tmp_path: Path,
) -> None:
    path = tmp_path / "approvals.json"
    for text in ("{not json", '["h1"]', '{"u": "h1"}'):
        path.write_text(text)
        assert not Approvals(path).approved("u", "h1")
    path.write_text('{"u": ["h1"], "v": "h2"}')
    assert Approvals(path).approved("u", "h1") and not Approvals(path).approved("v", "h2")


def test_remembering_what_was_approved_already_does_not_rewrite_the_file(tmp_path: Path) -> None:
    path = tmp_path / "approvals.json"
    Approvals(path).remember([("u", "h1")])
    before = path.stat()
    Approvals(path).remember([("u", "h1"), ("u", None)])  # nothing new: no write
    after = path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert Approvals(path).approved("u", "h1")


@given(st.text(min_size=1, max_size=8), st.text(max_size=5))
def test_any_name_ending_in_base_url_proxy_or_host_is_risky(name: str, value: str) -> None:
    for risky in (f"{name}_BASE_URL", f"{name}_PROXY", f"{name}_HOST", f"{name}_ENDPOINT"):
        assert risky in risky_env_names({risky: value}, {})


def test_a_risky_env_entry_set_to_null_is_still_a_change() -> None:
    assert risky_env_names({"PATH": None}, {}) == ["PATH"]
    assert risky_env_names({"PATH": None}, {"PATH": None}) == []


def test_remember_goes_on_past_an_entry_it_skips(tmp_path: Path) -> None:
    approvals = Approvals(tmp_path / "approvals.json")
    approvals.remember([("u", None), ("u", "h1")])
    assert approvals.approved("u", "h1")
    approvals.remember([("u", "h1"), ("v", "h2")])  # the first is known already
    assert approvals.approved("v", "h2")
