"""Reconciling two heads of one document: by version vector, then by the kind's policy."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from agents.store.canonical import iso_ms
from agents.store.clock import Hlc, vv_compare
from agents.store.envelope import Envelope
from agents.sync.merge import Resolution, merge_json, reconcile

T0 = 1_780_000_000_000
USER = {"level": "user", "project_id": None, "machine_id": None}


def rev(
    body: Any,
    vv: dict[str, int],
    machine: str,
    ms: int = T0,
    *,
    kind: str = "preference",
    doc: str = "preference:theme",
    deleted: bool = False,
    scope: dict[str, Any] | None = None,
    secret_refs: list[Any] | None = None,
) -> tuple[Envelope, str]:
    """A revision of ``doc`` made on ``machine`` at ``ms``, and its hash."""
    env = Envelope(
        id=doc,
        kind=kind,
        scope=scope or USER,
        body=body,
        vv=vv,
        parents=[],
        origin_machine=machine,
        updated_at=iso_ms(ms),
        hlc=str(Hlc(ms, 0, machine)),
        deleted=deleted,
        secret_refs=secret_refs or [],
    )
    return env, env.hash


def pref(value: Any) -> dict[str, Any]:
    return {"key": "theme", "value": value}


Rev = tuple[Envelope, str]


def both_ways(base: Rev | None, a: Rev, b: Rev) -> tuple[Resolution, Resolution]:
    """reconcile(a, b) and reconcile(b, a)."""
    z = base[0] if base else None
    return reconcile(a[0], a[1], b[0], b[1], z), reconcile(b[0], b[1], a[0], a[1], z)


def test_a_descendant_fast_forwards_and_an_ancestor_is_kept() -> None:
    """Version vectors decide before any policy."""
    old = rev(pref("dark"), {"a": 1}, "a")
    new = rev(pref("light"), {"a": 1, "b": 1}, "b", T0 + 5)
    assert reconcile(old[0], old[1], new[0], new[1], None).action == "fast_forward"
    assert reconcile(new[0], new[1], old[0], old[1], None).action == "keep"
    assert reconcile(new[0], new[1], new[0], new[1], None).action == "same"
    assert reconcile(None, None, new[0], new[1], None).action == "fast_forward"


def test_concurrent_edits_of_different_fields_both_survive() -> None:
    """Field-level 3-way merge: each side's change is taken, no conflict recorded."""
    base = rev(pref({"color": "dark", "size": 1}), {"a": 1}, "a")
    a = rev(pref({"color": "light", "size": 1}), {"a": 2}, "a", T0 + 10)
    b = rev(pref({"color": "dark", "size": 2}), {"a": 1, "b": 1}, "b", T0 + 20)
    ab, ba = both_ways(base, a, b)
    assert ab.action == ba.action == "merge" and ab.status is None
    assert ab.merged is not None and ba.merged is not None
    assert ab.merged.body == pref({"color": "light", "size": 2})
    assert ab.merged.hash == ba.merged.hash  # two machines write the same merge revision
    assert ab.merged.vv == {"a": 2, "b": 1} and ab.merged.parents == sorted([a[1], b[1]])


def test_one_field_changed_on_both_sides_goes_to_the_later_clock_and_is_recorded() -> None:
    """LWW on the HLC for the field, with the conflict kept for review as auto-resolved."""
    base = rev(pref({"color": "dark"}), {"a": 1}, "a")
    a = rev(pref({"color": "light"}), {"a": 2}, "a", T0 + 30)
    b = rev(pref({"color": "blue"}), {"a": 1, "b": 1}, "b", T0 + 20)
    ab, ba = both_ways(base, a, b)
    assert ab.merged is not None and ab.merged.body == pref({"color": "light"})
    assert ab.status == "auto_resolved" and ab.fields == ("/value/color",)
    assert ba.merged is not None and ba.merged.hash == ab.merged.hash


def test_deleted_against_modified_keeps_the_modification() -> None:
    """A tombstone never silently wins over an edit."""
    base = rev(pref("dark"), {"a": 1}, "a")
    gone = rev({}, {"a": 2}, "a", T0 + 50, deleted=True)
    edited = rev(pref("light"), {"a": 1, "b": 1}, "b", T0 + 10)
    ab, ba = both_ways(base, gone, edited)
    assert ab.merged is not None and not ab.merged.deleted
    assert ab.merged.body == pref("light") and ab.status == "auto_resolved"
    assert ba.merged is not None and ba.merged.hash == ab.merged.hash


def test_session_task_lists_merge_as_collections() -> None:
    """A task added on each side is kept; a task done (removed) on one side goes."""
    body = {"title": "Sync", "status": "active", "current_tasks": ["a", "b"]}
    base = rev(body, {"a": 1}, "a", kind="session", doc="session:1")
    a = rev(
        {**body, "current_tasks": ["b", "c"]},
        {"a": 2},
        "a",
        T0 + 1,
        kind="session",
        doc="session:1",
    )
    b = rev(
        {**body, "current_tasks": ["a", "b", "d"]},
        {"a": 1, "b": 1},
        "b",
        T0 + 2,
        kind="session",
        doc="session:1",
    )
    ab, ba = both_ways(base, a, b)
    assert ab.merged is not None and ba.merged is not None
    assert sorted(ab.merged.body["current_tasks"]) == ["b", "c", "d"]
    assert ab.merged.hash == ba.merged.hash


def test_markdown_merges_by_lines_and_a_real_conflict_needs_review() -> None:
    """Clean text merges are automatic; overlapping edits keep local and are not decided."""

    def md(text: str) -> dict[str, Any]:
        return {"path": "CLAUDE.md", "format": "markdown", "text": text}

    doc: dict[str, Any] = {"kind": "claude_file", "doc": "claude_file:user/CLAUDE.md"}
    base = rev(md("a\nb\nc\n"), {"a": 1}, "a", **doc)
    a = rev(md("A\nb\nc\n"), {"a": 2}, "a", T0 + 1, **doc)
    b = rev(md("a\nb\nC\n"), {"a": 1, "b": 1}, "b", T0 + 2, **doc)
    ab, ba = both_ways(base, a, b)
    assert ab.merged is not None and ab.merged.body["text"] == "A\nb\nC\n"
    assert ba.merged is not None and ab.merged.hash == ba.merged.hash
    clash = rev(md("X\nb\nc\n"), {"a": 1, "b": 1}, "b", T0 + 2, **doc)
    res = reconcile(a[0], a[1], clash[0], clash[1], base[0])
    assert res.action == "conflict" and res.status == "needs_review" and res.merged is None
    assert reconcile(a[0], a[1], clash[0], clash[1], None).action == "conflict"


def test_machine_state_keeps_the_owner_revision_even_when_older() -> None:
    """Single-writer kinds: another machine's write never beats the owner's."""
    scope = {"level": "machine", "project_id": None, "machine_id": "a"}
    kw: dict[str, Any] = {"kind": "machine_state", "doc": "machine_state:a", "scope": scope}
    owner = rev({"machine_id": "a", "agents": {}}, {"a": 2}, "a", T0, **kw)
    other = rev({"machine_id": "a", "agents": {"x": {}}}, {"a": 1, "b": 1}, "b", T0 + 99, **kw)
    ab, ba = both_ways(None, owner, other)
    assert ab.merged is not None and ab.merged.body == owner[0].body
    assert ba.merged is not None and ba.merged.hash == ab.merged.hash


def test_skills_merge_file_by_file() -> None:
    """Different files changed on each side are both kept; one file edited apart merges."""

    def skill(files: dict[str, str]) -> dict[str, Any]:
        return {"name": "s", "files": [{"path": p, "text": t} for p, t in sorted(files.items())]}

    kw: dict[str, Any] = {"kind": "skill", "doc": "skill:s"}
    base = rev(skill({"SKILL.md": "a\nb\nc\n", "x.py": "1\n"}), {"a": 1}, "a", **kw)
    a = rev(skill({"SKILL.md": "A\nb\nc\n", "x.py": "1\n"}), {"a": 2}, "a", T0 + 1, **kw)
    b = rev(
        skill({"SKILL.md": "a\nb\nC\n", "x.py": "2\n", "y.py": "3\n"}),
        {"a": 1, "b": 1},
        "b",
        T0 + 2,
        **kw,
    )
    ab, ba = both_ways(base, a, b)
    assert ab.merged is not None and ba.merged is not None
    files = {f["path"]: f["text"] for f in ab.merged.body["files"]}
    assert files == {"SKILL.md": "A\nb\nC\n", "x.py": "2\n", "y.py": "3\n"}
    assert ab.merged.hash == ba.merged.hash


# --- properties ---------------------------------------------------------------------------------

scalars = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from(["x", "y", "z"]))
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(["p", "q", "r", "s"]), inner, max_size=3),
    ),
    max_leaves=8,
)
bodies = st.dictionaries(st.sampled_from(["a", "b", "c", "d"]), values, max_size=4)


def prefs(
    base: dict[str, Any], a: dict[str, Any], b: dict[str, Any], ta: int, tb: int
) -> tuple[Rev, Rev, Rev]:
    return (
        rev(pref(base), {"m1": 1}, "m1", T0),
        rev(pref(a), {"m1": 2}, "m1", T0 + ta),
        rev(pref(b), {"m1": 1, "m2": 1}, "m2", T0 + tb),
    )


@given(bodies, bodies, bodies, st.integers(1, 5), st.integers(1, 5))
def test_merge_is_commutative(
    base: dict[str, Any], a: dict[str, Any], b: dict[str, Any], ta: int, tb: int
) -> None:
    """Whichever machine settles the pair, the result is the same revision."""
    z, x, y = prefs(base, a, b, ta, tb)
    ab, ba = both_ways(z, x, y)
    assert ab.action == ba.action
    if ab.merged is not None:
        assert ba.merged is not None and ab.merged.hash == ba.merged.hash


@given(bodies, bodies, st.integers(1, 5))
def test_merge_is_idempotent(base: dict[str, Any], a: dict[str, Any], ta: int) -> None:
    """A revision reconciled with itself, or with an unchanged side, changes nothing more."""
    z, x, _ = prefs(base, a, a, ta, ta)
    assert reconcile(x[0], x[1], x[0], x[1], z[0]).action == "same"
    body, ties = merge_json(pref(base), pref(a), pref(base), a_later=False)
    assert body == pref(a) and ties == []
    body, ties = merge_json(pref(base), pref(a), pref(a), a_later=False)
    assert body == pref(a) and ties == []


@given(bodies, bodies, bodies, st.integers(1, 5), st.integers(1, 5))
def test_no_revision_is_lost(
    base: dict[str, Any], a: dict[str, Any], b: dict[str, Any], ta: int, tb: int
) -> None:
    """A merge descends from both inputs: both are its parents and its vector dominates."""
    z, x, y = prefs(base, a, b, ta, tb)
    res = reconcile(x[0], x[1], y[0], y[1], z[0])
    assert res.action == "merge" and res.merged is not None
    assert res.merged.parents == sorted([x[1], y[1]])
    for side in (x, y):
        assert vv_compare(side[0].vv, res.merged.vv) == "before"
    merged_again = reconcile(res.merged, res.merged.hash, y[0], y[1], z[0])
    assert merged_again.action == "keep"


def test_every_decision_names_the_policy_of_the_documents_kind() -> None:
    """Fast-forward, keep and same are recorded with the kind's policy, as merges are."""
    old = rev(pref("dark"), {"a": 1}, "a")
    new = rev(pref("light"), {"a": 1, "b": 1}, "b", T0 + 5)
    for res in (
        reconcile(old[0], old[1], new[0], new[1], None),
        reconcile(new[0], new[1], old[0], old[1], None),
        reconcile(new[0], new[1], new[0], new[1], None),
        reconcile(None, None, new[0], new[1], None),
    ):
        assert res.policy == "json3"


def test_a_document_deleted_on_both_machines_stays_deleted_after_the_merge() -> None:
    """Two concurrent deletions settle to a deletion, never a resurrected empty document."""
    base = rev(pref("dark"), {"a": 1}, "a")
    gone_a = rev({}, {"a": 2}, "a", T0 + 50, deleted=True)
    gone_b = rev({}, {"a": 1, "b": 1}, "b", T0 + 60, deleted=True)
    ab, ba = both_ways(base, gone_a, gone_b)
    assert ab.merged is not None and ab.merged.deleted
    assert ba.merged is not None and ba.merged.hash == ab.merged.hash


SERVER = "mcp_server:files"
REF_ONE = {"path": "/env/A~1~0B", "ref": "secret://one"}
REF_TWO = {"path": "/args/1", "ref": "${TWO}"}


def server(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "command": "srv",
        "env": {"A/~B": "secret://one"},
        "args": ["--token", "${TWO}"],
    }
    return {**body, **changes}


def test_a_merge_keeps_the_secret_refs_its_body_still_holds_and_drops_the_rest() -> None:
    """Secret references survive a merge exactly where the merged body still holds them (JSON
    pointers with escapes and list indexes); one replaced by a literal is no longer listed."""
    refs = [REF_ONE, REF_TWO]

    def srv(body: dict[str, Any], vv: dict[str, int], machine: str, ms: int) -> Rev:
        kept = [r for r in refs if r["ref"] in str(body)]
        return rev(body, vv, machine, ms, kind="mcp_server", doc=SERVER, secret_refs=kept)

    base = srv(server(), {"a": 1}, "a", T0)
    a = srv(server(cwd="/tmp"), {"a": 2}, "a", T0 + 10)
    b = srv(server(command="srv2"), {"a": 1, "b": 1}, "b", T0 + 20)
    ab, ba = both_ways(base, a, b)
    assert ab.merged is not None and ba.merged is not None
    assert ab.merged.body == server(cwd="/tmp", command="srv2")
    assert sorted(r["path"] for r in ab.merged.secret_refs) == ["/args/1", "/env/A~1~0B"]
    assert ab.merged.hash == ba.merged.hash

    for change, kept in (
        ({"env": {"A/~B": "literal"}}, [REF_TWO]),  # the value no longer holds the ref
        ({"env": {}}, [REF_TWO]),  # the key is gone
        ({"args": ["--token"]}, [REF_ONE]),  # the list is shorter than the index
        ({"args": ["--token", "plain"]}, [REF_ONE]),  # the item no longer holds the ref
    ):
        edited = srv(server(**change), {"a": 2}, "a", T0 + 10)
        ab, ba = both_ways(base, edited, b)
        assert ab.merged is not None and ba.merged is not None
        assert ab.merged.body == server(**change, command="srv2")
        assert ab.merged.secret_refs == kept
        assert ab.merged.hash == ba.merged.hash


def test_a_field_added_on_one_side_survives_a_change_elsewhere_on_the_other() -> None:
    """A new field (even one set to null) is an edit, and is kept."""
    merged, ties = merge_json({"x": 1}, {"x": 1, "y": 2, "n": None}, {"x": 3}, a_later=False)
    assert merged == {"x": 3, "y": 2, "n": None} and ties == []


def test_a_new_field_added_differently_on_both_sides_is_a_recorded_tie() -> None:
    """null on one side and a value on the other are two different edits, not one."""
    merged, ties = merge_json({}, {"n": None}, {"n": 5}, a_later=True)
    assert merged == {"n": None} and ties == ["/n"]


def test_a_change_of_json_type_is_a_change_even_when_python_calls_the_values_equal() -> None:
    """1 -> true on one side and 1 -> 2 on the other both changed the field: a recorded tie."""
    merged, ties = merge_json({"v": 1}, {"v": True}, {"v": 2}, a_later=True)
    assert merged == {"v": True} and ties == ["/v"]


def test_a_tie_on_a_whole_value_is_recorded_at_the_root_path() -> None:
    """The conflict record names "/" when the document itself is the value both changed."""
    assert merge_json(1, 2, 3, a_later=True) == (2, ["/"])


def test_list_merges_hold_each_item_once_and_honour_removals_by_the_later_side() -> None:
    """Both sides adding one item keep it once; an item the later side removed stays
    removed; an item the earlier side added twice is added once."""
    assert merge_json(["a", "b"], ["a", "b", "x"], ["x", "a", "b"], a_later=False) == (
        ["x", "a", "b"],
        [],
    )
    assert merge_json(["a", "b"], ["a", "b", "c"], ["a"], a_later=False) == (["a", "c"], [])
    assert merge_json(["a", "b"], ["a", "c", "c"], ["a", "b", "d"], a_later=False) == (
        ["a", "d", "c"],
        [],
    )
