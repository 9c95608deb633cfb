"""Contract tests of every write tool: the dry run shows exactly what confirm then sends once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.contract.lokka.conftest import Agent
from tests.fakes.graph import FakeGraph
from tests.fakes.graph_data import ADA, BOB, CY, E3, HELPDESK_ROLE, MDM, SALES

pytestmark = [pytest.mark.anyio, pytest.mark.contract]

PASSWORD = "Tmp-Passw0rd!x"

# tool, arguments, the write the fake must receive (method, path, body), effect on the tenant
WRITES: list[tuple[str, dict[str, Any], tuple[str, str, Any], Callable[[dict[str, Any]], bool]]] = [
    (
        "create_user",
        {
            "display_name": "Dee Dev",
            "user_principal_name": "dee@contoso.com",
            "password": PASSWORD,
            "usage_location": "US",
        },
        (
            "POST",
            "/v1.0/users",
            {
                "accountEnabled": True,
                "displayName": "Dee Dev",
                "mailNickname": "dee",
                "userPrincipalName": "dee@contoso.com",
                "usageLocation": "US",
                "passwordProfile": {"forceChangePasswordNextSignIn": True, "password": PASSWORD},
            },
        ),
        lambda d: any(u["userPrincipalName"] == "dee@contoso.com" for u in d["users"]),
    ),
    (
        "update_user",
        {"user": "ada@contoso.com", "job_title": "CTO", "department": "Board"},
        ("PATCH", f"/v1.0/users/{ADA}", {"jobTitle": "CTO", "department": "Board"}),
        lambda d: d["users"][0]["jobTitle"] == "CTO",
    ),
    (
        "disable_user",
        {"user": "bob@contoso.com", "revoke_sessions": False},
        ("PATCH", f"/v1.0/users/{BOB}", {"accountEnabled": False}),
        lambda d: d["users"][1]["accountEnabled"] is False,
    ),
    (
        "enable_user",
        {"user": CY},
        ("PATCH", f"/v1.0/users/{CY}", {"accountEnabled": True}),
        lambda d: d["users"][2]["accountEnabled"] is True,
    ),
    (
        "reset_user_password",
        {"user": "bob@contoso.com", "password": PASSWORD},
        (
            "PATCH",
            f"/v1.0/users/{BOB}",
            {"passwordProfile": {"forceChangePasswordNextSignIn": True, "password": PASSWORD}},
        ),
        lambda d: True,
    ),
    (
        "revoke_user_sessions",
        {"user": "ada@contoso.com"},
        ("POST", f"/v1.0/users/{ADA}/revokeSignInSessions", None),
        lambda d: True,
    ),
    (
        "assign_user_licenses",
        {"user": "ada@contoso.com", "add_sku_ids": [E3]},
        (
            "POST",
            f"/v1.0/users/{ADA}/assignLicense",
            {"addLicenses": [{"skuId": E3, "disabledPlans": []}], "removeLicenses": []},
        ),
        lambda d: True,
    ),
    (
        "create_group",
        {"display_name": "Ops", "mail_nickname": "ops"},
        (
            "POST",
            "/v1.0/groups",
            {
                "displayName": "Ops",
                "mailNickname": "ops",
                "mailEnabled": False,
                "securityEnabled": True,
                "groupTypes": [],
            },
        ),
        lambda d: d["groups"][-1]["displayName"] == "Ops",
    ),
    (
        "add_group_member",
        {"group": SALES, "member": "cy@contoso.com"},
        ("POST", f"/v1.0/groups/{SALES}/members/$ref", "ODATA_ID:" + CY),
        lambda d: CY in d["members"][SALES],
    ),
    (
        "remove_group_member",
        {"group": SALES, "member": BOB},
        ("DELETE", f"/v1.0/groups/{SALES}/members/{BOB}/$ref", None),
        lambda d: d["members"][SALES] == [ADA],
    ),
    (
        "run_managed_device_action",
        {"device": MDM, "action": "syncDevice"},
        ("POST", f"/v1.0/deviceManagement/managedDevices/{MDM}/syncDevice", None),
        lambda d: True,
    ),
    (
        "add_directory_role_member",
        {"role": HELPDESK_ROLE, "member": "ada@contoso.com"},
        ("POST", f"/v1.0/directoryRoles/{HELPDESK_ROLE}/members/$ref", "ODATA_ID:" + ADA),
        lambda d: d["roleMembers"][HELPDESK_ROLE] == [ADA],
    ),
    (
        "graph_request",
        {"method": "PATCH", "path": f"/users/{BOB}", "body": {"officeLocation": "Oslo"}},
        ("PATCH", f"/v1.0/users/{BOB}", {"officeLocation": "Oslo"}),
        lambda d: d["users"][1]["officeLocation"] == "Oslo",
    ),
]


def expected_body(graph: FakeGraph, body: Any) -> Any:
    if isinstance(body, str) and body.startswith("ODATA_ID:"):
        return {"@odata.id": f"{graph.url}/v1.0/directoryObjects/{body[9:]}"}
    return body


def unwrap(out: dict[str, Any]) -> dict[str, Any]:
    inner: dict[str, Any] = out.get("result", out)
    return inner


@pytest.mark.parametrize(("tool", "args", "write", "effect"), WRITES, ids=[w[0] for w in WRITES])
async def test_each_write_tool_dry_runs_then_sends_exactly_the_shown_request_once(
    agent: Agent,
    graph: FakeGraph,
    tool: str,
    args: dict[str, Any],
    write: tuple[str, str, Any],
    effect: Callable[[dict[str, Any]], bool],
) -> None:
    """Without confirm nothing is written; with confirm the fake gets that one request."""
    method, path, body = write
    before = graph.snapshot()
    dry = unwrap(await agent.ok(tool, **args))
    assert dry["dry_run"] is True and graph.writes() == [] and graph.snapshot() == before
    (shown,) = dry["requests"]
    assert (shown["method"], shown["url"]) == (method, f"{graph.url}{path}")
    assert shown["body"] == _masked(expected_body(graph, body))
    assert "authorization" not in {k.lower() for k in shown["headers"]}

    done = unwrap(await agent.ok(tool, confirm=True, **args))
    assert done["dry_run"] is False
    (sent,) = graph.writes()
    assert (sent.method, sent.path) == (method, path)
    assert sent.body == expected_body(graph, body)
    assert effect(graph.data)


def _masked(body: Any) -> Any:
    if isinstance(body, dict):
        return {
            k: "[hidden: the password you passed]" if k == "password" else _masked(v)
            for k, v in body.items()
        }
    return body


async def test_disable_user_also_revokes_sessions_by_default(
    agent: Agent, graph: FakeGraph
) -> None:
    """Two requests, in order: block sign-in, then revoke refresh tokens."""
    await agent.ok("disable_user", user="bob@contoso.com", confirm=True)
    assert [w.target for w in graph.writes()] == [
        f"PATCH /v1.0/users/{BOB}",
        f"POST /v1.0/users/{BOB}/revokeSignInSessions",
    ]


async def test_assign_licenses_refuses_a_user_without_usage_location_before_sending(
    agent: Agent, graph: FakeGraph
) -> None:
    """Graph would refuse it; the agent says what to set first and writes nothing."""
    text = await agent.error(
        "assign_user_licenses", user="bob@contoso.com", add_sku_ids=[E3], confirm=True
    )
    assert "usageLocation" in text and "update_user" in text
    assert graph.writes() == []


async def test_a_weak_password_is_refused_without_any_request(
    agent: Agent, graph: FakeGraph
) -> None:
    """Entra's complexity rule is checked locally; the error names the parameter."""
    text = await agent.error("reset_user_password", user="bob@contoso.com", password="alllowercase")
    assert "password" in text
    assert graph.requests == []


async def test_a_graph_error_on_a_confirmed_write_is_a_tool_error_with_code_and_request_id(
    agent: Agent, graph: FakeGraph
) -> None:
    """Creating a duplicate UPN: Graph's ODataError reaches the caller intact."""
    text = await agent.error(
        "create_user",
        display_name="Ada 2",
        user_principal_name="ada@contoso.com",
        password=PASSWORD,
        confirm=True,
    )
    assert "400 Request_BadRequest" in text and "userPrincipalName already exists" in text
    assert "request-id " in text and "request-id none" not in text


async def test_the_dry_run_of_a_wipe_or_a_role_grant_carries_its_warning(
    agent: Agent, graph: FakeGraph
) -> None:
    """What cannot be undone, or grants privileged access, says so before it is confirmed."""
    dry = unwrap(await agent.ok("run_managed_device_action", device=MDM, action="wipe"))
    assert dry["note"] == (
        "wipe cannot be undone: check the device name and user before confirming"
    )
    args = {"role": HELPDESK_ROLE, "member": "ada@contoso.com"}
    dry = unwrap(await agent.ok("add_directory_role_member", **args))
    assert dry["note"].endswith(": privileged access, check with the user first")
    assert graph.writes() == []


async def test_a_write_of_two_requests_that_fails_part_way_says_which_were_sent(
    agent: Agent, graph: FakeGraph
) -> None:
    """Disabling a user is two requests: a failure at the first is Graph's error alone;
    at the second, the error says the sign-in block was already sent."""
    graph.fail("PATCH", f"/v1.0/users/{BOB}", 403)
    text = await agent.error("disable_user", user="bob@contoso.com", confirm=True)
    assert "403" in text and "succeeded" not in text, text
    graph.clear_faults()
    graph.fail("POST", f"/v1.0/users/{BOB}/revokeSignInSessions", 403)
    text = await agent.error("disable_user", user="bob@contoso.com", confirm=True)
    assert f"(after 1 of 2 requests succeeded: PATCH {graph.url}/v1.0/users/{BOB})" in text, text
