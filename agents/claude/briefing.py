"""The SessionStart briefing: what Claude should know before the first prompt, from the store.

For the project of the working directory (git remote plus path inside the repository, so a
checkout at another path on another machine is the same project): the last sessions on any
machine, their open tasks, recent agent outputs and unresolved sync conflicts. It fits a
token budget (bytes / 4, the usual estimate): sections are filled in priority order and each
item is cut to a line, so a busy store never floods Claude's context.

Reads only (``agents.store.base``: sqlite3 and the standard library), so the hook that runs it
starts in tens of milliseconds. The queries go through :func:`recent`, the one seam to move to
ranked search.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from agents.claude.identity import ProjectRef
from agents.store.base import StoreBase
from agents.store.conflicts import conflicts
from agents.store.envelope import Envelope

__all__ = ["DEFAULT_TOKENS", "Briefing", "build_briefing", "recent"]

DEFAULT_TOKENS = 1500
BYTES_PER_TOKEN = 4
SESSIONS = 5
OUTPUTS = 5
TASKS = 10
LINE = 240  # characters per item line at most


def recent(
    store: StoreBase, kind: str, *, where: dict[str, Any] | None = None, limit: int = 10
) -> list[Envelope]:
    """The newest ``limit`` live documents of ``kind`` with body fields equal to ``where``."""
    return store.list(kind, where=where, limit=limit)


@dataclass
class Briefing:
    """The briefing's text and what it holds (for tests and the benchmark)."""

    text: str
    sessions: int = 0
    tasks: int = 0
    outputs: int = 0
    conflicts: int = 0
    left_out: int = 0
    sections: list[str] = field(default_factory=list)

    @property
    def tokens(self) -> int:
        """Size estimate: UTF-8 bytes / 4."""
        return -(-len(self.text.encode()) // BYTES_PER_TOKEN)


def _cut(text: str, limit: int = LINE) -> str:
    one = " ".join(str(text).split())
    return one if len(one) <= limit else one[: limit - 1].rstrip() + "…"


def _when(stamp: str) -> str:
    return stamp[:16].replace("T", " ") if stamp else "?"


def _where(body: dict[str, Any], store: StoreBase, hosts: dict[str, str]) -> str:
    machine = str(body.get("machine_id") or "")
    name = body.get("host") or hosts.get(machine) or machine or "?"
    return "this machine" if machine == store.machine_id else str(name)


def _hosts(store: StoreBase) -> dict[str, str]:
    return {
        str(e.body.get("machine_id")): str(e.body.get("host"))
        for e in recent(store, "machine_key", limit=50)
        if e.body.get("host")
    }


def _open_tasks(items: Iterable[Any]) -> list[str]:
    out = []
    for t in items:
        if isinstance(t, str):
            out.append(t)
        elif isinstance(t, dict) and t.get("status") not in ("completed", "done"):
            status = t.get("status")
            out.append(f"{t.get('title', '')}" + (f" [{status}]" if status else ""))
    return [t for t in out if t.strip()]


def _sessions(
    store: StoreBase, project: ProjectRef, current: str | None
) -> list[tuple[str, dict[str, Any], str]]:
    """(updated_at, body, doc id) of this project's checkpoints and saved sessions, newest
    first: checkpoints match id and path inside the repository, saved sessions the id."""
    if project.id is None:
        return []
    where = {"project.id": project.id, "project.subdir": project.subdir}
    found = [
        (str(e.body.get("updated_at") or e.updated_at), e.body, e.id)
        for e in recent(store, "checkpoint", where=where, limit=SESSIONS + 1)
        if e.body.get("session") != current
    ]
    for key in ("project.id", "project.name"):
        for e in recent(store, "session", where={key: project.id}, limit=SESSIONS):
            if all(e.id != i for *_, i in found):
                found.append((str(e.body.get("updated_at") or e.updated_at), e.body, e.id))
    found.sort(key=lambda t: t[0], reverse=True)
    return found[:SESSIONS]


class _Writer:
    """Lines under a byte budget; what does not fit is counted, not written."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.lines: list[str] = []
        self.used = 0
        self.left_out = 0

    def add(self, line: str, *, fit: bool = False) -> bool:
        """Add ``line`` if it fits; with ``fit``, cut it to the space left (40 bytes at
        least) rather than leave it out."""
        size = len(line.encode()) + 1
        room = self.budget - self.used
        if size > room and fit and room > 40:
            line = line.encode()[: room - 4].decode(errors="ignore").rstrip() + "…"
            size = len(line.encode()) + 1
        if size > room:
            self.left_out += 1
            return False
        self.lines.append(line)
        self.used += size
        return True


def build_briefing(
    store: StoreBase,
    project: ProjectRef,
    *,
    tokens: int = DEFAULT_TOKENS,
    current: str | None = None,
) -> Briefing:
    """The briefing for ``project`` within ``tokens`` (bytes / 4); empty text when the store
    has nothing for it. ``current`` is the session being started (a resume or compaction):
    its own checkpoint is not news to it."""
    out = _Writer(max(tokens, 50) * BYTES_PER_TOKEN)
    result = Briefing("")
    hosts = _hosts(store)
    sessions = _sessions(store, project, current)
    open_conflicts = conflicts(store, "needs_review")
    outputs = recent(store, "agent_output", limit=OUTPUTS)
    if not (sessions or open_conflicts or outputs):
        return result
    label = project.id or str(project.root)
    where = f" ({project.subdir})" if project.subdir else ""
    out.add(f"# Context store briefing: {label}{where}")
    out.add("(from the claude-agents context store; `agents context …` and the context tools)")
    if open_conflicts:
        out.add("")
        out.add(f"## Unresolved sync conflicts ({len(open_conflicts)})")
        for c in open_conflicts[:5]:
            if out.add(f"- {c.doc_id} ({c.policy}, {_when(c.detected_at)})"):
                result.conflicts += 1
        out.add("Review with `agents sync conflicts`; settle with `agents sync resolve`.")
        result.sections.append("conflicts")
    tasks: list[str] = []
    if sessions:
        out.add("")
        out.add("## Last sessions on this project")
        for stamp, body, doc_id in sessions:
            kind = "checkpoint" if doc_id.startswith("checkpoint:") else "saved"
            head = f"- {_when(stamp)} · {_where(body, store, hosts)} · {_cut(body['title'], 80)}"
            note = ""
            session = (body.get("transcript") or {}).get("session") or body.get("session")
            if kind == "checkpoint" and session:
                archived = (body.get("transcript") or {}).get("archive")
                elsewhere = body.get("machine_id") != store.machine_id
                note = (
                    f" (resume here: `agents claude resume {session}`)"
                    if archived and elsewhere
                    else f" (session {session})"
                )
            summary = body.get("summary")
            room = LINE - len(head) - len(note) - 3  # the summary gives way, never the command
            line = head + (f" — {_cut(summary, room)}" if summary and room > 0 else "") + note
            if out.add(_cut(line, LINE + 60), fit=True):
                result.sessions += 1
            open_here = _open_tasks(body.get("tasks") or body.get("current_tasks") or [])
            tasks += [f"{_cut(t, 160)} — {_cut(body['title'], 40)}" for t in open_here]
        result.sections.append("sessions")
    if tasks:
        out.add("")
        out.add("## Open tasks")
        for task in dict.fromkeys(tasks):
            if result.tasks >= TASKS or not out.add(f"- {task}"):
                break
            result.tasks += 1
        result.sections.append("tasks")
    if outputs:
        out.add("")
        out.add("## Recent agent outputs")
        for e in outputs:
            b = e.body
            preview = b.get("error") or b.get("output_preview") or ""
            line = (
                f"- {_when(b.get('started_at', ''))} {b['agent']}.{b['handler']} {b['status']}"
                f" ({round(float(b.get('duration_ms', 0)))} ms)"
                + (f": {_cut(str(preview), 120)}" if preview else "")
            )
            if out.add(line):
                result.outputs += 1
        result.sections.append("outputs")
    if out.left_out:
        out.budget += 80  # the note itself always fits
        out.add(f"({out.left_out} more left out to stay within {tokens} tokens)")
    result.left_out = out.left_out
    result.text = "\n".join(out.lines).strip() + "\n"
    return result
