"""Plain-dict views of stored documents: one shape for the CLI's ``--json`` and the MCP tools."""

from __future__ import annotations

from typing import Any

from agents.store.envelope import Envelope

__all__ = ["document", "output_view", "summary", "title_of"]

_TITLE_FIELDS = ("title", "name", "key", "path", "handler")


def title_of(envelope: Envelope) -> str:
    """A short human label for a document."""
    body = envelope.body if isinstance(envelope.body, dict) else {}
    if envelope.kind == "agent_output":
        return f"{body.get('agent')}.{body.get('handler')} {body.get('status')}"
    for name in _TITLE_FIELDS:
        if isinstance(body.get(name), str):
            return str(body[name])[:120]
    return ""


def summary(envelope: Envelope) -> dict[str, Any]:
    """Identity and revision of a document, without its body."""
    return {
        "id": envelope.id,
        "kind": envelope.kind,
        "title": title_of(envelope),
        "revision": envelope.hash,
        "updated_at": envelope.updated_at,
        "origin_machine": envelope.origin_machine,
        "scope": envelope.scope["level"],
        "deleted": envelope.deleted,
    }


def document(envelope: Envelope) -> dict[str, Any]:
    """A document whole: summary, lineage and body."""
    return {
        **summary(envelope),
        "content_hash": envelope.content_hash,
        "vv": envelope.vv,
        "parents": envelope.parents,
        "hlc": envelope.hlc,
        "scope_detail": envelope.scope,
        "body": envelope.body,
        "secret_refs": envelope.secret_refs,
    }


def output_view(envelope: Envelope) -> dict[str, Any]:
    """One recorded tool call."""
    b = envelope.body
    return {
        "id": envelope.id,
        "agent": b["agent"],
        "tool": b["handler"],
        "status": b["status"],
        "outcome": b["outcome"],
        "started_at": b["started_at"],
        "duration_ms": b["duration_ms"],
        "input": b["input"],
        "output": b.get("output"),
        "output_ref": b.get("output_ref"),
        "output_preview": b.get("output_preview"),
        "error": b.get("error"),
        "meta": b.get("meta") or {},
    }
