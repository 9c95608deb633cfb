"""How a plan is shown before it is approved (the summary and the dry-run diff a user reads to
decide), where secrets come from, and which documents an apply leaves settled."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from agents.claude.apply import execute, plan_apply
from agents.claude.approval import settle
from agents.claude.drafts import Draft, SecretRef
from agents.claude.machine import Machine, map_strings
from agents.claude.risk import Approvals
from agents.claude.writes import flush


def _file(path: str, text: str, mode: int = 0o644, origin: str | None = None) -> Draft:
    body = {"path": path, "text": text, "mode": mode}
    return Draft(f"claude_file:user/{path}", "claude_file", body, origin=origin)


def _pref(key: str, value: Any, *refs: SecretRef, origin: str | None = None) -> Draft:
    return Draft(
        f"pref:{key}", "preference", {"key": key, "value": value}, secret_refs=refs, origin=origin
    )


def _home(tmp_path: Path, files: dict[str, str], settings: dict[str, Any]) -> Machine:
    home = tmp_path / "home"
    for rel, text in files.items():
        (home / rel).parent.mkdir(parents=True, exist_ok=True)
        (home / rel).write_text(text)
    (home / ".claude").mkdir(parents=True, exist_ok=True)
    (home / ".claude" / "settings.json").write_text(json.dumps(settings, indent=2) + "\n")
    return Machine(home, "linux", "m-bob")


def _applied_earlier(m: Machine, *drafts: Draft) -> dict[str, str]:
    """The applied records of an earlier apply of ``drafts``."""
    return execute(plan_apply(drafts, m)).applied


def test_the_summary_counts_each_write_and_names_every_target_left_alone_and_why(
    tmp_path: Path,
) -> None:
    """One line per kind of write, then each conflict, blocked and held target with its
    reason, the secrets still needed and the variables Claude Code must see."""
    m = _home(
        tmp_path, {".claude/agents/run.md": "#!/bin/sh\n"}, {"theme": "dark", "model": "haiku"}
    )
    applied = _applied_earlier(m, _file("CLAUDE.md", "old\n"), _file("rules/gone.md", "bye\n"))
    env_refs = (SecretRef("/env/Y", "Y_TOKEN", "env"), SecretRef("/env/X", "X_TOKEN", "env"))
    server = {
        "name": "api",
        "source": "claude_code_user",
        "transport": "stdio",
        "command": "api-tool",
        "env": {"Y": "${Y_TOKEN}", "X": "${X_TOKEN}"},
    }
    drafts = [
        _file("CLAUDE.md", "new\n"),
        _file("rules/new.md", "hello\n"),
        _file("rules/gone.md", "bye\n").tombstone(),
        _file("agents/run.md", "#!/bin/sh\n", 0o755),
        _pref("theme", "dark"),
        _pref("model", "opus"),
        _pref(
            "env",
            {"B": "secret://b-token", "A": "secret://a-token"},
            SecretRef("/value/B", "b-token"),
            SecretRef("/value/A", "a-token"),
        ),
        _pref(
            "hooks",
            {"Stop": [{"hooks": [{"type": "command", "command": "sh x"}]}]},
            origin="laptop",
        ),
        Draft("mcp_server:api", "mcp_server", server, secret_refs=env_refs),
    ]
    plan = plan_apply(drafts, m, applied=applied)
    settle(plan, Approvals(tmp_path / "approvals.json"), allow=True, trusted={"m-bob"}.__contains__)
    assert plan.summary() == (
        "create: 2\n"
        "update: 1\n"
        "delete: 1\n"
        "chmod: 1\n"
        "unchanged: 1\n"
        "conflict: ~/.claude/settings.json#model: exists, differs and was never applied here\n"
        "blocked: ~/.claude/settings.json#env: needs secret(s) a-token, b-token\n"
        "held, left as it is: ~/.claude/settings.json#hooks: from machine laptop, which this "
        "machine does not trust\n"
        "secrets still needed: a-token, b-token\n"
        "environment variables Claude Code must see: X_TOKEN, Y_TOKEN"
    )


def test_the_dry_run_shows_a_mode_change_and_each_conflict_as_it_is_against_incoming(
    tmp_path: Path,
) -> None:
    """A chmod is a line of its own; a conflict shows what is there now against what the
    store has (JSON pretty-printed as Claude writes it, non-ASCII as it is, /dev/null for a
    side that is absent), never a secret value."""
    m = _home(
        tmp_path,
        {".claude/agents/run.md": "#!/bin/sh\n"},
        {"permissions": {"allow": ["Bash(ls)"]}, "env": {"K": "local"}},
    )
    applied = _applied_earlier(m, _file("rules/gone.md", "bye\n"), _file("rules/lost.md", "lost\n"))
    (m.claude_dir / "rules" / "gone.md").write_text("bye, edited here\n")
    (m.claude_dir / "rules" / "lost.md").unlink()
    drafts = [
        _file("agents/run.md", "#!/bin/sh\n", 0o755),
        _pref("permissions", {"allow": ["Bash(ls)", "Edit(café)"]}),
        _pref("env", {"K": "secret://k"}, SecretRef("/value/K", "k")),
        _file("rules/gone.md", "bye\n").tombstone(),
        _file("rules/lost.md", "lost, newer\n"),
    ]
    plan = plan_apply(drafts, m, applied=applied, secrets={"k": "s3cr3t-value-in-a-diff"})
    label = "~/.claude/settings.json#"
    assert plan.diff() == (
        "mode ~/.claude/agents/run.md: 0755\n"
        f"# conflict, not written: {label}permissions (exists, differs and was never applied "
        "here)\n"
        f"--- a/{label}permissions\n"
        f"+++ b/{label}permissions\n"
        "@@ -1,5 +1,6 @@\n"
        " {\n"
        '   "allow": [\n'
        '-    "Bash(ls)"\n'
        '+    "Bash(ls)",\n'
        '+    "Edit(café)"\n'
        "   ]\n"
        " }\n"
        f"# conflict, not written: {label}env (exists, differs and was never applied here)\n"
        f"--- a/{label}env\n"
        f"+++ b/{label}env\n"
        "@@ -1,3 +1,3 @@\n"
        " {\n"
        '-  "K": "local"\n'
        '+  "K": "secret://k"\n'
        " }\n"
        "# conflict, not written: ~/.claude/rules/gone.md (changed since it was last applied)\n"
        "--- a/~/.claude/rules/gone.md\n"
        "+++ /dev/null\n"
        "@@ -1 +0,0 @@\n"
        "-bye, edited here\n"
        "# conflict, not written: ~/.claude/rules/lost.md (deleted since it was last applied)\n"
        "--- /dev/null\n"
        "+++ b/~/.claude/rules/lost.md\n"
        "@@ -0,0 +1 @@\n"
        "+lost, newer\n"
    )


def test_secrets_and_blobs_are_looked_up_through_a_function_as_the_vault_gives_them(
    tmp_path: Path,
) -> None:
    """The CLI passes ``vault.get`` and the store's blob reader, not mappings."""
    m = _home(tmp_path, {}, {})
    logo = Draft(
        "claude_file:user/logo.png",
        "claude_file",
        {"path": "logo.png", "blob": {"blob": "b1", "bytes": 3}, "mode": 0o644},
    )
    env = _pref("env", {"K": "secret://k"}, SecretRef("/value/K", "k"))
    vault = {"k": "from-the-vault"}
    plan = plan_apply([env, logo], m, secrets=vault.get, blobs={"b1": b"\x89PN"}.get)
    execute(plan)
    assert json.loads((m.settings_json).read_text())["env"] == {"K": "from-the-vault"}
    assert (m.claude_dir / "logo.png").read_bytes() == b"\x89PN"


def test_an_apply_settles_the_documents_it_left_equal_to_the_store_and_no_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Written or unchanged: settled at the revision planned. A conflict, a blocked or held
    unit, a file changed while applying, or a document the store has no revision for: not."""
    m = _home(tmp_path, {".claude/same.md": "same\n", ".claude/mine.md": "mine\n"}, {})
    drafts = [
        _file("new.md", "new\n"),
        _file("same.md", "same\n"),
        _file("mine.md", "theirs\n"),  # exists, never applied: a conflict
        _pref("env", {"K": "secret://k"}, SecretRef("/value/K", "k")),  # blocked
        _pref("apiKeyHelper", "/bin/steal", origin="laptop"),  # held: laptop is not trusted
        _file("raced.md", "ours\n"),
        _file("unknown.md", "x\n"),
    ]
    plan = plan_apply(drafts, m)
    settle(plan, Approvals(tmp_path / "approvals.json"), allow=True, trusted={"m-bob"}.__contains__)
    plan.heads = {d.id: f"rev-{d.id}" for d in drafts if d.id != "claude_file:user/unknown.md"}
    assert plan.settled() == {
        "claude_file:user/new.md": "rev-claude_file:user/new.md",
        "claude_file:user/raced.md": "rev-claude_file:user/raced.md",
        "claude_file:user/same.md": "rev-claude_file:user/same.md",
    }
    raced = m.claude_dir / "raced.md"

    def someone_writes_raced_md(folders: Iterable[str]) -> None:  # after the flush, before
        flush(folders)  # the renames
        raced.write_text("theirs, just now\n")

    monkeypatch.setattr("agents.claude.apply.flush", someone_writes_raced_md)
    done = execute(plan, skip_conflicts=True)
    monkeypatch.undo()
    assert [c.label for c in done.changed_meanwhile] == ["~/.claude/raced.md"]
    assert plan.settled(done.changed_meanwhile) == {
        "claude_file:user/new.md": "rev-claude_file:user/new.md",
        "claude_file:user/same.md": "rev-claude_file:user/same.md",
    }


def test_a_secret_whose_reference_begins_with_another_ones_is_restored_whole(
    tmp_path: Path,
) -> None:
    """Capture names a second value under a taken name ``t_2``: ``secret://t`` is the start of
    ``secret://t_2``, and each still gets its own value back, not the first one plus ``_2``."""
    m = _home(tmp_path, {}, {})
    env = _pref(
        "env",
        {"T": "secret://t", "T2": "secret://t_2", "BOTH": "secret://t_2 secret://t"},
        SecretRef("/value/T", "t"),
        SecretRef("/value/T2", "t_2"),
        SecretRef("/value/BOTH", "t"),
        SecretRef("/value/BOTH", "t_2"),
    )
    execute(plan_apply([env], m, secrets={"t": "one-value", "t_2": "two-value"}))
    assert json.loads(m.settings_json.read_text())["env"] == {
        "T": "one-value",
        "T2": "two-value",
        "BOTH": "two-value one-value",
    }


def test_every_secret_in_one_string_is_resolved_or_named_as_needed(tmp_path: Path) -> None:
    """A URL with a ${VAR} left for Claude Code and a vault secret after it (the ${VAR} the
    longer reference, so it is met first); a value holding two missing secrets names both."""
    m = _home(tmp_path, {}, {})
    refs = (SecretRef("/url", "API_HOST", "env"), SecretRef("/url", "k"))
    url = {
        "name": "api",
        "source": "claude_code_user",
        "transport": "http",
        "url": "https://${API_HOST}/mcp?key=secret://k",
    }
    both = _pref(
        "env",
        {"DSN": "secret://user:secret://password"},
        SecretRef("/value/DSN", "user"),
        SecretRef("/value/DSN", "password"),
    )
    plan = plan_apply(
        [Draft("mcp_server:api", "mcp_server", url, secret_refs=refs), both],
        m,
        secrets={"k": "the-key-value"},
    )
    assert sorted(plan.missing_secrets) == ["password", "user"]
    execute(plan)
    written = json.loads((m.home / ".claude.json").read_text())["mcpServers"]["api"]["url"]
    assert written == "https://${API_HOST}/mcp?key=the-key-value"


def test_values_without_secret_references_are_not_walked_for_secrets(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Only a document with secret references has its value walked to substitute them; the
    others' values are used as rendered (a plan has hundreds)."""
    walked: list[object] = []
    walk = map_strings

    def counted(value: object, fn: Callable[[str], str]) -> object:
        walked.append(value)
        return walk(value, fn)

    monkeypatch.setattr("agents.claude.plan.map_strings", counted)
    server = {"name": "s", "source": "claude_code_user", "command": "x", "env": {"K": "v"}}
    secret = {**server, "name": "t", "env": {"K": "secret://k"}}
    drafts = [
        Draft("mcp_server:s", "mcp_server", server),
        Draft("mcp_server:t", "mcp_server", secret, secret_refs=(SecretRef("/env/K", "k"),)),
        Draft("preference:theme", "preference", {"key": "theme", "value": "dark"}),
    ]
    plan = plan_apply(drafts, Machine(tmp_path, "linux", "m"), secrets={"k": "value"})
    assert [c.action for c in plan.changes] == ["create"] * 3
    assert [c.desired["env"] for c in plan.changes[:2]] == [{"K": "v"}, {"K": "value"}]
    assert len(walked) == 1
