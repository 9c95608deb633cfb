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
from agents.store.conflicts import add_conflict
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
    store.put(f"checkpoint:{machine}/{session}", "checkpoint", body)


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
