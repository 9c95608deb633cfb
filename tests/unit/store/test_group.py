"""Group commit: concurrent recorded calls share transactions (to the store's inbox), and each
returns only once its own document is committed; recording processes queue for the store on its
writer lock file."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import functools
import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import anyio
import pytest
from pytest_mock import MockerFixture
from structlog.testing import capture_logs

from agents.core.errors import InputError, StoreError
from agents.store.canonical import Serialized
from agents.store.group import LOCK_NAME, GroupWriter, Item
from agents.store.store import ContextStore

pytestmark = pytest.mark.anyio


async def pile_up(store: ContextStore, group: GroupWriter, calls: list[Any]) -> None:
    """Run ``calls`` (coroutine functions) at once while the store's lock is held, so the
    writer waits and they pile up behind it; release once all are queued."""
    store._lock.acquire()
    held = True
    try:
        async with anyio.create_task_group() as tg:
            for call in calls:
                tg.start_soon(call)
            while group._pending < len(calls):
                await anyio.sleep(0.005)
            store._lock.release()
            held = False
    finally:
        if held:
            store._lock.release()


@contextlib.contextmanager
def lock_file_held(store: ContextStore) -> Iterator[None]:
    """Hold the store's writer lock file as another recording process would (a separate
    open file description: ``flock`` refuses it to the group writer as to another process)."""
    fd = os.open(store.directory / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


async def waiting_for_lock(group: GroupWriter, pending: int) -> None:
    """Until the writer has taken every queued document and waits with them."""
    while group._pending < pending or not group._queue.empty():
        await anyio.sleep(0.005)


def item(i: int, doc: Mapping[str, object] | None = None) -> Item:
    """The ``i``-th recorded call's document (``doc`` instead of its body when given)."""
    return f"agent_output:{i:026d}", "agent_output", Serialized.of(doc or body(i))


def body(i: int) -> dict[str, object]:
    return {
        "agent": "notion",
        "handler": "create_page",
        "env": "local",
        "status": "ok",
        "outcome": "ok",
        "started_at": "2026-01-01T00:00:00.000Z",
        "duration_ms": 1.0,
        "input": {"i": i},
        "error": None,
        "meta": {},
    }


async def test_concurrent_submits_share_transactions_and_each_is_committed_on_return(
    store: ContextStore, tmp_path: Path
) -> None:
    staged: list[int] = []
    group = GroupWriter(store, actor="agent:notion", staged=staged.append)
    seen: list[str] = []

    async def one(i: int) -> None:
        doc_id = item(i)[0]
        await group.submit(item(i))
        # committed: another connection to the same file sees it already
        with ContextStore(store.directory, actor="cli") as other:
            assert other.head_info(doc_id) is not None
        seen.append(doc_id)

    await pile_up(store, group, [functools.partial(one, i) for i in range(50)])
    group.close()
    assert len(seen) == 50
    assert group.batches <= 3  # 50 calls, at most three commits
    assert sum(staged) == 50 and len(staged) == group.batches  # the mover is told per commit
    assert len(store.list("agent_output", limit=100)) == 50


async def test_a_transaction_wakes_its_callers_event_loop_once(
    store: ContextStore, mocker: MockerFixture
) -> None:
    """The writer hands a committed batch back to the event loop in one wake-up (one write to
    the loop's self-pipe), not one per caller; every caller still returns."""
    group = GroupWriter(store, actor="agent:notion")
    wakes = mocker.spy(asyncio.get_running_loop(), "call_soon_threadsafe")
    seen: list[int] = []

    async def one(i: int) -> None:
        await group.submit(item(i))
        seen.append(i)

    await pile_up(store, group, [functools.partial(one, i) for i in range(20)])
    group.close()
    assert sorted(seen) == list(range(20))
    assert 1 <= group.batches <= 3
    assert wakes.call_count == group.batches


async def test_a_document_the_store_refuses_fails_alone(store: ContextStore) -> None:
    group = GroupWriter(store, actor="agent:notion")
    outcomes: dict[int, str] = {}

    async def one(i: int) -> None:
        doc = {"not": "an agent output"} if i == 3 else None
        try:
            await group.submit(item(i, doc))
            outcomes[i] = "ok"
        except InputError:
            outcomes[i] = "refused"

    await pile_up(store, group, [functools.partial(one, i) for i in range(6)])
    group.close()
    assert outcomes == {0: "ok", 1: "ok", 2: "ok", 3: "refused", 4: "ok", 5: "ok"}


async def test_a_writer_waits_for_the_lock_file_and_takes_what_queued_meanwhile(
    store: ContextStore,
) -> None:
    group = GroupWriter(store, actor="agent:notion")
    done: list[str] = []

    async def one(i: int) -> None:
        await group.submit(item(i))
        done.append(item(i)[0])

    with anyio.fail_after(20):
        async with anyio.create_task_group() as tg:
            with lock_file_held(store):
                tg.start_soon(one, 0)
                await waiting_for_lock(group, 1)  # the first document waits for the lock
                for i in range(1, 21):
                    tg.start_soon(one, i)
                while group._pending < 21:
                    await anyio.sleep(0.005)
                await anyio.sleep(0.05)
                assert done == []  # nothing is written while another process holds the file
    group.close()
    assert len(done) == 21
    assert group.batches == 1  # the twenty queued while it waited joined its transaction
    assert len(store.list("agent_output", limit=100)) == 21


async def test_a_document_refused_among_those_gathered_fails_alone(store: ContextStore) -> None:
    group = GroupWriter(store, actor="agent:notion")
    outcomes: dict[int, str] = {}

    async def one(i: int) -> None:
        doc = {"not": "an agent output"} if i == 4 else None
        try:
            await group.submit(item(i, doc))
            outcomes[i] = "ok"
        except InputError:
            outcomes[i] = "refused"

    with anyio.fail_after(20):
        async with anyio.create_task_group() as tg:
            with lock_file_held(store):
                tg.start_soon(one, 0)
                await waiting_for_lock(group, 1)
                for i in range(1, 7):
                    tg.start_soon(one, i)
                while group._pending < 7:
                    await anyio.sleep(0.005)
    group.close()
    assert outcomes == {i: "refused" if i == 4 else "ok" for i in range(7)}
    assert len(store.list("agent_output", limit=100)) == 6


async def test_a_call_waiting_for_the_lock_past_the_busy_timeout_fails_and_is_not_written(
    tmp_path: Path,
) -> None:
    with ContextStore(tmp_path / "ctx", busy_timeout=0.3) as store:
        group = GroupWriter(store, actor="agent:notion")
        with lock_file_held(store), anyio.fail_after(10):
            with pytest.raises(StoreError, match="is locked"):
                await group.submit(item(0))
        # the lock is free again: the waiting writer drops the abandoned document
        await group.submit(item(1))
        group.close()
        assert [e.id for e in store.list("agent_output")] == [item(1)[0]]
        assert group.idle


async def test_a_killed_process_never_leaves_the_lock_file_held(store: ContextStore) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys, time\n"
            "fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)\n"
            "fcntl.flock(fd, fcntl.LOCK_EX)\n"
            "print('held', flush=True)\n"
            "time.sleep(600)\n",
            str(store.directory / LOCK_NAME),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    try:
        assert holder.stdout.readline() == "held\n"
        group = GroupWriter(store, actor="agent:notion")
        with anyio.fail_after(20):
            async with anyio.create_task_group() as tg:
                tg.start_soon(group.submit, item(0))
                await waiting_for_lock(group, 1)
                await anyio.sleep(0.05)
                assert not group.idle  # waiting for the holder
                holder.send_signal(signal.SIGKILL)
        group.close()
        assert len(store.list("agent_output")) == 1
    finally:
        holder.kill()
        holder.wait(timeout=30)
        holder.stdout.close()


async def test_a_mover_that_cannot_be_told_leaves_the_calls_committed_and_says_so(
    store: ContextStore,
) -> None:
    """Telling the mover comes after the commit: if it fails, every caller still returns,
    the documents wait in the inbox for the next move or read, and the log says why."""

    def broken(_: int) -> None:
        raise RuntimeError("can't start new thread")

    group = GroupWriter(store, actor="agent:notion", staged=broken)
    with capture_logs() as logs, anyio.fail_after(10):
        await group.submit(item(0))
        await group.submit(item(1))
        group.close()  # the writer tells the mover after its callers return: wait for it
    assert [e["event"] for e in logs] == ["inbox_mover_not_told"] * 2
    assert "can't start new thread" in logs[0]["reason"]
    assert sorted(e.id for e in store.list("agent_output")) == [item(0)[0], item(1)[0]]
