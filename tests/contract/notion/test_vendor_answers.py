"""A 200 answer without what Notion documents is an upstream error, not a crash (issue 15):
the page without ``id`` that crashed get_page and consolidate_pages with KeyError."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from mcp import Client

from agents.core.testing import recording
from agents.notion.app import connect
from agents.notion.tools import SPEC
from tests.contract.notion.conftest import layers_for
from tests.fakes.mangle import ManglingProxy, Mutation
from tests.fakes.notion import FakeNotion
from tests.unit.core.util import server_for

pytestmark = [pytest.mark.anyio, pytest.mark.contract]

TEXT = [{"type": "text", "text": {"content": "hello"}}]


@pytest.fixture(name="proxy")
def _proxy(fake: FakeNotion) -> Iterator[ManglingProxy]:
    p = ManglingProxy(fake.url).start()
    yield p
    p.stop()


async def outcome(
    fake: FakeNotion, proxy: ManglingProxy, tool: str, **args: Any
) -> tuple[str, str]:
    notion = connect(layers_for(fake, NOTION_BASE_URL=proxy.url))
    rec = recording()
    try:
        async with Client(server_for(SPEC.registry, client=notion, recorder=rec)) as client:
            result = await client.call_tool(tool, args)
    finally:
        await notion.aclose()
    assert result.is_error
    text = " ".join(getattr(c, "text", "") for c in result.content)
    return text, rec.calls[-1].outcome


async def test_get_page_given_a_page_without_id_says_the_answer_is_malformed(
    fake: FakeNotion, proxy: ManglingProxy
) -> None:
    page = fake.add_root_page("Root", [{"type": "paragraph", "paragraph": {"rich_text": TEXT}}])
    proxy.arm(Mutation("drop_top", 0, "id", index=0))
    text, recorded = await outcome(fake, proxy, "get_page", page_id=page)
    assert "answer.id is missing from a page" in text and "not what its API documents" in text
    assert recorded == "error"
    assert proxy.spoiled == [f"GET /v1/pages/{page}"]


async def test_consolidate_pages_given_a_page_without_id_writes_nothing(
    fake: FakeNotion, proxy: ManglingProxy
) -> None:
    a = fake.add_root_page("A", [{"type": "paragraph", "paragraph": {"rich_text": TEXT}}])
    b = fake.add_root_page("B", [{"type": "paragraph", "paragraph": {"rich_text": TEXT}}])
    parent = fake.add_root_page("Parent", [])
    proxy.arm(Mutation("drop_top", 0, "id", index=0))
    text, recorded = await outcome(
        fake,
        proxy,
        "consolidate_pages",
        target_title="Digest",
        page_ids=[a, b],
        target_parent_page_id=parent,
        dry_run=False,
    )
    assert "is missing from a page" in text and recorded == "error"
    assert [r for r in fake.requests if r.method != "GET"] == []
