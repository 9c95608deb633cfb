"""The fault and load suite: one supervised copy of the repository for the whole package,
with realistic fake credentials, so every module works on the same running system.

Crash-loop detection is set high: the crash tests kill agents on purpose, many times.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import pytest

from agents.core.testing import mcp_client
from tests.integration.conftest import make_project
from tests.project import Project, free_port_block

# Shaped like the real thing (so pattern scanners would catch them), but not real.
FAKE_SECRETS = {
    "NOTION_TOKEN": "ntn_" + "4f7Q2mX9pL3kR8vT1nB6cW5yH0jD2sA7eG9uK3iO1zZ4xY",
    "FIZZY_TOKEN": "fz_9Kd2Lm4Np6Qr8St0Uv2Wx4Yz6Ab8Cd0Ef",
    "AZURE_CLIENT_SECRET": "Xk98Q~k2Lm9Np0Qr3St6Uv9Wx2Yz5Ab8Cd1EfGh",
}


@dataclass
class System:
    """The running system under test."""

    project: Project
    env: str = "local"

    def status(self) -> dict[str, dict[str, Any]]:
        """``agents status --json`` by agent."""
        out = self.project.run("agents", "status", self.env, "--json", check=False).stdout
        return {row["agent"]: row for row in json.loads(out)}

    def token(self, agent: str) -> str:
        """The bearer token of ``agent``."""
        return self.project.secret(self.env, f"{agent.upper()}_AGENT_TOKEN")

    def call(self, agent: str, tool: str, **args: Any) -> Any:
        """One tool call over HTTP with the token; returns the structured result."""
        url = self.status()[agent]["url"]

        async def go() -> Any:
            async with mcp_client(url, self.token(agent)) as client:
                result = await client.call_tool(tool, args)
                assert not result.is_error, result.content
                return result.structured_content

        return anyio.run(go)

    @property
    def root(self) -> Path:
        """The project copy's root."""
        return self.project.root


def start_system(root: Path) -> System:
    """Copy the repository to ``root``, configure ``local`` with the fake credentials and
    crash-loop detection out of the way, and start every agent."""
    repo = Path(__file__).resolve().parents[2]
    project = make_project(root, repo)
    project.set_env(
        "local",
        AGENTS_PORT_BASE=str(free_port_block(6)),
        CRASH_LOOP_EXITS="1000",
        HEALTH_GRACE_SECONDS="30",
        NOTION_BASE_URL="http://127.0.0.1:9",  # configured, never reached: no network here
        FIZZY_URL="http://127.0.0.1:9",
        FIZZY_ACCOUNT="897362094",
        AZURE_TENANT_ID="00000000-0000-0000-0000-000000000001",
        AZURE_CLIENT_ID="00000000-0000-0000-0000-000000000002",
        # every tool, for the fuzzers and the oracle
        NOTION_TOOLSETS="all",
        FIZZY_TOOLSETS="all",
        LOKKA_TOOLSETS="all",
        CONTEXT_TOOLSETS="all",
    )
    project.set_secrets("local", **FAKE_SECRETS)
    project.run("scripts/start-all-agents", "local", timeout=300)
    return System(project)


@pytest.fixture(name="system", scope="package")
def _system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    system = start_system(tmp_path_factory.mktemp("chaos"))
    yield system
    system.project.run("stop-all-agents", "local", check=False)
