"""Sessions: what a piece of work is about, what was decided and what is next.

The fields follow the original project's context and session schemas (title, status,
project, summary, key decisions, current tasks, references). ``restore`` renders a session
as the Markdown Claude reads to pick the work up again.
"""

from __future__ import annotations

from typing import Any

from agents.core.errors import NotFoundError
from agents.store.canonical import now_iso, ulid
from agents.store.envelope import Envelope
from agents.store.store import ContextStore

__all__ = ["LIST_FIELDS", "find_session", "render_session", "save_session", "session_id"]

LIST_FIELDS = ("key_decisions", "current_tasks", "references", "tags")


def session_id(ref: str) -> str:
    """``ref`` as a session document id (``session:`` added when missing)."""
    return ref if ref.startswith("session:") else f"session:{ref}"


def save_session(
    store: ContextStore,
    fields: dict[str, Any],
    *,
    ref: str | None = None,
    append: bool = False,
    actor: str | None = None,
) -> Envelope:
    """Create a session, or update session ``ref`` with ``fields`` (None values are ignored;
    list fields replace the stored ones, or extend them with ``append``)."""
    doc_id = session_id(ref) if ref else f"session:{ulid()}"
    given = {k: v for k, v in fields.items() if v is not None}

    def change(current: Any) -> Any:
        body: dict[str, Any] = dict(current or {})
        if current is None:
            body.setdefault("status", "active")
            body["started_at"] = now_iso()
            body["machine_id"] = store.machine_id
        for key, value in given.items():
            if append and key in LIST_FIELDS and isinstance(body.get(key), list):
                body[key] = [*body[key], *(v for v in value if v not in body[key])]
            else:
                body[key] = value
        body["updated_at"] = now_iso()
        return body

    if ref is None and "title" not in given:
        from agents.core.errors import InputError

        raise InputError("a new session needs a title")
    return store.update(doc_id, "session", change, actor=actor, op="session_save")


def find_session(store: ContextStore, ref: str = "latest") -> Envelope:
    """Session ``ref``, or with ``latest`` the most recently updated active (else any) one.

    Raises:
        NotFoundError: No such session.
    """
    if ref not in ("latest", "current"):
        return store.get(session_id(ref))
    found = store.list("session", where={"status": "active"}, limit=1) or store.list(
        "session", limit=1
    )
    if not found:
        raise NotFoundError("no session saved yet", what="session")
    return found[0]


def _items(title: str, values: list[Any]) -> list[str]:
    if not values:
        return []
    lines = [f"## {title}"]
    for v in values:
        if isinstance(v, dict):
            text = v.get("title") or v.get("uri", "")
            extra = v.get("status") or (v.get("uri") if v.get("title") else None)
            lines.append(f"- {text}" + (f" ({extra})" if extra else ""))
        else:
            lines.append(f"- {v}")
    return [*lines, ""]


def render_session(envelope: Envelope) -> str:
    """The session as Markdown, for Claude to continue from."""
    b = envelope.body
    lines = [f"# {b['title']}", ""]
    meta = [f"status: {b['status']}", f"id: {envelope.id}", f"updated: {envelope.updated_at}"]
    if b.get("priority"):
        meta.append(f"priority: {b['priority']}")
    project = b.get("project") or {}
    if project:
        repo = project.get("repository", {})
        where = project.get("name") or project.get("path") or repo.get("url", "")
        meta.append(f"project: {where}" + (f" @ {repo['branch']}" if repo.get("branch") else ""))
    lines += [" · ".join(meta), ""]
    if b.get("summary"):
        lines += ["## Summary", b["summary"], ""]
    lines += _items("Key decisions", b.get("key_decisions", []))
    lines += _items("Current tasks", b.get("current_tasks", []))
    lines += _items("References", b.get("references", []))
    if b.get("notes"):
        lines += ["## Notes", b["notes"], ""]
    if b.get("tags"):
        lines += [f"tags: {', '.join(b['tags'])}", ""]
    return "\n".join(lines).rstrip() + "\n"
