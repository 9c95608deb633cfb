"""The guard cannot be talked around: encoded and disguised paths, writes inside ``$batch``,
targets it cannot read, and ARM write retries under the read-only switch (issue 15)."""

from __future__ import annotations

from typing import Any

import pytest

from agents.lokka import client as lokka_client
from agents.lokka.client import Lokka
from agents.lokka.errors import WriteRefusedError, refuse_if_read_only
from tests.chaos.fuzzing import _draw
from tests.contract.lokka.conftest import Agent
from tests.fakes.arm import FakeArm
from tests.fakes.graph import FakeGraph
from tests.fakes.graph_data import ADA, BOB, GA_ROLE, GLASS, SALES
from tests.unit.lokka.test_paths import disguised

pytestmark = [pytest.mark.anyio, pytest.mark.contract]

REFUSED = ("is protected", "not a plain relative API path", "cannot resolve")


@pytest.mark.parametrize(
    "path",
    [
        "/users/breakglass1%40contoso.com",
        "/users/breakglass1%2540contoso.com",
        "/USERS/BreakGlass1@Contoso.com/",
        "/v1.0/users/breakglass1@contoso.com",
        "/beta/users/breakglass1@contoso.com//",
        "/users('breakglass1%40contoso.com')",
        "/users(userPrincipalName='breakglass1@contoso.com')",
        f"/directoryObjects/{GLASS.upper()}",
        "/users/%62reakglass1@contoso.com",
    ],
)
async def test_an_encoded_or_disguised_protected_account_is_refused_even_with_confirm(
    agent: Agent, graph: FakeGraph, path: str
) -> None:
    """`PATCH /users/breakglass1%40contoso.com` disabled a break-glass account: paths are now
    decoded and normalised before matching, and nothing is written."""
    text = await agent.error(
        "graph_request", method="PATCH", path=path, body={"accountEnabled": False}, confirm=True
    )
    assert any(r in text for r in REFUSED), text
    assert graph.writes() == []
    glass = next(u for u in graph.data["users"] if u["id"] == GLASS)
    assert glass.get("accountEnabled") is not False


async def test_hypothesis_disguises_of_protected_paths_never_send_a_write(
    agent: Agent, graph: FakeGraph
) -> None:
    """60 drawn disguises (encoding, case, key syntax, slashes, versions) through the agent."""
    for key, path in _draw(disguised(), 60, "lokka disguises"):
        if path.startswith("http"):  # the tool takes relative paths only (refused anyway)
            path = path.removeprefix("https://graph.microsoft.com")
        result = await agent.call(
            "graph_request", method="PATCH", path=path, body={"jobTitle": "x"}, confirm=True
        )
        assert result.is_error, (key, path)
    assert graph.writes() == []


def batch(*requests: dict[str, Any]) -> dict[str, Any]:
    return {"requests": [{"id": str(i), **r} for i, r in enumerate(requests, 1)]}


async def test_a_batch_making_someone_global_administrator_is_refused(
    agent: Agent, graph: FakeGraph
) -> None:
    """A `$batch` carrying `POST /directoryRoles/<GA>/members/$ref` is checked like the call
    itself: the role is protected, so the whole batch is refused and nothing is sent."""
    grant = {
        "method": "POST",
        "url": f"/directoryRoles/{GA_ROLE}/members/$ref",
        "body": {"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{ADA}"},
        "headers": {"Content-Type": "application/json"},
    }
    harmless = {"method": "GET", "url": "/users?$top=1"}
    body = batch(harmless, grant)
    text = await agent.error(
        "graph_request", method="POST", path="/$batch", body=body, confirm=True
    )
    assert "is protected" in text and "LOKKA_PROTECTED" in text
    assert graph.writes() == []
    assert ADA not in graph.data["roleMembers"][GA_ROLE]


async def test_one_protected_request_refuses_the_whole_batch(
    agent: Agent, graph: FakeGraph
) -> None:
    ok = {"method": "POST", "url": f"/users/{BOB}/revokeSignInSessions"}
    bad = {"method": "PATCH", "url": "/users/breakglass1%40contoso.com", "body": {"x": 1}}
    text = await agent.error(
        "graph_request", method="POST", path="/$batch", body=batch(ok, bad), confirm=True
    )
    assert "is protected" in text
    assert graph.writes() == []


async def test_a_batch_whose_every_request_passes_is_sent_once_as_checked(
    agent: Agent, graph: FakeGraph
) -> None:
    """Sub-request urls go out decoded-and-normalised: what the guard checked is what runs."""
    add = {
        "method": "post",
        "url": f"/GROUPS/{SALES}/members/$ref/",
        "body": {"@odata.id": f"{graph.url}/v1.0/directoryObjects/{GLASS.replace('b', 'B')}"},
    }
    refused = await agent.error("graph_request", method="POST", path="/$batch", body=batch(add))
    assert "is protected" in refused  # the member named by @odata.id is the break-glass account
    add["body"] = {"@odata.id": f"{graph.url}/v1.0/directoryObjects/{BOB}"}
    dry = await agent.ok("graph_request", method="POST", path="/$batch", body=batch(add))
    sent = dry["result"]["requests"][0]["body"]["requests"][0]
    assert sent["url"] == f"/groups/{SALES}/members/$ref" and sent["method"] == "POST"
    await agent.ok("graph_request", method="POST", path="/$batch", body=batch(add), confirm=True)
    assert [w.target for w in graph.writes()] == ["POST /v1.0/$batch"]


@pytest.mark.parametrize(
    "sub",
    [
        {"method": "POST", "url": "https://evil.example/v1.0/users"},
        {"method": "POST", "url": "/$batch", "body": {"requests": []}},
        {"method": "PATCH", "url": "/users/%2e%2e/groups"},
        {"method": "TRACE", "url": "/users"},
    ],
)
async def test_a_batch_request_that_leaves_graph_or_nests_is_refused(
    agent: Agent, graph: FakeGraph, sub: dict[str, Any]
) -> None:
    text = await agent.error("graph_request", method="POST", path="/$batch", body=batch(sub))
    assert "$batch request 1" in text
    assert graph.requests == []


@pytest.mark.parametrize(
    ("path", "why"),
    [
        ("/users/nobody@contoso.com", "Graph has no /users/nobody@contoso.com"),
        ("/groups/99999999-0000-0000-0000-000000000000", "Graph has no /groups/"),
        (f"/groups/{SALES}/members/99999999-0000-0000-0000-000000000000/$ref", "Graph has no"),
    ],
)
async def test_a_write_whose_target_cannot_be_resolved_is_refused_saying_why(
    agent: Agent, graph: FakeGraph, path: str, why: str
) -> None:
    text = await agent.error("graph_request", method="DELETE", path=path, confirm=True)
    assert "cannot resolve" in text and why in text, text
    assert graph.writes() == []
    assert agent.recorder.calls[-1].meta["refused"] == "unresolved"


async def test_a_target_the_guard_may_not_read_refuses_the_write(
    agent: Agent, graph: FakeGraph
) -> None:
    """A 403 (or a 503) on the read-back is not taken as "not protected"."""
    graph.fail("GET", f"/v1.0/users/{ADA}", 403, times=5)
    text = await agent.error(
        "graph_request", method="PATCH", path=f"/users/{ADA}", body={"jobTitle": "x"}, confirm=True
    )
    assert "cannot resolve" in text and "403" in text
    graph.fail("GET", "/v1.0/users/bob@contoso.com", 503, times=5, headers={"Retry-After": "0"})
    text = await agent.error("disable_user", user="bob@contoso.com", confirm=True)
    assert "could not be resolved" in text and "503" in text
    assert graph.writes() == []


async def test_a_typed_tool_given_an_encoded_upn_writes_nothing(
    agent: Agent, graph: FakeGraph
) -> None:
    """The typed tools resolve their target by GET and write to the id read back."""
    for user in ("breakglass1%40contoso.com", "BREAKGLASS1@CONTOSO.COM", f" {GLASS} "):
        text = await agent.error("disable_user", user=user, confirm=True)
        assert any(r in text for r in (*REFUSED, "no such user", "more than once")), text
    assert graph.writes() == []


async def test_an_arm_write_asks_the_read_only_switch_before_every_attempt(
    agent: Agent, arm: FakeArm, monkeypatch: pytest.MonkeyPatch
) -> None:
    """LOKKA_READ_ONLY turned on between a throttled attempt and its retry: no second attempt.
    (The switch is read from the client's settings at each attempt; the spy only flips it.)"""
    client = agent.runtime.client
    assert isinstance(client, Lokka)
    asked: list[str] = []
    real = refuse_if_read_only

    def spy(settings: Any, action: str) -> None:
        asked.append(action)
        real(settings, action)
        client.settings = client.settings.model_copy(update={"read_only": True})

    monkeypatch.setattr(lokka_client, "refuse_if_read_only", spy)
    arm.fail("PUT", "/subscriptions", 429, times=1, headers={"Retry-After": "0"})
    url = client.arm_url("/subscriptions/x/resourcegroups/rg", "2021-04-01")
    with pytest.raises(WriteRefusedError, match="LOKKA_READ_ONLY=true"):
        await client.arm("PUT", url, {"location": "westeurope"}, write=True)
    assert len(asked) == 2
    assert [r.method for r in arm.sent("PUT")] == ["PUT"]
    asked.clear()  # reads never ask
    await client.arm("GET", client.arm_url("/subscriptions", "2022-12-01"))
    assert asked == []


async def test_a_batch_request_with_an_absolute_url_on_graph_is_checked_like_a_relative_one(
    agent: Agent, graph: FakeGraph
) -> None:
    """A sub-request url on Graph's own origin names the same object as its path: a protected
    one refuses the batch, a safe one goes out relative; any other host is refused by name."""
    bad = {"method": "PATCH", "url": f"{graph.url}/users/{GLASS}", "body": {"jobTitle": "x"}}
    text = await agent.error(
        "graph_request", method="POST", path="/$batch", body=batch(bad), confirm=True
    )
    assert "is protected" in text, text
    ok = {"method": "POST", "url": f"{graph.url}/users/{BOB}/revokeSignInSessions"}
    dry = await agent.ok("graph_request", method="POST", path="/$batch", body=batch(ok))
    sent = dry["result"]["requests"][0]["body"]["requests"][0]
    assert sent["url"] == f"/users/{BOB}/revokeSignInSessions"
    elsewhere = {"method": "POST", "url": f"https://evil.example/users/{BOB}/revokeSignInSessions"}
    text = await agent.error("graph_request", method="POST", path="/$batch", body=batch(elsewhere))
    assert f"$batch request 1 url {elsewhere['url']!r}" in text and f"outside {graph.url}" in text
    assert graph.writes() == []


async def test_a_batch_that_only_reads_a_protected_account_is_not_refused(
    agent: Agent, graph: FakeGraph
) -> None:
    """GET sub-requests change nothing, so the guard checks only the writes beside them."""
    read = {"method": "GET", "url": f"/users/{GLASS}"}
    write = {"method": "POST", "url": f"/users/{BOB}/revokeSignInSessions"}
    out = await agent.ok("graph_request", method="POST", path="/$batch", body=batch(read, write))
    assert out["result"]["target"] == "user:bob@contoso.com"
    assert graph.sent("GET", f"/v1.0/users/{GLASS}") == []


async def test_a_reference_to_no_object_in_a_body_refuses_the_write(
    agent: Agent, graph: FakeGraph
) -> None:
    """`@odata.id` and `...@odata.bind` name an object: one Graph does not have is refused,
    not checked as given like a loose GUID elsewhere in a body."""
    ghost = "99999999-0000-0000-0000-000000000000"
    ref = f"{graph.url}/v1.0/directoryObjects/{ghost}"
    for path, body in (
        (f"/groups/{SALES}/members/$ref", {"@odata.id": ref}),
        (f"/groups/{SALES}", {"members@odata.bind": [ref]}),
    ):
        text = await agent.error("graph_request", method="PATCH", path=path, body=body)
        assert "cannot resolve" in text and f"Graph has no /directoryObjects/{ghost}" in text, text
    assert graph.writes() == []


async def test_a_write_naming_more_than_40_objects_is_refused_asking_to_split_it(
    agent: Agent, graph: FakeGraph
) -> None:
    """The user and 40 SKU ids are 41 objects to read back: refused before any request; the
    user and 39 are 40, each read back once."""
    skus = [f"99999999-0000-0000-0000-{n:012d}" for n in range(40)]

    def licenses(n: int) -> dict[str, Any]:
        return {"addLicenses": [{"skuId": s} for s in skus[:n]], "removeLicenses": []}

    path = f"/users/{ADA}/assignLicense"
    text = await agent.error("graph_request", method="POST", path=path, body=licenses(40))
    assert (
        "this write names 41 directory objects; the guard checks at most 40 per call: split it"
        in text
    ), text
    assert graph.requests == []
    out = await agent.ok("graph_request", method="POST", path=path, body=licenses(39))
    assert out["result"]["dry_run"] is True
    assert len(graph.requests) == 40 and {r.method for r in graph.requests} == {"GET"}


async def test_a_reference_naming_a_collection_rather_than_an_object_refuses_the_write(
    agent: Agent, graph: FakeGraph
) -> None:
    """`@odata.id` naming a whole collection names no object to check: the write is refused,
    and the refusal quotes the reference as given."""
    ref = f"{graph.url}/v1.0/users"
    text = await agent.error(
        "graph_request",
        method="POST",
        path=f"/groups/{SALES}/members/$ref",
        body={"@odata.id": ref},
    )
    assert f"cannot resolve directoryObject {ref!r}" in text, text
    assert graph.writes() == []
