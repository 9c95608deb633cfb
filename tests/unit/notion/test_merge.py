"""The consolidation merge on its own: titles, sections, duplicates, ids."""

from __future__ import annotations

from typing import Literal

import pytest

from agents.notion.markdown import blocks_to_markdown, markdown_to_blocks
from agents.notion.merge import Source, consolidation_id, merge, normalize_title


def src(ident: str, title: str, markdown: str, edited: str = "2026-01-01") -> Source:
    return Source(
        ident, title, f"https://www.notion.so/{ident}", edited, markdown_to_blocks(markdown)
    )


@pytest.mark.parametrize(
    ("title", "normal"),
    [
        ("Standup", "standup"),
        ("Standup (copy)", "standup"),
        ("Standup (1)", "standup"),
        ("  Standup   2026-03-01", "standup"),
        ("Plan v2", "plan"),
        ("Q3  Review", "q3 review"),
    ],
)
def test_titles_normalise_away_copies_numbers_and_dates(title: str, normal: str) -> None:
    """Variants of one document's title compare equal."""
    assert normalize_title(title) == normal


def test_sections_with_the_same_heading_merge_in_order_of_first_appearance() -> None:
    """Content before the first heading goes under the page's title."""
    merged = merge(
        [
            src("a", "A", "intro\n\n## Risks\n\nr1\n\n## Plan\n\np1\n"),
            src("b", "B", "## plan\n\np2\n\n## Risks\n\nr2\n"),
        ],
        strategy="by_heading",
        dedupe="normalized",
        merge_same_titles=True,
    )
    assert blocks_to_markdown(merged.blocks) == (
        "## A\n\nintro\n\n## Risks\n\nr1\n\nr2\n\n## Plan\n\np1\n\np2\n"
    )
    assert merged.sections_merged == 2


def test_normalized_dedupe_ignores_case_spacing_and_trailing_punctuation() -> None:
    """'Ship it.' and 'ship  it' are one block; exact keeps both; none keeps everything."""
    sources = [src("a", "A", "- Ship it.\n- Ship it.\n"), src("b", "B", "- ship  it\n")]
    modes: tuple[Literal["normalized"], Literal["exact"], Literal["none"]] = (
        "normalized",
        "exact",
        "none",
    )
    counts = {
        mode: merge(
            sources, strategy="concatenate", dedupe=mode, merge_same_titles=False
        ).duplicates_removed
        for mode in modes
    }
    assert counts == {"normalized": 2, "exact": 1, "none": 0}


def test_a_todo_stays_checked_when_any_copy_was_checked() -> None:
    """The to-do key ignores checked; the kept copy takes checked from the duplicates."""
    merged = merge(
        [src("a", "A", "- [ ] Pay\n"), src("b", "B", "- [x] pay\n")],
        strategy="by_heading",
        dedupe="normalized",
        merge_same_titles=True,
    )
    assert "- [x] Pay" in blocks_to_markdown(merged.blocks)


def test_headings_and_dividers_are_never_dropped_as_duplicates() -> None:
    """Structure survives even when repeated within a section."""
    merged = merge(
        [src("a", "A", "x\n\n---\n\ny\n\n---\n")],
        strategy="by_heading",
        dedupe="normalized",
        merge_same_titles=True,
    )
    assert [b["type"] for b in merged.blocks].count("divider") == 2


def test_the_consolidation_id_depends_on_the_sources_not_their_order() -> None:
    """Re-running with the same pages and title finds the same target."""
    assert consolidation_id(["b", "a"], "T") == consolidation_id(["a", "b"], "T")
    assert consolidation_id(["a", "b"], "T") != consolidation_id(["a", "b"], "U")
    assert consolidation_id(["a"], "T") != consolidation_id(["a", "b"], "T")
