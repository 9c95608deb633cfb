"""Import: this machine's Claude files into the store, each edit on top of what this machine
last saw of the file, so a stale file never overwrites a newer head and no edit is lost."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from agents.claude.bridge import applied_records, vault_of
from agents.claude.capture import capture
from agents.claude.importer import file_bases, import_capture, plan_import, run_import
from agents.claude.machine import Machine
from agents.core.errors import AgentError
from agents.store.store import ContextStore
from tests.unit.claude.conftest import TOKENS

MD = "claude_file:user/CLAUDE.md"


@pytest.fixture(name="store")
def _store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ContextStore]:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    with ContextStore(tmp_path / "store", machine_id="m-alice") as store:
        yield store


def imported(store: ContextStore, machine: Machine) -> list[str]:
    """Run an import; the ids it wrote."""
    return run_import(store, plan_import(store, machine), vault_of(store)).written


def elsewhere(store: ContextStore, doc_id: str, text: str) -> None:
    """Another machine's edit of ``doc_id``'s text, as a pull would bring it."""
    body = {**store.get(doc_id).body, "text": text}
    store.put(doc_id, store.get(doc_id).kind, body, actor="sync")


def test_the_first_import_stores_every_document_and_the_secrets_only_in_the_vault(
    store: ContextStore, alice: Machine
) -> None:
    plan = plan_import(store, alice)
    assert plan.count == len(plan.changed) == len(plan.cap.drafts) and plan.gone == []
    result = run_import(store, plan, vault_of(store))
    assert sorted(result.written) == sorted(d.id for d in plan.cap.drafts)
    assert result.merged == result.conflicts == [] and result.unchanged == 0
    assert result.secrets == len(plan.cap.secrets) > 0 and result.blobs == len(plan.cap.blobs)
    assert vault_of(store).values() == {**plan.cap.secrets}
    dumped = json.dumps([e.body for e in store.list(limit=10_000)])
    assert not [t for t in TOKENS.values() if t in dumped]
    bases = file_bases(store)
    assert {i: store.head_info(i).head for i in result.written} == bases  # type: ignore[union-attr]
    assert applied_records(store)
    again = plan_import(store, alice)
    assert again.count == 0 and again.diff() == ""


def test_an_edit_here_is_shown_then_imported_and_only_it(
    store: ContextStore, alice: Machine
) -> None:
    imported(store, alice)
    md = alice.claude_dir / "CLAUDE.md"
    md.write_text(md.read_text() + "- Run the tests before pushing.\n")
    plan = plan_import(store, alice)
    assert [d.id for d in plan.changed] == [MD] and plan.count == 1
    assert "+- Run the tests before pushing." in plan.diff()
    assert imported(store, alice) == [MD]
    assert store.get(MD).body["text"].endswith("- Run the tests before pushing.\n")
    assert plan_import(store, alice).count == 0


def test_a_file_that_still_says_what_this_machine_saw_never_overwrites_a_newer_head(
    store: ContextStore, alice: Machine
) -> None:
    imported(store, alice)
    newer = store.get(MD).body["text"] + "- Another machine's rule.\n"
    elsewhere(store, MD, newer)
    assert plan_import(store, alice).count == 0
    assert imported(store, alice) == []
    assert store.get(MD).body["text"] == newer


def test_edits_on_this_machine_and_another_are_merged_not_lost(
    store: ContextStore, alice: Machine
) -> None:
    imported(store, alice)
    text = store.get(MD).body["text"]
    elsewhere(store, MD, "# Shared instructions\n" + text.split("\n", 1)[1])
    md = alice.claude_dir / "CLAUDE.md"
    md.write_text(md.read_text() + "- Run the tests before pushing.\n")
    result = run_import(store, plan_import(store, alice), vault_of(store))
    assert result.merged == [MD] and result.written == []
    merged = store.get(MD).body["text"]
    assert merged.startswith("# Shared instructions\n")
    assert merged.endswith("- Run the tests before pushing.\n")


def test_a_file_written_here_then_deleted_is_imported_as_a_deletion_and_no_other_is(
    store: ContextStore, alice: Machine
) -> None:
    """A document whose file this machine never had (no applied record) is not deleted."""
    imported(store, alice)
    rule = "claude_file:user/rules/python.md"
    body = {**store.get(rule).body, "path": "rules/go.md", "text": "# Go\n"}
    store.put("claude_file:user/rules/go.md", "claude_file", body, actor="sync")
    (alice.claude_dir / "rules" / "python.md").unlink()
    plan = plan_import(store, alice)
    assert plan.changed == [] and [d.id for d in plan.gone] == [rule]
    assert "rules/python.md" in plan.diff()
    run_import(store, plan, vault_of(store))
    assert store.get(rule, deleted=True).deleted
    assert not store.get("claude_file:user/rules/go.md").deleted
    assert plan_import(store, alice).count == 0


def test_an_import_keeps_the_other_machines_paths_of_a_project(
    store: ContextStore, alice: Machine
) -> None:
    pid = "project:github.com/acme/api"
    imported(store, alice)
    body = store.get(pid).body
    store.put(pid, "project", {**body, "paths": {"m-bob": "/Users/bob/api"}}, actor="sync")
    (alice.claude_dir / "CLAUDE.md").write_text("# changed\n")
    cap = capture(alice)
    import_capture(store, cap, vault_of(store), alice, only=[pid, MD])
    assert store.get(pid).body["paths"] == {
        "m-bob": "/Users/bob/api",
        "m-alice": str(alice.home / "src" / "api"),
    }


def test_a_draft_still_holding_a_secret_value_writes_nothing(
    store: ContextStore, alice: Machine
) -> None:
    cap = capture(alice)
    name, value = next(iter(cap.secrets.items()))
    d = next(d for d in cap.drafts if d.id == MD)
    leaky = replace(d, body={**d.body, "text": f"token {value}\n"})
    cap.drafts[cap.drafts.index(d)] = leaky
    with pytest.raises(AgentError):
        import_capture(store, cap, vault_of(store), alice)
    assert store.list(limit=10) == [] and vault_of(store).names() == []
    assert name
