"""What an import plans: which captured documents are edits made here, which are deletions
made here, of which documents, with or without transcripts."""

from __future__ import annotations

from agents.claude.bridge import applied_records, machine_for, vault_of
from agents.claude.capture import capture
from agents.claude.importer import local_changes, plan_import, run_import
from agents.claude.machine import Machine
from agents.store.store import ContextStore
from tests.unit.claude.conftest import (
    HOME_SESSION,
    MD,
    RULE,
    edit_here,
    elsewhere,
    imported,
    machine_key,
)

SESSION = HOME_SESSION
TRANSCRIPT = f"transcript_archive:{SESSION}"


def test_without_file_bases_a_file_as_written_here_is_skipped_and_the_edits_after_it_found(
    store: ContextStore, alice: Machine
) -> None:
    """A store from before file bases: the applied records tell a file this machine last wrote
    or read (the store simply moved on since) from an edit made here, file by file. The
    machine is the CLI's, with the project paths the first import recorded: CLAUDE.md names
    a project, so its units are found on disk only with them."""
    imported(store, alice)
    here = machine_for(store, alice.home)
    with store.transaction() as conn:
        conn.execute("DELETE FROM file_bases")
    elsewhere(store, MD, store.get(MD).body["text"] + "- Another machine's rule.\n")
    assert plan_import(store, here).count == 0
    rule = alice.claude_dir / "rules" / "python.md"
    rule.write_text(rule.read_text() + "- Type every function.\n")
    assert [d.id for d in plan_import(store, here).changed] == [RULE]


def test_an_import_of_some_documents_plans_only_those_and_never_an_excluded_one(
    store: ContextStore, alice: Machine
) -> None:
    imported(store, alice)
    for rel in ("CLAUDE.md", "rules/python.md"):
        path = alice.claude_dir / rel
        path.write_text(path.read_text() + "- edited\n")
    assert [d.id for d in plan_import(store, alice, only=[RULE]).changed] == [RULE]
    only_md = plan_import(store, alice, exclude=("claude_file:user/rules/",))
    assert [d.id for d in only_md.changed] == [MD]


def test_transcripts_are_imported_only_when_asked_and_an_unchanged_one_never_again(
    store: ContextStore, alice: Machine
) -> None:
    """An unchanged transcript keeps its sealed blob, so it is no edit (sealing is random)."""
    to = [machine_key(alice).recipient]
    assert TRANSCRIPT not in {d.id for d in plan_import(store, alice).changed}
    plan = plan_import(store, alice, transcripts_to=to)
    assert TRANSCRIPT in {d.id for d in plan.changed}
    run_import(store, plan, vault_of(store))
    assert plan_import(store, alice, transcripts_to=to).count == 0


def test_a_transcript_gone_from_disk_is_not_imported_as_a_deletion(
    store: ContextStore, alice: Machine
) -> None:
    """Claude Code removes old session files itself; the archive in the store stays. The
    machine is the CLI's, which knows the project the session's file lies under."""
    to = [machine_key(alice).recipient]
    run_import(store, plan_import(store, alice, transcripts_to=to), vault_of(store))
    here = machine_for(store, alice.home)
    next(alice.claude_dir.glob(f"projects/*/{SESSION}.jsonl")).unlink()
    assert plan_import(store, here).gone == []
    assert plan_import(store, here, transcripts_to=to).gone == []


def test_a_document_that_cannot_be_placed_here_does_not_stop_the_deletions_after_it(
    store: ContextStore, alice: Machine
) -> None:
    """Another machine's memory of a project not checked out here is skipped, not fatal."""
    imported(store, alice)
    mine = store.get("claude_file:project/memory/MEMORY.md@github.com/acme/api").body
    web = "github.com/acme/web"
    other = f"claude_file:project/memory/MEMORY.md@{web}"
    store.put(other, "claude_file", mine, level="project", project_id=web, actor="sync")
    (alice.claude_dir / "rules" / "python.md").unlink()
    assert [d.id for d in plan_import(store, alice).gone] == [RULE]


def test_local_changes_work_out_what_this_machine_last_saw_when_not_given_it(
    store: ContextStore, alice: Machine
) -> None:
    imported(store, alice)
    edit_here(alice)
    drafts = capture(alice).drafts
    assert [d.id for d in local_changes(store, drafts, alice, applied_records(store))] == [MD]
