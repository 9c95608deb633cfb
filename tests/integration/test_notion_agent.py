"""The Notion agent end to end: supervised by real supervisord, called by a real MCP client
over HTTP, talking to the loopback fake Notion through the real notion-client."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from agents.core.testing import mcp_client
from tests.fakes.notion import FakeNotion, running
from tests.integration.conftest import make_project
from tests.project import Project

pytestmark = pytest.mark.integration


@pytest.fixture(name="fake", scope="module")
def _fake() -> Iterator[FakeNotion]:
    with running() as fake:
        yield fake


@pytest.fixture(name="notion_project", scope="module")
def _notion_project(
    tmp_path_factory: pytest.TempPathFactory, fake: FakeNotion
) -> Iterator[Project]:
    repo = Path(__file__).resolve().parents[2]
    project = make_project(tmp_path_factory.mktemp("notion"), repo)
    project.set_env("local", NOTION_BASE_URL=fake.url)
    project.set_secrets("local", NOTION_TOKEN=fake.token)
    with project.started("local"):
        yield project


def test_a_supervised_notion_agent_creates_a_page_over_mcp(
    notion_project: Project, fake: FakeNotion
) -> None:
    """start-all-agents → /readyz ready → create_page and get_page over MCP reach the fake."""
    root = fake.add_root_page("Inbox")
    rows = json.loads(notion_project.run("agents", "status", "local", "--json").stdout)
    row = next(r for r in rows if r["agent"] == "notion")
    token = notion_project.secret("local", "NOTION_AGENT_TOKEN")

    async def go() -> tuple[Any, Any, Any]:
        async with mcp_client(row["url"], token) as client:
            info = (await client.call_tool("agent_info", {})).structured_content
            made = await client.call_tool(
                "create_page",
                {
                    "title": "From Claude",
                    "parent_page_id": root,
                    "markdown": "# Hello\n\n- [ ] follow up\n",
                },
            )
            read = await client.call_tool("get_page", {"page_id": made.structured_content["id"]})
            return info, made, read

    info, made, read = anyio.run(go)
    assert row["state"] in ("STARTING", "RUNNING") and row["answering"]
    assert info["upstream_configured"] is True and info["tools"] == 9
    assert not made.is_error and not read.is_error
    assert read.structured_content["markdown"] == "# Hello\n\n- [ ] follow up\n"
    create = fake.calls("POST", "/v1/pages")[-1]
    assert create.body["parent"] == {"type": "page_id", "page_id": root}
    logs = notion_project.root / "supervisor.d" / "local" / "logs"
    text = "".join(p.read_text() for p in logs.iterdir() if p.is_file())
    assert '"tool_call"' in text and fake.token not in text
