"""``agents context …`` through the real argument parser, on a temporary project."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agents.cli.main import main


@pytest.fixture(name="home")
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "environments").mkdir()
    (tmp_path / "environments" / ".env.local").write_text("AGENTS_PORT_BASE=8700\n")
    monkeypatch.setenv("AGENTS_HOME", str(tmp_path))
    monkeypatch.delenv("AGENT_ENV", raising=False)
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str, code: int = 0) -> str:
    with pytest.raises(SystemExit) as done:
        main(["context", *argv])
    out, err = capsys.readouterr()
    assert done.value.code == code, (out, err)
    return out + err


def as_json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    return json.loads(run(capsys, *argv, "--json"))


def test_put_snapshot_change_diff_and_rollback_from_the_shell(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The everyday loop, with the store under context/local/."""
    run(
        capsys,
        "put",
        "preference:theme",
        "--kind",
        "preference",
        "--body",
        '{"key": "theme", "value": "dark"}',
    )
    assert (home / "context" / "local" / "store.sqlite").exists()
    snap = as_json(capsys, "snapshot", "--label", "good")
    run(
        capsys,
        "put",
        "preference:theme",
        "--kind",
        "preference",
        "--body",
        '{"key": "theme", "value": "light"}',
    )
    out = run(capsys, "diff", "good")
    assert "modified preference:theme" in out and '+/value: "light"' in out
    refused = run(capsys, "rollback", "good", code=1)  # no terminal, no --yes: nothing written
    assert "restore  preference:theme" in refused and "add --yes" in refused
    preview = as_json(capsys, "rollback", "good", "--dry-run")
    assert preview == {**preview, "restored": ["preference:theme"], "written": False}
    assert as_json(capsys, "get", "preference:theme")["body"]["value"] == "light"
    result = as_json(capsys, "rollback", "good", "--yes")
    assert result["restored"] == ["preference:theme"] and result["written"] is True
    assert as_json(capsys, "get", "preference:theme")["body"]["value"] == "dark"
    assert as_json(capsys, "get", "preference:theme", "--at", snap["id"])["body"]["value"] == (
        "dark"
    )
    assert len(as_json(capsys, "history", "preference:theme")) == 3
    assert [s["label"] for s in as_json(capsys, "log")][1] == "good"
    assert as_json(capsys, "audit", "verify")["ok"] is True
    rows = as_json(capsys, "audit", "list", "--doc", "preference:theme")
    assert [r["op"] for r in rows] == ["rollback", "put", "put"]


def test_sessions_and_outputs_from_the_shell(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """session save/restore/list and an empty outputs table."""
    saved = as_json(
        capsys,
        "session",
        "save",
        "--title",
        "Issue 3",
        "--decision",
        "WAL",
        "--task",
        "bench",
        "--ref",
        "docs/context-store.md",
    )
    run(capsys, "session", "save", "--id", saved["id"], "--task", "docs", "--append")
    out = run(capsys, "session", "restore")
    assert out.startswith("# Issue 3") and "- bench\n- docs" in out
    assert [s["id"] for s in as_json(capsys, "session", "list")] == [saved["id"]]
    assert as_json(capsys, "outputs") == []
    assert "(none)" in run(capsys, "outputs")


def test_user_errors_exit_1_with_one_clear_line(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Schema refusal, bad JSON, unknown document: no traceback."""
    out = run(capsys, "put", "session:x", "--kind", "session", "--body", '{"title": "t"}', code=1)
    assert out.startswith("error: session document 'session:x' refused") and "/body" in out
    assert "is not JSON" in run(
        capsys, "put", "preference:x", "--kind", "preference", "--body", "{nope", code=1
    )
    assert "no document 'preference:none'; `agents context list` shows what exists" in run(
        capsys, "get", "preference:none", code=1
    )
    assert "Traceback" not in out


def test_check_and_audit_verify_fail_when_the_chain_is_tampered_with(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Exit 1 and the broken row named."""
    import sqlite3

    run(capsys, "put", "preference:a", "--kind", "preference", "--body", '{"key":"a","value":1}')
    run(capsys, "put", "preference:a", "--kind", "preference", "--body", '{"key":"a","value":2}')
    db = sqlite3.connect(home / "context" / "local" / "store.sqlite")
    db.execute("UPDATE audit SET op = 'get' WHERE seq = 1")
    db.commit()
    db.close()
    assert "row 1 was edited" in run(capsys, "audit", "verify", code=1)
    assert as_json_code(capsys, "check")["ok"] is False


def as_json_code(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    return json.loads(run(capsys, *argv, "--json", code=1))


def test_compact_reports_what_it_removed(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--keep-days with --json."""
    result = as_json(capsys, "compact", "--keep-days", "7")
    assert result["outputs"] == 0 and "cutoff" in result


def test_a_multi_line_error_keeps_the_outputs_table_one_line_per_call(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A traceback-like error shows its first line and a mark; --json keeps it whole."""
    from agents.cli.run import print_table

    rows: list[dict[str, Any]] = [
        {"agent": "notion", "error": "first line\n  File x, line 2\nValueError: boom"},
        {"agent": "fizzy", "error": None},
    ]
    print_table(rows, ["agent", "error"])
    out = capsys.readouterr().out.splitlines()
    assert out == ["AGENT   ERROR", "notion  first line ⏎…", "fizzy   -"]


def test_search_timeline_and_reindex_from_the_shell(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ranked hits with snippets, the timeline around one, and a rebuild of the index."""
    for key, value in (("editor", "helix modal editing"), ("shell", "fish"), ("font", "iosevka")):
        body = json.dumps({"key": key, "value": value})
        run(capsys, "put", f"preference:{key}", "--kind", "preference", "--body", body)
    hits = as_json(capsys, "search", "modal helix")
    assert [h["id"] for h in hits] == ["preference:editor"] and "[helix]" in hits[0]["snippet"]
    assert as_json(capsys, "search", "helix", "--kind", "session") == []
    around = as_json(capsys, "timeline", "preference:shell", "--before", "1", "--after", "1")
    assert [(e["id"], e["anchor"]) for e in around] == [
        ("preference:editor", False),
        ("preference:shell", True),
        ("preference:font", False),
    ]
    assert as_json(capsys, "reindex") == [{"indexed": 3}]
    assert "holds no word" in run(capsys, "search", "!!", code=1)
