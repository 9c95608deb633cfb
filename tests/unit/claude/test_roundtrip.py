"""Round trip: capture on alice's machine, apply on bob's (another home, another checkout)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

from agents.claude.apply import execute, plan_apply
from agents.claude.capture import Capture, capture
from agents.claude.machine import Machine
from agents.claude.scan import scan

from .conftest import TOKENS, read

API = "github.com/acme/api"
Convert = Callable[[Machine, Machine, str], str]


def _restore(cap: Capture, bob: Machine, **kw: object) -> dict[str, str]:
    plan = plan_apply(cap.drafts, bob, secrets=cap.secrets, blobs=cap.blobs, **kw)  # type: ignore[arg-type]
    assert plan.conflicts == [] and plan.by_action("blocked") == []
    return execute(plan).applied


def test_text_files_and_skills_arrive_byte_identical_with_paths_rendered_for_the_new_home(
    alice: Machine, bob: Machine, same_as_alice: Convert
) -> None:
    """CLAUDE.md, rules, agents, commands, skill files (binary too) and their modes."""
    _restore(capture(alice), bob)
    for rel in (
        "CLAUDE.md",
        "rules/python.md",
        "agents/reviewer.md",
        "commands/deploy.md",
        "commands/frontend/component.md",
        "skills/pdf-tools/SKILL.md",
        "skills/pdf-tools/scripts/extract.py",
        "skills/pdf-tools/resources/service.env",
        "skills/release-notes/SKILL.md",
    ):
        mine, theirs = alice.claude_dir / rel, bob.claude_dir / rel
        assert read(theirs) == same_as_alice(alice, bob, read(mine)), rel
        assert theirs.stat().st_mode & 0o777 == mine.stat().st_mode & 0o777, rel
    png = "skills/pdf-tools/assets/logo.png"
    assert (bob.claude_dir / png).read_bytes() == (alice.claude_dir / png).read_bytes()
    text = read(bob.claude_dir / "CLAUDE.md")
    assert f"the API is {bob.home}/work/api." in text
    assert "use {{home}} and {{project:x}} literally" in text


def test_settings_json_is_rebuilt_byte_identical_on_an_empty_home(
    alice: Machine, bob: Machine, same_as_alice: Convert
) -> None:
    """Keys in the original order, Claude's two-space style; env values from the vault."""
    _restore(capture(alice), bob)
    assert read(bob.settings_json) == same_as_alice(alice, bob, read(alice.settings_json))
    assert bob.settings_json.stat().st_mode & 0o777 == 0o600  # it holds secret values


def test_mcp_servers_land_in_each_clients_file_with_paths_for_the_new_machine(
    alice: Machine, bob: Machine
) -> None:
    """User and local scope in ~/.claude.json, project .mcp.json, Desktop config."""
    _restore(capture(alice), bob)
    mine = json.loads(read(alice.claude_json))
    theirs = json.loads(read(bob.claude_json))
    assert set(theirs) == {"mcpServers", "projects"}
    assert theirs["mcpServers"]["notion"] == mine["mcpServers"]["notion"]
    assert theirs["mcpServers"]["local-tool"]["command"] == f"{bob.home}/.local/bin/local-tool"
    api = str(bob.project_paths[API])
    assert theirs["projects"] == {
        api: {"mcpServers": mine["projects"][str(alice.home / "src/api")]["mcpServers"]}
    }
    desktop = json.loads(read(bob.desktop_config))
    assert desktop == {
        "mcpServers": json.loads(
            read(alice.desktop_config).replace(str(alice.home), str(bob.home))
        )["mcpServers"]
    }
    mcp = json.loads(read(Path(api) / ".mcp.json"))["mcpServers"]
    assert mcp["sentry"]["args"][-1] == "${SENTRY_ACCESS_TOKEN}"
    assert mcp["api-tools"]["command"] == f"{api}/.venv/bin/python"
    assert mcp["slack"]["env"]["SLACK_TEAM_ID"] == "${SLACK_TEAM_ID:-T0000}"


def test_env_references_in_mcp_json_are_left_for_claude_code_unless_inlined(
    alice: Machine, bob: Machine
) -> None:
    """By default .mcp.json keeps ${VAR}; inline_env writes the values back."""
    cap = capture(alice)
    plan = plan_apply(cap.drafts, bob, secrets=cap.secrets, blobs=cap.blobs)
    assert {"SENTRY_ACCESS_TOKEN", "DATABASE_URL", "SENTRY_HOST"} <= set(plan.env_refs)
    assert "environment variables Claude Code must see" in plan.summary()
    applied = execute(plan).applied
    mcp_json = bob.project_paths[API] / ".mcp.json"
    assert TOKENS["sentry"] not in read(mcp_json)

    _restore(cap, bob, inline_env=True, applied=applied)
    assert json.loads(read(mcp_json))["mcpServers"]["api-tools"]["env"] == {
        "DATABASE_URL": TOKENS["dburl"]
    }


def test_without_the_secrets_the_units_that_need_them_are_blocked_and_listed(
    alice: Machine, bob: Machine
) -> None:
    """Nothing is written with a dangling secret://; the summary names what is missing."""
    cap = capture(alice)
    plan = plan_apply(cap.drafts, bob, blobs=cap.blobs)
    assert "claude-code/notion/env/NOTION_TOKEN" in plan.missing_secrets
    blocked = {c.draft_id for c in plan.by_action("blocked")}
    assert {"pref:env", "mcp_server:notion", "mcp_server:desktop/lokka"} <= blocked
    assert "claude_file:user/CLAUDE.md" not in blocked
    execute(plan)
    assert "env" not in json.loads(read(bob.settings_json))
    assert "secret://" not in read(bob.settings_json) + read(bob.claude_json)
    assert "secrets still needed: " in plan.summary()
    # restore names them once, in its own note saying what to do
    assert "secrets still needed" not in plan.summary(secrets=False)


def test_a_project_not_cloned_on_the_new_machine_is_reported_not_guessed(
    alice: Machine, tmp_path: Path
) -> None:
    """Its .mcp.json and local servers wait until it is mapped."""
    carol = Machine(tmp_path / "carol", "linux", "m-carol")
    cap = capture(alice)
    plan = plan_apply(cap.drafts, carol, secrets=cap.secrets, blobs=cap.blobs)
    reasons = {c.draft_id: c.reason for c in plan.by_action("blocked")}
    assert reasons[f"mcp_server:project/sentry@{API}"] == (
        f"project {API!r} has no path on this machine; clone it (or open it once in Claude "
        "Code) so it can be mapped, then apply again"
    )
    assert f"claude_file:project/memory/MEMORY.md@{API}" in reasons


def test_the_dry_run_diff_shows_every_file_and_never_a_secret_value(
    alice: Machine, bob: Machine
) -> None:
    """Plan first: a unified diff per file, values shown as secret://<name>."""
    cap = capture(alice)
    plan = plan_apply(cap.drafts, bob, secrets=cap.secrets, blobs=cap.blobs)
    diff = plan.diff()
    assert "+++ b/~/.claude/CLAUDE.md" in diff
    assert "+++ b/~/.claude.json" in diff
    assert "Binary file ~/.claude/skills/pdf-tools/assets/logo.png differs" in diff
    assert '"NOTION_TOKEN": "secret://claude-code/notion/env/NOTION_TOKEN"' in diff
    assert scan(diff, known=TOKENS) == []
    assert not bob.claude_json.exists()  # a plan writes nothing


def test_apply_twice_changes_nothing_the_second_time(alice: Machine, bob: Machine) -> None:
    """Idempotent: every unit is unchanged and no file is rewritten."""
    cap = capture(alice)
    applied = _restore(cap, bob)
    stamp = {p: p.stat().st_mtime_ns for p in bob.home.rglob("*") if p.is_file()}
    plan = plan_apply(cap.drafts, bob, applied=applied, secrets=cap.secrets, blobs=cap.blobs)
    assert {c.action for c in plan.changes} == {"unchanged"}
    assert plan.diff() == ""
    assert execute(plan).applied == applied
    assert stamp == {p: p.stat().st_mtime_ns for p in bob.home.rglob("*") if p.is_file()}


def test_apply_on_the_capturing_machine_needs_nothing(alice: Machine) -> None:
    """Captured hashes are the applied records: the same drafts are all unchanged, except
    .mcp.json values that now become ${VAR} references."""
    cap = capture(alice)
    plan = plan_apply(
        cap.drafts,
        alice.with_projects(cap.projects),
        applied=cap.observed,
        secrets=cap.secrets,
        blobs=cap.blobs,
    )
    changed = {c.draft_id for c in plan.changes if c.action != "unchanged"}
    assert changed == {f"mcp_server:project/sentry@{API}", f"mcp_server:project/api-tools@{API}"}
    assert plan.conflicts == []
    assert os.environ.get("HOME") != str(alice.home)
