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
from tests.unit.claude.conftest import git_repo

SESSION = "5f0c5a52-8d0e-4e8a-9a57-1c2b3d4e5f60"


def line(kind: str, **fields: Any) -> str:
    return json.dumps({"type": kind, "sessionId": SESSION, **fields}, separators=(",", ":"))


def transcript(path: Path, cwd: Path) -> Path:
    """A session file as Claude Code 2.1 writes it (the line types the checkpoint reads)."""
    stamp = "2026-12-06T10:00:00.000Z"
    lines = [
        line("queue-operation", operation="enqueue", timestamp=stamp, content="hi"),
        line(
            "user",
            cwd=str(cwd),
            timestamp=stamp,
            message={"role": "user", "content": "Fix the cart total rounding"},
        ),
        "{not json",
        line(
            "assistant",
            cwd=str(cwd),
            timestamp=stamp,
            message={
                "role": "assistant",
                "content": [
                    {"type": "text", "text": "Looking at cart.py."},
                    {
                        "type": "tool_use",
                        "name": "Edit",
                        "input": {"file_path": str(cwd / "cart.py")},
                    },
                    {"type": "tool_use", "name": "Write", "input": {"file_path": "/etc/motd"}},
                    {
                        "type": "tool_use",
                        "name": "TodoWrite",
                        "input": {
                            "todos": [
                                {
                                    "content": "Round half even",
                                    "status": "completed",
                                    "activeForm": "x",
                                },
                                {
                                    "content": "Deploy to staging",
                                    "status": "pending",
                                    "activeForm": "y",
                                },
                            ]
                        },
                    },
                    {
                        "type": "tool_use",
                        "name": "TaskCreate",
                        "input": {"subject": "Tell finance"},
                    },
                    {
                        "type": "tool_use",
                        "name": "TaskUpdate",
                        "input": {"taskId": "1", "status": "in_progress"},
                    },
                ],
            },
        ),
        line(
            "user",
            cwd=str(cwd),
            message={"role": "user", "content": [{"type": "tool_result", "content": "x" * 10_000}]},
        ),
        line(
            "assistant",
            cwd=str(cwd),
            message={
                "role": "assistant",
                "content": [{"type": "text", "text": "Fixed: totals round half even."}],
            },
        ),
        line("ai-title", aiTitle="Cart rounding fix"),
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(name="root")
def _root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "claude-agents"
    (root / "environments").mkdir(parents=True)
    (root / "environments" / ".env.local").write_text("AGENTS_PORT_BASE=8700\n")
    monkeypatch.setenv("AGENTS_HOME", str(root))
    monkeypatch.delenv("AGENT_ENV", raising=False)
    monkeypatch.delenv("CONTEXT_REMOTE", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    return root


def log_of(root: Path) -> list[dict[str, Any]]:
    path = root / "context" / "local" / "hooks.log"
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


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


def test_a_checkpoint_never_stores_a_token_the_session_printed(root: Path, tmp_path: Path) -> None:
    shop = git_repo(tmp_path / "home" / "src" / "shop", "git@github.com:Acme/Shop.git")
    path = transcript(tmp_path / "home" / ".claude" / "projects" / "x" / f"{SESSION}.jsonl", shop)
    token = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
    with path.open("a") as fh:
        said = {"role": "assistant", "content": [{"type": "text", "text": f"Use {token} now"}]}
        fh.write(line("assistant", message=said) + "\n")
    payload = {"session_id": SESSION, "transcript_path": str(path), "cwd": str(shop)}
    hooks.run("session-end", json.dumps(payload))
    with ContextStore(root / "context" / "local") as store:
        [doc] = store.list("checkpoint")
    assert token not in json.dumps(doc.body) and doc.body["summary"].startswith("Use ")


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


def test_without_claude_codes_cli_the_install_says_how_to_get_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from agents.claude.marketplace import find_claude
    from agents.core.errors import AgentError

    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(AgentError, match="npm install -g @anthropic-ai/claude-code"):
        find_claude()
