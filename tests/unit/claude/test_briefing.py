"""The SessionStart briefing: this project's sessions from any machine, open tasks, recent
agent outputs and conflicts, within its token budget."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agents.claude.briefing import build_briefing
from agents.claude.identity import ProjectRef, locate
from agents.store.canonical import now_iso
from agents.store.conflicts import add_conflict, conflicts
from agents.store.store import ContextStore
from tests.unit.claude.conftest import git_repo

SHOP = ProjectRef("github.com/acme/shop", Path("/home/bob/work/shop"), "svc")


def checkpoint(
    store: ContextStore,
    machine: str,
    session: str,
    title: str,
    *,
    pid: str = "github.com/acme/shop",
    subdir: str = "svc",
    tasks: list[dict[str, str]] | None = None,
    summary: str = "",
    archived: bool = False,
    **fields: Any,
) -> None:
    body: dict[str, Any] = {
        "session": session,
        "machine_id": machine,
        "host": f"{machine}-host",
        "project": {"id": pid, "subdir": subdir, "name": "shop"},
        "title": title,
        "tasks": tasks or [],
        "trigger": "session_end",
        "updated_at": now_iso(),
    }
    if summary:
        body["summary"] = summary
    if archived:
        body["transcript"] = {"session": session, "archive": f"transcript_archive:{session}"}
    store.put(f"checkpoint:{machine}/{session}", "checkpoint", {**body, **fields})


def test_the_project_is_the_remote_and_the_path_inside_the_repository(tmp_path: Path) -> None:
    """Two checkouts at different paths, opened in the same subfolder, are one project."""
    a = git_repo(tmp_path / "alice" / "src" / "shop", "git@github.com:Acme/Shop.git")
    b = git_repo(tmp_path / "bob" / "work" / "shop", "https://github.com/acme/shop")
    for root in (a, b):
        (root / "svc" / "api").mkdir(parents=True)
    here = locate(a / "svc" / "api", tmp_path / "alice")
    there = locate(b / "svc" / "api", tmp_path / "bob")
    assert (here.id, here.subdir) == (there.id, there.subdir) == ("github.com/acme/shop", "svc/api")
    assert there.path_here() == b / "svc" / "api"
    assert locate(a, tmp_path / "alice").subdir == ""


def test_the_briefing_shows_this_projects_sessions_from_every_machine_and_nothing_else(
    tmp_path: Path,
) -> None:
    with ContextStore(tmp_path / "ctx", machine_id="m-bob") as store:
        checkpoint(
            store,
            "m-alice",
            "s1",
            "Fix the cart total",
            summary="rounding fixed in cart.py",
            tasks=[
                {"title": "Deploy to staging", "status": "pending"},
                {"title": "Write the test", "status": "completed"},
            ],
        )
        checkpoint(store, "m-bob", "s2", "Tax rules", archived=True)
        checkpoint(store, "m-carol", "s5", "Shipping", archived=True)
        checkpoint(store, "m-alice", "s3", "Another folder", subdir="web")
        checkpoint(store, "m-alice", "s4", "Another repo", pid="github.com/acme/blog")
        store.put(
            "session:x",
            "session",
            {
                "title": "Saved by hand",
                "status": "active",
                "project": {"name": "github.com/acme/shop"},
                "current_tasks": ["Rotate the key"],
            },
        )
        text = build_briefing(store, SHOP).text
        resumed = build_briefing(store, SHOP, current="s2").text
    assert "Tax rules" not in resumed and "Fix the cart total" in resumed
    assert "Context store briefing: github.com/acme/shop (svc)" in text
    assert "Fix the cart total — rounding fixed in cart.py (session s1)" in text
    assert "m-alice-host" in text and "this machine · Tax rules" in text
    assert "Saved by hand" in text
    assert "Shipping (resume here: `agents claude resume s5`)" in text
    assert "Tax rules (session s2)" in text  # archived, but this machine's own
    assert "Another folder" not in text and "Another repo" not in text
    assert "- Deploy to staging [pending] — Fix the cart total" in text
    assert "- Rotate the key — Saved by hand" in text
    assert "Write the test" not in text  # done


def test_the_briefing_names_unresolved_conflicts_and_recent_outputs(tmp_path: Path) -> None:
    with ContextStore(tmp_path / "ctx", machine_id="m-bob") as store:
        pref = store.put("preference:theme", "preference", {"key": "theme", "value": "dark"})
        add_conflict(
            store, "preference:theme", pref.content_hash, pref.content_hash, None, policy="json3"
        )
        store.add(
            "agent_output:01",
            "agent_output",
            {
                "agent": "notion",
                "handler": "search_pages",
                "status": "ok",
                "outcome": "ok",
                "started_at": now_iso(),
                "duration_ms": 120.4,
                "input": {},
                "output_preview": "3 pages",
            },
        )
        briefing = build_briefing(store, SHOP)
    assert briefing.conflicts == 1 and "preference:theme (json3" in briefing.text
    assert "notion.search_pages ok (120 ms): 3 pages" in briefing.text


def test_an_empty_store_gives_no_briefing(tmp_path: Path) -> None:
    with ContextStore(tmp_path / "ctx", machine_id="m-bob") as store:
        assert build_briefing(store, SHOP).text == ""


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    tokens=st.integers(min_value=50, max_value=3000),
    sessions=st.integers(min_value=1, max_value=12),
    words=st.integers(min_value=1, max_value=400),
)
def test_the_briefing_never_exceeds_its_token_budget(
    tmp_path_factory: Any, tokens: int, sessions: int, words: int
) -> None:
    """However many and however long the documents, the text fits the budget (bytes / 4),
    counting the one-line note on what was left out."""
    with ContextStore(tmp_path_factory.mktemp("ctx"), machine_id="m-bob") as store:
        for n in range(sessions):
            checkpoint(
                store,
                f"m-{n}",
                f"s{n}",
                ("Ünïcode title " * (words // 10 + 1))[:200],
                summary=("word " * words)[:4000],
                tasks=[{"title": ("task " * words)[:500], "status": "pending"}] * 5,
            )
        briefing = build_briefing(store, SHOP, tokens=tokens)
    assert briefing.sessions >= 1 or tokens < 100
    assert briefing.tokens <= tokens + 20 + 5  # the note has a budget of its own (80 bytes)


def saved(store: ContextStore, doc: str, title: str, **body: Any) -> None:
    """A session saved through the context tools (``session`` kind)."""
    store.put(f"session:{doc}", "session", {"title": title, "status": "active", **body})


def output(store: ContextStore, doc: str, agent_handler: str, started: str, **body: Any) -> None:
    agent, handler = agent_handler.split(".")
    fields: dict[str, Any] = {"status": "ok", "outcome": "ok", "duration_ms": 1, **body}
    store.add(
        f"agent_output:{doc}",
        "agent_output",
        {"agent": agent, "handler": handler, "started_at": started, "input": {}, **fields},
    )


def machine_key(store: ContextStore, machine: str, **body: Any) -> None:
    recipient = "age1" + "q" * 58
    store.put(
        f"machine_key:{machine}",
        "machine_key",
        {"machine_id": machine, "recipient": recipient, **body},
    )


def test_the_briefing_reads_as_one_text_section_by_section(tmp_path: Path) -> None:
    """Every line Claude reads: unresolved conflicts only, sessions newest first with the
    time each was saved and where, open tasks of every kind, outputs newest first with their
    error rather than their preview; another project's saved session stays out."""
    with ContextStore(tmp_path / "ctx", machine_id="m-bob") as store:
        theme = store.put("preference:theme", "preference", {"key": "theme", "value": "dark"})
        font = store.put("preference:font", "preference", {"key": "font", "value": "mono"})
        h, f = theme.content_hash, font.content_hash
        add_conflict(store, "preference:theme", h, h, None, policy="json3")
        add_conflict(store, "preference:font", f, f, None, policy="json3", status="auto_resolved")
        machine_key(store, "m-carol", host="carol-desk")
        machine_key(store, "m-dave")  # a key without a host name
        checkpoint(
            store,
            "m-alice",
            "s1",
            "Fix the cart total",
            summary="rounding fixed",
            tasks=[
                {"title": "Deploy to staging", "status": "pending"},
                {"title": "Write the test", "status": "completed"},
            ],
            archived=True,
            host="alice-laptop",
            updated_at="2026-12-05T09:30:00.000Z",
        )
        saved(
            store,
            "x",
            "Saved by hand",
            project={"id": "github.com/acme/shop"},
            machine_id="m-carol",
            updated_at="2026-12-04T08:00:00.000Z",
            current_tasks=[
                "Rotate the key",
                {"title": "Plan the release", "status": "todo"},
                {"title": "Ship it", "status": "done"},
                {"title": "Triage"},
            ],
        )
        saved(store, "blog", "Another project", project={"id": "github.com/acme/blog"})
        output(
            store,
            "01",
            "notion.search_pages",
            "2026-12-06T10:00:00.000Z",
            duration_ms=120.4,
            output_preview="3 pages",
        )
        output(
            store,
            "02",
            "fizzy.create_card",
            "2026-12-06T11:00:00.000Z",
            status="error",
            outcome="error",
            duration_ms=5,
            error="boom",
            output_preview="partial",
        )
        output(store, "03", "lokka.list_users", "2026-12-06T12:05:00.000Z", duration_ms=0.4)
        [conflict] = conflicts(store)
        briefing = build_briefing(store, SHOP)
    detected = conflict.detected_at[:16].replace("T", " ")
    assert (
        briefing.text
        == "\n".join(
            [
                "# Context store briefing: github.com/acme/shop (svc)",
                "(from the claude-agents context store; `agents context …` and the context tools)",
                "",
                "## Unresolved sync conflicts (1)",
                f"- preference:theme (json3, {detected})",
                "Review with `agents sync conflicts`; settle with `agents sync resolve`.",
                "",
                "## Last sessions on this project",
                "- 2026-12-05 09:30 · alice-laptop · Fix the cart total — rounding fixed"
                " (resume here: `agents claude resume s1`)",
                "- 2026-12-04 08:00 · carol-desk · Saved by hand",
                "",
                "## Open tasks",
                "- Deploy to staging [pending] — Fix the cart total",
                "- Rotate the key — Saved by hand",
                "- Plan the release [todo] — Saved by hand",
                "- Triage — Saved by hand",
                "",
                "## Recent agent outputs",
                "- 2026-12-06 12:05 lokka.list_users ok (0 ms)",
                "- 2026-12-06 11:00 fizzy.create_card error (5 ms): boom",
                "- 2026-12-06 10:00 notion.search_pages ok (120 ms): 3 pages",
            ]
        )
        + "\n"
    )
    assert (briefing.conflicts, briefing.sessions, briefing.tasks, briefing.outputs) == (
        1,
        2,
        4,
        3,
    )
    assert briefing.sections == ["conflicts", "sessions", "tasks", "outputs"]
    assert briefing.left_out == 0


def test_a_sessions_machine_is_its_host_else_the_host_its_key_names_else_its_id_else_unknown(
    tmp_path: Path,
) -> None:
    """The host map reads the machine keys (more than ten, behind newer documents); a session
    without a stamp of its own shows when it was stored."""
    with ContextStore(tmp_path / "ctx", machine_id="m-bob") as store:
        machine_key(store, "m-carol", host="carol-desk")
        for n in range(12):
            machine_key(store, f"m-other{n}", host=f"other-{n}")
        shop = {"id": "github.com/acme/shop"}
        saved(
            store,
            "c",
            "By carol",
            project=shop,
            machine_id="m-carol",
            updated_at="2026-12-03T00:00:00.000Z",
        )
        saved(
            store,
            "d",
            "By dave",
            project=shop,
            machine_id="m-dave",
            updated_at="2026-12-02T00:00:00.000Z",
        )
        saved(store, "n", "By nobody", project=shop)
        stored = store.get("session:n").updated_at
        for n in range(50):  # a busy store: the keys are not among its newest documents
            output(store, f"{n:02}", "notion.search_pages", "2026-12-06T10:00:00.000Z")
        text = build_briefing(store, SHOP).text
    assert "- 2026-12-03 00:00 · carol-desk · By carol\n" in text
    assert "- 2026-12-02 00:00 · m-dave · By dave\n" in text
    assert f"- {stored[:16].replace('T', ' ')} · ? · By nobody\n" in text


def test_the_five_newest_sessions_are_shown_newest_first_with_ten_open_tasks_at_most(
    tmp_path: Path,
) -> None:
    with ContextStore(tmp_path / "ctx", machine_id="m-bob") as store:
        for n in range(7):
            body: dict[str, Any] = {
                "session": f"s{n}",
                "machine_id": "m-alice",
                "project": {"id": "github.com/acme/shop", "subdir": "svc"},
                "title": f"Day {n}",
                "tasks": [{"title": f"Task {n}.{t}", "status": "pending"} for t in range(3)],
                "trigger": "session_end",
                "updated_at": f"2026-12-0{n + 1}T10:00:00.000Z",
            }
            store.put(f"checkpoint:m-alice/s{n}", "checkpoint", body)
        briefing = build_briefing(store, SHOP, current="s6")
    days = [
        line.split(" · ")[2].split(" (")[0]
        for line in briefing.text.splitlines()
        if line.startswith("- 2026")
    ]
    assert days == ["Day 5", "Day 4", "Day 3", "Day 2", "Day 1"]
    tasks = [line for line in briefing.text.splitlines() if line.startswith("- Task")]
    assert len(tasks) == briefing.tasks == 10 and tasks[0] == "- Task 5.0 [pending] — Day 5"
    assert briefing.sessions == 5


def test_titles_summaries_tasks_and_previews_are_cut_at_their_lengths_and_at_a_word(
    tmp_path: Path,
) -> None:
    """A title to 80 characters (40 beside a task), a task to 160, a preview to 120, the
    whole session line to 240; what fits exactly is kept whole; a cut ends in …"""
    title = "x" * 78 + " " + "y" * 30
    with ContextStore(tmp_path / "ctx", machine_id="m-bob") as store:
        checkpoint(
            store,
            "m-alice",
            "s1",
            title,
            summary="s" * 300,
            tasks=[
                {"title": "t" * 200, "status": "pending"},
                {"title": "u" * 150, "status": "pending"},  # 160 with " [pending]"
            ],
            host="alice-laptop",
            updated_at="2026-12-05T09:30:00.000Z",
        )
        output(
            store, "01", "notion.search_pages", "2026-12-06T10:00:00.000Z", output_preview="p" * 200
        )
        lines = build_briefing(store, SHOP).text.splitlines()
    head = "- 2026-12-05 09:30 · alice-laptop · " + "x" * 78 + "…"
    note = " (session s1)"
    summary = "s" * (240 - len(head) - len(note) - 3 - 1) + "…"
    assert f"{head} — {summary}{note}" in lines
    assert len(f"{head} — {summary}{note}") == 240
    assert "- " + "t" * 159 + "… — " + "x" * 39 + "…" in lines
    assert "- " + "u" * 150 + " [pending] — " + "x" * 39 + "…" in lines
    assert "- 2026-12-06 10:00 notion.search_pages ok (1 ms): " + "p" * 119 + "…" in lines


def test_another_machines_archived_session_keeps_its_whole_resume_command_however_long_its_summary(
    tmp_path: Path,
) -> None:
    """The summary gives way: the command Claude is told to run is never cut."""
    session = "5f0c5a52-8d0e-4e8a-9a57-1c2b3d4e5f60"
    with ContextStore(tmp_path / "ctx", machine_id="m-bob") as store:
        checkpoint(store, "m-alice", session, "Cart", summary="word " * 200, archived=True)
        [line] = [x for x in build_briefing(store, SHOP).text.splitlines() if "Cart" in x]
    assert line.endswith(f" (resume here: `agents claude resume {session}`)")
    assert " — word word" in line and len(line) <= 240


def test_only_unresolved_conflicts_are_named_five_at_most(tmp_path: Path) -> None:
    with ContextStore(tmp_path / "ctx", machine_id="m-bob") as store:
        for n in range(7):
            doc = store.put(f"preference:p{n}", "preference", {"key": f"p{n}", "value": "v"})
            h = doc.content_hash
            status = "auto_resolved" if n == 6 else "needs_review"
            add_conflict(store, doc.id, h, h, None, policy="json3", status=status)
        briefing = build_briefing(store, SHOP)
    named = [line for line in briefing.text.splitlines() if line.startswith("- preference:")]
    assert "## Unresolved sync conflicts (6)" in briefing.text
    assert [x.split(" ")[1] for x in named] == [f"preference:p{n}" for n in range(5)]
    assert briefing.conflicts == 5


def test_outside_any_project_the_briefing_names_the_folder_and_the_five_latest_outputs(
    tmp_path: Path,
) -> None:
    folder = ProjectRef(None, tmp_path / "scratch")
    with ContextStore(tmp_path / "ctx", machine_id="m-bob") as store:
        for n in range(7):
            output(store, f"0{n}", "notion.search_pages", f"2026-12-06T1{n}:00:00.000Z")
        briefing = build_briefing(store, folder)
    assert briefing.text.startswith(f"# Context store briefing: {tmp_path / 'scratch'}\n")
    shown = [x for x in briefing.text.splitlines() if x.startswith("- 2026")]
    assert [x[13:16] for x in shown] == ["16:", "15:", "14:", "13:", "12:"]
    assert briefing.outputs == 5 and briefing.sections == ["outputs"]


def _exact(tmp_path: Path, pad: int, last: str) -> ContextStore:
    """A briefing whose last line is an output, or a session line, ``pad`` bytes longer."""
    store = ContextStore(tmp_path / f"ctx-{last}{pad}", machine_id="m-bob")
    summary = "s" * (10 + pad) if last == "session" else ""
    checkpoint(store, "m-alice", "s1", "Fix the cart total", summary=summary)
    if last == "output":
        output(
            store,
            "01",
            "notion.search_pages",
            "2026-12-06T10:00:00.000Z",
            output_preview="p" * (10 + pad),
        )
    return store


def test_a_briefing_that_fills_its_budget_exactly_is_whole_and_a_token_less_leaves_out_a_line(
    tmp_path: Path,
) -> None:
    """Each line counts its bytes and its newline; what does not fit is left out whole (an
    output is never cut) and counted in a last note, which has a budget of its own."""
    texts: dict[str, list[str]] = {}
    for last in ("session", "output"):
        with _exact(tmp_path, 0, last) as store:
            pad = -len(build_briefing(store, SHOP, tokens=10_000).text.encode()) % 4
        with _exact(tmp_path, pad, last) as store:
            whole = build_briefing(store, SHOP, tokens=10_000)
            size = len(whole.text.encode())
            exact = build_briefing(store, SHOP, tokens=size // 4)
            less = build_briefing(store, SHOP, tokens=size // 4 - 1)
        assert size % 4 == 0 and exact.text == whole.text and exact.left_out == 0
        texts[last] = whole.text.splitlines()
    assert "Fix the cart total — ssss" in texts["session"][-1]
    lines = texts["output"]
    assert less.text.splitlines() == [
        *lines[:-1],
        f"(1 more left out to stay within {size // 4 - 1} tokens)",
    ]
    assert (less.left_out, less.outputs, less.sessions) == (1, 0, 1)


def test_a_session_line_that_does_not_fit_is_cut_to_the_room_left_at_a_character(
    tmp_path: Path,
) -> None:
    """Cut to the bytes left (more than 40), never inside a UTF-8 character nor after a
    space, ending in …; the outputs after it are left out and counted."""
    for n, summary in enumerate(("s" * 300, "ü" * 150, "aü" + "ü" * 149, "ab " * 100)):
        with ContextStore(tmp_path / f"ctx{n}", machine_id="m-bob") as store:
            checkpoint(store, "m-alice", "s1", "Fix the cart total", summary=summary)
            for n in range(2):
                output(store, f"0{n}", "notion.search_pages", "2026-12-06T10:00:00.000Z")
            lines = build_briefing(store, SHOP, tokens=10_000).text.splitlines()
            k = lines.index("## Last sessions on this project") + 1
            before = sum(len(x.encode()) + 1 for x in lines[:k])
            sizes = []
            for tokens in range((before + 100) // 4, (before + 100) // 4 + 3):
                room = tokens * 4 - before
                small = build_briefing(store, SHOP, tokens=tokens)
                cut = small.text.splitlines()[k]
                assert cut.endswith("…") and lines[k].startswith(cut[:-1])
                assert not cut[:-1].endswith(" ") and small.sessions == 1
                sizes.append(room - len(cut.encode()) - 1)
                if summary.startswith("s"):
                    assert small.left_out == 4  # "", the outputs' heading, two outputs
        assert all(0 <= s <= 2 for s in sizes)
        if summary.startswith("s"):
            assert sizes == [0, 0, 0]  # ASCII without spaces: the room filled exactly
