"""Group commit: concurrent recorded calls share transactions, and each returns only once its
own document is committed."""

from __future__ import annotations

import asyncio
import functools
import time
from pathlib import Path
from typing import Any

import anyio
import pytest

from agents.core.errors import InputError, StoreError
from agents.store import audit
from agents.store.group import GroupWriter, WriterLock
from agents.store.store import ContextStore

pytestmark = pytest.mark.anyio


async def pile_up(
    store: ContextStore, group: GroupWriter, calls: list[Any], queued: int | None = None
) -> None:
    """Run ``calls`` (coroutine functions) at once while the store's lock is held, so the
    writer waits and they pile up behind it; release once ``queued`` (all) are queued."""
    store._lock.acquire()
    held = True
    try:
        async with anyio.create_task_group() as tg:
            for call in calls:
                tg.start_soon(call)
            while group._pending < (len(calls) if queued is None else queued):
                await anyio.sleep(0.005)
            store._lock.release()
            held = False
    finally:
        if held:
            store._lock.release()


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
    group = GroupWriter(store, actor="agent:notion")
    seen: list[str] = []

    async def one(i: int) -> None:
        env = await group.submit((f"agent_output:{i:026d}", "agent_output", body(i)))
        # committed: another connection to the same file sees it already
        with ContextStore(store.directory, actor="cli") as other:
            assert other.head_info(env.id) is not None
        seen.append(env.id)

    await pile_up(store, group, [functools.partial(one, i) for i in range(50)])
    group.close()
    assert len(seen) == 50
    assert group.batches <= 3  # 50 calls, at most three commits
    assert len(store.list("agent_output", limit=100)) == 50


async def test_a_document_the_store_refuses_fails_alone(store: ContextStore) -> None:
    group = GroupWriter(store, actor="agent:notion")
    outcomes: dict[int, str] = {}

    async def one(i: int) -> None:
        doc = body(i) if i != 3 else {"not": "an agent output"}
        try:
            await group.submit((f"agent_output:{i:026d}", "agent_output", doc))
            outcomes[i] = "ok"
        except InputError:
            outcomes[i] = "refused"

    await pile_up(store, group, [functools.partial(one, i) for i in range(6)], queued=5)
    group.close()
    assert outcomes == {0: "ok", 1: "ok", 2: "ok", 3: "refused", 4: "ok", 5: "ok"}


async def test_calls_made_together_share_one_transaction_without_waiting_for_a_lock(
    store: ContextStore,
) -> None:
    """The documents of the tasks ready at once are handed to the writer together: the writer
    does not start a transaction with the first while the others are still being built."""
    group = GroupWriter(store, actor="agent:notion")
    await group.submit(("agent_output:" + "9" * 26, "agent_output", body(9)))  # thread up

    async def one(i: int) -> None:
        time.sleep(0.002)  # the call's own work, letting the writer thread run meanwhile
        await group.submit((f"agent_output:{i:026d}", "agent_output", body(i)))

    await asyncio.gather(*(one(i) for i in range(8)))
    group.close()
    assert (group.batches, group.written) == (2, 9)


async def test_writers_queue_on_the_writer_lock_and_everything_queued_meanwhile_goes_in_one(
    store: ContextStore,
) -> None:
    """Another process's group writer holds the writer lock: nothing is written until it is
    released, then every document queued meanwhile goes in one transaction."""
    other = WriterLock(store.directory)  # its own open file: to flock, another holder
    other.acquire()
    group = GroupWriter(store, actor="agent:notion")
    done: list[str] = []

    async def one(i: int) -> None:
        env = await group.submit((f"agent_output:{i:026d}", "agent_output", body(i)))
        done.append(env.id)

    try:
        async with anyio.create_task_group() as tg:
            for i in range(5):
                tg.start_soon(one, i)
                await anyio.sleep(0.05)  # five separate hand-overs
            assert done == [] and store.list("agent_output") == []
            other.release()
    finally:
        other.close()
    group.close()
    assert len(done) == 5 and (group.batches, group.written) == (1, 5)


async def test_a_writer_lock_held_past_the_busy_timeout_fails_the_calls_and_writes_nothing(
    tmp_path: Path,
) -> None:
    """Each waiting caller gets the locked error after CONTEXT_BUSY_TIMEOUT, and its document
    is not written later, when the lock comes free."""
    with ContextStore(tmp_path / "ctx", busy_timeout=0.3) as store:
        other = WriterLock(store.directory)
        other.acquire()
        group = GroupWriter(store, actor="agent:notion")
        try:
            with (
                anyio.fail_after(20),
                pytest.raises(StoreError, match=r"is locked.*CONTEXT_BUSY_TIMEOUT"),
            ):
                await group.submit(("agent_output:" + "1" * 26, "agent_output", body(1)))
            assert group.idle
        finally:
            other.release()
            other.close()
        await group.submit(("agent_output:" + "2" * 26, "agent_output", body(2)))
        group.close()
        assert [e.id for e in store.list("agent_output")] == ["agent_output:" + "2" * 26]
        with store.reading() as conn:
            assert audit.verify(conn).ok


async def test_a_writer_lock_that_cannot_be_taken_still_lets_every_call_be_written(
    store: ContextStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """flock failing (ENOLCK on an odd filesystem) costs the queueing, not the records."""

    def refuse(self: WriterLock) -> None:
        raise OSError(37, "No locks available")

    monkeypatch.setattr(WriterLock, "acquire", refuse)
    group = GroupWriter(store, actor="agent:notion")
    with anyio.fail_after(20):
        await asyncio.gather(
            *(group.submit((f"agent_output:{i:026d}", "agent_output", body(i))) for i in range(4))
        )
    group.close()
    assert len(store.list("agent_output")) == 4
