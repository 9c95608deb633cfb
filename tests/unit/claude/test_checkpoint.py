"""What a checkpoint takes from Claude Code's transcript, and the limits it keeps to."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest

from agents.claude.checkpoint import SessionFacts, checkpoint_body, read_session
from agents.claude.identity import ProjectRef
from agents.claude.machine import Placeholders

SESSION = "5f0c5a52-8d0e-4e8a-9a57-1c2b3d4e5f60"


def said(*blocks: dict[str, Any]) -> str:
    """An assistant line whose message holds ``blocks``."""
    message = {"role": "assistant", "content": list(blocks)}
    return json.dumps({"type": "assistant", "message": message}, separators=(",", ":"))


def tool(name: str, args: Any) -> dict[str, Any]:
    return {"type": "tool_use", "name": name, "input": args}


def text(value: str) -> dict[str, Any]:
    return {"type": "text", "text": value}


def user(content: Any, **fields: Any) -> str:
    entry = {"type": "user", "message": {"role": "user", "content": content}, **fields}
    return json.dumps(entry, separators=(",", ":"))


def session_file(path: Path, *lines: str) -> Path:
    path.write_text("".join(x + "\n" for x in lines), encoding="utf-8")
    return path


def test_the_title_is_the_custom_title_then_the_ai_title_then_the_summary_line(
    tmp_path: Path,
) -> None:
    """An empty title of one kind falls through to the next; the first prompt comes last."""
    rows = {
        "custom-title": {"type": "custom-title", "customTitle": "Named by /rename"},
        "ai-title": {"type": "ai-title", "aiTitle": "Named by Claude"},
        "summary": {"type": "summary", "summary": "Named by a summary"},
    }
    prompt = user("Fix the cart")
    for kinds, expected in (
        (("custom-title", "ai-title", "summary"), "Named by /rename"),
        (("ai-title", "summary"), "Named by Claude"),
        (("summary",), "Named by a summary"),
        ((), "Fix the cart"),
    ):
        lines = [json.dumps(rows[k]) for k in kinds]
        path = session_file(tmp_path / "t.jsonl", prompt, *lines)
        assert read_session(path, SESSION).title == expected, kinds
    empty = [json.dumps({"type": k}) for k in rows]  # no value: not a title
    path = session_file(tmp_path / "t.jsonl", prompt, *empty)
    facts = read_session(path, SESSION)
    assert facts.title == "Fix the cart" and facts.titles == dict.fromkeys(rows, "")


def test_the_first_prompt_skips_claude_codes_meta_lines_and_the_start_is_the_first_stamp(
    tmp_path: Path,
) -> None:
    path = session_file(
        tmp_path / "t.jsonl",
        json.dumps({"type": "queue-operation", "content": "hi"}),
        user("<local-command-caveat>", isMeta=True, timestamp="2026-12-06T10:00:00Z"),
        user([text("Fix the cart")], timestamp="2026-12-06T10:00:05Z"),
        user("A later prompt", timestamp="2026-12-06T10:09:00Z"),
        said(text("Done.")),
    )
    facts = read_session(path, SESSION)
    assert facts.first_prompt == "Fix the cart"
    assert facts.started_at == "2026-12-06T10:00:00Z"
    assert facts.lines == 5 and facts.bytes == path.stat().st_size


def test_the_summary_is_the_last_text_the_assistant_wrote_its_blocks_one_per_line(
    tmp_path: Path,
) -> None:
    """Tool calls between the text blocks add no blank line; a reply with no text, or an
    unknown content shape, leaves the summary as it was."""
    path = session_file(
        tmp_path / "t.jsonl",
        user("Fix the cart"),
        said(tool("Read", {"file_path": "a"}), text("First"), tool("Read", {}), text("second")),
        json.dumps({"type": "assistant", "message": {"content": ["a bare string", 7]}}),
        said(tool("Read", {"file_path": "b"}), {"type": "text"}),
        json.dumps({"type": "assistant", "message": {"content": {"odd": 1}}}),
        "[1, 2]",
        json.dumps({"type": "assistant", "message": {"content": None}}),
    )
    assert read_session(path, SESSION).summary == "First\nsecond"


def test_the_files_are_those_edited_each_once_including_notebooks(tmp_path: Path) -> None:
    path = session_file(
        tmp_path / "t.jsonl",
        '"a JSON line that is no object"',
        said(
            tool("Edit", {"file_path": "/src/cart.py"}),
            tool("Edit", {"file_path": "/src/cart.py"}),
            tool("NotebookEdit", {"notebook_path": "/src/report.ipynb"}),
            tool("Write", {"file_path": 42}),
            tool("Write", {"file_path": ""}),
            tool("Read", {"file_path": "/src/read-only.py"}),
            tool("Edit", None),
            tool("Edit", "not arguments"),
        ),
    )
    assert read_session(path, SESSION).files == ["/src/cart.py", "/src/report.ipynb"]


def test_the_tasks_are_the_last_todo_list_and_the_created_tasks_updated_by_number(
    tmp_path: Path,
) -> None:
    todos = [
        {"content": "Round half even", "status": "completed"},
        {"content": "Deploy", "status": "pending"},
        {"content": "Unknown status", "status": "blocked"},
        {"status": "pending"},
        "not a todo",
    ]
    path = session_file(
        tmp_path / "t.jsonl",
        said(
            tool("TodoWrite", {"todos": [{"content": "Old list", "status": "pending"}]}),
            tool("TodoWrite", {"todos": todos}),
            tool("TodoWrite", {"todos": "not a list"}),
            tool("Other", {"todos": []}),
            tool("TaskCreate", {"subject": "First"}),
            tool("TaskCreate", {"subject": "Second"}),
            tool("TaskCreate", {"subject": "Third " + "x" * 600}),
            tool("TaskCreate", {"subject": 7}),
            tool("mcp__mail__send", {"subject": "Hello"}),
            tool("TaskUpdate", {"taskId": "2", "status": "in_progress"}),
            tool("TaskUpdate", {"taskId": "0", "status": "completed"}),
            tool("TaskUpdate", {"taskId": "9", "status": "completed"}),
            tool("TaskUpdate", {"taskId": "x", "status": "completed"}),
            tool("TaskUpdate", {"taskId": "1", "status": "nonsense"}),
            tool("Other", {"taskId": "1", "status": "completed"}),
        ),
    )
    facts = read_session(path, SESSION)
    assert facts.tasks == [
        {"title": "Round half even", "status": "completed"},
        {"title": "Deploy", "status": "pending"},
        {"title": "First", "status": "pending"},
        {"title": "Second", "status": "in_progress"},
        {"title": ("Third " + "x" * 600)[:500], "status": "pending"},
    ]
    long = session_file(
        tmp_path / "t2.jsonl",
        said(tool("TodoWrite", {"todos": [{"content": "y" * 600, "status": "pending"}]})),
    )
    assert [len(t["title"]) for t in read_session(long, SESSION).tasks] == [500]


def test_a_transcript_is_read_whole_up_to_its_limit_and_in_part_one_byte_over(
    tmp_path: Path,
) -> None:
    """The limit counts every line's bytes; bytes that are not UTF-8 are replaced, not fatal."""
    lines = [user("Fix the cart")] + [said(text(f"step {i}")) for i in range(20)]
    path = session_file(tmp_path / "t.jsonl", *lines)
    with path.open("ab") as fh:
        latin1 = '{"type":"assistant","message":{"content":[{"type":"text","text":"caf\xe9 ok"}]}}'
        fh.write(latin1.encode("latin-1") + b"\n")
    size = path.stat().st_size
    whole = read_session(path, SESSION, limit=size)
    assert whole.complete is True and whole.summary == "caf\ufffd ok"
    part = read_session(path, SESSION, limit=size - 1)
    assert part.complete is False and part.summary == "step 19" and part.lines == 21


def body_of(facts: SessionFacts, reason: str | None) -> dict[str, Any]:
    """The checkpoint body of ``facts`` for a session outside any checkout."""
    return checkpoint_body(
        facts,
        machine_id="m",
        project=ProjectRef(None, Path("/nowhere")),
        transcript=None,
        placeholders=Placeholders("/home/me", {}),
        trigger="session_end",
        reason=reason,
        now="2026-12-06T10:00:00Z",
    )


def test_a_checkpoint_keeps_to_its_size_limits_and_cuts_at_a_word(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(socket, "gethostname", lambda: "h" * 300)
    facts = SessionFacts(
        SESSION,
        titles={"custom-title": "a" * 199 + "b" * 10},
        summary="c" * 3998 + " " + "d" * 10,
        todos=[{"title": f"t{i}", "status": "pending"} for i in range(150)],
        files=[f"/elsewhere/{i}/" + "f" * 1200 for i in range(250)],
    )
    body = body_of(facts, reason="r" * 100)
    assert body["title"] == "a" * 199 + "…"
    assert body["summary"] == "c" * 3998 + "…"
    assert len(body["host"]) == 255 and len(body["reason"]) == 64
    assert len(body["tasks"]) == 100 and len(body["files"]) == 200
    assert {len(f) for f in body["files"]} == {1000}
    exact = SessionFacts(SESSION, titles={"ai-title": "e" * 200})
    kept = body_of(exact, reason=None)
    assert kept["title"] == "e" * 200 and "reason" not in kept
