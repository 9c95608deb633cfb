"""The context agent's tools, in memory, over a real store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from agents.context.tools import SPEC
from agents.core.runtime import AgentRuntime
from agents.core.server import build_server
from agents.core.settings import CoreSettings, EnvLayers
from agents.store.recorder import StoreRecorder
from agents.store.store import ContextStore
from tests.results import text_of

pytestmark = pytest.mark.anyio


@pytest.fixture(name="server")
def _server(tmp_path: Path) -> Any:
    (tmp_path / "environments").mkdir()
    layers = EnvLayers(root=tmp_path, env="test", values={"CONTEXT_TOOLSETS": "all"})
    recorder = StoreRecorder(
        ContextStore(tmp_path / "context" / "test", actor="agent:context"),
        "context",
        blob_threshold=4096,
        state_interval=60,
    )
    runtime = AgentRuntime.start(SPEC, layers, CoreSettings(port_base=9000), None, recorder)
    assert runtime.ready, runtime.reason
    return build_server(runtime, token=None, port=None)


async def call(client: Client, tool: str, **args: Any) -> Any:
    result = await client.call_tool(tool, args)
    assert not result.is_error, result.content
    return result.structured_content


async def test_put_get_list_search_history_and_delete(server: Any) -> None:
    """The document verbs, end to end through MCP."""
    async with Client(server) as client:
        body = {"key": "editor", "value": "helix"}
        first = await call(
            client, "put_document", id="preference:editor", kind="preference", body=body
        )
        await call(
            client,
            "put_document",
            id="preference:editor",
            kind="preference",
            body={**body, "value": "vim"},
            expect_revision=first["revision"],
        )
        doc = await call(client, "get_document", id="preference:editor")
        assert doc["body"]["value"] == "vim" and doc["parents"] == [first["revision"]]
        old = await call(client, "get_document", id="preference:editor", at=first["revision"])
        assert old["body"]["value"] == "helix"
        listed = await call(client, "list_documents", kind="preference")
        assert [d["id"] for d in listed["documents"]] == ["preference:editor"]
        found = await call(client, "search_documents", query="VIM")
        assert [h["id"] for h in found["hits"]] == ["preference:editor"]
        history = await call(client, "document_history", id="preference:editor")
        assert [r["head"] for r in history["revisions"]] == [False, True]
        await call(client, "delete_document", id="preference:editor")
        assert (await call(client, "list_documents"))["documents"] == []


async def test_invalid_documents_and_unknown_ids_are_tool_errors(server: Any) -> None:
    """Schema refusals name the path; a missing document says so."""
    async with Client(server) as client:
        bad = await client.call_tool(
            "put_document", {"id": "session:x", "kind": "session", "body": {"title": "t"}}
        )
        missing = await client.call_tool("get_document", {"id": "session:nope"})
        no_snapshot = await client.call_tool("diff", {"a": "nope"})
    assert bad.is_error and "'status' is a required property at /body" in text_of(bad)
    # the hint names this agent's tools, never a CLI verb
    assert missing.is_error and text_of(missing) == (
        "no document 'session:nope'; list_documents or search_documents shows what exists"
    )
    assert text_of(no_snapshot).endswith("; list_snapshots lists them")


async def test_sessions_are_saved_and_restored_as_markdown(server: Any) -> None:
    """save_session then restore_session('latest') gives Claude what to continue from."""
    async with Client(server) as client:
        saved = await call(
            client,
            "save_session",
            title="Issue 3",
            summary="store works",
            key_decisions=["WAL"],
            current_tasks=["bench"],
            project="agents",
        )
        await call(
            client, "save_session", session_id=saved["id"], current_tasks=["docs"], append=True
        )
        restored = await call(client, "restore_session")
        listed = await call(client, "list_sessions", status="active")
    assert restored["id"] == saved["id"]
    assert restored["session"]["current_tasks"] == ["bench", "docs"]
    assert "## Current tasks\n- bench\n- docs" in restored["markdown"]
    assert [d["id"] for d in listed["documents"]] == [saved["id"]]


async def test_a_snapshot_label_longer_than_200_characters_is_refused_naming_it(
    server: Any,
) -> None:
    """Labels come back in every listing: a huge one is an argument error, and not stored."""
    async with Client(server) as client:
        result = await client.call_tool("snapshot", {"label": "x" * 201})
        snaps = await call(client, "list_snapshots")
    assert result.is_error and "label" in text_of(result)
    assert "at most 200 characters" in text_of(result)
    assert snaps["snapshots"] == []


async def test_recent_outputs_lists_recorded_calls_and_diff_shows_changes(server: Any) -> None:
    """The server's own calls are recorded; diff against a snapshot reads like a patch."""
    async with Client(server) as client:
        await call(
            client,
            "put_document",
            id="preference:a",
            kind="preference",
            body={"key": "a", "value": 1},
        )
        snap = await call(client, "snapshot", label="one")
        await call(
            client,
            "put_document",
            id="preference:a",
            kind="preference",
            body={"key": "a", "value": 2},
        )
        changed = await call(client, "diff", a="one")
        snaps = await call(client, "list_snapshots")
        outputs = await call(client, "recent_outputs", agent="context", limit=3)
        default = await call(client, "recent_outputs")
        failed = await call(client, "recent_outputs", status="error")
    assert snaps["snapshots"][0]["id"] == snap["id"]
    entry = changed["documents"][0]
    assert entry["status"] == "modified" and "+/value: 2" in entry["text"]
    assert [o["tool"] for o in outputs["outputs"]] == ["list_snapshots", "diff", "put_document"]
    assert failed["outputs"] == [] and default["outputs"] == []
