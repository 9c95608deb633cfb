"""The plugin's hooks: checkpoints read from Claude Code's transcript, and a hook that never
gets in Claude's way (no store created, bad input, a slow store, nothing heavy imported)."""

from __future__ import annotations

import fcntl
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from agents.claude import hooks
from agents.claude.checkpoint import read_session
from agents.core.layers import load_layers
from agents.store.store import ContextStore
from tests.unit.claude.conftest import SESSION, git_repo, line, log_of, transcript


def test_the_checkpoint_reads_title_summary_tasks_and_files_from_the_transcript(
    tmp_path: Path,
) -> None:
    shop = tmp_path / "shop"
    facts = read_session(transcript(tmp_path / "t.jsonl", shop), SESSION)
    assert facts.title == "Cart rounding fix"  # ai-title beats the first prompt
    assert facts.first_prompt == "Fix the cart total rounding"
    assert facts.summary == "Fixed: totals round half even."
    assert facts.tasks == [
        {"title": "Round half even", "status": "completed"},
        {"title": "Deploy to staging", "status": "pending"},
        {"title": "Tell finance", "status": "in_progress"},
    ]
    assert facts.files == [str(shop / "cart.py"), "/etc/motd"]
    assert facts.started_at == "2026-12-06T10:00:00.000Z" and facts.complete


def test_a_transcript_over_the_limit_is_read_in_part(tmp_path: Path) -> None:
    path = transcript(tmp_path / "t.jsonl", tmp_path)
    facts = read_session(path, SESSION, limit=600)
    assert not facts.complete and facts.first_prompt == "Fix the cart total rounding"


def test_pre_compact_and_session_end_keep_one_checkpoint_per_machine_and_session(
    root: Path, tmp_path: Path
) -> None:
    shop = git_repo(tmp_path / "home" / "src" / "shop", "git@github.com:Acme/Shop.git")
    path = transcript(tmp_path / "home" / ".claude" / "projects" / "x" / f"{SESSION}.jsonl", shop)
    payload = {"session_id": SESSION, "transcript_path": str(path), "cwd": str(shop)}
    hooks.run("pre-compact", json.dumps({**payload, "trigger": "auto"}))
    hooks.run("session-end", json.dumps({**payload, "reason": "prompt_input_exit"}))
    with ContextStore(root / "context" / "local") as store:
        [doc] = store.list("checkpoint")
        assert doc.id == f"checkpoint:{store.machine_id}/{SESSION}"
        assert doc.scope["level"] == "machine"
        assert len(store.history(doc.id)) == 2
        project = store.get("project:github.com/acme/shop").body
        assert project["paths"] == {store.machine_id: str(shop)}
    body = doc.body
    assert body["trigger"] == "session_end" and body["reason"] == "prompt_input_exit"
    assert body["project"]["id"] == "github.com/acme/shop" and body["project"]["subdir"] == ""
    assert body["files"] == ["cart.py", "/etc/motd"]
    assert body["transcript"]["path"] == "{{home}}/.claude/projects/x/" + SESSION + ".jsonl"
    assert "archive" not in body["transcript"]  # transcripts are opt-in
    assert [e["event"] for e in log_of(root)] == ["pre-compact", "session-end"]


def test_session_start_without_a_store_says_nothing_and_creates_none(root: Path) -> None:
    assert hooks.run("session-start", json.dumps({"cwd": str(root)})) == ""
    assert not (root / "context" / "local" / "store.sqlite").exists()


@pytest.mark.parametrize("raw", ["", "{not json", "[1, 2]", '{"session_id": "../../x"}'])
def test_bad_input_never_fails_the_session(root: Path, raw: str) -> None:
    """Exit 0, no output, the problem logged."""
    for event in ("session-start", "session-end", "no-such-event"):
        assert hooks.run(event, raw) == ""
    entries = log_of(root)
    assert any("unknown hook event" in e.get("error", "") for e in entries)
    assert [e["level"] for e in entries if e["event"] == "session-end"] == ["info"]


def test_a_briefing_over_its_time_budget_is_given_up(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ContextStore(root / "context" / "local").close()
    (root / "environments" / ".env.local").write_text("CONTEXT_HOOK_BUDGET_MS=50\n")

    def slow(*args: Any, **kwargs: Any) -> Any:
        time.sleep(2)
        raise AssertionError("not reached")

    monkeypatch.setattr("agents.claude.briefing.build_briefing", slow)
    started = time.monotonic()
    assert hooks.run("session-start", json.dumps({"cwd": str(root)})) == ""
    assert time.monotonic() - started < 1.0
    assert "over its time budget" in log_of(root)[-1]["error"]


def test_requests_for_a_background_sync_fold_into_the_one_waiting(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While one sync-later holds the lock, others only leave a mark; the holder syncs again
    for it, once."""
    (root / "environments" / ".env.local").write_text("CONTEXT_HOOK_SYNC_DELAY=0\n")
    ctx = hooks.HookContext(load_layers(root, "local"))
    ctx.store_dir.mkdir(parents=True)
    synced: list[int] = []
    monkeypatch.setattr(hooks, "_sync_once", lambda c: synced.append(1))
    with (ctx.store_dir / "hooks-sync.lock").open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        for _ in range(5):
            hooks.sync_later(ctx)  # returns at once: someone holds the lock
        fcntl.flock(held, fcntl.LOCK_UN)
    assert synced == [] and (ctx.store_dir / "hooks-sync.pending").exists()
    hooks.sync_later(ctx)
    assert synced == [1] and not (ctx.store_dir / "hooks-sync.pending").exists()


def test_the_session_start_hook_imports_nothing_heavy(root: Path) -> None:
    """pydantic, jsonschema, the MCP SDK and the vendor SDKs stay out of the hook's process."""
    ContextStore(root / "context" / "local").close()
    code = (
        "import sys, io; sys.stdin = io.StringIO('{}');"
        "from agents.claude import hooks; hooks.main(['session-start']);"
        "heavy = ('pydantic', 'jsonschema', 'jsonschema_rs', 'mcp', 'msgraph', 'azure', "
        "'notion_client', 'httpx', 'structlog', 'pyrage', 'keyring', 'cryptography');"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == "[]", out.stdout


def checkpoint_after(root: Path, tmp_path: Path, said_last: str) -> dict[str, Any]:
    """The checkpoint body of a session whose assistant last said ``said_last``."""
    shop = git_repo(tmp_path / "home" / "src" / "shop", "git@github.com:Acme/Shop.git")
    path = transcript(tmp_path / "home" / ".claude" / "projects" / "x" / f"{SESSION}.jsonl", shop)
    with path.open("a") as fh:
        said = {"role": "assistant", "content": [{"type": "text", "text": said_last}]}
        fh.write(line("assistant", message=said) + "\n")
    payload = {"session_id": SESSION, "transcript_path": str(path), "cwd": str(shop)}
    hooks.run("session-end", json.dumps(payload))
    with ContextStore(root / "context" / "local") as store:
        [doc] = store.list("checkpoint")
    body: dict[str, Any] = doc.body
    return body


def test_a_checkpoint_never_stores_a_token_the_session_printed(root: Path, tmp_path: Path) -> None:
    token = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
    body = checkpoint_after(root, tmp_path, f"Use {token} now")
    assert token not in json.dumps(body) and body["summary"].startswith("Use ")


def test_a_transcript_path_outside_claudes_projects_is_not_read(root: Path, tmp_path: Path) -> None:
    secret = tmp_path / "notes.jsonl"
    transcript(secret, tmp_path)
    payload = {"session_id": SESSION, "transcript_path": str(secret), "cwd": str(tmp_path)}
    hooks.run("session-end", json.dumps(payload))
    with ContextStore(root / "context" / "local") as store:
        [doc] = store.list("checkpoint")
    assert doc.body["title"] == f"Claude Code session {SESSION}"
    assert "not a session file" in log_of(root)[-1]["warnings"][0]


def test_a_broken_environment_is_logged_in_the_plugins_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No env file to find the store by: the error goes to $CLAUDE_PLUGIN_DATA/hooks.log."""
    monkeypatch.setenv("AGENTS_HOME", str(tmp_path / "nowhere"))
    monkeypatch.setenv("CLAUDE_PLUGIN_DATA", str(tmp_path / "data"))
    assert hooks.run("session-start", "{}") == ""
    [entry] = [json.loads(x) for x in (tmp_path / "data" / "hooks.log").read_text().splitlines()]
    assert entry["level"] == "error" and ".env.local not found" in entry["error"]
    assert entry["event"] == "session-start" and entry["error"].startswith("ConfigError: ")


def test_without_claude_codes_cli_the_install_says_how_to_get_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from agents.claude.marketplace import find_claude
    from agents.core.errors import AgentError

    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(AgentError, match="npm install -g @anthropic-ai/claude-code"):
        find_claude()
    with pytest.raises(AgentError, match=r"^Claude Code's CLI \(claude\) was not found"):
        find_claude()
    with pytest.raises(AgentError, match=r"^Claude Code's CLI \(my-claude\) was not found"):
        find_claude("my-claude")


def test_claude_codes_cli_is_found_on_path_or_where_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agents.claude.marketplace import find_claude

    for name in ("claude", "claude-beta"):
        (tmp_path / name).write_text("#!/bin/sh\n")
        (tmp_path / name).chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert find_claude() == str(tmp_path / "claude")
    assert find_claude("claude-beta") == str(tmp_path / "claude-beta")


OTHER = "0c9e1d2f-3a4b-4c5d-8e6f-7a8b9c0d1e2f"


def end_session(root: Path, shop: Path, session: str = SESSION, **fields: Any) -> Path:
    """A session of ``shop`` ended through the hook; its transcript's path."""
    projects = root.parent / "home" / ".claude" / "projects"
    path = transcript(projects / "x" / f"{session}.jsonl", shop)
    payload = {"session_id": session, "transcript_path": str(path), "cwd": str(shop), **fields}
    hooks.run("session-end", json.dumps(payload))
    return path


def test_session_start_briefs_the_projects_last_session_but_not_the_one_starting(
    root: Path, tmp_path: Path
) -> None:
    """A new session hears of the last one; the session being resumed hears nothing of its
    own checkpoint. The log says how many bytes went to Claude."""
    shop = git_repo(tmp_path / "home" / "src" / "shop", "git@github.com:Acme/Shop.git")
    end_session(root, shop)
    out = hooks.run("session-start", json.dumps({"session_id": OTHER, "cwd": str(shop)}))
    assert out.startswith("# Context store briefing: github.com/acme/shop\n")
    assert "· this machine · Cart rounding fix — Fixed: totals round half even." in out
    assert f"(session {SESSION})" in out and "- Deploy to staging [pending]" in out
    entry = log_of(root)[-1]
    assert (entry["event"], entry["level"], entry["bytes"]) == (
        "session-start",
        "info",
        len(out.encode()),
    )
    resumed = {"session_id": SESSION, "cwd": str(shop)}
    assert hooks.run("session-start", json.dumps(resumed)) == ""


def test_session_start_without_a_cwd_briefs_claudes_project_dir(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = git_repo(tmp_path / "home" / "src" / "shop", "git@github.com:Acme/Shop.git")
    end_session(root, shop)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CLAUDE_PROJECT_DIR", str(shop))
    out = hooks.run("session-start", json.dumps({"session_id": OTHER}))
    assert "Cart rounding fix" in out


def test_the_briefing_keeps_to_the_token_budget_set_in_the_environment(
    root: Path, tmp_path: Path
) -> None:
    shop = git_repo(tmp_path / "home" / "src" / "shop", "git@github.com:Acme/Shop.git")
    for n in range(5):
        end_session(root, shop, f"{OTHER[:-1]}{n}")
    start = json.dumps({"session_id": SESSION, "cwd": str(shop)})
    whole = hooks.run("session-start", start)
    env = root / "environments" / ".env.local"
    env.write_text(env.read_text() + "CONTEXT_BRIEFING_TOKENS=60\n")
    small = hooks.run("session-start", start)
    assert len(whole.encode()) > 600 and len(small.encode()) <= 60 * 4 + 80
    assert "left out to stay within 60 tokens" in small


def test_a_pre_compact_checkpoint_says_so_and_every_write_is_audited_as_the_hooks(
    root: Path, tmp_path: Path
) -> None:
    """Claude Code's ``trigger`` (auto or manual) is the reason when there is no ``reason``;
    the log names the document and that no sync was started (no remote)."""
    from agents.store import audit

    shop = git_repo(tmp_path / "home" / "src" / "shop", "git@github.com:Acme/Shop.git")
    path = transcript(tmp_path / "home" / ".claude" / "projects" / "x" / f"{SESSION}.jsonl", shop)
    payload = {"session_id": SESSION, "transcript_path": str(path), "cwd": str(shop)}
    hooks.run("pre-compact", json.dumps({**payload, "trigger": "manual"}))
    with ContextStore(root / "context" / "local") as store:
        [doc] = store.list("checkpoint")
        with store.reading() as conn:
            actors = {e.doc_id: e.actor for e in audit.query(conn) if e.doc_id}
    assert doc.body["trigger"] == "pre_compact" and doc.body["reason"] == "manual"
    branch = (shop / ".git" / "HEAD").read_text().strip().removeprefix("ref: refs/heads/")
    assert doc.body["project"]["branch"] == branch
    assert actors == {doc.id: "hook", "project:github.com/acme/shop": "hook"}
    entry = log_of(root)[-1]
    assert (entry["level"], entry["doc"], entry["sync"]) == ("info", doc.id, False)
    assert entry.get("warnings") is None


@pytest.mark.parametrize(
    ("session", "kept"),
    [("a" * 128, True), ("a" * 129, False), ("", False), ("../x", False), ("a b", False)],
)
def test_a_session_id_is_used_up_to_128_letters_digits_and_dashes(
    root: Path, tmp_path: Path, session: str, kept: bool
) -> None:
    payload = {"session_id": session, "cwd": str(tmp_path)}
    hooks.run("session-end", json.dumps(payload))
    with ContextStore(root / "context" / "local") as store:
        docs = store.list("checkpoint")
    assert [d.id for d in docs] == ([f"checkpoint:{store.machine_id}/{session}"] if kept else [])
    assert all("reason" not in d.body for d in docs)  # neither reason nor trigger given
    entry = log_of(root)[-1]
    assert entry["level"] == "info"
    warned = [w for w in entry.get("warnings", []) if w.startswith("no usable session_id")]
    assert len(warned) == (0 if kept else 1)


def test_a_session_outside_any_checkout_writes_no_project_document(
    root: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "scratch"
    elsewhere.mkdir()
    projects = tmp_path / "home" / ".claude" / "projects"
    path = transcript(projects / "x" / f"{SESSION}.jsonl", elsewhere)
    payload = {"session_id": SESSION, "transcript_path": str(path), "cwd": str(elsewhere)}
    hooks.run("session-end", json.dumps(payload))
    with ContextStore(root / "context" / "local") as store:
        [doc] = store.list("checkpoint")
        assert store.list("project") == []
    assert doc.body["title"] == "Cart rounding fix" and "id" not in doc.body["project"]


def test_only_a_jsonl_file_under_claudes_projects_is_read_as_the_transcript(
    root: Path, tmp_path: Path
) -> None:
    """A notes file, or a folder named like a session, under ``projects/`` is not read; a
    hook input without a transcript is no problem."""
    projects = tmp_path / "home" / ".claude" / "projects" / "x"
    notes = transcript(projects / "notes.txt", tmp_path)
    (projects / "dir.jsonl").mkdir()
    for raw in (str(notes), str(projects / "dir.jsonl")):
        payload = {"session_id": SESSION, "transcript_path": raw, "cwd": str(tmp_path)}
        hooks.run("session-end", json.dumps(payload))
        entry = log_of(root)[-1]
        assert entry["level"] == "info" and "not a session file" in entry["warnings"][0]
    hooks.run("session-end", json.dumps({"session_id": SESSION, "cwd": str(tmp_path)}))
    assert log_of(root)[-1].get("warnings") is None
    with ContextStore(root / "context" / "local") as store:
        [doc] = store.list("checkpoint")
    assert doc.body["title"] == f"Claude Code session {SESSION}"


def test_a_checkpoint_shows_a_secret_from_the_vault_by_name_never_its_value(
    root: Path, tmp_path: Path
) -> None:
    """A value this machine's vault holds is replaced by its ``secret://`` name (not only
    token shapes are masked)."""
    from agents.claude.vault import SecretVault

    value = "correct-horse-battery-staple-42"
    SecretVault(root / "context" / "local" / "vault", use_keyring=False).set("DB_PASSWORD", value)
    body = checkpoint_after(root, tmp_path, f"Set it to {value}")
    assert value not in json.dumps(body) and body["summary"] == "Set it to secret://DB_PASSWORD"


@pytest.mark.parametrize(
    ("raw", "on"),
    [
        *[("1", True), ("True", True), ("YES", True), ("on", True), (" on ", True)],
        *[("0", False), ("no", False), ("", False), ("enabled", False)],
    ],
)
def test_a_flag_is_on_for_1_true_yes_or_on_in_any_case(root: Path, raw: str, on: bool) -> None:
    (root / "environments" / ".env.local").write_text(f"CONTEXT_TRANSCRIPTS={raw}\n")
    ctx = hooks.HookContext(load_layers(root, "local"))
    assert ctx.flag("CONTEXT_TRANSCRIPTS") is on
    assert ctx.flag("CONTEXT_UNSET_FLAG") is False


def test_each_hook_run_logs_its_event_level_and_duration_in_milliseconds(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[float] = []

    def clock() -> float:
        calls.append(1)
        return 100.0 if len(calls) == 1 else 100.25054

    monkeypatch.setattr(time, "monotonic", clock)
    hooks.run("no-such-event", "{}")
    [entry] = log_of(root)
    assert entry["event"] == "no-such-event" and entry["level"] == "error"
    assert entry["error"] == (
        "unknown hook event 'no-such-event'; "
        "expected one of session-start, pre-compact, session-end, sync-later"
    )
    assert entry["duration_ms"] == 250.5


def test_the_hook_log_keeps_one_old_file_past_its_size_with_utc_stamps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Any value is logged (as text); a log that cannot be written is no error."""
    import re
    import time as clock

    monkeypatch.setattr(hooks, "LOG_MAX", 100)
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    clock.tzset()
    path = tmp_path / "logs" / "hooks.log"
    try:
        hooks.log(path, "first", where=Path("/a"))
        [entry] = [json.loads(x) for x in path.read_text().splitlines()]
        assert entry["where"] == "/a" and entry["event"] == "first"
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", entry["ts"])
        utc = clock.strftime("%Y-%m-%dT%H", clock.gmtime())
        assert entry["ts"][:13] == utc or clock.gmtime().tm_min == 0
    finally:
        monkeypatch.delenv("TZ")
        clock.tzset()
    path.write_text("x" * 99 + "\n")  # exactly the limit: kept
    hooks.log(path, "second")
    assert not path.with_name("hooks.log.1").exists()
    hooks.log(path, "third")  # over it: moved aside, one old file
    assert path.with_name("hooks.log.1").read_text().count("\n") == 2
    assert [json.loads(x)["event"] for x in path.read_text().splitlines()] == ["third"]
    hooks.log(tmp_path / "logs" / "hooks.log" / "below-a-file", "lost")  # no exception


def test_the_hook_uses_the_environment_agent_env_names(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (root / "environments" / ".env.staging").write_text("AGENTS_PORT_BASE=8800\n")
    monkeypatch.setenv("AGENT_ENV", "staging")
    hooks.run("session-end", "{}")
    assert (root / "context" / "staging" / "hooks.log").exists()
    assert not (root / "context" / "local" / "hooks.log").exists()


def test_the_hook_command_prints_the_briefing_from_claudes_json_on_stdin_and_exits_0(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``python -m agents.claude.hooks session-start``; sync-later reads no stdin; an unknown
    or missing event still exits 0 and prints nothing."""
    import io

    shop = git_repo(tmp_path / "home" / "src" / "shop", "git@github.com:Acme/Shop.git")
    end_session(root, shop)
    start = json.dumps({"session_id": OTHER, "cwd": str(shop)})
    monkeypatch.setattr(sys, "stdin", io.StringIO(start))
    assert hooks.main(["session-start"]) == 0
    assert capsys.readouterr().out == hooks.run("session-start", start)

    class NoStdin(io.StringIO):
        def read(self, *args: Any) -> str:
            raise AssertionError("sync-later read stdin")

    monkeypatch.setattr(sys, "stdin", NoStdin())
    monkeypatch.setattr(hooks, "sync_later", lambda ctx: None)
    assert hooks.main(["sync-later"]) == 0
    monkeypatch.setattr(sys, "stdin", io.StringIO(start))
    monkeypatch.setattr(sys, "argv", ["hooks"])
    assert hooks.main() == 0 and hooks.main(["nope"]) == 0
    assert capsys.readouterr().out == ""
    assert [e["event"] for e in log_of(root)][-3:] == ["sync-later", "", "nope"]


def test_a_checkpoint_is_still_written_when_the_vault_cannot_be_read(
    root: Path, tmp_path: Path
) -> None:
    """Token shapes are still masked; the log says why known values could not be."""
    from agents.claude.vault import SecretVault

    vault = SecretVault(root / "context" / "local" / "vault", use_keyring=False)
    vault.set("DB_PASSWORD", "x" * 20)
    vault.path.write_text("{half a file")
    shop = git_repo(tmp_path / "home" / "src" / "shop", "git@github.com:Acme/Shop.git")
    end_session(root, shop)
    with ContextStore(root / "context" / "local") as store:
        assert len(store.list("checkpoint")) == 1
    entry = log_of(root)[-1]
    assert entry["level"] == "info", entry
    assert entry["warnings"][0].startswith("secrets vault unreadable, token shapes redacted only: ")


def test_without_a_store_or_plugin_folder_the_error_goes_to_stderr_never_stdout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Claude Code shows a hook's stderr to the user; stdout would go into the session."""
    monkeypatch.setenv("AGENTS_HOME", str(tmp_path / "nowhere"))
    monkeypatch.delenv("CLAUDE_PLUGIN_DATA", raising=False)
    assert hooks.run("session-start", "{}") == ""
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("context-sync session-start: ConfigError: ")
    assert ".env.local not found" in err and err.endswith("\n") and err.count("\n") == 1


@pytest.mark.parametrize("broken", [BrokenPipeError, ValueError])
def test_a_hook_whose_stderr_is_gone_still_exits_quietly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, broken: type[Exception]
) -> None:
    """A closed pipe (OSError) or a closed stream (ValueError) is no reason to fail."""

    class Gone:
        def write(self, text: str) -> int:
            raise broken("stderr is gone")

        def flush(self) -> None:
            raise broken("stderr is gone")

    monkeypatch.setenv("AGENTS_HOME", str(tmp_path / "nowhere"))
    monkeypatch.delenv("CLAUDE_PLUGIN_DATA", raising=False)
    monkeypatch.setattr(sys, "stderr", Gone())
    assert hooks.run("session-end", "{}") == ""


def test_a_number_setting_takes_0_and_up_and_a_bad_one_is_warned_of_and_defaulted(
    root: Path,
) -> None:
    (root / "environments" / ".env.local").write_text(
        "CONTEXT_HOOK_SYNC_DELAY=0\nCONTEXT_HOOK_BUDGET_MS=-5\n"
        "CONTEXT_BRIEFING_TOKENS=many\nCONTEXT_CHECKPOINT_BUDGET_MS= 7000 \n"
    )
    ctx = hooks.HookContext(load_layers(root, "local"))
    assert ctx.number("CONTEXT_HOOK_SYNC_DELAY") == 0
    assert ctx.number("CONTEXT_CHECKPOINT_BUDGET_MS") == 7000
    assert ctx.warnings == []
    assert ctx.number("CONTEXT_HOOK_BUDGET_MS") == 300
    assert ctx.number("CONTEXT_BRIEFING_TOKENS") == 1500
    assert ctx.warnings == [
        "CONTEXT_HOOK_BUDGET_MS='-5' is not a whole number ≥ 0; using 300",
        "CONTEXT_BRIEFING_TOKENS='many' is not a whole number ≥ 0; using 1500",
    ]
