"""Bad files and faults: clear errors, never a silent reset, nothing half-written."""

from __future__ import annotations

import errno
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from agents.core.errors import StoreError
from agents.store import audit
from agents.store.db import FORMAT_VERSION
from agents.store.recorder import StoreRecorder
from agents.store.store import ContextStore, StoreBusy
from tests.unit.store.conftest import pref


def test_a_corrupt_file_is_refused_and_left_untouched(tmp_path: Path) -> None:
    """No reset: the bytes stay for recovery."""
    path = tmp_path / "ctx" / "store.sqlite"
    path.parent.mkdir()
    garbage = b"this is not sqlite at all " * 200
    path.write_bytes(garbage)
    with pytest.raises(StoreError, match="is corrupt") as info:
        ContextStore(path.parent)
    assert "not modified or reset" in str(info.value)
    assert path.read_bytes() == garbage


def test_a_damaged_page_is_reported_as_corruption_on_read(tmp_path: Path) -> None:
    """Corruption found later is a StoreError too, not a crash."""
    root = tmp_path / "ctx"
    with ContextStore(root) as store:
        for i in range(200):
            store.put(f"preference:k{i}", "preference", pref("v" * 200, key=f"k{i}"))
        with store.reading() as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray((root / "store.sqlite").read_bytes())
    data[4096 * 3 : 4096 * 6] = b"\xff" * (4096 * 3)
    (root / "store.sqlite").write_bytes(bytes(data))
    with pytest.raises(StoreError, match="corrupt"):
        with ContextStore(root) as store:
            store.list(limit=1000)
            store.history("preference:k150")


def test_a_store_of_a_newer_format_refuses_to_open_saying_so(tmp_path: Path) -> None:
    """An older agents never rewrites a newer store."""
    root = tmp_path / "ctx"
    ContextStore(root).close()
    with sqlite3.connect(root / "store.sqlite") as conn:
        conn.execute(f"PRAGMA user_version={FORMAT_VERSION + 1}")
    with pytest.raises(StoreError, match=f"format version {FORMAT_VERSION + 1}.*newer"):
        ContextStore(root)


def test_another_applications_database_is_not_taken_over(tmp_path: Path) -> None:
    """CONTEXT_DIR pointed at the wrong place fails loudly."""
    root = tmp_path / "ctx"
    root.mkdir()
    with sqlite3.connect(root / "store.sqlite") as conn:
        conn.execute("CREATE TABLE users(id)")
    with pytest.raises(StoreError, match="not a context store"):
        ContextStore(root)


def test_a_write_lock_held_too_long_gives_a_locked_error(tmp_path: Path) -> None:
    """busy_timeout expires: a clear error naming the variable, nothing written."""
    root = tmp_path / "ctx"
    with ContextStore(root, busy_timeout=0.2) as store:
        holder = sqlite3.connect(root / "store.sqlite", isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(StoreError, match=r"is locked.*CONTEXT_BUSY_TIMEOUT"):
                store.put("preference:theme", "preference", pref("dark"))
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert store.head_info("preference:theme") is None
        store.put("preference:theme", "preference", pref("dark"))


def test_a_write_that_may_not_wait_leaves_later_writes_waiting_for_the_lock(
    tmp_path: Path,
) -> None:
    """The recorder's fast path writes with no busy wait; the next write that may wait still
    waits for a lock held briefly elsewhere, and the fast path still refuses at once."""
    root = tmp_path / "ctx"
    with ContextStore(root, busy_timeout=10) as store:
        store.put("preference:a", "preference", pref("dark"), wait=False)
        holder = sqlite3.connect(
            root / "store.sqlite", isolation_level=None, check_same_thread=False
        )
        holder.execute("BEGIN IMMEDIATE")
        release = threading.Timer(0.3, holder.execute, ("ROLLBACK",))
        release.start()
        try:
            started = time.monotonic()
            with pytest.raises(StoreBusy):
                store.put("preference:b", "preference", pref("dark"), wait=False)
            assert time.monotonic() - started < 0.2
            store.put("preference:b", "preference", pref("light"))  # waits for the rollback
        finally:
            release.join()
            holder.close()
        assert store.get("preference:b").body == pref("light")
        store.put("preference:c", "preference", pref("dark"), wait=False)
        assert store.head_info("preference:c") is not None


def test_a_full_disk_fails_the_write_and_leaves_nothing_half_written(tmp_path: Path) -> None:
    """SQLITE_FULL (the page budget stands in for the disk): all or nothing, then recovery."""
    with ContextStore(tmp_path / "ctx") as store:
        store.put("preference:theme", "preference", pref("dark"))
        with store.reading() as conn:
            pages = conn.execute("PRAGMA page_count").fetchone()[0]
            conn.execute(f"PRAGMA max_page_count={pages + 1}")
            before = conn.execute("SELECT count(*) FROM revisions").fetchone()[0]
        with pytest.raises(StoreError, match="disk is full; nothing was written"):
            store.put("preference:big", "preference", pref("x" * 200_000, key="big"))
        with store.reading() as conn:
            assert conn.execute("SELECT count(*) FROM revisions").fetchone()[0] == before
            assert audit.verify(conn).ok
            conn.execute("PRAGMA max_page_count=1073741823")
        assert store.head_info("preference:big") is None
        store.put("preference:big", "preference", pref("x" * 200_000, key="big"))


def test_a_full_disk_while_writing_a_blob_leaves_no_blob_and_no_record(tmp_path: Path) -> None:
    """ENOSPC at the file layer: no temp file, no blob, no agent_output, chain intact."""
    from agents.core.recorder import ToolCall

    with ContextStore(tmp_path / "ctx") as store:
        recorder = StoreRecorder(store, "notion", blob_threshold=1024, state_interval=60)

        def full(fd: int, data: bytes) -> None:
            import os

            os.write(fd, data[:100])
            raise OSError(errno.ENOSPC, "No space left on device")

        store.blobs.write_all = full
        call = ToolCall("notion", "local", "search", {}, "ok", 3.0, output={"r": "x" * 5000})
        with pytest.raises(StoreError, match="No space left on device"):
            recorder.write(call)
        leftovers = [p for p in (tmp_path / "ctx" / "blobs").rglob("*") if p.is_file()]
        assert leftovers == []
        assert store.list("agent_output") == []
        with store.reading() as conn:
            assert audit.verify(conn).rows == 0
