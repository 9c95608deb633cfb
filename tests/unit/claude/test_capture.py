"""Capture: a real-shaped home becomes drafts with placeholders and secret references."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agents.claude.capture import capture
from agents.claude.diff import diff_drafts
from agents.claude.drafts import Draft, SecretRef, sha256_hex
from agents.claude.jsontext import set_member
from agents.claude.machine import PLATFORMS, Machine
from agents.claude.scan import scan
from agents.claude.targets import current_hashes

from .conftest import TOKENS, alice_home

API = "github.com/acme/api"


def test_capture_turns_each_managed_file_into_documents_with_stable_ids(alice: Machine) -> None:
    """Settings keys, markdown, skills, every mcpServers entry, projects and memory."""
    ids = {d.id for d in capture(alice).drafts}
    assert ids == {
        *(
            f"pref:{k}"
            for k in (
                "$schema",
                "model",
                "permissions",
                "env",
                "hooks",
                "statusLine",
                "apiKeyHelper",
                "includeCoAuthoredBy",
                "cleanupPeriodDays",
                "enabledPlugins",
                "futureUnknownSetting",
            )
        ),
        "claude_file:user/CLAUDE.md",
        "claude_file:user/rules/python.md",
        "claude_file:user/agents/reviewer.md",
        "claude_file:user/commands/deploy.md",
        "claude_file:user/commands/frontend/component.md",
        "skill:pdf-tools",
        "skill:release-notes",
        "mcp_server:notion",
        "mcp_server:github",
        "mcp_server:local-tool",
        "mcp_server:notion-agent",
        f"mcp_server:local/postgres@{API}",
        f"mcp_server:project/sentry@{API}",
        f"mcp_server:project/api-tools@{API}",
        f"mcp_server:project/slack@{API}",
        "mcp_server:desktop/filesystem",
        "mcp_server:desktop/lokka",
        "mcp_server:desktop/slack",
        f"project:{API}",
        "project:~/notes",
        f"claude_file:project/memory/MEMORY.md@{API}",
    }


def test_credentials_oauth_state_caches_history_and_transcripts_are_never_captured(
    alice: Machine,
) -> None:
    """Nothing of .credentials.json, ~/.claude.json's other keys, caches or sessions."""
    cap = capture(alice)
    text = json.dumps([d.to_json() for d in cap.drafts])
    for never in (
        "sk-ant-oat01",
        "claudeAiOauth",
        "alice@contoso.com",
        "oauthAccount",
        "numStartups",
        "cachedChangelog",
        "s1mAccessCache",
        "hasTrustDialogAccepted",
        "run the tests",
        "fix the login bug",
        "write tests",
        "feature_gates",
        "rm -rf /tmp/scratch",
        "cached plugin",
        "why does login fail",
    ):
        assert never not in text, never
    assert not any(d.kind == "transcript_archive" for d in cap.drafts)


def test_settings_json_is_one_preference_per_key_with_env_values_as_references(
    alice: Machine,
) -> None:
    """Every env value becomes secret://claude-code/env/<NAME>; the values go to secrets."""
    cap = capture(alice)
    env = cap.by_id()["pref:env"]
    assert env.body == {
        "key": "env",
        "category": "claude_settings",
        "value": {
            "ANTHROPIC_API_KEY": "secret://claude-code/env/ANTHROPIC_API_KEY",
            "DISABLE_TELEMETRY": "secret://claude-code/env/DISABLE_TELEMETRY",
            "CLAUDE_CODE_MAX_OUTPUT_TOKENS": "secret://claude-code/env/CLAUDE_CODE_MAX_OUTPUT_TOKENS",
        },
    }
    assert [r.path for r in env.secret_refs] == [
        "/value/ANTHROPIC_API_KEY",
        "/value/DISABLE_TELEMETRY",
        "/value/CLAUDE_CODE_MAX_OUTPUT_TOKENS",
    ]
    assert cap.secrets["claude-code/env/ANTHROPIC_API_KEY"] == TOKENS["anthropic"]
    assert cap.by_id()["pref:apiKeyHelper"].body["value"] == "{{home}}/bin/anthropic-key.sh"
    assert cap.by_id()["pref:futureUnknownSetting"].body["value"] == {
        "nested": [1, 2.5, None, "ünïcode ✓"]
    }


def test_secrets_inside_hook_commands_are_replaced_in_place(alice: Machine) -> None:
    """A webhook URL and an X-Api-Key header inside a shell command become references."""
    cap = capture(alice)
    hooks = cap.by_id()["pref:hooks"].body["value"]
    command = hooks["Notification"][0]["hooks"][0]["command"]
    assert TOKENS["webhook"] not in command and TOKENS["resource_key"] not in command
    assert command.startswith("curl -s -X POST -d @- secret://token/slack-webhook-")
    assert "-H 'X-Api-Key: secret://token/x-api-key-" in command
    assert hooks["PostToolUse"][0]["hooks"][0]["command"] == "{{home}}/.claude/hooks/format.sh"


def test_absolute_paths_become_placeholders_and_literal_placeholders_are_escaped(
    alice: Machine,
) -> None:
    """Home and project prefixes only at a path boundary; {{home}} in the text survives."""
    text = capture(alice).by_id()["claude_file:user/CLAUDE.md"].body["text"]
    assert (
        "My projects live under {{home}}/src; the API is {{project:github.com/acme/api}}." in text
    )
    assert "never to {{home}}2" not in text and f"never to {alice.home}2" in text
    assert "use {{raw:home}} and {{raw:project:x}} literally" in text
    assert str(alice.home) + "/" not in text


def test_mcp_server_entries_keep_their_shape_with_every_env_and_header_value_referenced(
    alice: Machine,
) -> None:
    """~/.claude.json and Desktop use secret://; .mcp.json uses ${VAR}, which it expands."""
    by_id = capture(alice).by_id()
    assert by_id["mcp_server:notion"].body == {
        "name": "notion",
        "source": "claude_code_user",
        "project_id": None,
        "transport": "stdio",
        "command": "npx",
        "args": ["-y", "@notionhq/notion-mcp-server"],
        "env": {"NOTION_TOKEN": "secret://claude-code/notion/env/NOTION_TOKEN"},
    }
    assert by_id["mcp_server:notion"].secret_refs[0].path == "/env/NOTION_TOKEN"
    github = by_id["mcp_server:github"].body
    assert github["headers"] == {
        "Authorization": "secret://claude-code/github/headers/Authorization"
    }
    # already a reference: kept as it is, nothing taken
    agent = by_id["mcp_server:notion-agent"]
    assert agent.body["headers"]["Authorization"] == "Bearer ${NOTION_AGENT_TOKEN}"
    assert agent.secret_refs == ()
    local = by_id["mcp_server:local-tool"].body
    assert local["command"] == "{{home}}/.local/bin/local-tool"
    sentry = by_id[f"mcp_server:project/sentry@{API}"].body
    assert sentry["args"] == [
        "-y",
        "@sentry/mcp-server",
        "--access-token",
        "${SENTRY_ACCESS_TOKEN}",
    ]
    assert sentry["env"] == {"SENTRY_HOST": "${SENTRY_HOST}"}
    tools = by_id[f"mcp_server:project/api-tools@{API}"].body
    assert tools["command"] == "{{project:github.com/acme/api}}/.venv/bin/python"
    assert tools["env"] == {"DATABASE_URL": "${DATABASE_URL}"}
    slack = by_id[f"mcp_server:project/slack@{API}"]
    assert slack.body["env"]["SLACK_TEAM_ID"] == "${SLACK_TEAM_ID:-T0000}"
    assert slack.secret_refs == ()
    lokka = by_id["mcp_server:desktop/lokka"].body["env"]
    assert lokka["CLIENT_SECRET"] == "secret://claude-desktop/lokka/env/CLIENT_SECRET"
    postgres = by_id[f"mcp_server:local/postgres@{API}"]
    assert postgres.scope.project_id == API
    assert postgres.body["args"] == ["postgres-mcp", "--access-mode=restricted"]


def test_skill_files_keep_modes_and_binary_files_are_blob_references(alice: Machine) -> None:
    """SKILL.md and scripts as text, the PNG as sha256 with its bytes returned to the caller."""
    cap = capture(alice)
    skill = cap.by_id()["skill:pdf-tools"].body
    assert skill["description"].startswith("Extract text and tables from PDF files.")
    assert skill["allowed_tools"] == ["Bash(python3:*)", "Read"]
    files = {f["path"]: f for f in skill["files"]}
    assert list(files) == [
        "SKILL.md",
        "assets/logo.png",
        "resources/service.env",
        "scripts/extract.py",
    ]
    assert files["scripts/extract.py"]["mode"] == 0o755
    assert files["resources/service.env"]["mode"] == 0o600
    png = files["assets/logo.png"]
    data = (alice.claude_dir / "skills/pdf-tools/assets/logo.png").read_bytes()
    assert png["blob"]["bytes"] == len(data) and cap.blobs[png["blob"]["blob"]] == data
    assert "text" not in png
    env = files["resources/service.env"]["text"]
    assert "SERVICE_URL=https://pdf.example.com" in env
    assert TOKENS["resource_key"] not in env and "SERVICE_API_KEY=secret://token/" in env
    [ref] = cap.by_id()["skill:pdf-tools"].secret_refs
    assert ref.path == "/files/2/text"


def test_projects_are_identified_by_normalised_remote_or_home_relative_path(
    alice: Machine,
) -> None:
    """acme/api by its remote; ~/notes without one; /opt/scratch (no remote) is reported."""
    cap = capture(alice)
    api = cap.by_id()[f"project:{API}"]
    assert api.body == {
        "name": "api",
        "remote_url": API,
        "paths": {"m-alice": str(alice.home / "src/api")},
    }
    assert cap.by_id()["project:~/notes"].body == {
        "name": "notes",
        "paths": {"m-alice": str(alice.home / "notes")},
    }
    assert cap.projects == {API: alice.home / "src/api", "~/notes": alice.home / "notes"}
    memory = cap.by_id()[f"claude_file:project/memory/MEMORY.md@{API}"]
    assert memory.scope.project_id == API and memory.body["path"] == "memory/MEMORY.md"
    assert "from {{project:github.com/acme/api}}." in memory.body["text"]


def test_a_project_outside_home_without_a_remote_is_reported_not_captured(
    alice: Machine, tmp_path: Path
) -> None:
    """It could not be matched on another machine; the warning says so."""
    outside = tmp_path / "scratch"
    outside.mkdir()
    text = alice.claude_json.read_text()
    alice.claude_json.write_text(
        set_member(text, ("projects", str(outside)), {"mcpServers": {"t": {"command": "true"}}})
    )
    cap = capture(alice)
    assert f"project {outside} has no git remote and is outside home: not captured" in cap.warnings
    assert not any(d.id.endswith("@" + str(outside)) for d in cap.drafts)


def test_no_secret_value_reaches_the_documents_and_every_value_reaches_the_vault_set(
    alice: Machine,
) -> None:
    """The scanner finds no fixture token in the drafts; capture.secrets holds them all."""
    cap = capture(alice)
    assert scan(cap.drafts, known=TOKENS) == []
    assert scan([d.to_json() for d in cap.drafts], known=cap.secrets) == []
    vault = "\n".join(cap.secrets.values())
    for name, token in TOKENS.items():
        assert token in vault, name


def test_capturing_twice_gives_identical_documents(alice: Machine) -> None:
    """Stable secret names and ordering: no spurious revisions."""
    a, b = capture(alice), capture(alice)
    assert [(d.id, d.content_hash()) for d in a.drafts] == [
        (d.id, d.content_hash()) for d in b.drafts
    ]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_desktop_config_is_found_at_each_platforms_path(tmp_path: Path, platform: str) -> None:
    """~/.config/Claude, ~/Library/Application Support/Claude, %APPDATA%\\Claude."""
    machine = alice_home(tmp_path, platform)
    expected = {
        "linux": ".config/Claude",
        "darwin": "Library/Application Support/Claude",
        "win32": "AppData/Roaming/Claude",
    }[platform]
    assert machine.desktop_config == machine.home / expected / "claude_desktop_config.json"
    ids = {d.id for d in capture(machine, code=False).drafts}
    assert ids == {
        "mcp_server:desktop/filesystem",
        "mcp_server:desktop/lokka",
        "mcp_server:desktop/slack",
    }


def test_a_capture_of_claude_desktop_alone_leaves_claude_codes_files_unread(alice: Machine) -> None:
    """Without Claude Code, ``~/.claude.json`` is not read: its projects are not discovered,
    so a Desktop server's path inside one stays a path under the home, and a half-written
    ``~/.claude.json`` gives no warning."""
    api = alice.home / "src" / "api"
    text = alice.desktop_config.read_text()
    server = {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-git", str(api)]}
    alice.desktop_config.write_text(set_member(text, ("mcpServers", "git"), server))
    cap = capture(alice, code=False)
    assert cap.projects == {}
    git = next(d for d in cap.drafts if d.id == "mcp_server:desktop/git")
    assert git.body["args"][-1] == "{{home}}/src/api"
    alice.claude_json.write_text('{"projects": {')
    assert capture(alice, code=False).warnings == []


def test_an_invalid_json_file_is_skipped_with_a_warning_not_a_crash(alice: Machine) -> None:
    """A half-edited settings.json loses nothing: it is reported and left alone."""
    alice.settings_json.write_text('{"model": "opus",')
    cap = capture(alice)
    assert not any(d.kind == "preference" for d in cap.drafts)
    assert any("settings.json skipped: invalid JSON at line 1" in w for w in cap.warnings)


def test_observed_hashes_cover_what_was_read(alice: Machine) -> None:
    """One applied-record key per unit: whole files and JSON members."""
    cap = capture(alice)
    assert cap.observed[str(alice.claude_dir / "CLAUDE.md")].startswith("sha256:")
    assert f"{alice.claude_json}#/mcpServers/notion" in cap.observed
    assert f"{alice.settings_json}#/env" in cap.observed
    local = f"{alice.claude_json}#/projects/{str(alice.home / 'src/api').replace('/', '~1')}"
    assert f"{local}/mcpServers/postgres" in cap.observed


def test_an_observed_hash_is_of_the_bytes_captured_even_if_the_file_changes_meanwhile(
    alice: Machine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Recording a later edit's hash as applied would let the next apply overwrite it."""
    rules = alice.claude_dir / "CLAUDE.md"
    read = rules.read_bytes()

    def edited_meanwhile(*args: Any, **kwargs: Any) -> dict[str, str]:
        rules.write_text("# edited while the capture ran\n")
        return current_hashes(*args, **kwargs)

    monkeypatch.setattr("agents.claude.capture.current_hashes", edited_meanwhile)
    cap = capture(alice)
    assert cap.observed[str(rules)] == sha256_hex(read)
    assert "edited while" not in cap.by_id()["claude_file:user/CLAUDE.md"].body["text"]


def test_the_capture_dry_run_diff_lists_what_the_store_would_change(alice: Machine) -> None:
    """New, changed and absent documents, file contents as text, no secret values."""
    before = capture(alice).by_id()
    (alice.claude_dir / "CLAUDE.md").write_text("# rewritten\n")
    (alice.claude_dir / "agents" / "reviewer.md").unlink()
    (alice.claude_dir / "agents" / "writer.md").write_text("---\nname: writer\n---\nWrite.\n")
    diff = diff_drafts(before, capture(alice).drafts)
    assert "# changed: claude_file:user/CLAUDE.md\n" in diff
    assert "+# rewritten\n" in diff and "-# Personal instructions\n" in diff
    assert "# new: claude_file:user/agents/writer.md\n" in diff
    assert "# absent now: claude_file:user/agents/reviewer.md\n" in diff
    assert "skill:pdf-tools" not in diff  # unchanged documents are not listed
    assert scan(diff, known=TOKENS) == []
    assert diff_drafts(before, before.values()) == ""


def test_the_import_dry_run_shows_each_document_its_files_and_references_never_a_value() -> None:
    """A new skill with a text and a binary file, a changed setting whose secret is shown by
    reference, a document no longer here, and an unchanged one left out."""
    skill = Draft("skill:pdf", "skill", {"name": "pdf", "files": [
        {"path": "SKILL.md", "text": "# PDF", "mode": 0o644},
        {"path": "logo.png", "blob": {"blob": "sha256:ab", "bytes": 3}, "mode": 0o600},
    ]})  # fmt: skip
    refs = (SecretRef("/value/K", "k"),)
    old_env = Draft("pref:env", "preference", {"key": "env", "value": {"A": "é"}})
    new_value = {"key": "env", "value": {"A": "é", "K": "secret://k"}}
    new_env = Draft("pref:env", "preference", new_value, secret_refs=refs)
    same = Draft("pref:theme", "preference", {"key": "theme", "value": "dark"})
    gone = Draft("pref:model", "preference", {"key": "model", "value": "opus"})
    before = {d.id: d for d in (old_env, same, gone)}
    assert diff_drafts(before, [skill, new_env, same]) == (
        "# changed: pref:env\n"
        "--- a/pref:env\n"
        "+++ b/pref:env\n"
        "@@ -1,6 +1,8 @@\n"
        " {\n"
        '   "key": "env",\n'
        '   "value": {\n'
        '-    "A": "é"\n'
        '+    "A": "é",\n'
        '+    "K": "secret://k"\n'
        "   }\n"
        " }\n"
        "+secret refs: secret://k\n"
        "# new: skill:pdf\n"
        "--- /dev/null\n"
        "+++ b/skill:pdf\n"
        "@@ -0,0 +1,7 @@\n"
        "+{\n"
        '+  "name": "pdf"\n'
        "+}\n"
        "+=== SKILL.md (0644)\n"
        "+# PDF\n"
        "+=== logo.png (0600)\n"
        "+<blob sha256:ab 3 bytes>\n"
        "# absent now: pref:model\n"
    )
