"""consolidate_pages scenarios against the fake: dry run, write, verify, refresh, sources."""

from __future__ import annotations

import pytest

from tests.contract.notion.conftest import Agent, call, fail
from tests.fakes.notion import FakeNotion, bullet, heading, para, todo

pytestmark = [pytest.mark.anyio, pytest.mark.contract]


def seed(fake: FakeNotion) -> tuple[str, str, str, str]:
    """A workspace with two overlapping notes pages and a digest folder."""
    root = fake.add_root_page("Root")
    folder = fake.add_page(root, "Digests")
    a = fake.add_page(
        root,
        "Project notes",
        [
            para("Kick-off went well."),
            heading(2, "Decisions"),
            bullet("Use Postgres"),
            bullet("Ship in May"),
            heading(2, "Actions"),
            todo("Write spec"),
            todo("Book room", checked=True),
        ],
    )
    b = fake.add_page(
        root,
        "Sprint notes",
        [
            heading(2, "decisions"),
            bullet("use postgres."),
            bullet("Hire a designer"),
            heading(2, "Actions"),
            todo("Write spec", checked=True),
            para(""),
            heading(2, "Risks"),
            para("Budget is tight"),
        ],
    )
    return root, folder, a, b


def writes(fake: FakeNotion) -> list[str]:
    return [f"{s.method} {s.path}" for s in fake.requests if s.method != "GET"]


async def test_a_dry_run_plans_and_previews_without_writing(fake: FakeNotion, agent: Agent) -> None:
    """Same headings merge, duplicates go, a to-do checked anywhere stays checked; no writes."""
    _, folder, a, b = seed(fake)
    async with agent() as client:
        plan = await call(
            client,
            "consolidate_pages",
            page_ids=[a, b],
            target_title="Digest",
            target_parent_page_id=folder,
        )
    assert writes(fake) == []
    assert plan["dry_run"] is True and plan["target"] is None and plan["refreshed"] is False
    assert plan["stats"]["duplicates_removed"] == 2
    assert plan["stats"]["sections_merged"] == 2
    preview = plan["markdown_preview"]
    body = preview.split("\n\n", 2)[2]
    assert body == (
        "## Project notes\n\nKick-off went well.\n\n"
        "## Decisions\n\n- Use Postgres\n- Ship in May\n- Hire a designer\n\n"
        "## Actions\n\n- [x] Write spec\n- [x] Book room\n\n"
        "## Risks\n\nBudget is tight\n"
    )
    assert f"consolidation id: {plan['consolidation_id']}" in preview


async def test_a_real_run_writes_verifies_then_links_back_and_a_rerun_refreshes(
    fake: FakeNotion, agent: Agent
) -> None:
    """One target under the folder; sources get one link-back; the re-run replaces content."""
    _, folder, a, b = seed(fake)
    args = {
        "page_ids": [a, b],
        "target_title": "Digest",
        "target_parent_page_id": folder,
        "dry_run": False,
    }
    async with agent() as client:
        first = await call(client, "consolidate_pages", **args)
        fake.add_page(a, "ignored child")
        second = await call(client, "consolidate_pages", **args)
    target = first["target"]["id"]
    assert second["target"]["id"] == target and second["refreshed"] is True
    assert second["consolidation_id"] == first["consolidation_id"]
    digests = [c for c in fake.children(folder) if c["type"] == "child_page"]
    assert [d["id"] for d in digests] == [target]
    content = fake.children(target)
    assert content[0]["type"] == "quote"
    assert len(content) == second["stats"]["blocks_out"] - len(second["sources"])
    for source in (a, b):
        first_block = fake.children(source)[0]["paragraph"]["rich_text"]
        assert first_block[0]["plain_text"] == "Consolidated into "
        assert first_block[1]["href"] == first["target"]["url"]
        linked = [c for c in fake.children(source) if "Consolidated into" in str(c)]
        assert len(linked) == 1
    assert [s["ok"] for s in second["source_actions"]] == [True, True]


async def test_trashing_sources_happens_only_after_the_target_is_verified(
    fake: FakeNotion, agent: Agent
) -> None:
    """Every write to the target precedes the first PATCH in_trash; search then finds the digest."""
    _, folder, a, b = seed(fake)
    async with agent() as client:
        result = await call(
            client,
            "consolidate_pages",
            page_ids=[a, b],
            target_title="Digest",
            target_parent_page_id=folder,
            source_action="trash",
            dry_run=False,
        )
        found = await call(client, "search_workspace", query="notes")
        digest = await call(client, "search_workspace", query="digest")
    log = writes(fake)
    trash = [i for i, w in enumerate(log) if w.startswith("PATCH /v1/pages/")]
    target_writes = [
        i
        for i, w in enumerate(log)
        if "/v1/pages" == w.split(" ")[1] or result["target"]["id"] in w
    ]
    assert len(trash) == 2 and max(target_writes) < min(trash)
    assert fake.ws.pages[a]["in_trash"] and fake.ws.pages[b]["in_trash"]
    assert found["results"] == []
    assert [r["title"] for r in digest["results"]] == ["Digest", "Digests"]


async def test_pages_with_the_same_title_merge_as_versions_newest_first(
    fake: FakeNotion, agent: Agent
) -> None:
    """'Standup' and 'Standup (copy)' are one document; the newer version's order wins."""
    root = fake.add_root_page("Root")
    old = fake.add_page(root, "Standup", [para("alpha"), para("beta")])
    new = fake.add_page(root, "Standup (copy)", [para("gamma"), para("Alpha")])
    async with agent() as client:
        plan = await call(
            client, "consolidate_pages", search_query="standup", target_title="Standup"
        )
    assert plan["stats"]["title_groups"] == [[new, old]]
    body = plan["markdown_preview"].split("\n\n", 2)[2]
    assert body == "## Standup (copy)\n\ngamma\n\nAlpha\n\nbeta\n"


async def test_concatenate_keeps_each_page_as_its_own_section_with_its_source(
    fake: FakeNotion, agent: Agent
) -> None:
    """No heading merge: one '## title' plus 'Source: url' per page; exact dedupe only."""
    _, _, a, b = seed(fake)
    async with agent() as client:
        plan = await call(
            client,
            "consolidate_pages",
            page_ids=[a, b],
            target_title="All",
            strategy="concatenate",
            dedupe="exact",
        )
    preview = plan["markdown_preview"]
    assert "## Project notes\n\nSource: https://www.notion.so/" in preview
    assert "## Sprint notes\n\nSource: https://www.notion.so/" in preview
    assert plan["stats"]["duplicates_removed"] == 1  # only the identical "Write spec" to-do


async def test_a_failed_write_leaves_sources_untouched_and_a_rerun_repairs_the_target(
    fake: FakeNotion, agent: Agent
) -> None:
    """A 500 on an append stops the run before any source action; the re-run refreshes."""
    root = fake.add_root_page("Root")
    folder = fake.add_page(root, "Digests")
    a = fake.add_page(root, "Big A", [para(f"a{i}") for i in range(120)])
    b = fake.add_page(root, "Big B", [para(f"b{i}") for i in range(20)])
    args = {
        "page_ids": [a, b],
        "target_title": "Digest",
        "target_parent_page_id": folder,
        "source_action": "trash",
        "dry_run": False,
    }
    fake.fail_next(500, "internal_server_error", method="PATCH", path="/children")
    async with agent() as client:
        message = await fail(client, "consolidate_pages", **args)
        assert "internal_server_error" in message
        assert not fake.ws.pages[a]["in_trash"] and not fake.ws.pages[b]["in_trash"]
        assert len(fake.calls("PATCH", "/children")) == 1  # a failed PATCH is not retried
        repaired = await call(client, "consolidate_pages", **args)
    assert repaired["refreshed"] is True
    digests = [c for c in fake.children(folder) if c["type"] == "child_page"]
    assert len(digests) == 1
    assert len(fake.children(digests[0]["id"])) == repaired["stats"]["blocks_out"] - 2
    assert fake.ws.pages[a]["in_trash"] and fake.ws.pages[b]["in_trash"]


async def test_consolidation_skips_trashed_pages_and_earlier_digests(
    fake: FakeNotion, agent: Agent
) -> None:
    """Warnings name them; a real run needs a target; no sources left is an input error."""
    _, folder, a, b = seed(fake)
    fake.ws.trash(b, True)
    async with agent() as client:
        made = await call(
            client,
            "consolidate_pages",
            page_ids=[a],
            target_title="D",
            target_parent_page_id=folder,
            dry_run=False,
            source_action="none",
        )
        again = await fail(
            client, "consolidate_pages", page_ids=[b, made["target"]["id"]], target_title="E"
        )
        no_target = await fail(
            client, "consolidate_pages", page_ids=[a], target_title="E", dry_run=False
        )
    assert again.startswith("no sources left to consolidate")
    assert no_target.startswith("target_parent_page_id or target_page_id is required")


async def test_target_page_id_refreshes_a_trashed_digest_by_restoring_it_first(
    fake: FakeNotion, agent: Agent
) -> None:
    """The target comes back from the trash, renamed, with only the new content."""
    _, folder, a, b = seed(fake)
    target = fake.add_page(folder, "Old name", [para("stale")])
    fake.ws.trash(target, True)
    async with agent() as client:
        result = await call(
            client,
            "consolidate_pages",
            page_ids=[a, b],
            target_title="Digest",
            target_page_id=target,
            dry_run=False,
            source_action="none",
        )
    assert result["target"]["id"] == target and result["target"]["title"] == "Digest"
    assert not fake.ws.pages[target]["in_trash"]
    texts = str(fake.children(target))
    assert "stale" not in texts and "consolidation id" in texts
