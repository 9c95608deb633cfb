"""``agents sync …`` through the real argument parser: two projects (machines), one folder
remote."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from agents.cli.main import main


def project(root: Path, remote: Path, extra: str = "") -> Path:
    """A project whose local environment syncs to ``remote``."""
    (root / "environments").mkdir(parents=True)
    (root / "environments" / ".env.local").write_text(
        f"AGENTS_PORT_BASE=8700\nCONTEXT_REMOTE=dir://{remote}\n{extra}"
    )
    return root


def run(capsys: pytest.CaptureFixture[str], home: Path, *argv: str, code: int = 0) -> str:
    old = os.environ.get("AGENTS_HOME")
    os.environ["AGENTS_HOME"] = str(home)
    try:
        with pytest.raises(SystemExit) as done:
            main(list(argv))
    finally:
        if old is None:
            os.environ.pop("AGENTS_HOME", None)
        else:
            os.environ["AGENTS_HOME"] = old
    out, err = capsys.readouterr()
    assert done.value.code == code, (out, err)
    return out + err


def as_json(capsys: pytest.CaptureFixture[str], home: Path, *argv: str) -> Any:
    return json.loads(run(capsys, home, *argv, "--json"))


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AGENT_ENV", raising=False)
    monkeypatch.delenv("CONTEXT_REMOTE", raising=False)


def trust(capsys: pytest.CaptureFixture[str], home: Path, other: Path) -> Any:
    """``home`` trusts ``other`` as a person would: read its id and fingerprint on its own
    screen, see it on the remote from ``home``, trust it there (which pulls from it)."""
    row = next(r for r in as_json(capsys, other, "machines", "list") if r["this"])
    seen = {r["id"]: r for r in as_json(capsys, home, "machines", "list")}
    assert seen[row["id"]]["fingerprint"] == row["fingerprint"]
    return as_json(
        capsys, home, "machines", "trust", row["id"], "--fingerprint", row["fingerprint"]
    )


def test_two_machines_sync_and_settle_a_conflict_from_the_shell(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """push, pull, status, conflicts and resolve, with --json for scripts."""
    remote = tmp_path / "remote"
    a, b = project(tmp_path / "a", remote), project(tmp_path / "b", remote)

    def md(text: str) -> str:
        return json.dumps({"path": "CLAUDE.md", "format": "markdown", "text": text})

    put = ["context", "put", "claude_file:user/CLAUDE.md", "--kind", "claude_file", "--body"]
    run(capsys, a, *put, md("one\n"))
    pushed = as_json(capsys, a, "sync", "push")
    assert pushed["push"]["pushed"] and pushed["push"]["changed"] >= 1
    pending = as_json(capsys, b, "sync", "pull")
    assert pending["pull"]["fast_forwarded"] == 0 and pending["pull"]["pending"]
    assert "agents machines trust" in run(capsys, b, "sync", "status")
    assert trust(capsys, b, a)["pull"]["pull"]["fast_forwarded"] >= 1
    run(capsys, b, "sync", "push")
    trust(capsys, a, b)
    run(capsys, a, *put, md("ONE\n"))
    run(capsys, b, *put, md("uno\n"))
    run(capsys, a, "sync", "sync")
    text = run(capsys, b, "sync", "sync")
    assert "1 conflict(s) need review" in text
    status = as_json(capsys, b, "sync", "status")
    assert status["conflicts"] == 1 and status["unpushed"] == 0
    [conflict] = as_json(capsys, b, "sync", "conflicts")
    assert conflict["doc_id"] == "claude_file:user/CLAUDE.md" and conflict["policy"] == "text3"
    out = run(capsys, b, "sync", "resolve", "claude_file:user/CLAUDE.md", "--take", "local")
    assert "resolved with local" in out
    assert as_json(capsys, b, "sync", "conflicts") == []
    run(capsys, b, "sync", "push")
    run(capsys, a, "sync", "pull")
    doc = as_json(capsys, a, "context", "get", "claude_file:user/CLAUDE.md")
    assert doc["body"]["text"] == "uno\n"
    assert "nothing to do" not in run(capsys, a, "sync", "status")


def test_gc_marks_first_and_deletes_on_a_later_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--dry-run reports, a gc marks, a gc with --grace 0 deletes what is still garbage."""
    remote = tmp_path / "remote"
    a = project(tmp_path / "a", remote)
    for value in ("1", "2", "3"):
        run(
            capsys,
            a,
            "context",
            "put",
            "preference:x",
            "--kind",
            "preference",
            "--body",
            json.dumps({"key": "x", "value": int(value)}),
        )
        run(capsys, a, "sync", "push")
    dry = as_json(capsys, a, "sync", "gc", "--keep", "1", "--dry-run")
    assert dry["garbage"] >= 2 and dry["deleted"] == 0
    first = as_json(capsys, a, "sync", "gc", "--keep", "1")
    assert first["deleted"] == 0 and first["waiting"] == dry["garbage"]
    second = as_json(capsys, a, "sync", "gc", "--keep", "1", "--grace", "0")
    assert second["deleted"] == dry["garbage"]


def test_without_a_remote_every_verb_says_what_to_set(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No CONTEXT_REMOTE: one line naming the variable and the file."""
    home = tmp_path / "p"
    (home / "environments").mkdir(parents=True)
    (home / "environments" / ".env.local").write_text("AGENTS_PORT_BASE=8700\n")
    out = run(capsys, home, "sync", "push", code=1)
    assert "CONTEXT_REMOTE is not set: add it to environments/.env.local" in out


def test_a_remote_password_in_the_committed_file_is_refused_without_showing_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The committed env file never holds a password; the message hides it."""
    home = tmp_path / "p"
    (home / "environments").mkdir(parents=True)
    (home / "environments" / ".env.local").write_text(
        "AGENTS_PORT_BASE=8700\nCONTEXT_REMOTE=postgresql://ctx:hunter22@db.example/ctx\n"
    )
    out = run(capsys, home, "sync", "status", code=1)
    assert "move that line to environments/.env.local.secrets" in out
    assert "hunter22" not in out
