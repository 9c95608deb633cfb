"""What sync builds on: foreign revisions, head compare-and-swap, conflicts, bases, applied."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.core.errors import InputError, NotFoundError
from agents.store import audit, conflicts, replication
from agents.store.schemas import InvalidDocumentError
from agents.store.store import ContextStore
from tests.unit.store.conftest import pref


def test_a_revision_from_another_machine_is_stored_then_fast_forwarded(
    store: ContextStore, tmp_path: Path
) -> None:
    """Receive without moving the head; move it by compare-and-swap; audit both."""
    with ContextStore(tmp_path / "other", machine_id="m-other") as other:
        theirs = other.put("preference:theme", "preference", pref("dark"))
    digest = replication.receive_revision(store, theirs.to_dict(), source="dir:/remote")
    assert digest == theirs.hash and store.head_info("preference:theme") is None
    assert replication.receive_revision(store, theirs.to_dict(), source="dir:/remote") == digest
    replication.move_head(store, "preference:theme", digest, expect=None, remote="dir:/remote")
    head = store.get("preference:theme")
    assert head.hash == theirs.hash and head.vv == {"m-other": 1}
    mine = store.put("preference:theme", "preference", pref("light"))
    assert mine.vv == {"m-other": 1, "m-test": 1} and mine.parents == [theirs.hash]
    with pytest.raises(InputError, match="not"):
        replication.move_head(store, "preference:theme", digest, expect=digest)
    with store.reading() as conn:
        ops = [e.op for e in audit.query(conn)]
        assert audit.verify(conn).ok
    assert ops == ["put", "fast_forward", "receive"]


def test_an_invalid_or_forged_envelope_is_quarantined_and_refused(
    store: ContextStore, tmp_path: Path
) -> None:
    """Schema failures and content-hash mismatches never reach the revisions table."""
    with ContextStore(tmp_path / "other", machine_id="m-other") as other:
        theirs = other.put("preference:theme", "preference", pref("dark")).to_dict()
    forged = {**theirs, "body": pref("evil")}
    with pytest.raises(InvalidDocumentError, match="content_hash"):
        replication.receive_revision(store, forged, source="git:origin")
    broken = {**theirs, "kind": "session"}
    with pytest.raises(InvalidDocumentError):
        replication.receive_revision(store, broken, source="git:origin")
    with store.reading() as conn:
        assert conn.execute("SELECT count(*) FROM quarantine").fetchone()[0] == 2
        assert conn.execute("SELECT count(*) FROM revisions").fetchone()[0] == 0


def test_conflicts_sync_bases_and_applied_files_are_recorded(store: ContextStore) -> None:
    """The bookkeeping sync and apply need, with audit rows."""
    a = store.put("preference:theme", "preference", pref("dark"))
    b = store.put("preference:theme", "preference", pref("light"))
    cid = conflicts.add_conflict(store, "preference:theme", b.hash, a.hash, None, policy="lww")
    assert [c.id for c in conflicts.conflicts(store)] == [cid]
    conflicts.resolve_conflict(store, cid, b.hash)
    assert conflicts.conflicts(store) == []
    assert conflicts.conflicts(store, None)[0].resolved_hash == b.hash
    with pytest.raises(NotFoundError):
        conflicts.resolve_conflict(store, cid, b.hash)
    replication.set_sync_base(store, "git:origin", {"preference:theme": b.hash})
    assert replication.sync_base(store, "git:origin") == {"preference:theme": b.hash}
    replication.set_applied(store, "~/.claude/CLAUDE.md", "sha256:" + "a" * 64, None)
    assert replication.applied(store, "~/.claude/CLAUDE.md") == ("sha256:" + "a" * 64, None)
    assert replication.applied(store, "~/nowhere") is None
