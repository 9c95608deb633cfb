"""Page tools against the fake: request shapes Notion expects, and compact results."""

from __future__ import annotations

import pytest

from agents.core.testing import Recording
from tests.contract.notion.conftest import Agent, call, fail
from tests.fakes.notion import FakeNotion, bullet, heading, para, todo

pytestmark = [pytest.mark.anyio, pytest.mark.contract]


async def test_search_workspace_filters_by_object_and_sorts_by_last_edit(
    fake: FakeNotion, agent: Agent
) -> None:
    """One POST /v1/search with Notion's filter and sort; pages and data sources come back."""
    root = fake.add_root_page("Team")
    fake.add_page(root, "Roadmap 2026")
    fake.add_page(root, "Road trip")
    fake.add_database(root, "Roadmap items", {"Name": {"title": {}}})
    async with agent() as client:
        pages = await call(client, "search_workspace", query="road", object_type="page")
        sources = await call(client, "search_workspace", query="roadmap", object_type="data_source")
    body = fake.calls("POST", "/v1/search")[0].body
    assert body["filter"] == {"property": "object", "value": "page"}
    assert body["sort"] == {"timestamp": "last_edited_time", "direction": "descending"}
    assert [r["title"] for r in pages["results"]] == ["Road trip", "Roadmap 2026"]
    assert pages["results"][0]["parent"] == f"page:{root}"
    assert [(r["object"], r["title"]) for r in sources["results"]] == [
        ("data_source", "Roadmap items")
    ]


async def test_list_pages_lists_sub_pages_or_recent_pages(fake: FakeNotion, agent: Agent) -> None:
    """With a parent: its child_page blocks; without: search for pages."""
    root = fake.add_root_page("Home", [para("intro")])
    a = fake.add_page(root, "Alpha")
    fake.add_page(root, "Beta")
    fake.add_page(a, "Nested")
    async with agent() as client:
        children = await call(client, "list_pages", parent_page_id=root)
        recent = await call(client, "list_pages", limit=2)
    assert [r["title"] for r in children["results"]] == ["Alpha", "Beta"]
    assert recent["has_more"] is True and len(recent["results"]) == 2
    assert fake.calls("POST", "/v1/search")[0].body["page_size"] == 2


async def test_get_page_renders_markdown_and_follows_cursors_and_nesting(
    fake: FakeNotion, agent: Agent
) -> None:
    """150 blocks take two children requests; nested items are read and indented."""
    root = fake.add_root_page("Root")
    blocks = [heading(1, "Plan"), bullet("parent", [bullet("child")]), todo("ship", True)]
    blocks += [para(f"line {i}") for i in range(147)]
    page = fake.add_page(root, "Plan", blocks)
    async with agent() as client:
        result = await call(client, "get_page", page_id=page.replace("-", ""))
    lists = fake.calls("GET", f"/v1/blocks/{page}/children")
    assert len(lists) == 2
    assert result["markdown"].startswith("# Plan\n\n- parent\n  - child\n- [x] ship\n\nline 0\n")
    assert result["block_count"] == 151 and result["truncated"] is False
    assert result["properties"] == {"title": "Plan"}


async def test_get_page_stops_at_max_blocks_and_continues_from_its_cursor(
    fake: FakeNotion, agent: Agent
) -> None:
    """A truncated read returns next_cursor; passing it back reads the rest."""
    root = fake.add_root_page("Root")
    page = fake.add_page(root, "Long", [para(f"p{i}") for i in range(30)])
    async with agent() as client:
        first = await call(client, "get_page", page_id=page, max_blocks=20)
        rest = await call(client, "get_page", page_id=page, cursor=first["next_cursor"])
    assert first["truncated"] is True and first["block_count"] == 20
    assert rest["markdown"].split("\n\n")[0] == "p20" and rest["next_cursor"] is None


async def test_create_page_writes_the_first_100_blocks_then_appends_in_chunks(
    fake: FakeNotion, agent: Agent
) -> None:
    """250 blocks: POST /v1/pages with 100, then appends of at most 100; long text is split."""
    root = fake.add_root_page("Root")
    markdown = "\n".join(f"- item {i}" for i in range(249)) + "\n\n" + "x" * 4500
    async with agent() as client:
        result = await call(
            client, "create_page", title="Big", parent_page_id=root, markdown=markdown, icon="📄"
        )
    create = fake.calls("POST", "/v1/pages")[0].body
    assert create["parent"] == {"type": "page_id", "page_id": root}
    assert create["properties"]["title"]["title"][0]["text"]["content"] == "Big"
    assert create["icon"] == {"type": "emoji", "emoji": "📄"}
    assert len(create["children"]) == 100
    appends = fake.calls("PATCH", f"/v1/blocks/{result['id']}/children")
    assert [len(a.body["children"]) for a in appends] == [100, 50]
    last = fake.children(result["id"])[-1]["paragraph"]["rich_text"]
    assert [len(r["plain_text"]) for r in last] == [2000, 2000, 500]
    assert result["blocks_written"] == 250
    assert len(fake.children(result["id"])) == 250


async def test_create_page_refuses_two_parents_naming_both_parameters(agent: Agent) -> None:
    """Exactly one of parent_page_id and database_id."""
    async with agent() as client:
        message = await fail(client, "create_page", title="x")
    assert "parent_page_id, database_id" in message


async def test_update_page_appends_prepends_and_sets_the_title(
    fake: FakeNotion, agent: Agent
) -> None:
    """append goes to the end, prepend uses position start, title goes through PATCH /pages."""
    root = fake.add_root_page("Root")
    page = fake.add_page(root, "Notes", [para("middle")])
    async with agent() as client:
        await call(client, "update_page", page_id=page, mode="append", markdown="end")
        await call(client, "update_page", page_id=page, mode="prepend", markdown="a\n\nb")
        await call(client, "update_page", page_id=page, mode="set_properties", title="Renamed")
    prepend = fake.calls("PATCH", f"/v1/blocks/{page}/children")[1].body
    assert prepend["position"] == {"type": "start"}
    texts = [b["paragraph"]["rich_text"][0]["plain_text"] for b in fake.children(page)]
    assert texts == ["a", "b", "middle", "end"]
    patch = fake.calls("PATCH", f"/v1/pages/{page}")[0].body
    assert patch == {
        "properties": {"title": {"title": [{"type": "text", "text": {"content": "Renamed"}}]}}
    }


async def test_update_page_replace_writes_new_content_first_and_keeps_sub_pages(
    fake: FakeNotion, agent: Agent
) -> None:
    """The old blocks are deleted only after the new ones exist; child pages survive."""
    root = fake.add_root_page("Root")
    page = fake.add_page(root, "Doc", [para("old 1"), para("old 2")])
    sub = fake.add_page(page, "Keep me")
    async with agent() as client:
        result = await call(client, "update_page", page_id=page, mode="replace", markdown="# New")
    methods = [(s.method, s.path.split("/")[2]) for s in fake.requests if s.method != "GET"]
    assert methods == [("PATCH", "blocks"), ("DELETE", "blocks"), ("DELETE", "blocks")]
    kinds = [b["type"] for b in fake.children(page)]
    assert kinds == ["child_page", "heading_1"]
    assert fake.children(page)[0]["id"] == sub
    assert (result["blocks_written"], result["blocks_removed"]) == (1, 2)


async def test_update_page_replace_refuses_to_remove_more_than_max_delete(
    fake: FakeNotion, agent: Agent
) -> None:
    """A large replace needs max_delete raised; nothing is written before the refusal."""
    root = fake.add_root_page("Root")
    page = fake.add_page(root, "Doc", [para(str(i)) for i in range(5)])
    async with agent() as client:
        message = await fail(
            client, "update_page", page_id=page, mode="replace", markdown="x", max_delete=3
        )
    assert message.startswith("max_delete: replace would remove 5 blocks")
    assert [s for s in fake.requests if s.method != "GET"] == []


async def test_update_page_trashes_and_restores(fake: FakeNotion, agent: Agent) -> None:
    """in_trash true, then false; the page leaves and rejoins search."""
    root = fake.add_root_page("Root")
    page = fake.add_page(root, "Temp")
    async with agent() as client:
        trashed = await call(client, "update_page", page_id=page, mode="trash")
        hidden = await call(client, "search_workspace", query="Temp")
        restored = await call(client, "update_page", page_id=page, mode="restore")
    assert fake.calls("PATCH", f"/v1/pages/{page}")[0].body == {"in_trash": True}
    assert trashed["in_trash"] is True and restored["in_trash"] is False
    assert hidden["results"] == []


async def test_add_block_inserts_after_a_block_and_nests_deep_lists(
    fake: FakeNotion, agent: Agent
) -> None:
    """after_block_id becomes position.after_block; a 4-level list is written in two steps."""
    root = fake.add_root_page("Root")
    page = fake.add_page(root, "Doc", [para("first"), para("last")])
    first = fake.children(page)[0]["id"]
    markdown = "- a\n  - b\n    - c\n      - d\n"
    async with agent() as client:
        result = await call(
            client, "add_block", page_id=page, markdown=markdown, after_block_id=first
        )
    patches = fake.calls("PATCH", "/children")
    assert patches[0].body["position"] == {"type": "after_block", "after_block": {"id": first}}
    assert [b["type"] for b in fake.children(page)] == [
        "paragraph",
        "bulleted_list_item",
        "paragraph",
    ]
    assert result["blocks_written"] == 4 and len(patches) == 2
    async with agent() as client:
        read = await call(client, "get_page", page_id=page, max_depth=5)
    assert "- a\n  - b\n    - c\n      - d" in read["markdown"]


async def test_every_call_is_recorded_with_its_write_target(
    fake: FakeNotion, agent: Agent, recorder: Recording
) -> None:
    """The spine's recorder gets one record per call; writes name the page they touched."""
    root = fake.add_root_page("Root")
    async with agent() as client:
        made = await call(client, "create_page", title="Rec", parent_page_id=root)
        await fail(client, "get_page", page_id="0f0f0f0f-0f0f-4f0f-8f0f-0f0f0f0f0f0f")
    created, missing = recorder.calls
    assert (created.agent, created.tool, created.outcome) == ("notion", "create_page", "ok")
    assert created.meta == {"write": True, "target": f"page:{made['id']}"}
    assert created.output["id"] == made["id"]
    assert (missing.tool, missing.outcome) == ("get_page", "error")
    assert "not shared with the integration" in (missing.error or "")


async def test_get_page_can_leave_out_properties(fake: FakeNotion, agent: Agent) -> None:
    """include_properties=false returns an empty map."""
    root = fake.add_root_page("Root")
    async with agent() as client:
        result = await call(client, "get_page", page_id=root, include_properties=False)
    assert result["properties"] == {}
