"""`agents sync resolve`: a conflict settled by a new revision descending from both sides."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from agents.core.errors import InputError, NotFoundError
from agents.store import audit
from agents.store.canonical import now_iso
from agents.store.clock import Hlc, HlcClock, vv_bump, vv_compare
from agents.store.conflicts import conflicts
from agents.store.envelope import Envelope
from agents.store.store import ContextStore
from agents.sync.engine import resolve
from agents.sync.local import commit_local

DOC = "claude_file:user/CLAUDE.md"
REF = {"path": "/text", "ref": "${API_KEY}"}


def md(text: str) -> dict[str, Any]:
    return {"path": "CLAUDE.md", "format": "markdown", "text": text}


def conflicted(tmp_path: Path) -> tuple[ContextStore, str, str]:
    """A store whose CLAUDE.md has a conflict for review: (store, local head, remote)."""
    store = ContextStore(tmp_path / "s", machine_id="mine", actor="cli")
    with store.transaction() as conn:
        base = commit_local(store, conn, DOC, "claude_file", md("one\n"), base=None).local
    theirs = store.put(DOC, "claude_file", md("ONE ${API_KEY}\n"), secret_refs=[REF]).hash
    with store.transaction() as conn:
        local = commit_local(store, conn, DOC, "claude_file", md("1\n"), base=base).local
    [c] = conflicts(store)
    assert (c.local_hash, c.remote_hash) == (local, theirs)
    return store, local, theirs


@pytest.mark.parametrize("take", ["local", "remote", "hash"])
def test_a_resolution_descends_from_both_sides_and_closes_the_conflict(
    tmp_path: Path, take: str
) -> None:
    """Whichever side is taken (even the head itself), a new revision is written after both,
    so the other machine takes it as a fast-forward; audited as the resolver's."""
    store, local, theirs = conflicted(tmp_path)
    with store:
        named = {"local": "local", "remote": "remote", "hash": theirs[7:19]}[take]
        written = resolve(store, DOC, named, actor="me")
        head = store.history(DOC)[-1]
        chosen = store.revision(local if take == "local" else theirs)
        assert head.is_head and head.hash == written.hash not in (local, theirs)
        assert head.envelope.parents == sorted([local, theirs])
        assert (written.body, written.secret_refs) == (chosen.body, chosen.secret_refs)
        for side in (local, theirs):
            assert vv_compare(store.revision(side).vv, written.vv) == "before"
        assert written.origin_machine == "mine" and written.hlc > store.revision(local).hlc
        assert conflicts(store) == []
        [c] = conflicts(store, None)
        assert (c.status, c.resolved_hash) == ("resolved", written.hash)
        with store.reading() as conn:
            rows = audit.query(conn, doc_id=DOC, op="resolve")
        [row] = [r for r in rows if r.new_hash == written.hash]
        assert (row.actor, row.old_hash) == ("me", local)
        assert row.as_dict()["detail"] == {"took": named}


def test_taking_a_deletion_resolves_to_a_deletion(tmp_path: Path) -> None:
    store, _, _ = conflicted(tmp_path)
    with store:
        gone = store.delete(DOC, actor="sync").hash
        written = resolve(store, DOC, gone)
        assert written.deleted
        with store.reading() as conn:
            rows = audit.query(conn, doc_id=DOC, op="resolve")
        assert {r.actor for r in rows} == {"cli"}  # the default actor


def test_resolving_what_has_no_conflict_or_another_documents_revision_says_what_is_wrong(
    tmp_path: Path,
) -> None:
    store, _, _ = conflicted(tmp_path)
    with store:
        other = store.put("preference:x", "preference", {"key": "x", "value": 1}).hash
        with pytest.raises(InputError, match=r"belongs to 'preference:x', not 'claude_file:"):
            resolve(store, DOC, other)
        with pytest.raises(NotFoundError, match=r"no open conflict for 'preference:x'; `agents"):
            resolve(store, "preference:x", "local")


def test_a_resolution_is_stamped_after_both_sides_when_one_came_from_a_clock_ahead(
    tmp_path: Path,
) -> None:
    """The other side came from a machine whose clock runs an hour ahead, and the resolve runs
    in a new process (`agents sync resolve`): the resolution is still the later revision, so
    a later-wins policy elsewhere never drops it for the side it settled."""
    ahead = HlcClock("theirs", wall_ms=lambda: time.time_ns() // 1_000_000 + 3_600_000)
    with ContextStore(tmp_path / "s", machine_id="mine", actor="cli") as store:
        with store.transaction() as conn:
            base = commit_local(store, conn, DOC, "claude_file", md("one\n"), base=None).local
        parent = store.revision(base)
        theirs = Envelope(
            id=DOC,
            kind="claude_file",
            scope=parent.scope,
            body=md("ONE\n"),
            vv=vv_bump(parent.vv, "theirs"),
            parents=[base],
            origin_machine="theirs",
            updated_at=now_iso(),
            hlc=str(ahead.now(parent.hlc)),
        )
        with store.transaction() as conn:
            store.apply(conn, theirs, store.head_info(DOC, conn), actor="sync", op="pull")
            local = commit_local(store, conn, DOC, "claude_file", md("1\n"), base=base).local
    with ContextStore(tmp_path / "s", machine_id="mine", actor="cli") as store:
        written = resolve(store, DOC, "remote")
        for side in (local, theirs.hash):
            assert Hlc.parse(written.hlc) > Hlc.parse(store.revision(side).hlc)


def test_a_prefix_two_revisions_share_is_refused_as_ambiguous(tmp_path: Path) -> None:
    """Two revisions of the document whose hashes share their first eight digits (one in four
    billion: the second row is written as a store holding such a pair would hold it)."""
    store, _, theirs = conflicted(tmp_path)
    with store:
        twin = theirs[:15] + ("0" if theirs[15] != "0" else "1") + theirs[16:]
        with store.transaction() as conn:
            conn.execute(
                "INSERT INTO revisions SELECT ?, doc_id, kind, content_hash, envelope, "
                "created_at FROM revisions WHERE hash = ?",
                (twin, theirs),
            )
        prefix = theirs[7:15]
        with pytest.raises(InputError) as refused:
            resolve(store, DOC, prefix)
        assert str(refused.value) == f"revision prefix {prefix!r} is ambiguous; give more digits"
        assert len(conflicts(store)) == 1
        assert resolve(store, DOC, theirs[7:16]).body == md("ONE ${API_KEY}\n")
