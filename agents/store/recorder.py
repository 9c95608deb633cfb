"""The durable recorder: one ``agent_output`` document per tool call, committed (to the store,
or to its inbox) before the call's result goes back to the client. Outputs larger than
``CONTEXT_BLOB_THRESHOLD`` go to a blob."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from typing import Any

import anyio
import anyio.to_thread

from agents.core.errors import AgentError, InputError
from agents.core.logs import get_logger
from agents.core.recorder import ToolCall
from agents.core.redact import mask
from agents.core.settings import EnvLayers
from agents.store.canonical import Serialized, canonical, iso_of, ulid
from agents.store.config import StoreSettings, open_store
from agents.store.db import connect
from agents.store.envelope import Envelope
from agents.store.group import LOCK_NAME, GroupWriter, WriterLock
from agents.store.machine import record_agents
from agents.store.store import ContextStore, StoreBusy

__all__ = [
    "CHECKPOINT_EVERY",
    "MOVE_AFTER",
    "MOVE_EVERY",
    "Checkpointer",
    "InboxMover",
    "StoreRecorder",
    "open_store_recorder",
    "output_body",
]

log = get_logger(__name__)

PREVIEW = 200
# a checkpoint every 50 records: one was about 1,000 pages of WAL (SQLite's own automatic
# checkpoint) when a record wrote about 20; through the inbox, with moves of a hundred, a
# record writes about 3, and checkpointing every 200 measured the same (docs/performance.md)
CHECKPOINT_EVERY = 50
# the inbox is moved into the store this long after its first row, or at once with this many:
# a move's transaction costs about 150 µs beside its rows' 60 µs each, so a busy agent moves
# runs of about a hundred calls (docs/performance.md, "The tenth round"); a read of the store
# moves what is still there first, so it sees every call all the same
MOVE_AFTER = 0.25
MOVE_EVERY = 256


class Checkpointer:
    """Copies the WAL back into the database (a PASSIVE checkpoint) on its own thread and
    connection, so that no recorded call waits for it.

    SQLite checkpoints automatically at the end of the commit that takes the WAL past 1,000
    pages; with ``synchronous=NORMAL`` that is also where it syncs to disk, and the call
    whose commit it was waited for both. A recorder's connection turns that off
    (``wal_autocheckpoint=0``) and calls :meth:`committed` after each write; every
    ``every`` writes this thread checkpoints instead. A commit is durable as before (a
    WAL commit does not depend on the checkpoint); other connections to the store keep
    checkpointing as usual, and a PASSIVE checkpoint never blocks a writer or a reader.

    Only with ``synchronous=NORMAL`` (how agents record by default): with ``FULL`` every
    commit syncs anyway, and SQLite's own checkpoint is left alone.
    """

    def __init__(self, store: ContextStore, every: int = CHECKPOINT_EVERY) -> None:
        self.store = store
        self.every = every if store.synchronous == "NORMAL" else 0
        self.done = 0  # checkpoints run (for tests and benchmarks)
        self._writes = 0
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._stop = False
        self._thread: threading.Thread | None = None
        if self.every:
            with store.reading() as conn:
                conn.execute("PRAGMA wal_autocheckpoint=0")

    def committed(self) -> None:
        """One more write on the recorder's connection (from any thread); every ``every``,
        wake the thread."""
        if not self.every:
            return
        with self._lock:
            self._writes += 1
            if self._writes < self.every:
                return
            self._writes = 0
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="checkpoint", daemon=True)
                self._thread.start()
        self._wake.set()

    def _run(self) -> None:
        store = self.store
        conn: sqlite3.Connection | None = None
        while True:
            self._wake.wait()
            self._wake.clear()
            if self._stop:
                break
            try:
                if conn is None:
                    conn = connect(store.path, synchronous=store.synchronous, busy_timeout=1)
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                self.done += 1
            except (AgentError, sqlite3.Error) as exc:  # the next one retries; calls go on
                log.warning("checkpoint_failed", path=str(store.path), reason=str(exc))
        if conn is not None:
            conn.close()

    def close(self) -> None:
        """Stop the thread (a checkpoint under way finishes first)."""
        if self._thread is not None:
            self._stop = True
            self._wake.set()
            self._thread.join(timeout=30)
            self._thread = None


class InboxMover:
    """Moves the calls a recorder committed to the store's inbox into the store, on its own
    thread: ``after`` seconds after the first one is staged, or at once when ``every`` are
    waiting. The move does not compete with the staged call's own response, and a run of
    calls is moved in one transaction. It queues for the store's writer lock file as the
    group writer does."""

    def __init__(
        self, store: ContextStore, *, after: float = MOVE_AFTER, every: int = MOVE_EVERY
    ) -> None:
        self.store = store
        self.after = after
        self.every = every
        self.moves = 0  # moves run (for tests and benchmarks)
        self._staged = 0
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._urgent = threading.Event()
        self._stop = False
        self._thread: threading.Thread | None = None
        self._lockfile = WriterLock(store.directory / LOCK_NAME)

    def staged(self, count: int = 1) -> None:
        """``count`` more calls in the inbox (from any thread)."""
        with self._lock:
            self._staged += count
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="inbox-move", daemon=True)
                self._thread.start()
            if self._staged >= self.every:
                self._urgent.set()
        self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._urgent.wait(self.after)
            with self._lock:
                self._wake.clear()
                self._urgent.clear()
                self._staged = 0
            if self._stop:
                break
            self.move()

    def move(self) -> None:
        """Move the inbox into the store now; a failure leaves the rows there for the next
        move or read, and is logged."""
        try:
            self._lockfile.acquire()
            try:
                self.store.settle()
            finally:
                self._lockfile.release()
            self.moves += 1
        except AgentError as exc:
            log.warning("inbox_not_moved", path=str(self.store.path), reason=str(exc))

    def close(self) -> None:
        """Stop the thread, then move what is left."""
        if self._thread is not None:
            self._stop = True
            self._urgent.set()
            self._wake.set()
            self._thread.join(timeout=30)
            self._thread = None
        self.move()
        self._lockfile.close()


def output_body(call: ToolCall, store: ContextStore, threshold: int) -> Serialized:
    """The ``agent_output`` body of ``call`` with its canonical text; a large output is
    written to a blob first. The body is serialized once: its text is what the store keeps.

    Raises:
        InputError: The body is not JSON (a NaN, a type JSON does not have).
    """
    body: dict[str, Any] = {
        "agent": call.agent,
        "handler": call.tool,
        "env": call.env,
        "status": call.status,
        "outcome": call.outcome,
        "started_at": iso_of(call.started_at),
        "duration_ms": call.duration_ms,
        "input": call.arguments,
        "error": call.error,
        "meta": call.meta,
    }
    if call.output is None:
        return _serialized(body, call)
    output = body["output"] = mask(call.output)
    whole = _serialized(body, call)
    # the output is no larger than the body: only a large body needs the output measured
    if len(whole.text.encode()) <= threshold:
        return whole
    data = canonical(output)
    if len(data) <= threshold:
        return whole
    del body["output"]
    ref = store.blobs.put(data)
    body["output_ref"] = {"blob": ref, "bytes": len(data), "media_type": "application/json"}
    body["output_preview"] = data[:PREVIEW].decode("utf-8", errors="ignore")
    return _serialized(body, call)


def _serialized(body: dict[str, Any], call: ToolCall) -> Serialized:
    try:
        return Serialized.of(body)
    except ValueError as exc:  # NaN, or a type JSON does not have: this call's record only
        raise InputError(f"the record of tool {call.tool!r} is not JSON ({exc})") from None


class StoreRecorder:
    """Writes each call of ``agent`` to ``store``; also keeps the agent's machine-state entry."""

    def __init__(
        self,
        store: ContextStore,
        agent: str,
        *,
        blob_threshold: int,
        state_interval: float,
        env: str | None = None,
        on_loop: bool = True,
    ) -> None:
        self.store = store
        self.on_loop = on_loop
        self.env = env
        self.agent = agent
        self.blob_threshold = blob_threshold
        self.state_interval = state_interval
        self._actor = f"agent:{agent}"
        self._checkpoints = Checkpointer(store)
        self._mover = InboxMover(store)
        self._group = GroupWriter(store, actor=self._actor, staged=self._mover.staged)
        self._mover.move()  # what a killed run of this agent left in the inbox

    def write(self, call: ToolCall, *, wait: bool = True) -> Envelope:
        """Record ``call`` (blocking); return the stored revision.

        Raises:
            StoreBusy: ``wait`` is False and the write lock is held elsewhere.
        """
        body = output_body(call, self.store, self.blob_threshold)
        return self._add(f"agent_output:{ulid()}", body, wait=wait)

    def _add(self, doc_id: str, body: Serialized, *, wait: bool) -> Envelope:
        """Write one record on the recorder's connection, counted towards the checkpoints."""
        written = self.store.add(doc_id, "agent_output", body, actor=self._actor, wait=wait)
        self._checkpoints.committed()
        return written

    async def record(self, call: ToolCall) -> None:
        """Record ``call``; returns once it is committed.

        Alone, without fsync and with the lock free at once, the record is committed on the
        event loop to the store's inbox (one small insert: :meth:`ContextStore.stage`), and
        :class:`InboxMover` moves it into the store (revision, head, audit row, search
        index) a moment later; any read of the store moves it first if it is still there.
        Concurrent calls (another record in flight), a blob, an fsync
        (``CONTEXT_RECORD_SYNCHRONOUS=FULL``) or a wait for the lock go to the group writer:
        one thread that commits everything waiting to the inbox in one transaction, so N
        concurrent calls cost one commit, and the mover moves them as it moves the others.
        Either way a call returns only after its own record is committed.
        """
        large = self._large(call.output)
        if large:
            body = await anyio.to_thread.run_sync(
                output_body, call, self.store, self.blob_threshold
            )
        else:
            body = output_body(call, self.store, self.blob_threshold)
        doc_id = f"agent_output:{ulid()}"
        if self.on_loop and self._group.idle and not large:
            try:  # the body is built once, whichever way it is written
                self.store.stage(doc_id, "agent_output", body, actor=self._actor, wait=False)
            except StoreBusy:
                pass
            else:
                self._mover.staged()
                self._checkpoints.committed()
                return
        await self._group.submit((doc_id, "agent_output", body))
        self._checkpoints.committed()

    def _large(self, output: Any) -> bool:
        if output is None or isinstance(output, bool | int | float):
            return False
        return len(repr(output)) > self.blob_threshold // 2

    async def run(self, status: Callable[[], dict[str, Any]]) -> None:
        """Every ``CONTEXT_STATE_INTERVAL`` seconds, write this agent's machine-state entry."""
        while True:
            try:
                await anyio.to_thread.run_sync(self._write_state, status())
            except AgentError as exc:  # the agent keeps serving; the log says why
                log.warning("machine_state_not_written", reason=str(exc))
            await anyio.sleep(self.state_interval)

    def _write_state(self, entry: dict[str, Any]) -> None:
        record_agents(
            self.store,
            {self.agent: entry},
            actor=self._actor,
            heartbeat=self.state_interval,
            env=self.env,
        )
        self._checkpoints.committed()

    async def aclose(self) -> None:
        """Stop the group writer, move what is left in the inbox into the store, stop the
        checkpoints and close the store connection."""
        self._group.close()
        self._mover.close()
        self._checkpoints.close()
        self.store.close()


def open_store_recorder(layers: EnvLayers, agent: str) -> StoreRecorder | None:
    """The recorder for ``agent`` in ``layers``' environment, or None with CONTEXT_RECORD=false.

    Raises:
        ConfigError: A ``CONTEXT_*`` variable is invalid.
        StoreError: The store cannot be opened.
    """
    cfg = layers.model(StoreSettings)
    if not cfg.record:
        return None
    return StoreRecorder(
        open_store(layers, actor=f"agent:{agent}", recorder=True),
        agent,
        blob_threshold=cfg.blob_threshold,
        state_interval=cfg.state_interval,
        env=layers.env,
        on_loop=cfg.record_synchronous == "NORMAL",
    )
