"""Contract tests of every read tool: the request the real SDK sends, and what comes back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

import pytest

from tests.contract.lokka.conftest import Agent
from tests.fakes.arm import SUB_A, FakeArm
from tests.fakes.graph import FakeGraph
from tests.fakes.graph_data import ADA, GA_ROLE, GA_TEMPLATE, SALES, SITE, TEAM

pytestmark = [pytest.mark.anyio, pytest.mark.contract]


def names(out: dict[str, Any], key: str = "displayName") -> list[Any]:
    return [i.get(key) for i in out["items"]]


# tool, arguments, method and path the fake must see, query options it must see, check
GRAPH_READS: list[
    tuple[str, dict[str, Any], str, dict[str, str], Callable[[dict[str, Any]], bool]]
] = [
    (
        "list_users",
        {"filter": "startswith(displayName,'A')"},
        "GET /v1.0/users",
        {"$filter": "startswith(displayName,'A')", "$top": "25"},
        lambda o: names(o) == ["Ada Lovelace"],
    ),
    (
        "get_user",
        {"user": "ada@contoso.com", "include_manager": True},
        "GET /v1.0/users/ada@contoso.com",
        {"$expand": "manager($select=id,displayName,userPrincipalName)"},
        lambda o: o["item"]["manager"]["displayName"] == "Bob Builder",
    ),
    (
        "list_user_licenses",
        {"user": ADA},
        f"GET /v1.0/users/{ADA}/licenseDetails",
        {},
        lambda o: names(o, "skuPartNumber") == ["ENTERPRISEPACK"],
    ),
    (
        "list_user_groups",
        {"user": "breakglass1@contoso.com"},
        "GET /v1.0/users/breakglass1@contoso.com/memberOf",
        {},
        lambda o: names(o) == ["Tenant Admins", "Global Administrator"],
    ),
    (
        "list_groups",
        {"kind": "microsoft365"},
        "GET /v1.0/groups",
        {"$filter": "groupTypes/any(c:c eq 'Unified')"},
        lambda o: names(o) == ["Project X"],
    ),
    (
        "list_group_members",
        {"group": SALES},
        f"GET /v1.0/groups/{SALES}/members",
        {},
        lambda o: names(o) == ["Ada Lovelace", "Bob Builder"],
    ),
    (
        "list_subscribed_skus",
        {},
        "GET /v1.0/subscribedSkus",
        {},
        lambda o: [i["freeUnits"] for i in o["items"]] == [2, 0],
    ),
    (
        "list_devices",
        {"filter": "operatingSystem eq 'Windows'"},
        "GET /v1.0/devices",
        {"$filter": "operatingSystem eq 'Windows'"},
        lambda o: names(o) == ["ADA-LAPTOP"],
    ),
    (
        "list_managed_devices",
        {"filter": "complianceState eq 'noncompliant'"},
        "GET /v1.0/deviceManagement/managedDevices",
        {"$filter": "complianceState eq 'noncompliant'"},
        lambda o: names(o, "deviceName") == ["BOB-PHONE"],
    ),
    (
        "list_applications",
        {},
        "GET /v1.0/applications",
        {},
        lambda o: names(o) == ["Payroll Sync", "Old Portal"],
    ),
    (
        "list_service_principals",
        {"app_id": "app-1"},
        "GET /v1.0/servicePrincipals",
        {"$filter": "appId eq 'app-1'"},
        lambda o: names(o) == ["Payroll Sync"],
    ),
    (
        "list_directory_roles",
        {},
        "GET /v1.0/directoryRoles",
        {},
        lambda o: names(o) == ["Global Administrator", "Helpdesk Administrator"],
    ),
    (
        "list_directory_role_members",
        {"role": GA_ROLE},
        f"GET /v1.0/directoryRoles/{GA_ROLE}/members",
        {},
        lambda o: names(o, "userPrincipalName") == ["breakglass1@contoso.com"],
    ),
    (
        "list_directory_role_members",
        {"role": GA_TEMPLATE},
        f"GET /v1.0/directoryRoles(roleTemplateId='{GA_TEMPLATE}')/members",
        {},
        lambda o: names(o, "userPrincipalName") == ["breakglass1@contoso.com"],
    ),
    (
        "list_sign_ins",
        {"failures_only": True, "since": "2026-11-01"},
        "GET /v1.0/auditLogs/signIns",
        {"$filter": "status/errorCode ne 0 and createdDateTime ge 2026-11-01T00:00:00Z"},
        lambda o: names(o, "id") == ["s3", "s4", "s5"],
    ),
    (
        "list_directory_audits",
        {"category": "RoleManagement"},
        "GET /v1.0/auditLogs/directoryAudits",
        {"$filter": "category eq 'RoleManagement'"},
        lambda o: names(o, "id") == ["a2"],
    ),
    (
        "list_security_alerts",
        {"severity": "high"},
        "GET /v1.0/security/alerts_v2",
        {"$filter": "severity eq 'high'"},
        lambda o: names(o, "title") == ["Suspicious sign-in"],
    ),
    (
        "list_service_messages",
        {"service": "Exchange Online"},
        "GET /v1.0/admin/serviceAnnouncement/messages",
        {"$filter": "services/any(s:s eq 'Exchange Online')"},
        lambda o: names(o, "id") == ["MC2"],
    ),
    (
        "search_sites",
        {"query": "fin"},
        "GET /v1.0/sites",
        {"search": "fin"},
        lambda o: names(o) == ["Finance"],
    ),
    (
        "list_site_drives",
        {"site": SITE},
        f"GET /v1.0/sites/{SITE}/drives",
        {},
        lambda o: names(o, "name") == ["Documents"],
    ),
    (
        "list_teams",
        {"name": "Proj"},
        "GET /v1.0/groups",
        {
            "$filter": "resourceProvisioningOptions/Any(x:x eq 'Team') "
            "and startswith(displayName,'Proj')"
        },
        lambda o: names(o) == ["Project X"],
    ),
    (
        "list_team_channels",
        {"team": TEAM},
        f"GET /v1.0/teams/{TEAM}/channels",
        {},
        lambda o: names(o) == ["General"],
    ),
]


@pytest.mark.parametrize(
    ("tool", "args", "target", "query", "check"), GRAPH_READS, ids=[r[0] for r in GRAPH_READS]
)
async def test_each_graph_read_tool_sends_its_documented_request_and_returns_the_objects(
    agent: Agent,
    graph: FakeGraph,
    tool: str,
    args: dict[str, Any],
    target: str,
    query: dict[str, str],
    check: Callable[[dict[str, Any]], bool],
) -> None:
    """One GET to the documented v1.0 path with the expected OData options; nothing written."""
    out = await agent.ok(tool, **args)
    assert out["tenant"] == "contoso.onmicrosoft.com"
    sent = [r for r in graph.requests if r.target == target]
    assert len(sent) == 1, [r.target for r in graph.requests]
    assert query.items() <= sent[0].query.items()
    assert sent[0].headers["authorization"].startswith("Bearer tok-")
    assert check(out), out
    assert graph.writes() == []


async def test_list_conditional_access_policies_flags_policies_without_a_break_glass_exclusion(
    agent: Agent, graph: FakeGraph
) -> None:
    """The excluded objects are resolved in one $batch and matched against LOKKA_PROTECTED."""
    out = await agent.ok("list_conditional_access_policies", state="enabled")
    by_id = {p["id"]: p for p in out["items"]}
    assert by_id["ca1"]["lokkaExcludedProtected"] == ["user:breakglass1@contoso.com"]
    assert by_id["ca1"]["lokkaWarning"] is None
    assert "excludes no protected" in by_id["ca2"]["lokkaWarning"]
    assert [r.target for r in graph.requests] == [
        "GET /v1.0/identity/conditionalAccess/policies",
        "POST /v1.0/$batch",
    ]


async def test_get_service_health_fetches_overviews_and_open_issues_in_one_batch(
    agent: Agent, graph: FakeGraph
) -> None:
    """Both requests travel in a single POST $batch; only unresolved issues come back."""
    out = await agent.ok("get_service_health", service="Exchange Online")
    assert [s["status"] for s in out["services"]] == ["serviceDegradation"]
    assert [i["id"] for i in out["open_issues"]] == ["EX1"]
    (batch,) = graph.requests
    assert batch.target == "POST /v1.0/$batch"
    urls = [r["url"] for r in batch.body["requests"]]
    assert urls[0].startswith("/admin/serviceAnnouncement/healthOverviews?")
    assert "isResolved eq false" in unquote(urls[1])


async def test_list_expiring_credentials_finds_soon_expiring_and_expired_secrets(
    agent: Agent,
) -> None:
    """Secrets ending within the window (and already expired ones) are listed, soonest first."""
    out = await agent.ok("list_expiring_credentials", within_days=30)
    assert [(c["display_name"], c["kind"]) for c in out["credentials"]] == [
        ("Old Portal", "secret"),
        ("Payroll Sync", "secret"),
    ]
    assert out["credentials"][0]["days_left"] < 0
    assert out["scanned"] == 2


async def test_list_subscriptions_follows_arm_next_links_up_to_the_limit(
    agent: Agent, arm: FakeArm
) -> None:
    """Pages of two: limit 3 needs two pages and nothing is left, so no cursor."""
    out = await agent.ok("list_subscriptions", limit=3)
    assert names(out) == ["Production", "Development", "Sandbox"]
    assert out["next_cursor"] is None
    assert [r.query["api-version"] for r in arm.requests] == ["2022-12-01", "2022-12-01"]
    assert "$skiptoken" in arm.requests[1].query


async def test_list_subscriptions_returns_a_cursor_that_resumes_where_it_stopped(
    agent: Agent, arm: FakeArm
) -> None:
    """limit 1 stops after the first page; the cursor brings the rest."""
    first = await agent.ok("list_subscriptions", limit=1)
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = await agent.ok("list_subscriptions", cursor=first["next_cursor"])
    assert names(rest) == ["Sandbox"]


async def test_list_resource_groups_filters_by_tag_with_the_resources_api_version(
    agent: Agent, arm: FakeArm
) -> None:
    """tag env=prod becomes ARM's tagName/tagValue filter."""
    out = await agent.ok("list_resource_groups", subscription=SUB_A, tag="env=prod")
    assert names(out, "name") == ["web", "data"]
    req = arm.requests[0]
    assert req.path == f"/subscriptions/{SUB_A}/resourcegroups"
    assert req.query == {
        "api-version": "2021-04-01",
        "$filter": "tagName eq 'env' and tagValue eq 'prod'",
    }


async def test_list_resources_in_a_resource_group_filters_by_type(
    agent: Agent, arm: FakeArm
) -> None:
    """The resource group narrows the path; resource_type becomes the $filter."""
    out = await agent.ok(
        "list_resources",
        subscription=SUB_A,
        resource_group="web",
        resource_type="Microsoft.Web/sites",
    )
    assert names(out, "name") == ["shop"]
    assert arm.requests[0].path == f"/subscriptions/{SUB_A}/resourceGroups/web/resources"


async def test_query_costs_posts_a_grouped_actual_cost_query(agent: Agent, arm: FakeArm) -> None:
    """The Cost Management query carries its api-version, timeframe and grouping."""
    out = await agent.ok("query_costs", scope=f"/subscriptions/{SUB_A}", group_by=["ResourceGroup"])
    assert out["columns"] == ["Cost", "ResourceGroup", "Currency"]
    assert out["rows"][0] == [12.5, "ResourceGroup-a", "EUR"]
    (req,) = arm.requests
    assert req.target == f"POST /subscriptions/{SUB_A}/providers/Microsoft.CostManagement/query"
    assert req.query == {"api-version": "2023-03-01"}
    assert req.body["timeframe"] == "MonthToDate"
    assert req.body["dataset"]["grouping"] == [{"type": "Dimension", "name": "ResourceGroup"}]


async def test_query_costs_refuses_a_scope_that_is_not_an_arm_scope(
    agent: Agent, arm: FakeArm
) -> None:
    """A bad scope is a tool error naming the parameter; nothing is sent."""
    text = await agent.error("query_costs", scope="/subscriptions/x/../../tenants")
    assert "scope" in text
    assert arm.requests == []


async def test_graph_request_get_reads_beta_paths_and_pages_collections(
    agent: Agent, graph: FakeGraph
) -> None:
    """GET on beta returns a page with a cursor; a GET is never a dry run."""
    out = (
        await agent.ok(
            "graph_request",
            path="/users",
            version="beta",
            query={"$top": "2", "$select": "id"},
            limit=2,
        )
    )["result"]  # a union result: the SDK wraps it as {"result": ...}
    assert len(out["items"]) == 2 and out["next_cursor"].startswith(f"{graph.url}/beta/users?")
    assert graph.requests[0].path == "/beta/users"
    single = await agent.ok("graph_request", path=f"/users/{ADA}", query={"$select": "displayName"})
    assert single["result"]["item"] == {
        "displayName": "Ada Lovelace",
        "@odata.type": "#microsoft.graph.user",
    }
