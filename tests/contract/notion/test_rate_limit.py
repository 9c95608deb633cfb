"""The shared throttle: no more than Notion's rate reaches the fake, and a 429 slows everyone."""

from __future__ import annotations

from collections.abc import Iterator

import anyio
import pytest

from tests.contract.notion.conftest import Agent, call
from tests.fakes.notion import FakeNotion, running

pytestmark = [pytest.mark.anyio, pytest.mark.contract]

RATE, BURST = 3.0, 3


@pytest.fixture(name="fake")
def _strict_fake() -> Iterator[FakeNotion]:
    """A fake that rate limits like Notion: 3 requests/s on average, a small burst."""
    with running(rate=RATE, burst=BURST + 2) as fake:
        yield fake


async def search(client: object) -> None:
    await call(client, "search_workspace", query="alpha")


JITTER = 0.25  # seconds of connection set-up and GIL scheduling between throttle and fake


def worst_excess(times: list[float], rate: float, burst: int) -> float:
    """How far the busiest window exceeds ``burst + rate * its length`` (≤ 0: within)."""
    worst = float("-inf")
    for i, start in enumerate(times):
        for j in range(i, len(times)):
            worst = max(worst, (j - i + 1) - (burst + rate * (times[j] - start + JITTER)))
    return worst


async def test_concurrent_calls_never_exceed_three_requests_per_second(
    fake: FakeNotion, agent: Agent
) -> None:
    """Ten parallel searches at the default rate: no 429, every window within 3/s + burst."""
    fake.add_root_page("Alpha")
    async with agent(NOTION_REQUESTS_PER_SECOND="3") as client, anyio.create_task_group() as tg:
        for _ in range(10):
            tg.start_soon(search, client)
    seen = fake.calls("POST", "/v1/search")
    assert len(seen) == 10 and {s.status for s in seen} == {200}
    assert worst_excess([s.at for s in seen], RATE, BURST) <= 0
    assert seen[-1].at - seen[0].at >= (10 - BURST) / RATE - JITTER


async def test_a_429_backs_off_every_caller_for_retry_after(fake: FakeNotion, agent: Agent) -> None:
    """An agent set far above Notion's rate is stopped by 429s and still finishes every call."""
    fake.add_root_page("Alpha")
    async with agent(NOTION_REQUESTS_PER_SECOND="100") as client, anyio.create_task_group() as tg:
        for _ in range(8):
            tg.start_soon(search, client)
    statuses = [s.status for s in fake.calls("POST", "/v1/search")]
    assert statuses.count(200) == 8
    assert 0 < statuses.count(429) <= 8
