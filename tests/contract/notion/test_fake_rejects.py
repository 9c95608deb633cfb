"""The Notion fake rejects what Notion rejects (issue 15): unknown keys in block payloads,
seen through the real notion-client SDK."""

from __future__ import annotations

from typing import Any

import pytest
from notion_client import APIResponseError, AsyncClient

from tests.fakes.notion import FakeNotion

pytestmark = [pytest.mark.anyio, pytest.mark.contract]

TEXT = [{"type": "text", "text": {"content": "hi"}}]


@pytest.mark.parametrize(
    ("block", "where"),
    [
        ({"type": "paragraph", "paragraph": {"rich_text": TEXT}, "id": "x"}, "children[0].id"),
        ({"type": "paragraph", "paragraph": {"rich_text": TEXT, "text": TEXT}}, "paragraph.text"),
        ({"type": "to_do", "to_do": {"rich_text": TEXT, "done": True}}, "to_do.done"),
        ({"type": "divider", "divider": {"color": "red"}}, "divider.color"),
        (
            {"type": "heading_1", "heading_1": {"rich_text": TEXT}, "has_children": False},
            "has_children",
        ),
    ],
)
async def test_unknown_keys_in_a_block_payload_are_a_validation_error(
    fake: FakeNotion, block: dict[str, Any], where: str
) -> None:
    page = fake.add_root_page("Root", [])
    async with AsyncClient(auth=fake.token, base_url=fake.url) as sdk:
        with pytest.raises(APIResponseError) as err:
            await sdk.blocks.children.append(block_id=page, children=[block])
        ok = {"type": "paragraph", "paragraph": {"rich_text": TEXT, "color": "default"}}
        await sdk.blocks.children.append(block_id=page, children=[ok])
    assert err.value.code == "validation_error" and err.value.status == 400
    assert f"{where} should be not present" in str(err.value)
    assert len(fake.children(page)) == 1
