"""Markdown ↔ Notion blocks: round trips, Notion's size limits, escaping."""

from __future__ import annotations

import pytest

from agents.notion.markdown import (
    blocks_to_markdown,
    inline_to_rich_text,
    markdown_to_blocks,
)
from agents.notion.richtext import plain_text, rich_text_to_markdown

ROUND_TRIPS = [
    "# One\n\n## Two\n\n### Three\n",
    "Plain **bold** *italic* `code` ~~gone~~ and [a link](https://example.com/a_b).\n",
    "[**bold link**](https://x.test) and *mixed* ***nest***\n",
    "- a\n- b\n  - c\n    - d\n- [ ] open\n- [x] done\n",
    "1. one\n2. two\n   - inner\n3. three\n",
    "> quoted\n> second line\n",
    "```python\nprint('hi')\n\n# not a heading\n```\n",
    "```\nplain\n```\n",
    "---\n",
    "| Name | Qty |\n|---|---|\n| a\\|b | 1 |\n",
    "Literal \\*stars\\* \\_under\\_ snake_case \\[x\\] 2 \\`tick\\`\n",
    "\\# not a heading\n\n\\- not a bullet\n\n1\\. not a list\n\n\\> not a quote\n",
    "line one\nline two\n",
    "- bullets\n\n1. then numbers\n",
]


@pytest.mark.parametrize("markdown", ROUND_TRIPS)
def test_markdown_survives_a_round_trip_through_blocks(markdown: str) -> None:
    """md → blocks → md gives the same text, and the blocks are stable too."""
    blocks = markdown_to_blocks(markdown)
    assert blocks_to_markdown(blocks) == markdown
    assert markdown_to_blocks(blocks_to_markdown(blocks)) == blocks


def test_each_markdown_construct_maps_to_its_notion_block_type() -> None:
    """Headings, paragraph, lists, to-dos, code, quote, divider and table."""
    md = (
        "# h\n\np\n\n- b\n\n1. n\n\n- [x] t\n\n```js\nx\n```\n\n> q\n\n---\n\n| a |\n|---|\n| 1 |\n"
    )
    kinds = [b["type"] for b in markdown_to_blocks(md)]
    assert kinds == [
        "heading_1",
        "paragraph",
        "bulleted_list_item",
        "numbered_list_item",
        "to_do",
        "code",
        "quote",
        "divider",
        "table",
    ]
    blocks = markdown_to_blocks(md)
    assert blocks[4]["to_do"]["checked"] is True
    assert blocks[5]["code"]["language"] == "javascript"
    assert blocks[8]["table"]["children"][1]["table_row"]["cells"] == [
        [{"type": "text", "text": {"content": "1"}}]
    ]


def test_inline_styles_become_annotations_and_links() -> None:
    """Bold, italic, code, strikethrough and link become Notion rich-text fields."""
    items = inline_to_rich_text("a **b** *c* `d` ~~e~~ [f](https://f.test)")
    styled = [(plain_text([i]), i.get("annotations"), i["text"].get("link")) for i in items]
    assert styled == [
        ("a ", None, None),
        ("b", {"bold": True}, None),
        (" ", None, None),
        ("c", {"italic": True}, None),
        (" ", None, None),
        ("d", {"code": True}, None),
        (" ", None, None),
        ("e", {"strikethrough": True}, None),
        (" ", None, None),
        ("f", None, {"url": "https://f.test"}),
    ]


def test_text_longer_than_2000_characters_is_split_into_several_items() -> None:
    """Notion's limit per text item; the pieces keep their style."""
    blocks = markdown_to_blocks("**" + "x" * 4500 + "**")
    items = blocks[0]["paragraph"]["rich_text"]
    assert [len(i["text"]["content"]) for i in items] == [2000, 2000, 500]
    assert all(i["annotations"] == {"bold": True} for i in items)


def test_more_than_100_rich_text_items_split_the_block() -> None:
    """A rich_text array holds at most 100 items; the rest go into a following block."""
    markdown = " ".join(f"**w{i}**" for i in range(120))
    blocks = markdown_to_blocks(markdown)
    assert [len(b["paragraph"]["rich_text"]) for b in blocks] == [100, 100, 39]


def test_unknown_code_languages_fall_back_to_plain_text() -> None:
    """Notion accepts only its list of languages."""
    assert markdown_to_blocks("```brainfuck\n+\n```")[0]["code"]["language"] == "plain text"
    assert markdown_to_blocks("```sh\nls\n```")[0]["code"]["language"] == "shell"


def test_fetched_blocks_render_with_full_rich_text_shapes() -> None:
    """Response-shaped rich text (plain_text, href, full annotations) renders like requests."""
    item = {
        "type": "text",
        "text": {"content": "site", "link": {"url": "https://s.test"}},
        "annotations": {
            "bold": True,
            "italic": False,
            "strikethrough": False,
            "underline": False,
            "code": False,
            "color": "default",
        },
        "plain_text": "site",
        "href": "https://s.test",
    }
    assert rich_text_to_markdown([item]) == "[**site**](https://s.test)"


def test_blocks_the_converter_does_not_know_become_comments_and_links() -> None:
    """Child pages link to themselves; unknown types are an HTML comment, not an error."""
    blocks = [
        {"id": "ab" * 16, "type": "child_page", "child_page": {"title": "Sub"}},
        {"type": "synced_block", "synced_block": {}},
    ]
    assert blocks_to_markdown(blocks) == (
        f"[child page: Sub](https://www.notion.so/{'ab' * 16})\n\n"
        "<!-- unsupported block: synced_block -->\n"
    )
