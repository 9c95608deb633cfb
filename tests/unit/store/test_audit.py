"""The audit chain: any edited or removed row is detected; retention keeps it verifiable."""

from __future__ import annotations

import sqlite3

from agents.store import audit, maintenance
from agents.store.store import ContextStore
from tests.unit.store.conftest import moment_passed, pref


def filled(store: ContextStore, n: int = 6) -> None:
    for i in range(n):
        store.put("preference:theme", "preference", pref(i))


def report(store: ContextStore) -> audit.AuditReport:
    with store.reading() as conn:
        return audit.verify(conn)


def raw(store: ContextStore, sql: str) -> None:
    conn = sqlite3.connect(store.path, isolation_level=None)
    conn.execute(sql)
    conn.close()


def test_an_intact_chain_verifies(store: ContextStore) -> None:
    """Rows link to their predecessor; the head record matches the last row."""
    filled(store)
    result = report(store)
    assert result.ok and result.rows == 6 and (result.first_seq, result.last_seq) == (1, 6)


def test_audit_rows_carry_hashes_never_values(store: ContextStore) -> None:
    """The body's value appears nowhere in the audit table."""
    store.put("preference:token", "preference", pref("sk-live-VALUE-1234", key="token"))
    with store.reading() as conn:
        rows = conn.execute("SELECT * FROM audit").fetchall()
    assert "sk-live-VALUE-1234" not in repr(rows)


def test_an_edited_row_is_detected(store: ContextStore) -> None:
    """Changing any field breaks that row's hash."""
    filled(store)
    raw(store, "UPDATE audit SET actor = 'agent:evil' WHERE seq = 3")
    assert report(store).problems == ["row 3 was edited (its hash does not match)"]


def test_a_row_edited_with_its_hash_recomputed_breaks_the_next_link(store: ContextStore) -> None:
    """Forging one row's hash still leaves the following row pointing at the old one."""
    filled(store)
    with store.reading() as conn:
        row = conn.execute("SELECT * FROM audit WHERE seq = 3").fetchone()
    values = (*row[:3], "agent:evil", *row[4:12])
    forged = audit._hash(values)
    raw(store, f"UPDATE audit SET actor = 'agent:evil', entry_hash = '{forged}' WHERE seq = 3")
    assert any("row 4 does not link" in p for p in report(store).problems)


def test_a_removed_middle_row_is_detected(store: ContextStore) -> None:
    """A gap in seq and a broken link."""
    filled(store)
    raw(store, "DELETE FROM audit WHERE seq = 2")
    problems = report(store).problems
    assert "rows 2..2 are missing (removed)" in problems
    assert any("row 3 does not link" in p for p in problems)


def test_a_removed_last_row_is_detected(store: ContextStore) -> None:
    """The head record remembers where the chain ended."""
    filled(store)
    raw(store, "DELETE FROM audit WHERE seq = 6")
    assert report(store).problems == [
        "the chain ends at row 5 but its head says row 6: the last rows were removed or edited"
    ]


def test_compaction_prunes_old_rows_and_the_chain_still_verifies(store: ContextStore) -> None:
    """The chain is anchored at the last pruned row; new rows link on."""
    filled(store)
    moment_passed(store)
    result = maintenance.compact(store, 0, prune_audit=True)
    assert result.audit_rows == 6
    store.put("preference:theme", "preference", pref("after"))
    after = report(store)
    assert after.ok and after.first_seq == 7
    raw(store, f"DELETE FROM audit WHERE seq = {after.first_seq}")
    assert not report(store).ok
