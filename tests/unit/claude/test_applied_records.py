"""The applied records and file bases: what this machine last wrote to or read from each of
its Claude files, which apply and import compare the disk and the store with."""

from __future__ import annotations

import json

from agents.claude.bridge import applied_records, vault_of
from agents.claude.importer import file_bases, last_seen, plan_import, run_import, save_applied
from agents.claude.machine import Machine
from agents.store import audit
from agents.store.store import ContextStore
from tests.unit.claude.conftest import MD, RULE


def test_saving_the_whole_applied_set_forgets_the_targets_not_in_it(store: ContextStore) -> None:
    """What apply does: a target it no longer manages loses its record."""
    save_applied(store, {"/a": "h1", "/b": "h2"})
    save_applied(store, {"/b": "h3", "/c": "h4"})
    assert applied_records(store) == {"/b": "h3", "/c": "h4"}


def test_saving_only_some_targets_keeps_the_other_records_and_writes_no_other_key(
    store: ContextStore,
) -> None:
    """What an import does: records what it read (``only``), forgets ``forget``, keeps the rest."""
    save_applied(store, {"/a": "h1", "/b": "h2", "/c": "h3"})
    save_applied(store, {"/a": "h5", "/d": "h6"}, only=["/d"], forget=["/c"])
    assert applied_records(store) == {"/a": "h1", "/b": "h2", "/d": "h6"}


def test_an_apply_records_the_file_bases_of_the_documents_it_wrote(store: ContextStore) -> None:
    save_applied(store, {"/a": "h1"}, bases={MD: "rev-1", RULE: "rev-2"})
    save_applied(store, {"/a": "h2"}, bases={MD: "rev-3"})
    assert file_bases(store) == {MD: "rev-3", RULE: "rev-2"}
    assert applied_records(store) == {"/a": "h2"}


def test_saving_applied_records_is_audited_as_an_apply_by_its_actor_with_the_unit_count(
    store: ContextStore,
) -> None:
    save_applied(store, {"/a": "h1", "/b": "h2"})
    save_applied(store, {"/a": "h1"}, actor="hooks", only=["/a"])
    with store.reading() as conn:
        rows = audit.query(conn, op="apply")
    assert [(e.actor, json.loads(e.detail or "null")) for e in rows] == [
        ("hooks", {"units": 1}),
        ("cli", {"units": 2}),
    ]


def test_what_this_machine_last_saw_is_its_file_base_else_the_head_and_unknown_ids_are_left_out(
    store: ContextStore, alice: Machine
) -> None:
    run_import(store, plan_import(store, alice), vault_of(store))
    old = store.get(MD).body["text"]
    for doc in (MD, RULE):  # another machine's edits, brought by a pull
        body = {**store.get(doc).body, "text": "# newer\n"}
        store.put(doc, "claude_file", body, actor="sync")
    with store.transaction() as conn:  # as in a store from before file bases
        conn.execute("DELETE FROM file_bases WHERE doc_id = ?", (RULE,))
    seen = last_seen(store, ["claude_file:user/nowhere.md", MD, RULE])
    assert sorted(seen) == [MD, RULE]
    assert (seen[MD][0].body["text"], seen[MD][1]) == (old, True)
    assert (seen[RULE][0].body["text"], seen[RULE][1]) == ("# newer\n", False)
