"""Identity, project (board), column and member tools against the fake Fizzy."""

from __future__ import annotations

import pytest

from agents.core.server import AgentServer
from tests.contract.fizzy.conftest import Agent, open_agent
from tests.fakes.fizzy import MEMBER_TOKEN, OTHER_SLUG, SLUG, FakeFizzy

pytestmark = [pytest.mark.anyio, pytest.mark.contract]


async def test_get_identity_lists_accounts_with_slugs_stripped_and_the_default(
    agent: Agent,
) -> None:
    """/my/identity slugs start with '/'; the tools show and use them without it."""
    identity = await agent.call("get_identity")
    assert [a["slug"] for a in identity["accounts"]] == [SLUG, OTHER_SLUG]
    assert identity["default_account"] == SLUG
    assert identity["accounts"][0]["user"]["name"] == "David Heinemeier Hansson"
    assert [s.path for s in agent.fake.seen] == ["/my/identity"]


async def test_the_account_is_discovered_once_on_first_use_not_at_connect(
    server: AgentServer, fake: FakeFizzy
) -> None:
    """connect touches no network; the first call reads /my/identity, later calls do not."""
    async with open_agent(server, fake) as agent:
        assert fake.seen == []
        await agent.call("list_projects")
        await agent.call("list_members")
    assert [s.path for s in fake.seen] == ["/my/identity", f"/{SLUG}/boards", f"/{SLUG}/users"]


async def test_fizzy_account_or_the_account_argument_choose_the_account(
    server: AgentServer, fake: FakeFizzy
) -> None:
    """FIZZY_ACCOUNT (leading '/' allowed) skips discovery; `account` overrides per call."""
    async with open_agent(server, fake, account=f"/{OTHER_SLUG}") as agent:
        side = await agent.call("list_projects")
        main = await agent.call("list_projects", account=SLUG)
        assert "not a Fizzy account slug" in await agent.fail("list_projects", account="acme")
    assert [p["name"] for p in side["items"]] == ["Side board"]
    assert {p["name"] for p in main["items"]} == {"Writebook", "Secret plans"}
    assert fake.requests(path="/my/identity") == []


async def test_list_projects_shows_only_visible_boards_most_recent_first(
    server: AgentServer, fake: FakeFizzy
) -> None:
    """A restricted board is hidden from people without access."""
    async with open_agent(server, fake, token=MEMBER_TOKEN) as agent:
        projects = await agent.call("list_projects")
    assert [p["name"] for p in projects["items"]] == ["Writebook"]


async def test_get_project_shows_member_ids_of_a_restricted_board(agent: Agent) -> None:
    """GET /boards/{id}: user_ids only when all_access is false; unknown ids are 404s."""
    fake = agent.fake
    project = await agent.call("get_project", project_id=fake.secret.id)
    assert project["all_access"] is False
    assert project["member_ids"] == [fake.david.id, fake.jason.id]
    assert (await agent.call("get_project", project_id=fake.board.id))["member_ids"] is None
    assert "project 'nope' not found" in await agent.fail("get_project", project_id="nope")


async def test_create_project_returns_the_created_board(agent: Agent) -> None:
    """POST /boards board:{...} → 201 + Location + body."""
    project = await agent.call(
        "create_project", name="Launch", all_access=False, auto_postpone_days=7
    )
    assert project["name"] == "Launch" and project["all_access"] is False
    assert project["auto_postpone_period_in_days"] == 7
    post = agent.fake.requests("POST", "/boards")[0]
    assert post.status == 201
    assert post.body == {
        "board": {"name": "Launch", "all_access": False, "auto_postpone_period_in_days": 7}
    }


async def test_create_project_with_a_blank_name_names_the_fields_fizzy_refused(
    agent: Agent,
) -> None:
    """Rails' 422 {"status":422,"error":...} has no field names: the message lists those sent."""
    message = await agent.fail("create_project", name="  ")
    assert "(422 Unprocessable Entity)" in message and "fields sent: name, all_access" in message


async def test_update_project_renames_and_replaces_the_member_list(agent: Agent) -> None:
    """PUT board:{name}; user_ids is top level and is the full list."""
    fake = agent.fake
    project = await agent.call("update_project", project_id=fake.board.id, name="Writebook 2")
    assert project["name"] == "Writebook 2"
    project = await agent.call(
        "update_project", project_id=fake.secret.id, member_ids=[fake.david.id, fake.kevin.id]
    )
    assert project["member_ids"] == [fake.david.id, fake.kevin.id]
    put = fake.requests("PUT", fake.secret.id)[0]
    assert put.body == {
        "board": {"name": "Secret plans"},
        "user_ids": [fake.david.id, fake.kevin.id],
    }


async def test_update_project_that_removes_your_own_access_says_so(agent: Agent) -> None:
    """Fizzy answers 204 when you removed yourself; the tool returns what it saved."""
    fake = agent.fake
    project = await agent.call(
        "update_project", project_id=fake.secret.id, member_ids=[fake.jason.id]
    )
    assert project["member_ids"] == [fake.jason.id]
    assert "your own access was removed" in project["note"]
    assert fake.requests("PUT")[0].status == 204


async def test_update_project_by_a_non_admin_is_refused_with_the_reason(
    server: AgentServer, fake: FakeFizzy
) -> None:
    """403 (empty body) becomes a message naming who may change a project."""
    async with open_agent(server, fake, token=MEMBER_TOKEN) as agent:
        message = await agent.fail("update_project", project_id=fake.board.id, name="Mine")
        assert "needs at least one of" in await agent.fail(
            "update_project", project_id=fake.board.id
        )
    assert message.startswith(f"Fizzy refused to update project {fake.board.id!r} (403")
    assert "only the project's admins" in message


async def test_list_columns_returns_color_names_in_board_order(agent: Agent) -> None:
    """Columns are not paginated; color {name, value} becomes its name."""
    columns = await agent.call("list_columns", project_id=agent.fake.board.id)
    assert [(c["name"], c["color"]) for c in columns] == [
        ("Figuring it out", "Blue"),
        ("In progress", "Lime"),
    ]


async def test_list_project_members_reads_the_users_of_the_accesses_page(agent: Agent) -> None:
    """GET /boards/{id}/accesses answers {board_id, all_access, users:[...]}."""
    members = await agent.call("list_project_members", project_id=agent.fake.secret.id)
    access = {m["name"]: (m["has_access"], m["involvement"]) for m in members["items"]}
    assert access["Jason Fried"] == (True, "watching")
    assert access["David Heinemeier Hansson"] == (True, "access_only")
    assert access["Kevin McConnell"] == (False, None)


async def test_list_members_pages_active_people_alphabetically(agent: Agent) -> None:
    """Deactivated users are left out; limit and page_token walk the list."""
    first = await agent.call("list_members", limit=4)
    rest = await agent.call("list_members", page_token=first["next_page_token"])
    names = [m["name"] for m in first["items"] + rest["items"]]
    assert names == sorted(names) and len(names) == 6 and "Former Member" not in names
    assert first["items"][0]["role"] == "member" and rest["next_page_token"] is None


async def test_get_member_reads_one_user(agent: Agent) -> None:
    """GET /users/{id}."""
    member = await agent.call("get_member", user_id=agent.fake.jason.id)
    assert member["name"] == "Jason Fried" and member["role"] == "admin"
    assert member["email_address"] == "jason@example.com"
