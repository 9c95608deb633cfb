"""Import: this machine's Claude files into the store, each edit on top of what this machine
last saw of the file, so a stale file never overwrites a newer head and no edit is lost."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from agents.claude.apply import plan_apply
from agents.claude.bridge import applied_records, drafts_of, vault_of
from agents.claude.capture import capture
from agents.claude.importer import (
    file_bases,
    import_capture,
    plan_import,
    run_import,
    save_applied,
)
from agents.claude.machine import Machine
from agents.claude.scan import scan
from agents.claude.targets import current_hashes
from agents.core.errors import AgentError
from agents.store import audit
from agents.store.store import ContextStore
from tests.unit.claude.conftest import MD, RULE, TOKENS, edit_here, elsewhere, imported


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
    edit_here(alice)
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
    edit_here(alice)
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
    rule = RULE
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
    result = import_capture(store, cap, vault_of(store), alice, only=[pid, MD])
    assert store.get(pid).body["paths"] == {
        "m-bob": "/Users/bob/api",
        "m-alice": str(alice.home / "src" / "api"),
    }
    # written on top of the head it read, not merged with it as a concurrent edit
    assert sorted(result.written) == [MD, pid] and result.merged == []
    assert file_bases(store)[pid] == store.head_info(pid).head  # type: ignore[union-attr]


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


def test_a_captured_secret_value_shaped_like_no_token_in_a_draft_writes_nothing(
    store: ContextStore, alice: Machine
) -> None:
    """Only the capture's own values say it is a secret: no token pattern matches it."""
    cap = capture(alice)
    value = next(v for v in cap.secrets.values() if len(v) >= 16 and not scan(v))
    d = next(d for d in cap.drafts if d.id == MD)
    cap.drafts[cap.drafts.index(d)] = replace(d, body={**d.body, "text": f"key {value}\n"})
    with pytest.raises(AgentError):
        import_capture(store, cap, vault_of(store), alice)
    assert store.list(limit=10) == []


def test_every_blob_of_a_skill_is_stored_and_counted(store: ContextStore, alice: Machine) -> None:
    icon = b"\x89PNG\r\n\x1a\n\xff\xfe another icon"
    (alice.claude_dir / "skills" / "pdf-tools" / "assets" / "icon.png").write_bytes(icon)
    plan = plan_import(store, alice)
    result = run_import(store, plan, vault_of(store))
    assert result.blobs == len(plan.cap.blobs) == 2
    assert icon in [store.blobs.get(ref) for ref in plan.cap.blobs]


def test_an_import_of_some_documents_leaves_the_other_edits_here_for_later(
    store: ContextStore, alice: Machine
) -> None:
    imported(store, alice)
    rule = store.get(RULE).body["text"]
    for name in ("CLAUDE.md", "rules/python.md"):
        path = alice.claude_dir / name
        path.write_text(path.read_text() + "- Run the tests before pushing.\n")
    result = run_import(store, plan_import(store, alice, only=[MD]), vault_of(store))
    assert result.written == [MD]
    assert store.get(RULE).body["text"] == rule
    assert [d.id for d in plan_import(store, alice).changed] == [RULE]


def test_a_file_deleted_after_an_import_of_other_documents_is_imported_as_a_deletion(
    store: ContextStore, alice: Machine
) -> None:
    """A partial import keeps what this machine wrote of the files it did not read."""
    imported(store, alice)
    edit_here(alice)
    run_import(store, plan_import(store, alice, only=[MD]), vault_of(store))
    (alice.claude_dir / "rules" / "python.md").unlink()
    assert [d.id for d in plan_import(store, alice).gone] == [RULE]


def test_a_file_deleted_here_then_restored_elsewhere_is_created_again_by_apply(
    store: ContextStore, alice: Machine
) -> None:
    """The deletion forgets what apply wrote there, so the restored file is not a conflict."""
    imported(store, alice)
    body = store.get(RULE).body
    (alice.claude_dir / "rules" / "python.md").unlink()
    run_import(store, plan_import(store, alice), vault_of(store))
    store.put(RULE, "claude_file", body, actor="sync")
    plan = plan_apply(drafts_of(store).values(), alice, applied=applied_records(store))
    assert [c.action for c in plan.changes if c.draft_id == RULE] == ["create"]


def test_the_same_edit_here_and_on_another_machine_is_counted_unchanged_not_written(
    store: ContextStore, alice: Machine
) -> None:
    imported(store, alice)
    line = "- Run the tests before pushing.\n"
    for doc, name in ((MD, "CLAUDE.md"), (RULE, "rules/python.md")):
        elsewhere(store, doc, store.get(doc).body["text"] + line)
        path = alice.claude_dir / name
        path.write_text(path.read_text() + line)
    heads = {d: store.head_info(d).head for d in (MD, RULE)}  # type: ignore[union-attr]
    result = run_import(store, plan_import(store, alice), vault_of(store))
    assert result.written == result.merged == result.conflicts == []
    assert result.unchanged == 2
    assert {d: store.head_info(d).head for d in (MD, RULE)} == heads  # type: ignore[union-attr]


def test_overlapping_edits_here_and_on_another_machine_are_a_conflict_not_a_write(
    store: ContextStore, alice: Machine
) -> None:
    imported(store, alice)
    text = store.get(MD).body["text"]
    elsewhere(store, MD, "# Shared instructions\n" + text.split("\n", 1)[1])
    md = alice.claude_dir / "CLAUDE.md"
    md.write_text("# My instructions\n" + md.read_text().split("\n", 1)[1])
    result = run_import(store, plan_import(store, alice), vault_of(store))
    assert result.conflicts == [MD] and result.written == result.merged == []


def test_an_import_is_audited_as_the_command_lines(store: ContextStore, alice: Machine) -> None:
    imported(store, alice)
    with store.reading() as conn:
        rows = audit.query(conn, op="import", limit=1000) + audit.query(conn, op="apply")
    assert rows and {e.actor for e in rows} == {"cli"}


def _written_here_elsewhere_since(store: ContextStore, alice: Machine) -> None:
    """The Python rule as another machine wrote it, written here by apply (its applied record) with
    no file base (as before bases were recorded), then edited again on the other machine."""
    d = next(d for d in capture(alice).drafts if d.id == RULE)
    store.put(RULE, d.kind, d.body, actor="sync")
    save_applied(store, current_hashes([d], alice))
    assert applied_records(store)
    elsewhere(store, RULE, d.body["text"] + "- Another machine's rule.\n")
    assert RULE not in file_bases(store)


def test_a_file_without_a_base_still_as_apply_wrote_it_is_not_an_edit_once_the_store_moved_on(
    store: ContextStore, alice: Machine
) -> None:
    _written_here_elsewhere_since(store, alice)
    assert plan_import(store, alice, only=[RULE]).count == 0


def test_a_file_without_a_base_edited_since_apply_wrote_it_is_an_edit(
    store: ContextStore, alice: Machine
) -> None:
    _written_here_elsewhere_since(store, alice)
    rule = alice.claude_dir / "rules" / "python.md"
    rule.write_text(rule.read_text() + "- Run the tests before pushing.\n")
    assert [d.id for d in plan_import(store, alice, only=[RULE]).changed] == [RULE]
