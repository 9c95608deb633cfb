"""Every kind has a 2020-12 schema, checked on write, refusals name the path and the rule."""

from __future__ import annotations

from typing import Any

import pytest

from agents.core.errors import InputError
from agents.store.schemas import (
    KINDS,
    InvalidDocumentError,
    check_body,
    check_envelope,
    check_schemas,
)
from agents.store.store import ContextStore

VALID: dict[str, Any] = {
    "session": {
        "title": "Sync design",
        "status": "active",
        "key_decisions": ["WAL"],
        "current_tasks": ["tests", {"title": "bench", "status": "todo"}],
        "references": ["https://x", {"uri": "file:///a", "title": "a"}],
        "project": {"name": "agents", "repository": {"commit": "abc1234"}},
    },
    "machine_state": {"machine_id": "m-1", "host": "box", "agents": {"notion": {"pid": 3}}},
    "agent_output": {
        "agent": "notion",
        "handler": "create_page",
        "status": "ok",
        "outcome": "ok",
        "started_at": "2026-01-01T00:00:00.000Z",
        "duration_ms": 1.5,
        "input": {},
        "output": {"id": "p"},
    },
    "sync_record": {"operation": "push", "status": "ok", "items_synced": 3},
    "preference": {"key": "theme", "value": {"any": ["json"]}},
    "mcp_server": {"name": "notion", "command": "npx", "env": {"T": "${NOTION_TOKEN}"}},
    "skill": {"name": "context-sync", "files": [{"path": "SKILL.md", "text": "---\n"}]},
    "claude_file": {"path": "{{home}}/.claude/CLAUDE.md", "format": "markdown", "text": "# Me"},
    "project": {"name": "agents", "paths": {"m-1": "/src/agents"}},
}


def test_the_required_kinds_all_have_a_valid_2020_12_schema() -> None:
    """The nine kinds of the issue, at least; every file passes the meta-schema."""
    assert set(VALID) <= set(KINDS)
    check_schemas()


@pytest.mark.parametrize("kind", sorted(VALID))
def test_a_valid_body_of_each_kind_passes(kind: str) -> None:
    """The examples are what real writers produce."""
    check_body(kind, VALID[kind])


@pytest.mark.parametrize(
    ("kind", "body", "path", "rule"),
    [
        (
            "session",
            {"title": "x", "status": "done"},
            "/body/status",
            "session.json#/properties/status/enum",
        ),
        ("session", {"status": "active"}, "/body", "session.json#/required"),
        (
            "session",
            {"title": "x", "status": "active", "tool_state": {}},
            "/body",
            "session.json#/additionalProperties",
        ),
        (
            "agent_output",
            {**VALID["agent_output"], "duration_ms": -1},
            "/body/duration_ms",
            "agent_output.json#/properties/duration_ms/minimum",
        ),
        (
            "agent_output",
            {**VALID["agent_output"], "started_at": "yesterday"},
            "/body/started_at",
            "agent_output.json#/properties/started_at/pattern",
        ),
        (
            "project",
            {"name": "p", "paths": {"m-1": ""}},
            "/body/paths/m-1",
            "project.json#/properties/paths/additionalProperties/minLength",
        ),
    ],
)
def test_an_invalid_body_is_refused_with_the_path_and_the_rule_that_failed(
    kind: str, body: dict[str, Any], path: str, rule: str
) -> None:
    """The error says where in the document and which schema rule."""
    with pytest.raises(InvalidDocumentError) as info:
        check_body(kind, body, f"{kind}:x")
    assert info.value.path == path
    assert info.value.schema_path == rule
    assert path in str(info.value) and rule in str(info.value)


def test_an_unknown_kind_is_an_input_error_listing_the_kinds() -> None:
    """Typos in kind names are caught."""
    with pytest.raises(InputError) as info:
        check_body("sesion", {})
    assert "session" in str(info.value)


def test_a_stored_envelope_passes_the_envelope_schema(store: ContextStore) -> None:
    """What the store writes is what sync will validate on pull."""
    envelope = store.put("preference:theme", "preference", VALID["preference"])
    check_envelope(envelope.to_dict())
    broken = dict(envelope.to_dict(), rev={"vv": {}, "parents": []})
    with pytest.raises(InvalidDocumentError) as info:
        check_envelope(broken)
    assert info.value.path == "/rev/vv"


def test_the_store_refuses_an_invalid_document_and_writes_nothing(store: ContextStore) -> None:
    """Checked on every write: nothing half-written, no audit row."""
    with pytest.raises(InvalidDocumentError):
        store.put("session:x", "session", {"title": "x", "status": "bogus"})
    assert store.head_info("session:x") is None
    with store.reading() as conn:
        assert conn.execute("SELECT count(*) FROM audit").fetchone()[0] == 0
