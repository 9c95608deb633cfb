"""Comment, step, tag, notification and activity tools against the fake Fizzy."""

from __future__ import annotations

from typing import Any

import pytest

from agents.core.server import AgentServer
from tests.contract.fizzy.conftest import Agent, open_agent
from tests.fakes.fizzy import MEMBER_TOKEN, FakeFizzy
from tests.fakes.fizzy.state import Card, Step

pytestmark = [pytest.mark.anyio, pytest.mark.contract]


def new_card(agent: Agent, **extra: Any) -> Card:
    return agent.fake.account.add_card(agent.fake.board, "Fix login", agent.fake.david, **extra)


async def test_add_comment_posts_a_nested_body_and_returns_the_comment(agent: Agent) -> None:
    """POST comments comment:{body} → 201 Comment; body becomes plain text."""
    card = new_card(agent)
    comment = await agent.call("add_comment", task_number=card.number, body="Looks good")
    assert comment["body"] == "Looks good" and comment["body_html"] == "<div>Looks good</div>"
    assert comment["creator"]["name"] == "David Heinemeier Hansson"
    assert agent.fake.requests("POST", "/comments")[0].body == {"comment": {"body": "Looks good"}}


async def test_add_comment_on_a_draft_is_refused_with_the_reason(agent: Agent) -> None:
    """Only published cards take comments: Fizzy's empty 403 gets explained."""
    card = new_card(agent, status="drafted")
    message = await agent.fail("add_comment", task_number=card.number, body="Hi")
    assert f"task #{card.number} is a draft" in message and "(403 Forbidden)" in message


async def test_list_comments_pages_oldest_first(agent: Agent) -> None:
    """GET comments is paginated (15 first), oldest first."""
    card = new_card(agent)
    for i in range(17):
        agent.fake.account.add_comment(card, f"c{i}", agent.fake.kevin)
    page = await agent.call("list_comments", task_number=card.number, limit=16)
    assert [c["body"] for c in page["items"]] == [f"c{i}" for i in range(16)]
    rest = await agent.call(
        "list_comments", task_number=card.number, page_token=page["next_page_token"]
    )
    assert [c["body"] for c in rest["items"]] == ["c16"]


async def test_update_and_delete_comment_work_for_the_author_only(
    server: AgentServer, fake: FakeFizzy
) -> None:
    """PUT/DELETE comments/{id}: 200 and 204 for the author, 403 for anyone else."""
    card = fake.account.add_card(fake.board, "Shared", fake.david)
    mine = fake.account.add_comment(card, "first", fake.david)
    async with open_agent(server, fake, token=MEMBER_TOKEN) as kevin:
        message = await kevin.fail(
            "update_comment", task_number=card.number, comment_id=mine.id, body="hijack"
        )
        assert "only the comment's author" in message
        assert "only the comment's author" in await kevin.fail(
            "delete_comment", task_number=card.number, comment_id=mine.id
        )
    async with open_agent(server, fake) as david:
        updated = await david.call(
            "update_comment", task_number=card.number, comment_id=mine.id, body="edited"
        )
        assert updated["body"] == "edited"
        deleted = await david.call("delete_comment", task_number=card.number, comment_id=mine.id)
        assert deleted == {"id": mine.id, "deleted": True}
        assert "not found" in await david.fail(
            "delete_comment", task_number=card.number, comment_id=mine.id
        )
    assert mine.id not in fake.account.comments


async def test_steps_are_listed_added_ticked_and_removed(agent: Agent) -> None:
    """Steps: GET list (not paginated), POST 201, PUT 200, DELETE 204."""
    card = new_card(agent)
    card.steps.append(Step("s0", "Existing"))
    step = await agent.call("add_step", task_number=card.number, content="Write tests")
    assert step["completed"] is False
    ticked = await agent.call(
        "update_step", task_number=card.number, step_id=step["id"], completed=True
    )
    assert ticked == {"id": step["id"], "content": "Write tests", "completed": True}
    listed = await agent.call("list_steps", task_number=card.number)
    assert [(s["content"], s["completed"]) for s in listed] == [
        ("Existing", False),
        ("Write tests", True),
    ]
    assert await agent.call("delete_step", task_number=card.number, step_id="s0") == {
        "id": "s0",
        "deleted": True,
    }
    assert [s.content for s in card.steps] == ["Write tests"]
    assert agent.fake.requests("PUT")[0].body == {"step": {"completed": True}}


async def test_step_errors_name_the_problem(agent: Agent) -> None:
    """Nothing to change is an input error; a blank step is Fizzy's 422 naming the fields sent."""
    card = new_card(agent)
    assert "needs content or completed" in await agent.fail(
        "update_step", task_number=card.number, step_id="x"
    )
    message = await agent.fail("add_step", task_number=card.number, content="   ")
    assert "(422 Unprocessable Entity)" in message and "fields sent: content, completed" in message
    assert "step 'gone' of task" in await agent.fail(
        "delete_step", task_number=card.number, step_id="gone"
    )


async def test_list_tags_pages_the_accounts_tags_alphabetically(agent: Agent) -> None:
    """Tags come into being through taggings; GET /tags lists them."""
    card = new_card(agent)
    for title in ("zeta", "Alpha", "mid"):
        agent.fake.account.toggle_tag(card, title)
    tags = await agent.call("list_tags")
    assert [t["title"] for t in tags["items"]] == ["Alpha", "mid", "zeta"]


async def test_notifications_come_unread_first_and_unread_only_stops_at_the_first_read(
    agent: Agent,
) -> None:
    """Page 1 holds every unread notification, then read ones; later pages only read ones."""
    fake = agent.fake
    card = new_card(agent)
    for i in range(20):
        fake.account.add_notification(fake.david, card, f"read {i}", read=True)
    for i in range(3):
        fake.account.add_notification(fake.david, card, f"unread {i}")
    fake.account.add_notification(fake.kevin, card, "not mine")
    everything = await agent.call("list_notifications", limit=500)
    assert len(everything["items"]) == 23
    assert [n["read"] for n in everything["items"][:4]] == [False, False, False, True]
    unread = await agent.call("list_notifications", unread_only=True)
    assert [n["title"] for n in unread["items"]] == ["unread 2", "unread 1", "unread 0"]
    assert unread["next_page_token"] is None
    assert unread["items"][0]["task"]["number"] == card.number
    assert len(fake.requests("GET", "/notifications")) == 3


async def test_notifications_are_marked_read_one_or_all(agent: Agent) -> None:
    """POST/DELETE notifications/{id}/reading, POST bulk_reading: 204s."""
    fake = agent.fake
    card = new_card(agent)
    for i in range(2):
        fake.account.add_notification(fake.david, card, f"n{i}")
    first = next(iter(fake.account.notifications.values()))
    done = await agent.call("mark_notification_read", notification_id=first.id)
    assert done == {"notification_id": first.id, "read": True} and first.read_at
    await agent.call("mark_notification_read", notification_id=first.id, read=False)
    assert first.read_at is None
    assert await agent.call("mark_all_notifications_read") == {
        "notification_id": None,
        "read": True,
    }
    assert all(n.read_at for n in fake.account.notifications.values())
    assert "notification 'nope' not found" in await agent.fail(
        "mark_notification_read", notification_id="nope"
    )


async def test_list_activity_filters_by_project_and_creator_newest_first(agent: Agent) -> None:
    """GET /activities with board_ids[] and creator_ids[]; card numbers are surfaced."""
    fake = agent.fake
    card = new_card(agent)
    fake.account.close(card, fake.kevin)
    fake.account.add_card(fake.secret, "Elsewhere", fake.david)
    events = await agent.call("list_activity", project_ids=[fake.board.id])
    assert [e["action"] for e in events["items"]] == ["card_closed", "card_published"]
    assert events["items"][0]["task_number"] == card.number
    assert events["items"][0]["subject_type"] == "Card"
    by_kevin = await agent.call("list_activity", creator_ids=[fake.kevin.id])
    assert [e["action"] for e in by_kevin["items"]] == ["card_closed"]
    assert "board_ids%5B%5D=" in fake.requests("GET", "/activities")[0].path
