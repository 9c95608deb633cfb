"""Errors, throttling, consistency headers and paging as Graph and ARM document them."""

from __future__ import annotations

import pytest

from tests.contract.lokka.conftest import Agent, start_agent
from tests.fakes.arm import SUB_A, FakeArm
from tests.fakes.graph import FakeGraph

pytestmark = [pytest.mark.anyio, pytest.mark.contract]


async def test_an_odata_error_becomes_a_tool_error_with_code_message_and_request_id(
    agent: Agent, graph: FakeGraph
) -> None:
    """A missing user: 404 Request_ResourceNotFound, Graph's message, its request-id."""
    text = await agent.error("get_user", user="nobody@contoso.com")
    assert "404 Request_ResourceNotFound" in text and "does not exist" in text
    rid = text.split("request-id ")[1].split(")")[0]
    assert len(rid) == 36


async def test_a_403_says_which_permission_problem_to_fix(agent: Agent, graph: FakeGraph) -> None:
    """Sign-in logs need a licence and a permission: the error says what to do."""
    graph.fail(
        "GET",
        "/v1.0/auditLogs/signIns",
        403,
        body={
            "error": {
                "code": "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
                "message": "Neither tenant is B2C or tenant doesn't have premium license",
                "innerError": {"request-id": "rid-403", "date": "2026-11-25T10:00:00"},
            }
        },
    )
    text = await agent.error("list_sign_ins")
    assert "403 Authentication_RequestFromNonPremiumTenantOrB2CTenant" in text
    assert "request-id rid-403" in text and "permission" in text


async def test_throttling_that_outlasts_the_retries_reports_retry_after(
    env: dict[str, str], graph: FakeGraph
) -> None:
    """With LOKKA_MAX_RETRIES=0 the 429 comes back at once, carrying Retry-After."""
    graph.fail("GET", "/v1.0/groups", 429, headers={"Retry-After": "7"})
    async for agent in start_agent({**env, "LOKKA_MAX_RETRIES": "0"}):
        text = await agent.error("list_groups")
        assert "429 TooManyRequests" in text and "retry after 7 s" in text
    assert len(graph.sent("GET", "/v1.0/groups")) == 1


async def test_count_and_search_send_consistency_level_eventual(
    agent: Agent, graph: FakeGraph
) -> None:
    """Graph refuses $count/$search on directory objects without the header; the tool sends it."""
    out = await agent.ok("list_users", search="ada", count=True)
    assert [u["displayName"] for u in out["items"]] == ["Ada Lovelace"] and out["count"] == 1
    req = graph.requests[0]
    assert req.headers["consistencylevel"] == "eventual"
    assert req.query["$search"] == '"displayName:ada"' and req.query["$count"] == "true"


async def test_an_advanced_filter_adds_count_and_the_consistency_header(
    agent: Agent, graph: FakeGraph
) -> None:
    """``ne`` is an advanced query: ConsistencyLevel eventual plus $count=true."""
    out = await agent.ok("list_users", filter="accountEnabled ne true")
    assert [u["displayName"] for u in out["items"]] == ["Cy Young"]
    assert graph.requests[0].query["$count"] == "true"
    assert graph.requests[0].headers["consistencylevel"] == "eventual"


async def test_graph_paging_follows_next_links_only_up_to_the_limit(
    agent: Agent, graph: FakeGraph
) -> None:
    """Pages of one user: limit 3 reads three pages and hands back a cursor for the fourth."""
    out = (await agent.ok("graph_request", path="/users", query={"$top": "1"}, limit=3))["result"]
    assert len(out["items"]) == 3 and "$skiptoken=3" in out["next_cursor"]
    assert len(graph.requests) == 3
    rest = (await agent.ok("graph_request", path="/users", cursor=out["next_cursor"]))["result"]
    assert [u["displayName"] for u in rest["items"]] == ["Break Glass"] and rest[
        "next_cursor"
    ] is None


async def test_the_limit_is_capped_by_lokka_max_items(
    env: dict[str, str], graph: FakeGraph
) -> None:
    """LOKKA_MAX_ITEMS bounds every listing, whatever limit the caller asks for."""
    async for agent in start_agent({**env, "LOKKA_MAX_ITEMS": "2"}):
        out = (await agent.ok("graph_request", path="/users", query={"$top": "1"}, limit=50))[
            "result"
        ]
        assert len(out["items"]) == 2 and out["next_cursor"]


async def test_arm_throttling_is_retried_as_retry_after_says(agent: Agent, arm: FakeArm) -> None:
    """ARM 429 with Retry-After: 0 is retried once and succeeds."""
    arm.fail("GET", "/subscriptions", 429, headers={"Retry-After": "0"})
    out = await agent.ok("list_subscriptions", limit=1)
    assert out["items"]
    assert len(arm.requests) == 2


async def test_an_arm_error_carries_its_code_and_request_id(agent: Agent, arm: FakeArm) -> None:
    """An unknown subscription: ARM's error code and x-ms-request-id in the tool error."""
    missing = "bbbbbbbb-0000-0000-0000-000000000009"
    text = await agent.error("list_resource_groups", subscription=missing)
    assert "404 SubscriptionNotFound" in text and "request-id " in text


async def test_a_wrong_client_secret_is_an_authentication_error_naming_the_setting(
    env: dict[str, str], graph: FakeGraph
) -> None:
    """The token endpoint refuses: the tool error names the mode, the app and the AADSTS code."""
    async for agent in start_agent({**env, "AZURE_CLIENT_SECRET": "wrong"}):
        text = await agent.error("list_users")
        assert "cannot get a token" in text and "LOKKA_AUTH_MODE=client_secret" in text
        assert "AADSTS7000215" in text
    assert graph.requests == []


async def test_an_unreachable_graph_is_a_clear_tool_error(
    env: dict[str, str], graph: FakeGraph
) -> None:
    """Connection refused: the error says Graph cannot be reached (the agent keeps running)."""
    graph.stop()
    async for agent in start_agent(env):
        text = await agent.error("list_users")
        assert "cannot reach Microsoft Graph" in text
        assert (await agent.ok("agent_info"))["upstream_configured"] is True


async def test_an_unconfigured_agent_starts_and_its_tools_say_what_to_set() -> None:
    """No credentials: agent_info reports the reason; tools fail naming the variables."""
    async for agent in start_agent({}):
        info = await agent.ok("agent_info")
        assert info["upstream_configured"] is False
        assert "AZURE_TENANT_ID" in info["reason"] and "LOKKA_AUTH_MODE" in info["reason"]
        text = await agent.error("list_users")
        assert "not configured" in text and "AZURE_CLIENT_SECRET" in text


async def test_arm_requests_go_to_the_subscription_paths_with_api_version(
    agent: Agent, arm: FakeArm
) -> None:
    """Without api-version ARM refuses; every tool sends one."""
    await agent.ok("list_resources", subscription=SUB_A, tag="env=prod")
    assert all("api-version" in r.query for r in arm.requests)
    assert arm.requests[0].query["$filter"] == "tagName eq 'env' and tagValue eq 'prod'"
