"""Settling concurrent revisions by policy: what each kind keeps, and what needs review."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from agents.sync.merge import reconcile
from tests.unit.sync.test_merge import T0, Rev, both_ways, pref, rev

SKILL: dict[str, Any] = {"kind": "skill", "doc": "skill:s"}
MD: dict[str, Any] = {"kind": "claude_file", "doc": "claude_file:user/CLAUDE.md"}


def skill(files: dict[str, str], **top: Any) -> dict[str, Any]:
    body = [{"path": p, "text": t} for p, t in sorted(files.items())]
    return {"name": "s", "description": "d", **top, "files": body}


def md(text: str, **extra: Any) -> dict[str, Any]:
    return {"path": "CLAUDE.md", "format": "markdown", "text": text, "source": "user", **extra}


def apart(base: Any, a: Any, b: Any, kw: dict[str, Any]) -> tuple[Rev, Rev, Rev]:
    """``a`` (earlier, machine a) and ``b`` (later, machine b) made apart from ``base``."""
    return (
        rev(base, {"a": 1}, "a", **kw),
        rev(a, {"a": 2}, "a", T0 + 1, **kw),
        rev(b, {"a": 1, "b": 1}, "b", T0 + 2, **kw),
    )


def test_identical_concurrent_edits_keep_that_content_and_concurrent_deletions_stay_deleted() -> (
    None
):
    """Same content on both sides settles to it: never a tombstone, never a resurrection."""
    same_a = rev(pref("dark"), {"a": 2}, "a", T0 + 1)
    same_b = rev(pref("dark"), {"a": 1, "b": 1}, "b", T0 + 2)
    res = reconcile(same_a[0], same_a[1], same_b[0], same_b[1], None)
    assert res.merged is not None and not res.merged.deleted
    assert res.merged.body == pref("dark") and res.status is None
    gone_a = rev({}, {"a": 2}, "a", T0 + 1, deleted=True)
    gone_b = rev({}, {"a": 1, "b": 1}, "b", T0 + 2, deleted=True)
    ab, ba = both_ways(None, gone_a, gone_b)
    assert ab.merged is not None and ab.merged.deleted and ab.merged.body == {}
    assert ba.merged is not None and ba.merged.hash == ab.merged.hash


def test_a_json_claude_file_merges_field_by_field_not_as_text() -> None:
    """settings.json edited apart on two machines keeps both edits (json3, not text3)."""

    def settings(data: dict[str, Any]) -> dict[str, Any]:
        return {"path": "settings.json", "format": "json", "data": data, "source": "user"}

    kw: dict[str, Any] = {"kind": "claude_file", "doc": "claude_file:user/settings.json"}
    z, a, b = apart(
        settings({"x": 1, "y": 1}), settings({"x": 2, "y": 1}), settings({"x": 1, "y": 3}), kw
    )
    ab, ba = both_ways(z, a, b)
    assert ab.action == "merge" and ab.policy == "json3" and ab.status is None
    assert ab.merged is not None and ab.merged.body == settings({"x": 2, "y": 3})
    assert ba.merged is not None and ba.merged.hash == ab.merged.hash
    assert reconcile(a[0], a[1], b[0], b[1], z[0]).policy == "json3"
    p = rev(pref("dark"), {"a": 1}, "a")
    assert reconcile(p[0], p[1], p[0], p[1], None).policy == "json3"


def test_agent_output_keeps_the_later_record_whole_and_records_the_decision() -> None:
    """Append-only records are never blended field by field."""
    kw: dict[str, Any] = {"kind": "agent_output", "doc": "agent_output:1"}
    early = rev({"tool": "t", "result": 1, "note": "n"}, {"a": 1}, "a", T0 + 1, **kw)
    late = rev({"tool": "t", "result": 2}, {"b": 1}, "b", T0 + 2, **kw)
    ab, ba = both_ways(None, early, late)
    assert ab.policy == "append_only" and ab.status == ba.status == "auto_resolved"
    assert ab.merged is not None and ab.merged.body == late[0].body
    assert ba.merged is not None and ba.merged.hash == ab.merged.hash


def test_a_single_writer_document_written_by_non_owners_goes_to_the_later_clock() -> None:
    """With the owner among neither writer, both machines pick the later revision."""
    scope = {"level": "machine", "project_id": None, "machine_id": "owner"}
    kw: dict[str, Any] = {"kind": "machine_state", "doc": "machine_state:owner", "scope": scope}
    early = rev({"machine_id": "owner", "agents": {}}, {"a": 1}, "a", T0 + 1, **kw)
    late = rev({"machine_id": "owner", "agents": {"x": {}}}, {"b": 1}, "b", T0 + 2, **kw)
    ab, ba = both_ways(None, early, late)
    assert ab.merged is not None and ab.merged.body == late[0].body
    assert ab.status == ba.status == "auto_resolved"
    assert ba.merged is not None and ba.merged.hash == ab.merged.hash
    mine = rev({"machine_id": "owner", "agents": {"y": {}}}, {"o": 1}, "owner", T0, **kw)
    res = reconcile(mine[0], mine[1], late[0], late[1], None)
    assert res.merged is not None and res.merged.body == mine[0].body
    assert res.status == "auto_resolved"


def test_equal_clocks_are_ordered_by_hash_the_same_on_both_machines() -> None:
    """A forged or coincident HLC still settles deterministically, without an error."""
    a, _ = rev(pref({"c": "x"}), {"a": 1}, "a", T0)
    b0, _ = rev(pref({"c": "y"}), {"b": 1}, "b", T0)
    b = replace(b0, hlc=a.hlc)
    assert b.hlc == a.hlc and b.hash != a.hash
    ab, ba = both_ways(None, (a, a.hash), (b, b.hash))
    assert ab.merged is not None and ba.merged is not None
    assert ab.merged.hash == ba.merged.hash and ab.status == "auto_resolved"


# --- text claude_file ------------------------------------------------------------------------


def test_a_text_file_whose_remote_body_is_not_an_object_needs_review() -> None:
    """A malformed body from another machine is neither merged nor written as null."""
    z, a, _ = apart(md("a\nb\n"), md("A\nb\n"), md("a\nB\n"), MD)
    for bad in ("context text", ["text"]):
        b = rev(bad, {"a": 1, "b": 1}, "b", T0 + 2, **MD)
        res = reconcile(a[0], a[1], b[0], b[1], z[0])
        assert res.action == "conflict" and res.status == "needs_review" and res.merged is None


def test_a_text_file_missing_its_text_on_one_side_needs_review() -> None:
    """Without text on both sides there is nothing to merge line by line."""
    z, a, _ = apart(md("a\nb\n"), md("A\nb\n"), md("a\nB\n"), MD)
    b = rev({"path": "CLAUDE.md", "format": "markdown"}, {"a": 1, "b": 1}, "b", T0 + 2, **MD)
    for x, y in ((a, b), (b, a)):
        res = reconcile(x[0], x[1], y[0], y[1], z[0])
        assert res.action == "conflict" and res.status == "needs_review" and res.merged is None


def test_a_text_file_fields_besides_text_merge_and_a_clash_on_them_needs_review() -> None:
    """A field changed on one side is taken with the line merge; changed on both, review."""
    z, a, b = apart(md("a\nb\nc\n"), md("A\nb\nc\n"), md("a\nb\nC\n", source="project"), MD)
    ab, ba = both_ways(z, a, b)
    assert ab.merged is not None and ab.merged.body == md("A\nb\nC\n", source="project")
    assert ba.merged is not None and ba.merged.hash == ab.merged.hash
    z, a, b = apart(md("a\nb\nc\n"), md("A\nb\nc\n", source="x"), md("a\nb\nC\n", source="y"), MD)
    for res in both_ways(z, a, b):
        assert res.action == "conflict" and res.status == "needs_review" and res.merged is None


# --- skills ----------------------------------------------------------------------------------


def test_a_skill_keeps_its_other_fields_and_a_description_edited_on_one_side() -> None:
    """Top-level fields merge 3-way: the earlier side's edit of an untouched field stays."""
    base = skill({"SKILL.md": "a\n"})
    z, a, b = apart(
        base, skill({"SKILL.md": "a\n"}, description="new"), skill({"SKILL.md": "b\n"}), SKILL
    )
    ab, ba = both_ways(z, a, b)
    assert ab.merged is not None and ab.merged.body == skill({"SKILL.md": "b\n"}, description="new")
    assert ab.status is None and ab.fields == ()
    assert ba.merged is not None and ba.merged.hash == ab.merged.hash


def test_a_skill_field_changed_on_both_sides_goes_to_the_later_clock_and_is_recorded() -> None:
    base = skill({"SKILL.md": "a\n"})
    z, a, b = apart(
        base,
        skill({"SKILL.md": "a\n"}, description="A"),
        skill({"SKILL.md": "a\n"}, description="B"),
        SKILL,
    )
    ab, ba = both_ways(z, a, b)
    for res in (ab, ba):
        assert res.action == "merge" and res.status == "auto_resolved"
        assert res.fields == ("/description",)
        assert res.merged is not None and res.merged.body == b[0].body


def test_a_skill_file_deleted_on_one_side_and_untouched_on_the_other_stays_deleted() -> None:
    base = skill({"SKILL.md": "a\n", "x.py": "1\n"})
    z, a, b = apart(
        base, skill({"SKILL.md": "a\n"}), skill({"SKILL.md": "a\n", "x.py": "1\n"}, name="t"), SKILL
    )
    for res in both_ways(z, a, b):
        assert res.merged is not None and res.merged.body == skill({"SKILL.md": "a\n"}, name="t")
    z, a, b = apart(
        base, skill({"SKILL.md": "a\n", "x.py": "1\n"}, name="t"), skill({"SKILL.md": "a\n"}), SKILL
    )
    for res in both_ways(z, a, b):
        assert res.merged is not None and res.merged.body == skill({"SKILL.md": "a\n"}, name="t")


def test_a_skill_file_deleted_against_modified_keeps_the_modification() -> None:
    base = skill({"SKILL.md": "a\n", "x.py": "1\n"})
    for gone_first in (True, False):
        gone, edited = skill({"SKILL.md": "a\n"}), skill({"SKILL.md": "a\n", "x.py": "2\n"})
        z, a, b = apart(base, *((gone, edited) if gone_first else (edited, gone)), SKILL)
        for res in both_ways(z, a, b):
            assert res.merged is not None and res.merged.body == edited


def test_a_skill_file_edited_apart_on_the_same_line_needs_review() -> None:
    """Overlapping edits of one file: nothing settled, nothing written, local kept."""
    base = skill({"SKILL.md": "a\nb\n", "x.py": "1\n"})
    z, a, b = apart(
        base,
        skill({"SKILL.md": "A\nb\n", "x.py": "1\n"}),
        skill({"SKILL.md": "X\nb\n", "x.py": "2\n"}),
        SKILL,
    )
    for res in both_ways(z, a, b):
        assert res.action == "conflict" and res.policy == "skill"
        assert res.status == "needs_review" and res.merged is None and res.fields == ()


def test_skills_with_no_known_base_or_no_file_list_keep_every_added_file() -> None:
    """Unknown ancestry or a body without ``files`` merges as if no file existed before."""
    a = rev(skill({"a.md": "1\n"}), {"a": 1}, "a", T0 + 1, **SKILL)
    b = rev(skill({"b.md": "2\n"}), {"b": 1}, "b", T0 + 2, **SKILL)
    for z in (None, rev({"name": "s", "description": "d"}, {"c": 1}, "c", **SKILL)):
        for res in both_ways(z, a, b):
            assert res.merged is not None
            assert res.merged.body == skill({"a.md": "1\n", "b.md": "2\n"})
