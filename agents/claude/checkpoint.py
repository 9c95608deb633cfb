"""Session checkpoints: where a Claude Code session stood when it compacted or ended.

The PreCompact and SessionEnd hooks read the session's transcript (Claude Code's JSONL under
``~/.claude/projects/<slug>/``) and write ``checkpoint:<machine id>/<session id>``: title,
summary, open tasks, files touched and the transcript reference. Each machine writes only its
own checkpoints, so two machines never edit one document (no conflicts to settle).

What is read from the transcript, as Claude Code 2.1 writes it:

- title: the session's ``custom-title`` (``/rename``), else its ``ai-title``, else the last
  ``summary`` line, else the first prompt;
- summary: the last text the assistant wrote;
- tasks: the last ``TodoWrite`` list, plus ``TaskCreate`` subjects (``TaskUpdate`` statuses
  applied by task number);
- files: ``file_path``/``notebook_path`` of ``Write``, ``Edit``, ``MultiEdit``, ``NotebookEdit``.

A transcript is read once, line by line; tool results (the bulk of it) are never parsed.
"""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agents.claude.identity import ProjectRef, current_branch
from agents.claude.machine import Placeholders

__all__ = [
    "MAX_TRANSCRIPT",
    "SessionFacts",
    "checkpoint_body",
    "checkpoint_id",
    "read_session",
    "scrub",
]

MAX_TRANSCRIPT = 64 * 1024 * 1024  # bytes read at most; a longer transcript is read in part
_EDITS = {"Write", "Edit", "MultiEdit", "NotebookEdit"}
_STATUSES = {"pending", "in_progress", "completed"}
_STAMP = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z$")


@dataclass
class SessionFacts:
    """What a transcript says about its session."""

    session: str
    first_prompt: str = ""
    titles: dict[str, str] = field(default_factory=dict)  # custom-title, ai-title, summary
    summary: str = ""
    todos: list[dict[str, str]] = field(default_factory=list)
    created: list[dict[str, str]] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    started_at: str | None = None
    lines: int = 0
    bytes: int = 0
    complete: bool = True

    @property
    def title(self) -> str:
        """The best title the session has."""
        for key in ("custom-title", "ai-title", "summary"):
            if self.titles.get(key):
                return self.titles[key]
        return self.first_prompt or f"Claude Code session {self.session}"

    @property
    def tasks(self) -> list[dict[str, str]]:
        """The todo list, then tasks created with TaskCreate."""
        return [*self.todos, *self.created]


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            str(b.get("text", ""))
            for b in content
            if isinstance(b, dict) and b.get("type") == "text"
        )
    return ""


def _lines(path: Path, limit: int) -> Iterator[str]:
    read = 0
    with path.open("rb") as fh:
        for raw in fh:
            read += len(raw)
            if read > limit:
                raise _TruncatedError
            yield raw.decode("utf-8", errors="replace")


class _TruncatedError(Exception):
    pass


def _tool(facts: SessionFacts, name: str, args: dict[str, Any]) -> None:
    if name in _EDITS:
        target = args.get("file_path") or args.get("notebook_path")
        if isinstance(target, str) and target and target not in facts.files:
            facts.files.append(target)
    elif name == "TodoWrite" and isinstance(args.get("todos"), list):
        facts.todos = [
            {"title": str(t.get("content", ""))[:500], "status": str(t.get("status"))}
            for t in args["todos"]
            if isinstance(t, dict) and t.get("status") in _STATUSES and t.get("content")
        ]
    elif name == "TaskCreate" and isinstance(args.get("subject"), str):
        facts.created.append({"title": args["subject"][:500], "status": "pending"})
    elif name == "TaskUpdate" and args.get("status") in _STATUSES:
        number = str(args.get("taskId", ""))
        if number.isdigit() and 0 < int(number) <= len(facts.created):
            facts.created[int(number) - 1]["status"] = str(args["status"])


def read_session(path: Path, session: str, *, limit: int = MAX_TRANSCRIPT) -> SessionFacts:
    """The facts of the transcript at ``path`` (a missing file gives an empty record)."""
    facts = SessionFacts(session)
    try:
        facts.bytes = path.stat().st_size
        for line in _lines(path, limit):
            facts.lines += 1
            # tool results ride in "user" lines and are most of the bytes: parse a user line
            # only until the first prompt is found
            if facts.first_prompt and ('"type":"user"' in line or '"type": "user"' in line):
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if not isinstance(entry, dict):
                continue
            kind = entry.get("type")
            if facts.started_at is None and isinstance(entry.get("timestamp"), str):
                facts.started_at = entry["timestamp"]
            if kind == "custom-title":
                facts.titles["custom-title"] = str(entry.get("customTitle") or "")
            elif kind == "ai-title":
                facts.titles["ai-title"] = str(entry.get("aiTitle") or "")
            elif kind == "summary":
                facts.titles["summary"] = str(entry.get("summary") or "")
            elif kind == "user" and not entry.get("isMeta") and not facts.first_prompt:
                facts.first_prompt = _text((entry.get("message") or {}).get("content")).strip()
            elif kind == "assistant":
                content = (entry.get("message") or {}).get("content")
                said = _text(content).strip()
                if said:
                    facts.summary = said
                for block in content if isinstance(content, list) else []:
                    if isinstance(block, dict) and block.get("type") == "tool_use":
                        args = block.get("input")
                        _tool(facts, str(block.get("name")), args if isinstance(args, dict) else {})
    except _TruncatedError:
        facts.complete = False
    except OSError:
        pass
    return facts


def checkpoint_id(machine_id: str, session: str) -> str:
    """``checkpoint:<machine id>/<session id>``: one document per machine and session."""
    return f"checkpoint:{machine_id}/{session}"


def _short(text: str, limit: int) -> str:
    one = " ".join(text.split())
    return one if len(one) <= limit else one[: limit - 1].rstrip() + "…"


def _relative(file: str, project: ProjectRef, ph: Placeholders) -> str:
    path = Path(file)
    try:
        return path.relative_to(project.root).as_posix()
    except ValueError:
        return ph.unrender(file)


def checkpoint_body(
    facts: SessionFacts,
    *,
    machine_id: str,
    project: ProjectRef,
    transcript: Path | None,
    placeholders: Placeholders,
    trigger: str,
    reason: str | None,
    now: str,
    archive: str | None = None,
) -> dict[str, Any]:
    """The ``checkpoint`` body for a session (schema ``checkpoint.json``)."""
    proj: dict[str, Any] = {"name": project.name, "subdir": project.subdir}
    if project.id:
        proj["id"] = project.id
    branch = current_branch(project.root)
    if branch:
        proj["branch"] = branch
    ref: dict[str, Any] = {"session": facts.session, "lines": facts.lines, "bytes": facts.bytes}
    if transcript is not None:
        ref["path"] = placeholders.unrender(str(transcript))
    if archive:
        ref["archive"] = archive
    body: dict[str, Any] = {
        "session": facts.session,
        "machine_id": machine_id,
        "host": socket.gethostname()[:255],
        "project": proj,
        "title": _short(facts.title, 200) or facts.session,
        "tasks": facts.tasks[:100],
        "files": [_relative(f, project, placeholders)[:1000] for f in facts.files[:200]],
        "transcript": ref,
        "trigger": trigger,
        "updated_at": now,
    }
    if facts.summary:
        body["summary"] = _short(facts.summary, 4000)
    if reason:
        body["reason"] = reason[:64]
    if facts.started_at and _STAMP.match(facts.started_at):
        body["started_at"] = facts.started_at
    return body


def scrub(value: Any, known: Mapping[str, str]) -> Any:
    """``value`` with every string redacted: known secret values shown as ``secret://<name>``
    and token shapes masked (a transcript holds whatever the session saw or printed)."""
    from agents.claude.scan import redact

    if isinstance(value, str):
        return redact(value, known)
    if isinstance(value, dict):
        return {k: scrub(v, known) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v, known) for v in value]
    return value
