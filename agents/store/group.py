"""Group commit: documents written by concurrent callers share one transaction.

One writer thread per store connection takes everything queued, writes it with
:meth:`ContextStore.add_many` in one transaction (one lock, one commit, one fsync), then wakes
each caller, whose ``submit`` returns only once its own document is committed. A batch the
store refuses is retried one document at a time, so one bad document fails alone.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from typing import Any

from agents.core.errors import AgentError
from agents.store.envelope import Envelope
from agents.store.store import ContextStore

__all__ = ["MAX_BATCH", "GroupWriter"]

MAX_BATCH = 512
Item = tuple[str, str, Any]  # doc_id, kind, body


class GroupWriter:
    """Batches :meth:`submit` calls from any event loop into transactions on one thread."""

    def __init__(self, store: ContextStore, *, actor: str) -> None:
        self.store = store
        self.actor = actor
        self._queue: queue.SimpleQueue[
            tuple[Item, asyncio.AbstractEventLoop, asyncio.Future[Envelope]] | None
        ] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._pending = 0
        self._lock = threading.Lock()
        self.batches = 0  # transactions written (for tests and benchmarks)

    @property
    def idle(self) -> bool:
        """True when nothing is queued or being written."""
        return self._pending == 0

    async def submit(self, item: Item) -> Envelope:
        """Write ``item`` in the next transaction; return its revision once committed.

        Raises:
            InputError: The store refused this document (schema, id).
            StoreError: The store failed; this document was not written.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Envelope] = loop.create_future()
        with self._lock:
            self._pending += 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="group-commit", daemon=True)
                self._thread.start()
        self._queue.put((item, loop, future))
        return await future

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < MAX_BATCH:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    self._queue.put(None)  # stop after this batch
                    break
                batch.append(nxt)
            self._write(batch)

    def _write(
        self, batch: list[tuple[Item, asyncio.AbstractEventLoop, asyncio.Future[Envelope]]]
    ) -> None:
        results: list[Envelope | BaseException]
        try:
            results = list(self.store.add_many([b[0] for b in batch], actor=self.actor))
            self.batches += 1
        except AgentError as exc:
            if len(batch) > 1:  # find the one the store refuses; the others are written
                for one in batch:
                    self._write([one])
                return
            results = [exc]
        except BaseException as exc:  # every caller learns of it, none hangs
            results = [exc] * len(batch)
        for (_, loop, future), result in zip(batch, results, strict=True):
            with self._lock:
                self._pending -= 1
            loop.call_soon_threadsafe(_settle, future, result)

    def close(self) -> None:
        """Stop the thread once the queue is written."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=30)
            self._thread = None


def _settle(future: asyncio.Future[Envelope], result: Envelope | BaseException) -> None:
    if future.cancelled():
        return
    if isinstance(result, BaseException):
        future.set_exception(result)
    else:
        future.set_result(result)
