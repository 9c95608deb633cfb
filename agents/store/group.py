"""Group commit: documents written by concurrent callers share one transaction.

Each caller checks and serializes its own document (:meth:`ContextStore.prepare_new`, so a
refused document fails its caller alone) and queues it. One writer thread per store takes the
store's writer lock, then everything queued by then, writes it with
:meth:`ContextStore.write_new` in one transaction (one commit, one fsync), releases the lock
and wakes each caller, whose ``submit`` returns only once its own document is committed.

The writer lock (``flock`` on ``writer.lock`` beside the database) queues the group writers of
every process in the kernel, which wakes the next one the moment the lock is released; SQLite's
own busy handler would have it sleep 1, 2, 5 ms… and retry. While a writer waits for it, its
callers' documents pile up, so the busier the store the larger each transaction. Other writers
(the CLI, sync) do not take it: the transaction still waits for them in SQLite's busy handler.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import queue
import threading
from pathlib import Path

from agents.core.errors import InputError
from agents.store.db import locked_error
from agents.store.envelope import Envelope
from agents.store.store import ContextStore, NewDoc

__all__ = ["LOCK_NAME", "MAX_BATCH", "GroupWriter", "WriterLock"]

MAX_BATCH = 512
LOCK_NAME = "writer.lock"
_QUEUED, _CLAIMED, _EXPIRED = 0, 1, 2


class WriterLock:
    """An exclusive ``flock`` on ``<directory>/writer.lock``: one group writer at a time across
    processes. The kernel releases it when its holder exits, however it exits."""

    def __init__(self, directory: Path) -> None:
        self._fd = os.open(directory / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)

    def acquire(self) -> None:
        """Wait (in the kernel, without the GIL) until no other writer holds it."""
        fcntl.flock(self._fd, fcntl.LOCK_EX)

    def release(self) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        os.close(self._fd)


class _Entry:
    __slots__ = ("doc", "future", "loop", "state")

    def __init__(
        self, doc: NewDoc, loop: asyncio.AbstractEventLoop, future: asyncio.Future[None]
    ) -> None:
        self.doc = doc
        self.loop = loop
        self.future = future
        self.state = _QUEUED


class GroupWriter:
    """Batches :meth:`submit` calls from any event loop into transactions on one thread."""

    def __init__(self, store: ContextStore, *, actor: str) -> None:
        self.store = store
        self.actor = actor
        self._queue: queue.SimpleQueue[list[_Entry] | None] = queue.SimpleQueue()
        self._gathering: dict[asyncio.AbstractEventLoop, list[_Entry]] = {}
        self._thread: threading.Thread | None = None
        self._pending = 0
        self._lock = threading.Lock()
        self.batches = 0  # transactions written (for tests and benchmarks)
        self.written = 0  # documents written (average batch: written / batches)

    @property
    def idle(self) -> bool:
        """True when nothing is queued or being written."""
        return self._pending == 0

    async def submit(self, item: tuple[str, str, object]) -> Envelope:
        """Write ``item`` (id, kind, body) in the next transaction; return its revision once
        committed (durable as the store's ``synchronous`` makes a commit).

        Raises:
            InputError: The store refused this document (schema, id); nothing was queued.
            StoreError: The store failed, or stayed locked for the busy timeout; this document
                was not written.
        """
        doc = self.store.prepare_new(*item)
        loop = asyncio.get_running_loop()
        entry = _Entry(doc, loop, loop.create_future())
        with self._lock:
            self._pending += 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="group-commit", daemon=True)
                self._thread.start()
            gathering = self._gathering.get(loop)
            if gathering is None:
                # handed over once every task ready now has run: those woken by the last
                # commit queue theirs first, and the writer is not kept from the lock
                self._gathering[loop] = gathering = []
                loop.call_soon(self._hand_over, loop)
            gathering.append(entry)
        timer = loop.call_later(self.store.busy_timeout, self._expire, entry)
        try:
            await entry.future
        finally:
            timer.cancel()
        return doc.envelope

    def _hand_over(self, loop: asyncio.AbstractEventLoop) -> None:
        with self._lock:
            entries = self._gathering.pop(loop)
        self._queue.put(entries)

    def _expire(self, entry: _Entry) -> None:
        """The writer lock was not had within the busy timeout: fail ``entry``'s caller, unless
        the writer has taken it into a transaction already (that one ends by itself)."""
        with self._lock:
            if entry.state != _QUEUED:
                return
            entry.state = _EXPIRED
            self._pending -= 1
        _settle([(entry.future, locked_error(self.store.path, self.store.busy_timeout))])

    def _run(self) -> None:
        lock: WriterLock | None
        try:
            lock = WriterLock(self.store.directory)
        except OSError:  # no lock file (a read-only directory): SQLite's busy handler alone
            lock = None
        try:
            while self._cycle(lock):
                pass
        finally:
            if lock is not None:
                lock.close()

    def _cycle(self, lock: WriterLock | None) -> bool:
        """Wait for work, take the lock, write everything queued by then; False to stop."""
        first = self._queue.get()
        if first is None:
            return False
        locked = False
        if lock is not None:
            try:
                lock.acquire()
                locked = True
            except OSError:  # no flock here (ENOLCK…): SQLite's busy handler still serializes
                pass
        try:
            batch, more = self._claim(first)
            results = self._write(batch) if batch else []
        finally:
            if lock is not None and locked:
                lock.release()
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[None], object]]] = {}
        for entry, result in zip(batch, results, strict=True):
            by_loop.setdefault(entry.loop, []).append((entry.future, result))
        with self._lock:
            self._pending -= len(batch)
        for loop, settled in by_loop.items():  # one wake-up per event loop
            try:
                loop.call_soon_threadsafe(_settle, settled)
            except RuntimeError:  # that loop is closed: its callers are gone
                pass
        return more

    def _claim(self, first: list[_Entry]) -> tuple[list[_Entry], bool]:
        """``first`` and everything queued after it (up to :data:`MAX_BATCH`) that has not
        expired, marked as being written; and whether to go on afterwards."""
        entries, more = list(first), True
        while len(entries) < MAX_BATCH:
            try:
                nxt = self._queue.get_nowait()
            except queue.Empty:
                break
            if nxt is None:
                more = False
                break
            entries += nxt
        with self._lock:
            batch = [e for e in entries if e.state == _QUEUED]
            for entry in batch:
                entry.state = _CLAIMED
        return batch, more

    def _write(self, batch: list[_Entry]) -> list[object]:
        """Each entry's outcome: None once committed, or the exception that stopped it."""
        try:
            self.store.write_new([e.doc for e in batch], actor=self.actor)
        except InputError as exc:
            if len(batch) > 1:  # find the one the store refuses (an id taken); write the others
                return [r for e in batch for r in self._write([e])]
            return [exc]
        except BaseException as exc:  # every caller learns of it, none hangs
            return [exc] * len(batch)
        self.batches += 1
        self.written += len(batch)
        return [None] * len(batch)

    def close(self) -> None:
        """Stop the thread once the queue is written."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=30)
            self._thread = None


def _settle(settled: list[tuple[asyncio.Future[None], object]]) -> None:
    for future, result in settled:
        if future.done():  # cancelled by its caller, or failed by the busy timeout
            continue
        if isinstance(result, BaseException):
            future.set_exception(result)
        else:
            future.set_result(None)
