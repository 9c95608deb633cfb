"""How the guard reads back each object a write names: from which collection, with which
names, and how it names one it could not read (``agents.lokka.guard._lookup``)."""

from __future__ import annotations

import pytest

from tests.contract.lokka.conftest import Agent
from tests.fakes.graph import FakeGraph
from tests.fakes.graph_data import ADA, BOB, SALES

pytestmark = [pytest.mark.anyio, pytest.mark.contract]

GHOST = "99999999-0000-0000-0000-000000000000"
USER_NAMES = "id,userPrincipalName,displayName,mail,usageLocation,accountEnabled"


async def test_values_in_a_body_are_read_back_as_users_objects_or_checked_as_given(
    agent: Agent, graph: FakeGraph
) -> None:
    """A UPN is read from /users with every name a protection may use, a GUID from
    /directoryObjects, and a GUID no object has is checked as the object it names."""
    body = {"description": "x", "owners": ["ada@contoso.com", BOB, GHOST]}
    out = await agent.ok("graph_request", method="PATCH", path=f"/groups/{SALES}", body=body)
    assert out["result"]["target"] == (
        f"group:Sales, user:ada@contoso.com, user:bob@contoso.com, object:{GHOST}"
    )
    [by_upn] = graph.sent("GET", "/v1.0/users/ada@contoso.com")
    assert by_upn.query["$select"] == USER_NAMES
    assert len(graph.sent("GET", f"/v1.0/directoryObjects/{BOB}")) == 1
    assert graph.sent("GET", "/v1.0/directoryObjects/ada@contoso.com") == []
    assert graph.writes() == []


async def test_a_target_that_cannot_be_read_back_is_named_by_kind_and_key_in_the_refusal(
    agent: Agent, graph: FakeGraph
) -> None:
    """Not found, not readable, or an answer naming no object: the refusal says which object,
    as the user wrote it, and why."""
    text = await agent.error("graph_request", method="DELETE", path=f"/groups/{GHOST}")
    assert f"cannot resolve group {GHOST!r} (Graph has no /groups/{GHOST})" in text, text
    text = await agent.error(
        "graph_request", method="DELETE", path="/users(userPrincipalName='Xena@contoso.com')"
    )
    assert "cannot resolve user 'Xena@contoso.com' (" in text, text
    graph.fail("GET", f"/v1.0/groups/{SALES}", 403)
    text = await agent.error("graph_request", method="DELETE", path=f"/groups/{SALES}")
    assert f"cannot resolve group {SALES!r} (reading /groups/{SALES} failed: " in text, text
    assert "403" in text
    graph.fail("GET", f"/v1.0/users/{ADA}", 200, body={"displayName": "Ada"})
    text = await agent.error("graph_request", method="DELETE", path=f"/users/{ADA}")
    assert f"cannot resolve user {ADA!r} (Graph's answer names no object id)" in text, text
    assert text.endswith(
        "; the guard reads back every object a write names to check it against "
        "LOKKA_PROTECTED, and refuses a write it cannot check"
    ), text
    assert graph.writes() == []


async def test_a_graph_url_or_path_among_a_bodys_values_is_read_for_the_object_it_names(
    agent: Agent, graph: FakeGraph
) -> None:
    """A value that is a whole Graph URL or path (not a reference key) names an object as much
    as a bare GUID or UPN does: each is read back and shown among the write's targets."""
    body = {
        "description": "x",
        "info": f"https://graph.microsoft.com/v1.0/users/{BOB}",
        "notes": "/users/ada@contoso.com",
    }
    out = await agent.ok("graph_request", method="PATCH", path=f"/groups/{SALES}", body=body)
    assert out["result"]["target"] == "group:Sales, user:bob@contoso.com, user:ada@contoso.com"
    assert graph.writes() == []


async def test_a_named_tool_whose_target_graph_cannot_name_is_refused_saying_which_and_why(
    agent: Agent, graph: FakeGraph
) -> None:
    """A user tool reads its target first: an answer with no object id refuses the write,
    quoting the parameter as given and Graph's fault; an answer without ``@odata.type`` (an
    object of the collection's own type) is labelled by the collection."""
    graph.fail("GET", "/v1.0/users/ada@contoso.com", 200, body={"displayName": "Ada"})
    text = await agent.error("update_user", user="ada@contoso.com", job_title="CTO")
    assert (
        "user='ada@contoso.com': Graph's answer names no object id; nothing was changed" in text
    ), text
    plain = {"id": ADA, "userPrincipalName": "ada@contoso.com", "displayName": "Ada"}
    graph.fail("GET", "/v1.0/users/ada@contoso.com", 200, body=plain)
    out = await agent.ok("update_user", user="ada@contoso.com", job_title="CTO")
    assert out["target"] == "user:ada@contoso.com", out
    assert graph.writes() == []
