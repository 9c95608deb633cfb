"""The store end to end: supervised agents record their calls, the context agent (the fourth
program of the group) answers over MCP, the CLI reads the same store."""

from __future__ import annotations

import json
from typing import Any

import anyio
import pytest

from agents.core.testing import mcp_client
from tests.integration.conftest import wait_for
from tests.project import Project

pytestmark = pytest.mark.integration


def status(project: Project) -> dict[str, dict[str, Any]]:
    out = project.run("agents", "status", "local", "--json", check=False).stdout
    return {row["agent"]: row for row in json.loads(out)}


def call(project: Project, server: str, tool: str, **args: Any) -> Any:
    row = status(project)[server]
    token = project.secret("local", f"{server.upper()}_AGENT_TOKEN")

    async def go() -> Any:
        async with mcp_client(row["url"], token) as client:
            result = await client.call_tool(tool, args)
            assert not result.is_error, result.content
            return result.structured_content

    return anyio.run(go)


def cli(project: Project, *argv: str) -> Any:
    return json.loads(project.run("agents", "context", *argv, "--json").stdout)


def test_the_context_agent_runs_as_the_fourth_program_of_the_group(project: Project) -> None:
    """start-all-agents brings it up with the others, on base + 4."""
    # A loaded 2-core CI box can need more than the defaults to start four agents at once.
    project.set_env("local", AGENTS_READY_TIMEOUT="120", HEALTH_GRACE_SECONDS="30")
    project.run("scripts/start-all-agents", "local", timeout=240)
    rows = status(project)
    assert rows["context"]["state"] in ("STARTING", "RUNNING") and rows["context"]["ready"]
    assert rows["context"]["port"] == rows["notion"]["port"] + 3


def test_agents_record_every_call_and_the_context_agent_lists_them(project: Project) -> None:
    """A call to notion lands as an agent_output before its result returns."""
    info = call(project, "notion", "agent_info")
    assert info["agent"] == "notion"
    outputs = call(project, "context", "recent_outputs", agent="notion")["outputs"]
    assert outputs[0]["tool"] == "agent_info" and outputs[0]["status"] == "ok"
    assert outputs[0]["output"]["agent"] == "notion"
    from_cli = cli(project, "outputs", "--agent", "notion")
    assert from_cli[0]["id"] == outputs[0]["id"]
    rows = cli(project, "audit", "list", "--actor", "agent:notion", "--limit", "1")
    assert rows[0]["doc_id"] == outputs[0]["id"]


def test_sessions_saved_over_mcp_are_restored_by_the_cli(project: Project) -> None:
    """One store, two doors."""
    saved = call(
        project,
        "context",
        "save_session",
        title="Integration",
        summary="supervised",
        key_decisions=["one store per environment"],
        current_tasks=["bench"],
    )
    restored = project.run("agents", "context", "session", "restore", saved["id"]).stdout
    assert restored.startswith("# Integration") and "- one store per environment" in restored
    again = call(project, "context", "restore_session")
    assert again["id"] == saved["id"]


def test_the_machine_state_holds_every_agent_from_agents_and_the_health_listener(
    project: Project,
) -> None:
    """pid, port, uptime and readiness of each agent; the listener adds what it probes."""
    machine = cli(project, "info")["machine_id"]
    pids = {name: row["pid"] for name, row in status(project).items()}

    def complete() -> Any:
        doc = call(project, "context", "get_document", id=f"machine_state:{machine}")
        agents = doc["body"]["agents"]
        if set(agents) != set(pids) or "supervisor" not in doc["body"]:
            return None
        if any(agents[n].get("pid") != pids[n] or "answering" not in agents[n] for n in pids):
            return None
        return doc["body"]

    body = wait_for(complete, 40, "the machine state of all four agents")
    assert isinstance(body, dict)
    notion = body["agents"]["notion"]
    assert notion["ready"] is False and "NOTION_TOKEN" in notion["reason"]
    assert notion["uptime_seconds"] >= 0 and notion["answering"] is True
    assert body["agents"]["context"]["ready"] is True
    assert body["versions"]["agents"] and body["host"]
    assert cli(project, "audit", "verify")["ok"] is True


def test_with_a_remote_and_an_interval_a_supervised_program_syncs_both_ways(
    project: Project, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """SYNC_INTERVAL adds the `sync` program: it pushes this machine and pulls another's."""
    from agents.store.store import ContextStore
    from agents.sync import open_remote
    from agents.sync.engine import Syncer
    from agents.sync.state import read_heads
    from tests.servers import trust_each_other

    remote_dir = tmp_path_factory.mktemp("sync-remote") / "remote"
    url = f"dir://{remote_dir}"
    machine = cli(project, "info")["machine_id"]
    with ContextStore(tmp_path_factory.mktemp("other") / "ctx", machine_id="other") as other:
        other.put("preference:from-other", "preference", {"key": "from-other", "value": 1})
        Syncer(other, open_remote(url)).push()
        with ContextStore(project.root / "context" / "local") as here:
            trust_each_other(other, here)
    project.set_env("local", CONTEXT_REMOTE=url, SYNC_INTERVAL="10")
    try:
        out = project.run("scripts/start-all-agents", "local", timeout=240).stdout
        assert "sync: " in out
        wait_for(lambda: machine in read_heads(open_remote(url)), 60, "the sync program's push")
        doc = wait_for(
            lambda: (
                project.run(
                    "agents", "context", "get", "preference:from-other", "--json", check=False
                ).returncode
                == 0
            ),
            60,
            "the sync program's pull",
        )
        assert doc
        log = project.run("agents", "logs", "local", "sync").stdout
        assert "sync_done" in log
    finally:
        project.set_env("local", CONTEXT_REMOTE="", SYNC_INTERVAL="")
        project.run("scripts/start-all-agents", "local", timeout=240)
    assert "sync: " not in project.run("agents", "status", "local").stdout
