"""Group commit: concurrent recorded calls share transactions, and each returns only once its
own document is committed."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import anyio
import pytest

from agents.core.errors import InputError
from agents.store.group import GroupWriter
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

    await pile_up(store, group, [functools.partial(one, i) for i in range(6)])
    group.close()
    assert outcomes == {0: "ok", 1: "ok", 2: "ok", 3: "refused", 4: "ok", 5: "ok"}
