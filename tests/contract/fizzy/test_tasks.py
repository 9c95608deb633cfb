"""Task tools (Fizzy cards) against the fake: endpoints, lifecycle rules and idempotent toggles."""

from __future__ import annotations

from typing import Any

import pytest

from tests.contract.fizzy.conftest import Agent
from tests.fakes.fizzy.state import Card, Step

pytestmark = [pytest.mark.anyio, pytest.mark.contract]


def new_card(agent: Agent, title: str = "Fix login", **extra: Any) -> Card:
    fake = agent.fake
    return fake.account.add_card(fake.board, title, fake.david, **extra)


async def test_create_task_nests_the_card_and_finishes_column_tags_assignees_and_steps(
    agent: Agent,
) -> None:
    """One call: POST board cards with a nested body, then triage, taggings, assignments, steps."""
    fake = agent.fake
    task = await agent.call(
        "create_task",
        project_id=fake.board.id,
        title="Ship it",
        description="Before Friday",
        column_id=fake.columns[1].id,
        tags=["#ios", "ios", "Auth"],
        assignee_ids=[fake.kevin.id],
        steps=["Write", "Review"],
    )
    assert task["stage"] == "In progress" and task["project"]["name"] == "Writebook"
    assert task["tags"] == ["Auth", "ios"]
    assert [a["name"] for a in task["assignees"]] == ["Kevin McConnell"]
    assert [s["content"] for s in task["steps"]] == ["Write", "Review"]
    create = fake.requests("POST", f"/boards/{fake.board.id}/cards")[0]
    assert create.status == 201
    assert create.body == {"card": {"title": "Ship it", "description": "Before Friday"}}
    assert len(fake.requests("POST", "/taggings")) == 2
    assert fake.requests("POST", "/triage")[0].body == {"column_id": fake.columns[1].id}


async def test_create_task_follows_location_when_fizzy_sends_no_body(agent: Agent) -> None:
    """The docs promise only 201 + Location; the created task is then fetched from it."""
    agent.fake.create_bodies = False
    task = await agent.call("create_task", project_id=agent.fake.board.id, title="Bare")
    assert task["number"] == 1 and task["stage"] == "Maybe?"
    assert agent.fake.requests("GET", "/cards/1")


async def test_create_task_that_fails_halfway_says_the_task_exists(agent: Agent) -> None:
    """A column of another project: the error names the created task, nothing is lost."""
    other = agent.fake.account.add_column(agent.fake.secret, "Elsewhere")
    message = await agent.fail(
        "create_task", project_id=agent.fake.board.id, title="Half", column_id=other.id
    )
    assert "task #1 was created" in message and "not found" in message
    assert agent.fake.account.cards[1].title == "Half"


async def test_get_task_reads_by_number_with_steps(agent: Agent) -> None:
    """GET /cards/{number}; the id is not a number, and a missing number is a clear error."""
    card = new_card(agent)
    card.steps.append(Step("s1", "Check", True))
    task = await agent.call("get_task", task_number=card.number)
    assert task["id"] == card.id and task["steps"] == [
        {"id": "s1", "content": "Check", "completed": True}
    ]
    message = await agent.fail("get_task", task_number=999)
    assert message.startswith("task #999 not found in Fizzy (404)")


async def test_list_tasks_filters_and_resumes_exactly_inside_a_page(agent: Agent) -> None:
    """limit cuts a 15-item page; the token resumes there, so nothing is skipped or repeated."""
    for i in range(40):
        new_card(agent, f"Card {i}")
    first = await agent.call("list_tasks", limit=20, sort="oldest")
    assert [t["title"] for t in first["items"]] == [f"Card {i}" for i in range(20)]
    rest = await agent.call(
        "list_tasks", limit=100, sort="oldest", page_token=first["next_page_token"]
    )
    assert [t["title"] for t in rest["items"]] == [f"Card {i}" for i in range(20, 40)]
    assert rest["next_page_token"] is None
    assert "page=2" in agent.fake.requests("GET", "/cards")[-1].path


async def test_list_tasks_sends_fizzys_filter_params(agent: Agent) -> None:
    """Array params end in []; views and unassigned map to indexed_by and assignment_status."""
    done = new_card(agent, "Done thing")
    agent.fake.account.close(done, agent.fake.david)
    new_card(agent, "Open thing")
    closed = await agent.call("list_tasks", view="closed", project_ids=[agent.fake.board.id])
    assert [t["title"] for t in closed["items"]] == ["Done thing"]
    assert closed["items"][0]["stage"] == "Done"
    unassigned = await agent.call("list_tasks", unassigned_only=True, terms=["open"])
    assert [t["title"] for t in unassigned["items"]] == ["Open thing"]
    path = agent.fake.requests("GET", "/cards")[-1].path
    assert "assignment_status=unassigned" in path and "terms%5B%5D=open" in path


async def test_search_tasks_finds_words_and_ids(agent: Agent) -> None:
    """GET /search?q=: text in titles or comments, or one task by its id."""
    card = new_card(agent, "Crash on launch")
    other = new_card(agent, "Unrelated")
    agent.fake.account.add_comment(other, "seen a crash too", agent.fake.kevin)
    found = await agent.call("search_tasks", query="crash")
    assert {t["number"] for t in found["items"]} == {card.number, other.number}
    by_id = await agent.call("search_tasks", query=card.id)
    assert [t["number"] for t in by_id["items"]] == [card.number]


async def test_update_task_puts_the_changes_and_needs_one(agent: Agent) -> None:
    """PUT /cards/{n} with card:{title}; nothing to change is an input error."""
    card = new_card(agent)
    task = await agent.call("update_task", task_number=card.number, title="Fix mobile login")
    assert task["title"] == "Fix mobile login"
    assert agent.fake.requests("PUT")[0].body == {"card": {"title": "Fix mobile login"}}
    assert "needs a title or a description" in await agent.fail(
        "update_task", task_number=card.number
    )


async def test_close_keeps_the_column_but_the_stage_is_done_and_closing_twice_is_harmless(
    agent: Agent,
) -> None:
    """Closing clears not-now, keeps the column association; a second close changes nothing."""
    card = new_card(agent, column_id=agent.fake.columns[0].id)
    for _ in range(2):
        task = await agent.call("close_task", task_number=card.number)
        assert task["stage"] == "Done" and task["closed"] is True
    assert task["column"]["name"] == "Figuring it out"
    closes = [a for a in agent.fake.account.activities if a.action == "card_closed"]
    assert len(closes) == 1


async def test_reopen_returns_a_closed_task_to_its_column(agent: Agent) -> None:
    """DELETE closure."""
    card = new_card(agent, column_id=agent.fake.columns[0].id, closed=True)
    task = await agent.call("reopen_task", task_number=card.number)
    assert task["stage"] == "Figuring it out" and task["closed"] is False


async def test_postpone_reopens_and_takes_the_task_out_of_its_column(agent: Agent) -> None:
    """POST not_now: back to triage, reopened, then Not Now."""
    card = new_card(agent, column_id=agent.fake.columns[0].id, closed=True)
    task = await agent.call("postpone_task", task_number=card.number)
    assert task["stage"] == "Not Now" and task["postponed"] is True
    assert task["closed"] is False and task["column"] is None


async def test_move_task_triages_into_a_column_of_its_project_or_back_to_maybe(
    agent: Agent,
) -> None:
    """POST triage {column_id} resumes a postponed task; DELETE triage sends it to Maybe?."""
    card = new_card(agent, not_now=True)
    column = agent.fake.columns[1]
    task = await agent.call("move_task", task_number=card.number, column_id=column.id)
    assert task["stage"] == "In progress" and task["postponed"] is False
    task = await agent.call("move_task", task_number=card.number, column_id=None)
    assert task["stage"] == "Maybe?" and task["column"] is None
    elsewhere = agent.fake.account.add_column(agent.fake.secret, "Other board's column")
    message = await agent.fail("move_task", task_number=card.number, column_id=elsewhere.id)
    assert f"column {elsewhere.id!r} on its project not found" in message


async def test_move_task_to_project_puts_the_board_id_at_the_top_level(agent: Agent) -> None:
    """PUT /cards/{n}/board {board_id}: the task lands in the other project's Maybe?."""
    card = new_card(agent, column_id=agent.fake.columns[0].id)
    task = await agent.call(
        "move_task_to_project", task_number=card.number, project_id=agent.fake.secret.id
    )
    assert task["project"]["name"] == "Secret plans" and task["stage"] == "Maybe?"
    assert agent.fake.requests("PUT", "/board")[0].body == {"board_id": agent.fake.secret.id}


async def test_assign_task_toggles_only_when_the_state_differs(agent: Agent) -> None:
    """Assigning twice or unassigning twice posts the toggle once each."""
    card = new_card(agent)
    kevin = agent.fake.kevin.id
    for _ in range(2):
        task = await agent.call("assign_task", task_number=card.number, user_id=kevin)
        assert [a["id"] for a in task["assignees"]] == [kevin]
    for _ in range(2):
        task = await agent.call(
            "assign_task", task_number=card.number, user_id=kevin, assigned=False
        )
        assert task["assignees"] == []
    assert len(agent.fake.requests("POST", "/assignments")) == 2


async def test_assign_task_beyond_five_assignees_asks_the_card_filter(agent: Agent) -> None:
    """Card JSON lists 5 assignees; the sixth is checked with card_ids[] and assignee_ids[]."""
    fake = agent.fake
    people = [fake.david, fake.jason, fake.kevin, *fake.people]
    card = new_card(agent, assignee_ids=[p.id for p in people])
    sixth = people[5].id
    task = await agent.call("assign_task", task_number=card.number, user_id=sixth)
    assert task["has_more_assignees"] is True
    assert fake.requests("POST", "/assignments") == []
    check = fake.requests("GET", "card_ids")[0].path
    assert f"card_ids%5B%5D={card.id}" in check and f"assignee_ids%5B%5D={sixth}" in check


async def test_assign_task_to_someone_without_access_is_not_found(agent: Agent) -> None:
    """Fizzy finds the assignee among the project's users: 404 otherwise."""
    card = agent.fake.account.add_card(agent.fake.secret, "Hidden", agent.fake.david)
    message = await agent.fail("assign_task", task_number=card.number, user_id=agent.fake.kevin.id)
    assert "not found in Fizzy (404)" in message and agent.fake.kevin.id in message


async def test_tag_task_toggles_only_when_needed_and_matches_case_insensitively(
    agent: Agent,
) -> None:
    """Tagging twice posts once; '#Bug' removes 'bug'; removing an absent tag posts nothing."""
    card = new_card(agent)
    for _ in range(2):
        task = await agent.call("tag_task", task_number=card.number, tag="bug")
        assert task["tags"] == ["bug"]
    task = await agent.call("tag_task", task_number=card.number, tag="#Bug", present=False)
    assert task["tags"] == []
    await agent.call("tag_task", task_number=card.number, tag="bug", present=False)
    posts = agent.fake.requests("POST", "/taggings")
    assert [p.body for p in posts] == [{"tag_title": "bug"}, {"tag_title": "bug"}]
    assert "is empty" in await agent.fail("tag_task", task_number=card.number, tag="#")
