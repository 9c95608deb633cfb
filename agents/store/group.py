"""Group commit: documents written by concurrent callers share one transaction.

One writer thread per store connection takes everything queued and checks it (the id, the
kind's schema), then takes the store's writer lock file (``writer.lock``, an exclusive
``flock``) before ``BEGIN IMMEDIATE``. Recording processes queue there for each other: the
kernel wakes the next one the moment the holder releases it, where SQLite's busy handler
sleeps 1, 2, 5 … 100 ms between tries. Holding it, the writer adds every document queued
meanwhile and commits them all to the store's inbox (:mod:`agents.store.inbox`: one small row
each, one commit, one sync to disk), releases the file, wakes each caller, whose ``submit``
returns only once its own document is committed, then tells the recorder how many it staged
(its mover moves them into the store, in runs of up to a few hundred). A batch with a
document the store refuses is sent again one document at a time, so one bad document fails
alone. A caller whose document is still waiting for the lock after the store's busy timeout
gets the store's "locked" error, and its document is not written.

The lock is held for the inbox rows only: the revisions, heads, audit rows and search index
entries of a batch of 8 held it 1.15-1.45 ms; a mover writes them for hundreds of documents in
one transaction (docs/performance.md, "The tenth round").
"""

from __future__ import annotations

import asyncio
import collections
import fcntl
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from agents.core.errors import InputError, StoreError
from agents.core.logs import get_logger
from agents.store import inbox
from agents.store.canonical import Serialized
from agents.store.db import explain
from agents.store.store import ContextStore

__all__ = ["LOCK_NAME", "MAX_BATCH", "GroupWriter", "WriterLock"]

log = get_logger(__name__)

MAX_BATCH = 512
LOCK_NAME = "writer.lock"
Item = tuple[str, str, Serialized]  # doc_id, kind, body

_QUEUED, _WRITING, _ABANDONED, _DONE = range(4)
# a caller's future and what it gets: None once committed, or the error
_Outcome = tuple["asyncio.Future[None]", "BaseException | None"]


class WriterLock:
    """The store's writer lock file, held from before a group writer's ``BEGIN IMMEDIATE`` to
    after its ``COMMIT``. The kernel releases it when its process exits, however it exits."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> None:
        """Wait (in the kernel, without a timeout) until this process holds the lock.

        Raises:
            StoreError: The lock file cannot be opened or locked.
        """
        try:
            if self._fd is None:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            fcntl.flock(self._fd, fcntl.LOCK_EX)
        except OSError as exc:
            raise StoreError(
                f"cannot lock {self.path} ({exc.strerror}): check the context store "
                "directory's permissions and free space"
            ) from None

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class _Job:
    __slots__ = ("future", "item", "loop", "since", "state")

    def __init__(
        self, item: Item, loop: asyncio.AbstractEventLoop, future: asyncio.Future[None]
    ) -> None:
        self.item = item
        self.loop = loop
        self.future = future
        self.since = time.monotonic()
        self.state = _QUEUED


class GroupWriter:
    """Batches :meth:`submit` calls from any event loop into inbox transactions on one thread;
    ``staged(n)`` is called (on that thread) after each transaction of ``n`` documents."""

    def __init__(
        self,
        store: ContextStore,
        *,
        actor: str,
        staged: Callable[[int], None] | None = None,
    ) -> None:
        self.store = store
        self.actor = actor
        self._staged = staged
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._jobs: collections.deque[_Job] = collections.deque()  # in submit order
        self._lockfile = WriterLock(store.directory / LOCK_NAME)
        self._thread: threading.Thread | None = None
        self._watchdog: threading.Thread | None = None
        self._closed = threading.Event()
        self._pending = 0
        self._lock = threading.Lock()
        self.batches = 0  # transactions written (for tests and benchmarks)

    @property
    def idle(self) -> bool:
        """True when nothing is queued or being written."""
        return self._pending == 0

    async def submit(self, item: Item) -> None:
        """Commit ``item`` (a new document) to the store's inbox in the next transaction;
        return once it is committed.

        Raises:
            InputError: The store refused this document (schema, id).
            StoreError: The store failed, or the lock stayed taken for longer than the
                store's busy timeout; this document was not written.
        """
        loop = asyncio.get_running_loop()
        job = _Job(item, loop, loop.create_future())
        with self._lock:
            self._pending += 1
            self._jobs.append(job)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="group-commit", daemon=True)
                self._thread.start()
                self._watchdog = threading.Thread(
                    target=self._watch, name="group-commit-watchdog", daemon=True
                )
                self._watchdog.start()
        self._queue.put(job)
        return await job.future

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            self._take(batch)
            self._write(batch)

    def _take(self, batch: list[_Job]) -> list[_Job]:
        """Move what is queued now into ``batch``, up to ``MAX_BATCH``; the jobs added."""
        added = []
        while len(batch) < MAX_BATCH:
            try:
                nxt = self._queue.get_nowait()
            except queue.Empty:
                break
            if nxt is None:
                self._queue.put(None)  # stop after this batch
                break
            batch.append(nxt)
            added.append(nxt)
        return added

    def _write(self, batch: list[_Job], *, gather: bool = True) -> None:
        """Write ``batch`` (and, with ``gather``, whatever is queued once the lock is held) in
        one transaction and settle every job; a refusal sends each job through alone."""
        try:
            _check(batch)
        except InputError as exc:
            self._refused(batch, exc)
            return
        except BaseException as exc:  # every caller learns of it, none hangs
            self._settle(self._claim(batch), exc)
            return
        try:
            self._lockfile.acquire()
        except StoreError as exc:
            self._settle(self._claim(batch), exc)
            return
        failed: BaseException | None = None
        try:
            batch = self._claim(batch)  # some may have waited too long: their callers failed
            if gather:  # documents queued while this one waited join its transaction
                _check(self._claim(self._take(batch)))
                batch = [job for job in batch if job.state == _WRITING]
            if batch:
                with self.store.transaction() as conn:
                    for doc_id, kind, body in (job.item for job in batch):
                        inbox.stage(conn, doc_id, kind, body, self.actor)
                self.batches += 1
        except BaseException as exc:  # every caller learns of it, none hangs
            failed = exc
        finally:
            self._lockfile.release()
        if isinstance(failed, InputError):
            self._refused(batch, failed)
            return
        self._settle(batch, failed)
        if failed is None and batch and self._staged is not None:
            try:
                self._staged(len(batch))
            except Exception as exc:  # committed all the same: the next move or read takes them
                log.warning("inbox_mover_not_told", documents=len(batch), reason=str(exc))

    def _refused(self, batch: list[_Job], exc: InputError) -> None:
        """One of ``batch`` was refused: write each alone, so that it fails alone."""
        if len(batch) > 1:
            for job in batch:
                self._write([job], gather=False)
        else:
            self._settle(self._claim(batch), exc)

    def _claim(self, jobs: list[_Job]) -> list[_Job]:
        """The jobs of ``jobs`` not abandoned, marked as being written."""
        with self._lock:
            live = [job for job in jobs if job.state != _ABANDONED]
            for job in live:
                job.state = _WRITING
        return live

    def _settle(self, batch: list[_Job], failed: BaseException | None) -> None:
        with self._lock:
            self._pending -= len(batch)
            for job in batch:
                job.state = _DONE
            jobs = self._jobs
            while jobs and jobs[0].state in (_DONE, _ABANDONED):
                jobs.popleft()
        # one wake-up per event loop for the whole batch, not one per caller
        by_loop: dict[asyncio.AbstractEventLoop, list[_Outcome]] = {}
        for job in batch:
            by_loop.setdefault(job.loop, []).append((job.future, failed))
        for loop, settled in by_loop.items():
            loop.call_soon_threadsafe(_settle_all, settled)

    def _watch(self) -> None:
        """Fail the callers whose documents still wait for the lock after the busy timeout."""
        timeout = self.store.busy_timeout
        while not self._closed.wait(max(min(timeout / 4, 1.0), 0.05)):
            deadline = time.monotonic() - timeout
            with self._lock:
                expired = []
                for job in self._jobs:
                    if job.state == _QUEUED:
                        if job.since > deadline:
                            break
                        job.state = _ABANDONED
                        expired.append(job)
                self._pending -= len(expired)
            if expired:
                locked = sqlite3.OperationalError("database is locked")
                exc = explain(locked, self.store.path, timeout)
                for job in expired:
                    job.loop.call_soon_threadsafe(_settle, job.future, exc)

    def close(self) -> None:
        """Stop the thread once the queue is written."""
        stopped = True
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=30)
            stopped = not self._thread.is_alive()
            self._thread = None
        self._closed.set()
        if self._watchdog is not None:
            self._watchdog.join(timeout=30)
            self._watchdog = None
        if stopped:  # a writer still waiting for the lock keeps its file open
            self._lockfile.close()


def _settle_all(settled: list[_Outcome]) -> None:
    for future, result in settled:
        _settle(future, result)


def _settle(future: asyncio.Future[None], failed: BaseException | None) -> None:
    if future.cancelled():
        return
    if failed is not None:
        future.set_exception(failed)
    else:
        future.set_result(None)


def _check(jobs: list[_Job]) -> None:
    """Check the documents of ``jobs`` as the store would (:func:`inbox.check`).

    Raises:
        InputError: One of them is refused.
    """
    for doc_id, kind, body in (job.item for job in jobs):
        inbox.check(doc_id, kind, body)
