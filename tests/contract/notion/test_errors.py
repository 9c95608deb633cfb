"""Notion's failures become clear tool errors; retries only where they are safe."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.core.testing import free_port
from tests.contract.notion.conftest import Agent, call, fail
from tests.fakes.notion import FakeNotion
from tests.results import text_of

pytestmark = [pytest.mark.anyio, pytest.mark.contract]

MISSING = "0f0f0f0f-0f0f-4f0f-8f0f-0f0f0f0f0f0f"


async def test_object_not_found_says_the_page_is_missing_or_not_shared(agent: Agent) -> None:
    """404 object_not_found → "page … not found or not shared with the integration"."""
    async with agent() as client:
        message = await fail(client, "get_page", page_id=MISSING)
    assert message.startswith(f"page {MISSING!r} not found or not shared with the integration")


async def test_a_bad_token_names_the_variable_and_its_file(fake: FakeNotion, agent: Agent) -> None:
    """401 unauthorized → NOTION_TOKEN and where it belongs."""
    async with agent(NOTION_TOKEN="secret_wrong") as client:
        message = await fail(client, "search_workspace")
    assert "NOTION_TOKEN (unauthorized)" in message
    assert "environments/.env.test.secrets" in message


async def test_invalid_arguments_name_the_parameter(agent: Agent) -> None:
    """Schema validation and ID parsing both say which parameter is wrong."""
    async with agent() as client:
        too_many = await client.call_tool("search_workspace", {"limit": 500})
        bad_id = await fail(client, "get_page", page_id="not-an-id")
    assert too_many.is_error and "limit" in text_of(too_many)
    assert bad_id.startswith("page_id: 'not-an-id' is not a Notion ID or URL")


async def test_a_validation_error_from_notion_is_passed_on(fake: FakeNotion, agent: Agent) -> None:
    """400 validation_error keeps Notion's message (which names the field)."""
    root = fake.add_root_page("Root")
    fake.ws.trash(root, True)
    async with agent() as client:
        message = await fail(client, "add_block", page_id=root, markdown="x")
    assert message.startswith(f"Notion rejected the request for page or block {root!r}")
    assert "archived" in message


async def test_a_429_is_retried_after_retry_after_and_then_succeeds(
    fake: FakeNotion, agent: Agent
) -> None:
    """Two 429s with Retry-After: 0, then success: three requests, one result."""
    fake.add_root_page("Alpha")
    fake.fail_next(429, "rate_limited", times=2, path="/v1/search", retry_after=0)
    async with agent() as client:
        result = await call(client, "search_workspace", query="alpha")
    assert [s.status for s in fake.calls("POST", "/v1/search")] == [429, 429, 200]
    assert [r["title"] for r in result["results"]] == ["Alpha"]


async def test_retries_are_bounded_and_end_in_a_rate_limited_error(
    fake: FakeNotion, agent: Agent
) -> None:
    """With NOTION_MAX_RETRIES=2 the third 429 is the answer: code rate_limited, wait given."""
    fake.fail_next(429, "rate_limited", times=10, path="/v1/search", retry_after=0)
    async with agent(NOTION_MAX_RETRIES="2") as client:
        message = await fail(client, "search_workspace")
    assert len(fake.calls("POST", "/v1/search")) == 3
    assert message == "Notion is rate limiting this integration (rate_limited); retry after 0 s"


async def test_a_retry_after_longer_than_the_wait_budget_fails_at_once(
    fake: FakeNotion, agent: Agent
) -> None:
    """Retry-After: 120 with NOTION_MAX_WAIT_SECONDS=5: no retry, the wait is reported."""
    fake.fail_next(429, "rate_limited", times=5, path="/v1/search", retry_after=120)
    async with agent() as client:
        message = await fail(client, "search_workspace")
    assert len(fake.calls("POST", "/v1/search")) == 1
    assert message.endswith("retry after 120 s")


async def test_a_server_error_on_a_write_is_not_retried_but_a_read_is(
    fake: FakeNotion, agent: Agent
) -> None:
    """POST 500 → one request and an error; GET 503 → retried and answered."""
    root = fake.add_root_page("Root")
    fake.fail_next(500, "internal_server_error", method="POST", path="/v1/pages")
    fake.fail_next(503, "service_unavailable", method="GET", path=f"/v1/pages/{root}")
    async with agent() as client:
        message = await fail(client, "create_page", title="x", parent_page_id=root)
        read = await call(client, "get_page", page_id=root)
    assert len(fake.calls("POST", "/v1/pages")) == 1
    assert "HTTP 500 internal_server_error" in message
    assert [s.status for s in fake.calls("GET", f"/v1/pages/{root}")] == [503, 200]
    assert read["title"] == "Root"


async def test_a_slow_answer_is_a_timeout_that_warns_about_writes(
    fake: FakeNotion, agent: Agent
) -> None:
    """NOTION_TIMEOUT_SECONDS elapses: a timeout error, and the write is not sent again."""
    root = fake.add_root_page("Root")
    fake.slow_next(1.5, method="POST", path="/v1/pages")
    async with agent(NOTION_TIMEOUT_SECONDS="0.3") as client:
        message = await fail(client, "create_page", title="x", parent_page_id=root)
    assert message.startswith("Notion did not answer within 0.3 s")
    assert "may or may not have been applied" in message


async def test_a_non_json_502_and_an_unreachable_host_are_upstream_errors(
    fake: FakeNotion, agent: Agent
) -> None:
    """A proxy's HTML 502 and a refused connection both explain themselves."""
    fake.fail_next(502, raw_body="<html>Bad gateway</html>", path="/v1/search")
    async with agent() as client:
        gateway = await fail(client, "search_workspace")
    async with agent(NOTION_BASE_URL=f"http://127.0.0.1:{free_port()}") as client:
        refused = await fail(client, "search_workspace")
    assert gateway.startswith("Notion answered HTTP 502 with an unexpected body")
    assert refused.startswith("cannot reach Notion at http://127.0.0.1:")
    assert "ConnectError" in refused


async def test_an_unconfigured_agent_says_which_variable_is_missing(fake: FakeNotion) -> None:
    """No NOTION_TOKEN: connect fails with the variable and file; tools say not configured."""
    from mcp import Client

    from agents.core.runtime import AgentRuntime
    from agents.core.server import build_server
    from agents.core.settings import CoreSettings, EnvLayers
    from agents.notion.tools import SPEC

    layers = EnvLayers(
        root=fake_root(), env="test", values={"NOTION_BASE_URL": fake.url, "NOTION_TOOLSETS": "all"}
    )
    runtime = AgentRuntime.start(SPEC, layers, CoreSettings(port_base=9000), None)
    async with Client(build_server(runtime, token=None, port=None)) as client:
        result = await client.call_tool("search_workspace", {})
    assert runtime.reason == "NOTION_TOKEN missing: set it in environments/.env.test.secrets"
    assert result.is_error and "not configured" in text_of(result)


def fake_root() -> Path:
    return Path("/nonexistent")
