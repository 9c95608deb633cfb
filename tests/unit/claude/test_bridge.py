"""The store's Claude documents read back as drafts, and this machine's project paths: what
apply, import and restore start from."""

from __future__ import annotations

import json
import locale
from collections.abc import Iterator
from pathlib import Path

import pytest

from agents.claude import bridge
from agents.claude.apply import plan_apply
from agents.claude.approval import risky
from agents.claude.bridge import drafts_of, machine_for
from agents.claude.drafts import Draft, Scope, SecretRef
from agents.claude.machine import Machine
from agents.store import replication
from agents.store.store import ContextStore
from tests.unit.claude.conftest import git_repo

HERE, THERE = "m-here", "m-there"


@pytest.fixture(name="store")
def _store(tmp_path: Path) -> Iterator[ContextStore]:
    with ContextStore(tmp_path / "store", machine_id=HERE, actor="cli") as store:
        yield store


def put(store: ContextStore, d: Draft) -> None:
    """``d`` written as import writes a new document."""
    refs = [r.to_json() for r in d.secret_refs]
    level, pid = d.scope.level, d.scope.project_id
    store.put(d.id, d.kind, d.body, level=level, project_id=pid, secret_refs=refs)


def from_there(store: ContextStore, tmp_path: Path, d: Draft) -> None:
    """``d`` written on machine ``THERE`` and brought here as a pull brings it."""
    with ContextStore(tmp_path / THERE, machine_id=THERE) as other:
        put(other, d)
        theirs = other.get(d.id)
    digest = replication.receive_revision(store, theirs.to_dict(), source="dir:/remote")
    replication.move_head(store, d.id, digest, expect=None, remote="dir:/remote")


def test_the_stores_heads_read_back_as_the_drafts_written_with_their_secrets_and_origin(
    store: ContextStore, tmp_path: Path
) -> None:
    """Scopes of each level, both styles of secret reference (a vault name may end in a
    brace), a tombstone, the machine each revision came from, and each head's hash. A
    preference that is not a key of Claude's settings (``preference:``) is left out, and
    the documents after it are still read."""
    server = Draft(
        "mcp_server:project/api@github.com/acme/api",
        "mcp_server",
        {
            "name": "api",
            "transport": "http",
            "url": "https://api.example/mcp",
            "env": {"API_TOKEN": "${API_TOKEN}"},
            "headers": {"X-Key}": "secret://mcp/api/headers/X-Key}"},
        },
        Scope("project", "github.com/acme/api"),
        (
            SecretRef("/env/API_TOKEN", "API_TOKEN", "env"),
            SecretRef("/headers/X-Key}", "mcp/api/headers/X-Key}", "uri"),
        ),
    )
    model = Draft("pref:model", "preference", {"key": "model", "value": "opus"}, Scope("machine"))
    rule = Draft(
        "claude_file:user/rules/go.md",
        "claude_file",
        {"path": "rules/go.md", "format": "markdown", "text": "# Go\n"},
    )
    notes = Draft("project:~/notes", "project", {"name": "notes"}, Scope("project", "~/notes"))
    theme = Draft("pref:theme", "preference", {"key": "theme", "value": "dark"})
    for d in (server, model, rule, notes):
        put(store, d)
    store.put("preference:tone", "preference", {"key": "tone", "value": "short"})
    store.delete(rule.id)
    from_there(store, tmp_path, theme)
    heads: dict[str, str] = {}
    got = drafts_of(store, heads=heads)
    assert got == {
        d.id: d
        for d in (
            server,
            Draft(model.id, model.kind, model.body, Scope("machine", machine_id=HERE)),
            Draft(rule.id, rule.kind, {}, rule.scope, deleted=True),
            notes,
            theme,
        )
    }
    assert [got[i].deleted for i in sorted(got)] == [True, False, False, False, False]
    assert {i: d.origin for i, d in got.items()} == {
        server.id: HERE,
        model.id: HERE,
        rule.id: HERE,
        notes.id: HERE,
        theme.id: THERE,
    }
    assert heads == {i: store.get(i, deleted=True).hash for i in got}


def test_a_risky_setting_read_from_the_store_needs_approval_as_from_the_machine_that_wrote_it(
    store: ContextStore, tmp_path: Path
) -> None:
    """Apply asks whether that machine is trusted: without the origin nothing would be
    flagged at all."""
    hook = {"SessionStart": [{"hooks": [{"type": "command", "command": "sh x"}]}]}
    from_there(store, tmp_path, Draft("pref:hooks", "preference", {"key": "hooks", "value": hook}))
    home = tmp_path / "home"
    home.mkdir()
    plan = plan_apply(drafts_of(store).values(), Machine(home, machine_id=HERE))
    assert [c.origin for c in risky(plan)] == [THERE]


def claude_json(home: Path, projects: object) -> None:
    home.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"projects": projects}, ensure_ascii=False)
    (home / ".claude.json").write_text(text, encoding="utf-8")


def test_a_project_claude_code_opened_outside_the_home_is_found_through_claude_json(
    store: ContextStore, tmp_path: Path
) -> None:
    """Not under the home, so only ``~/.claude.json`` knows it; a path that is gone or is
    another project is passed over."""
    home = tmp_path / "home"
    shop = git_repo(tmp_path / "work" / "shop", "https://github.com/acme/shop")
    other = git_repo(tmp_path / "work" / "other", "https://github.com/acme/other")
    claude_json(home, {str(tmp_path / "gone"): {}, str(other): {}, str(shop): {}})
    store.put("project:github.com/acme/shop", "project", {"name": "shop"})
    assert machine_for(store, home).project_paths == {"github.com/acme/shop": shop}
    assert store.get("project:github.com/acme/shop").body["paths"] == {HERE: str(shop)}


@pytest.fixture(name="ascii_locale")
def _ascii_locale() -> Iterator[None]:
    """The process's text encoding is ASCII (as under LANG=C without UTF-8 mode)."""
    before = locale.setlocale(locale.LC_CTYPE)
    locale.setlocale(locale.LC_CTYPE, "C")
    try:
        yield
    finally:
        locale.setlocale(locale.LC_CTYPE, before)


@pytest.mark.usefixtures("ascii_locale")
def test_claude_json_is_read_as_utf8_whatever_the_locale(
    store: ContextStore, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    shop = git_repo(tmp_path / "wörk" / "shop", "https://github.com/acme/shop")
    claude_json(home, {str(shop): {}})
    store.put("project:github.com/acme/shop", "project", {"name": "shop"})
    assert machine_for(store, home).project_paths == {"github.com/acme/shop": shop}


@pytest.mark.parametrize("text", ["[]", "null", '"projects"', "{not json"])
def test_a_claude_json_that_is_not_an_object_finds_nothing_and_breaks_nothing(
    store: ContextStore, tmp_path: Path, text: str
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / ".claude.json").write_text(text)
    store.put("project:github.com/acme/shop", "project", {"name": "shop"})
    assert machine_for(store, home).project_paths == {}


def test_a_home_relative_project_without_a_recorded_path_is_under_this_home(
    store: ContextStore, tmp_path: Path
) -> None:
    store.put("project:~/notes", "project", {"name": "notes"})
    home = tmp_path / "home"
    assert machine_for(store, home, discover=False).project_paths == {"~/notes": home / "notes"}


def test_this_machine_is_the_users_home_under_the_stores_machine_id(
    store: ContextStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its id keys the paths a capture records, so it is the store's, not a default."""
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    here = machine_for(store)
    assert (here.home, here.machine_id) == (tmp_path / "user", HERE)
    there = machine_for(store, tmp_path / "elsewhere")
    assert (there.home, there.machine_id) == (tmp_path / "elsewhere", HERE)


def test_the_home_is_not_searched_when_every_project_has_its_path(
    store: ContextStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Other kinds of documents are not projects waiting for a path."""
    searched: list[set[str]] = []

    def find_checkouts(home: Path, wanted: set[str]) -> dict[str, Path]:
        searched.append(set(wanted))
        return {}

    monkeypatch.setattr(bridge, "find_checkouts", find_checkouts)
    home = tmp_path / "home"
    claude_json(home, {})
    store.put("project:~/notes", "project", {"name": "notes"})
    store.put("pref:model", "preference", {"key": "model", "value": "opus"})
    assert machine_for(store, home).project_paths == {"~/notes": home / "notes"}
    store.put("project:github.com/acme/shop", "project", {"name": "shop"})
    assert machine_for(store, home).project_paths == {"~/notes": home / "notes"}
    assert searched == [{"github.com/acme/shop"}]
