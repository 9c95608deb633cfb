"""The Fizzy agent end to end: supervised by real supervisord, configured through the project's
env and secrets files, called by a real MCP client over HTTP, talking to the loopback fake."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import anyio
import pytest

from agents.core.testing import mcp_client
from tests.fakes.fizzy import SLUG, WRITE_TOKEN, FakeFizzy
from tests.project import Project

pytestmark = pytest.mark.integration


@pytest.fixture(name="fake", scope="module")
def _fake() -> Iterator[FakeFizzy]:
    with FakeFizzy() as fake:
        yield fake


def fizzy_row(project: Project) -> dict[str, Any]:
    out = project.run("agents", "status", "local", "--json").stdout
    return next(row for row in json.loads(out) if row["agent"] == "fizzy")


def test_the_supervised_fizzy_agent_creates_and_reads_a_task_over_mcp(
    project: Project, fake: FakeFizzy
) -> None:
    """FIZZY_URL in .env.local, FIZZY_TOKEN in the secrets file: the agent is ready, a task made
    through MCP exists in Fizzy, and the token appears in no log."""
    project.set_env("local", FIZZY_URL=fake.url)
    project.set_secrets("local", FIZZY_TOKEN=WRITE_TOKEN)
    with project.started("local"):
        row = fizzy_row(project)
        assert row["state"] in ("STARTING", "RUNNING") and row["answering"]
        agent_token = project.secret("local", "FIZZY_AGENT_TOKEN")

        async def session() -> tuple[Any, Any, Any]:
            async with mcp_client(row["url"], agent_token) as client:
                info = await client.call_tool("agent_info", {})
                created = await client.call_tool(
                    "create_task",
                    {"project_id": fake.board.id, "title": "From Claude", "tags": ["mcp"]},
                )
                fetched = await client.call_tool(
                    "get_task", {"task_number": created.structured_content["number"]}
                )
                return info.structured_content, created, fetched.structured_content

        info, created, fetched = anyio.run(session)
        log = (project.root / "supervisor.d/local/logs/fizzy.log").read_text()
    assert info["upstream_configured"] is True and info["tools"] == 12
    assert not created.is_error, created.content
    assert fetched["title"] == "From Claude" and fetched["tags"] == ["mcp"]
    assert fake.account.cards[fetched["number"]].title == "From Claude"
    assert fake.requests("POST", f"/{SLUG}/boards/{fake.board.id}/cards")
    assert all(s.headers["authorization"] == f"Bearer {WRITE_TOKEN}" for s in fake.seen)
    assert '"tool": "create_task"' in log and WRITE_TOKEN not in log
