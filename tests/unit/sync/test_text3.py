"""Three-way text merge by lines."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from agents.sync.text3 import merge3

BASE = "# Notes\n\nalpha\nbeta\ngamma\ndelta\n"


def test_changes_to_different_lines_merge_cleanly() -> None:
    """An edit at the top on one side and at the bottom on the other keeps both."""
    local = BASE.replace("alpha", "ALPHA")
    remote = BASE.replace("delta", "DELTA")
    merged = merge3(BASE, local, remote)
    assert merged.clean
    assert merged.text == "# Notes\n\nALPHA\nbeta\ngamma\nDELTA\n"


def test_the_same_change_on_both_sides_is_taken_once() -> None:
    """Identical edits are not a conflict."""
    both = BASE.replace("beta", "BETA")
    assert merge3(BASE, both, both).text == both
    more = merge3(BASE, both + "epsilon\n", both)
    assert more.clean and more.text == both + "epsilon\n"


def test_different_changes_to_one_line_conflict_with_markers() -> None:
    """The result names both sides and keeps the unchanged lines around them."""
    merged = merge3(BASE, BASE.replace("beta", "local"), BASE.replace("beta", "remote"))
    assert merged.conflicts == 1 and not merged.clean
    assert "<<<<<<< local\nlocal\n=======\nremote\n>>>>>>> remote\n" in merged.text
    assert merged.text.startswith("# Notes\n\nalpha\n") and merged.text.endswith("gamma\ndelta\n")


def test_appends_at_the_end_by_both_sides_conflict_but_one_side_appending_does_not() -> None:
    """Two different additions at one place need a person; one addition does not."""
    assert merge3(BASE, BASE + "x\n", BASE).text == BASE + "x\n"
    assert not merge3(BASE, BASE + "x\n", BASE + "y\n").clean


def test_a_missing_final_newline_survives_a_clean_merge() -> None:
    """The last line is kept as written."""
    base = "a\nb\nc"
    assert merge3(base, "A\nb\nc", "a\nb\nC").text == "A\nb\nC"


lines = st.lists(st.sampled_from(["a\n", "b\n", "c\n", "d\n", "e\n"]), max_size=8)


@given(lines, lines, lines)
def test_a_clean_merge_does_not_depend_on_which_side_is_local(
    base: list[str], a: list[str], b: list[str]
) -> None:
    """merge3(base, a, b) and merge3(base, b, a) agree whenever either is clean."""
    ab = merge3("".join(base), "".join(a), "".join(b))
    ba = merge3("".join(base), "".join(b), "".join(a))
    assert ab.clean == ba.clean
    if ab.clean:
        assert ab.text == ba.text


@given(lines, lines)
def test_merging_with_an_unchanged_side_gives_the_changed_one(
    base: list[str], a: list[str]
) -> None:
    """Idempotence: nothing changed on one side means the other side's text."""
    assert merge3("".join(base), "".join(a), "".join(base)).text == "".join(a)
    assert merge3("".join(base), "".join(a), "".join(a)).text == "".join(a)


def test_an_unchanged_remote_is_a_clean_merge_with_no_conflict_counted() -> None:
    """Only the local side changed: the local text, zero conflicts, nothing to review."""
    merged = merge3(BASE, BASE + "x\n", BASE)
    assert merged.conflicts == 0 and merged.clean


def test_every_conflicting_chunk_is_counted() -> None:
    """Two separate chunks changed differently on both sides are two conflicts."""
    local = BASE.replace("alpha", "A1").replace("delta", "D1")
    remote = BASE.replace("alpha", "A2").replace("delta", "D2")
    merged = merge3(BASE, local, remote)
    assert merged.conflicts == 2
    assert merged.text.count("<<<<<<< local\n") == 2


def test_a_conflict_on_lines_without_a_final_newline_keeps_every_line_of_both_sides() -> None:
    """Markers stay on their own lines and no line of either side is lost or altered."""
    merged = merge3("x\ny\nz", "a1\na2\na3", "b1\nb2\nb3")
    assert merged.conflicts == 1
    assert merged.text == ("<<<<<<< local\na1\na2\na3\n=======\nb1\nb2\nb3\n>>>>>>> remote\n")


def test_lines_repeated_all_over_a_long_document_still_anchor_the_merge() -> None:
    """A 240-line checklist: one side retitles two items, the other ticks the box between
    them. The repeated blank and checkbox lines anchor the merge however often they occur,
    so all three edits survive and nothing needs review."""
    base: list[str] = []
    for i in range(60):
        base += [f"## item {i}\n", "\n", "- [ ] todo\n", "\n"]
    local, remote = list(base), list(base)
    local[20], local[24] = "## ITEM 5\n", "## ITEM 6\n"
    remote[22] = "- [x] todo\n"
    expected = list(local)
    expected[22] = remote[22]
    for ours, theirs in ((local, remote), (remote, local)):
        merged = merge3("".join(base), "".join(ours), "".join(theirs))
        assert merged.clean
        assert merged.text == "".join(expected)
