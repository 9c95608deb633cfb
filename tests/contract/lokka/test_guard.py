"""The write guard: dry run by default, read-only, protected objects, no retried writes, audit."""

from __future__ import annotations

import json

import pytest

from tests.contract.lokka.conftest import Agent, start_agent
from tests.fakes.graph import FakeGraph
from tests.fakes.graph_data import ADA, ADMINS, GA_ROLE, GLASS, SALES

pytestmark = [pytest.mark.anyio, pytest.mark.contract]


async def test_a_dry_run_sends_no_write_and_changes_nothing(agent: Agent, graph: FakeGraph) -> None:
    """Only the GET that resolves the target reaches Graph."""
    before = graph.snapshot()
    out = await agent.ok("revoke_user_sessions", user="ada@contoso.com")
    assert out["dry_run"] is True and out["target"] == "user:ada@contoso.com"
    assert [r.method for r in graph.requests] == ["GET"]
    assert graph.snapshot() == before


async def test_confirm_sends_the_write_exactly_once(agent: Agent, graph: FakeGraph) -> None:
    """One POST, whatever the answer."""
    await agent.ok("revoke_user_sessions", user="ada@contoso.com", confirm=True)
    assert [w.target for w in graph.writes()] == [f"POST /v1.0/users/{ADA}/revokeSignInSessions"]


async def test_a_503_on_a_confirmed_post_reaches_graph_exactly_once(
    agent: Agent, graph: FakeGraph
) -> None:
    """The SDK's retry handler would resend it; the agent switches retries off for writes."""
    graph.fail(
        "POST",
        f"/v1.0/users/{ADA}/revokeSignInSessions",
        503,
        times=5,
        headers={"Retry-After": "1"},
    )
    text = await agent.error("revoke_user_sessions", user="ada@contoso.com", confirm=True)
    assert "503" in text and "serviceNotAvailable" in text
    assert len(graph.writes()) == 1


async def test_a_429_on_a_read_is_retried_after_retry_after(agent: Agent, graph: FakeGraph) -> None:
    """Reads honour Retry-After through the SDK's retry middleware and then succeed."""
    graph.fail("GET", "/v1.0/users", 429, headers={"Retry-After": "1"})
    out = await agent.ok("list_users", limit=1)
    assert len(out["items"]) == 1
    gets = graph.sent("GET", "/v1.0/users")
    assert len(gets) == 2 and gets[1].headers.get("retry-attempt") == "1"


async def test_read_only_mode_refuses_every_write_before_any_request(
    env: dict[str, str], graph: FakeGraph
) -> None:
    """LOKKA_READ_ONLY=true: even the dry run is refused, and reads still work."""
    async for agent in start_agent({**env, "LOKKA_READ_ONLY": "true"}):
        for tool, args in (
            ("disable_user", {"user": "bob@contoso.com", "confirm": True}),
            ("graph_request", {"method": "DELETE", "path": f"/groups/{SALES}"}),
        ):
            text = await agent.error(tool, **args)
            assert "LOKKA_READ_ONLY=true" in text
        assert graph.requests == []
        await agent.ok("list_users", limit=1)


@pytest.mark.parametrize(
    ("tool", "args"),
    [
        ("disable_user", {"user": "breakglass1@contoso.com"}),
        ("disable_user", {"user": GLASS}),
        ("reset_user_password", {"user": GLASS, "password": "Tmp-Passw0rd!x"}),
        ("remove_group_member", {"group": ADMINS, "member": GLASS}),
        ("add_group_member", {"group": ADMINS, "member": "ada@contoso.com"}),
        ("add_group_member", {"group": SALES, "member": "breakglass1@contoso.com"}),
        ("add_directory_role_member", {"role": GA_ROLE, "member": "ada@contoso.com"}),
        (
            "create_user",
            {
                "display_name": "BG 2",
                "user_principal_name": "breakglass2@contoso.com",
                "password": "Tmp-Passw0rd!x",
            },
        ),
        (
            "graph_request",
            {"method": "PATCH", "path": f"/users/{GLASS}", "body": {"jobTitle": "x"}},
        ),
        ("graph_request", {"method": "DELETE", "path": f"/groups/{SALES}/members/{GLASS}/$ref"}),
        (
            "graph_request",
            {
                "method": "POST",
                "path": f"/groups/{SALES}/members/$ref",
                "body": {"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{GLASS}"},
            },
        ),
        (
            "graph_request",
            {
                "method": "POST",
                "path": "/roleManagement/directory/roleAssignments",
                "body": {
                    "principalId": ADA,
                    "directoryScopeId": "/",
                    "roleDefinitionId": "62e90394-69f5-4237-9190-012177145e10",
                },
            },
        ),
    ],
    ids=lambda v: v if isinstance(v, str) else "-".join(str(x)[:12] for x in v.values()),
)
async def test_protected_objects_are_refused_even_with_confirm(
    agent: Agent, graph: FakeGraph, tool: str, args: dict[str, object]
) -> None:
    """By UPN, object id, group name, role template id, or named inside a passthrough body."""
    text = await agent.error(tool, confirm=True, **args)
    assert "is protected" in text and "LOKKA_PROTECTED" in text
    assert graph.writes() == []


async def test_every_write_is_recorded_with_actor_target_and_no_password(
    agent: Agent, graph: FakeGraph
) -> None:
    """The call record carries the audit fields; the password appears nowhere in it."""
    secret = "Very-Secret-Passw0rd!"
    await agent.ok("reset_user_password", user="ada@contoso.com", password=secret, confirm=True)
    await agent.error("disable_user", user=GLASS, confirm=True)
    ok, refused = agent.recorder.calls
    assert ok.meta["write"] is True and ok.meta["confirmed"] is True
    assert ok.meta["target"] == "user:ada@contoso.com" and ok.meta["action"] == "reset password"
    assert ok.meta["actor"].startswith("client_secret:")
    assert (
        refused.meta["refused"] == "protected"
        and refused.meta["target"] == "user:breakglass1@contoso.com"
    )
    assert secret not in json.dumps([c.__dict__ for c in agent.recorder.calls], default=str)
    assert graph.writes()[0].body["passwordProfile"]["password"] == secret


async def test_the_record_of_a_write_lists_each_request_it_sends(
    agent: Agent, graph: FakeGraph
) -> None:
    """The audit record says what was sent, not only to which object."""
    await agent.ok("revoke_user_sessions", user="ada@contoso.com", confirm=True)
    sent = f"POST {graph.url}/v1.0/users/{ADA}/revokeSignInSessions"
    assert agent.recorder.calls[-1].meta["requests"] == [sent]
    assert [w.target for w in graph.writes()] == [f"POST /v1.0/users/{ADA}/revokeSignInSessions"]


async def test_a_passthrough_write_is_a_dry_run_unless_confirmed(
    agent: Agent, graph: FakeGraph
) -> None:
    """graph_request DELETE without confirm shows the request and sends nothing."""
    out = (
        await agent.ok("graph_request", method="DELETE", path=f"/groups/{SALES}/members/{ADA}/$ref")
    )["result"]
    assert out["dry_run"] is True
    assert out["requests"][0]["url"] == f"{graph.url}/v1.0/groups/{SALES}/members/{ADA}/$ref"
    assert graph.writes() == []


async def test_a_passthrough_path_that_leaves_graph_is_refused(
    agent: Agent, graph: FakeGraph
) -> None:
    """Absolute URLs, '..' and '//' never reach the network (the token stays with Graph)."""
    for path in ("https://evil.example/v1.0/users", "/users/../../x", "//evil.example/users"):
        text = await agent.error("graph_request", path=path)
        assert "relative API path" in text
    text = await agent.error("list_users", cursor="https://evil.example/v1.0/users?$skiptoken=1")
    assert "cursor" in text
    assert graph.requests == []


async def test_a_call_whose_url_would_pass_8192_characters_is_refused_before_any_request(
    agent: Agent, graph: FakeGraph
) -> None:
    """A huge id, filter or cursor never becomes a huge URL: a clear error naming the limit."""
    for tool, args in (
        ("get_user", {"user": "a" * 100_000}),
        ("list_users", {"filter": "startswith(displayName,'" + "A" * 9000 + "')"}),
        ("list_users", {"cursor": f"{graph.url}/v1.0/users?$skiptoken=" + "x" * 9000}),
        ("graph_request", {"path": "/users/" + "b" * 9000}),
    ):
        text = await agent.error(tool, **args)
        assert "characters long, more than the 8192 this agent sends" in text, (tool, text)
        assert len(text) < 2100
    assert graph.requests == []


async def test_a_write_naming_an_object_that_does_not_exist_says_which_parameter_and_what(
    agent: Agent, graph: FakeGraph
) -> None:
    text = await agent.error("disable_user", user="nobody@contoso.com", confirm=True)
    assert "user='nobody@contoso.com': no such user in tenant" in text, text
    assert graph.writes() == []


async def test_the_guard_reads_a_target_back_with_every_name_a_protection_may_use(
    agent: Agent, graph: FakeGraph
) -> None:
    """The read-back asks for the names explicitly ($select), not Graph's default set."""
    await agent.call("disable_user", user=ADA)
    [read] = graph.sent("GET", f"/v1.0/users/{ADA}")
    names = "id,userPrincipalName,displayName,mail,usageLocation,accountEnabled"
    assert read.query["$select"] == names


async def test_a_protected_object_bound_inside_a_list_refuses_the_write(
    agent: Agent, graph: FakeGraph
) -> None:
    """`members@odata.bind` takes a list: every reference in it is checked."""
    body = {
        "members@odata.bind": [
            f"https://graph.microsoft.com/v1.0/directoryObjects/{ADA}",
            f"https://graph.microsoft.com/v1.0/directoryObjects/{GLASS}",
        ]
    }
    text = await agent.error(
        "graph_request", method="PATCH", path=f"/groups/{SALES}", body=body, confirm=True
    )
    assert "is protected" in text and "breakglass" in text.casefold(), text
    assert graph.writes() == []
