"""The context agent's sync tools, in memory, against a folder remote shared with a second
machine's store."""

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
from agents.sync import open_remote
from agents.sync.engine import Syncer
from tests.servers import trust_each_other

pytestmark = pytest.mark.anyio


def server_for(root: Path, remote: Path | None) -> Any:
    (root / "environments").mkdir(parents=True, exist_ok=True)
    values = {"CONTEXT_REMOTE": f"dir://{remote}"} if remote else {}
    values["CONTEXT_TOOLSETS"] = "all"
    layers = EnvLayers(root=root, env="test", values=values)
    recorder = StoreRecorder(
        ContextStore(root / "context" / "test", actor="agent:context"),
        "context",
        blob_threshold=4096,
        state_interval=60,
    )
    runtime = AgentRuntime.start(SPEC, layers, CoreSettings(port_base=9000), None, recorder)
    return build_server(runtime, token=None, port=None)


async def call(client: Client, tool: str, **args: Any) -> Any:
    result = await client.call_tool(tool, args)
    assert not result.is_error, result.content
    return result.structured_content


async def test_status_sync_conflicts_and_resolve_over_mcp(tmp_path: Path) -> None:
    """What `agents sync` does, as tools Claude can call."""
    remote = tmp_path / "remote"
    md = {"path": "CLAUDE.md", "format": "markdown"}
    with ContextStore(tmp_path / "laptop", machine_id="laptop") as laptop:
        laptop.put("claude_file:user/CLAUDE.md", "claude_file", {**md, "text": "a\n"})
        Syncer(laptop, open_remote(f"dir://{remote}")).sync()
        with ContextStore(tmp_path / "desktop" / "context" / "test") as desktop:
            trust_each_other(laptop, desktop)
        async with Client(server_for(tmp_path / "desktop", remote)) as client:
            status = await call(client, "sync_status")
            assert status["behind"] == ["laptop"] and status["conflicts"] == 0
            done = await call(client, "sync_now", direction="pull")
            assert done["pulled"] >= 1 and "fast-forwarded" in done["summary"]
            with ContextStore(tmp_path / "desktop" / "context" / "test") as desktop:
                desktop.put(
                    "claude_file:user/CLAUDE.md", "claude_file", {**md, "text": "desktop\n"}
                )
            laptop.put("claude_file:user/CLAUDE.md", "claude_file", {**md, "text": "laptop\n"})
            Syncer(laptop, open_remote(f"dir://{remote}")).sync()
            done = await call(client, "sync_now")
            assert done["needs_review"] == ["claude_file:user/CLAUDE.md"]
            listed = await call(client, "list_conflicts")
            assert [c["doc_id"] for c in listed["conflicts"]] == ["claude_file:user/CLAUDE.md"]
            left = await call(
                client, "resolve_conflict", id="claude_file:user/CLAUDE.md", take="remote"
            )
            assert left["conflicts"] == []
            doc = await call(client, "get_document", id="claude_file:user/CLAUDE.md")
            assert doc["body"]["text"] == "laptop\n"
            assert (await call(client, "sync_now", direction="push"))["pushed"] >= 1


async def test_without_a_remote_the_sync_tools_say_what_to_set(tmp_path: Path) -> None:
    """A tool error naming CONTEXT_REMOTE, and the agent keeps serving."""
    async with Client(server_for(tmp_path, None)) as client:
        result = await client.call_tool("sync_status", {})
        assert result.is_error and "CONTEXT_REMOTE is not set" in str(result.content)
        assert not (await client.call_tool("list_conflicts", {})).is_error
