"""Lokka end to end: supervised by real supervisord, called over MCP, talking to the fakes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from agents.core.testing import mcp_client
from tests.fakes.arm import FakeArm
from tests.fakes.graph import FakeGraph
from tests.fakes.sts import CLIENT_ID, SECRET, TENANT, FakeSts, make_cert
from tests.integration.test_supervised_agents import status
from tests.project import Project

pytestmark = pytest.mark.integration


@pytest.fixture(name="fakes", scope="module")
def _fakes(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[FakeSts, FakeGraph, FakeArm, Path]]:
    cert, key = make_cert(tmp_path_factory.mktemp("tls"), "sts", server=True)
    sts = FakeSts((cert, key)).start()
    graph = FakeGraph(tokens=sts.issued).start()
    arm = FakeArm(tokens=sts.issued).start()
    yield sts, graph, arm, cert
    for fake in (graph, arm, sts):
        fake.stop()


def test_the_supervised_lokka_agent_lists_users_and_dry_runs_a_write_over_mcp(
    project: Project, fakes: tuple[FakeSts, FakeGraph, FakeArm, Path]
) -> None:
    """Env file points at the fakes, secret in the secrets file; /readyz is 200; calls work."""
    sts, graph, arm, cert = fakes
    project.set_env(
        "local",
        AZURE_TENANT_ID=TENANT,
        AZURE_CLIENT_ID=CLIENT_ID,
        AZURE_AUTHORITY_HOST=sts.url,
        LOKKA_CA_BUNDLE=str(cert),
        LOKKA_GRAPH_URL=graph.url,
        LOKKA_ARM_URL=arm.url,
        LOKKA_PROTECTED="breakglass*@contoso.com",
        # a loaded CI box can need more than the module default to import three agents
        HEALTH_GRACE_SECONDS="60",
        AGENTS_READY_TIMEOUT="90",
    )
    project.set_secrets("local", AZURE_CLIENT_SECRET=SECRET)
    project.run("scripts/start-all-agents", "local")
    row = status(project)["lokka"]
    ready = httpx.get(row["url"].removesuffix("/mcp") + "/readyz").json()
    assert ready["ready"] is True

    async def go() -> tuple[Any, Any]:
        async with mcp_client(row["url"], project.secret("local", "LOKKA_AGENT_TOKEN")) as client:
            users = await client.call_tool("list_users", {"limit": 2})
            # not a default tool: Claude enables its toolset first, as a user's session would
            enabled = await client.call_tool("toolsets", {"enable": ["users"]})
            assert enabled.structured_content["enabled_now"] == ["users"]
            dry = await client.call_tool("disable_user", {"user": "bob@contoso.com"})
            return users, dry

    users, dry = anyio.run(go)
    assert not users.is_error and len(users.structured_content["items"]) == 2
    assert not dry.is_error and dry.structured_content["dry_run"] is True
    assert graph.writes() == []
    assert [r.path for r in graph.requests] == ["/v1.0/users", "/v1.0/users/bob@contoso.com"]
    assert graph.requests[0].headers["authorization"].removeprefix("Bearer ") in sts.issued
    logs = (project.root / "supervisor.d/local/logs").glob("lokka*")
    assert all(SECRET not in p.read_text() for p in logs)
