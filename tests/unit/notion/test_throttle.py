"""The token bucket behind the shared throttle, on a hand-driven clock."""

from __future__ import annotations

import pytest

from agents.notion.client import RateLimitedError, Throttle, retry_after_seconds, shared_throttle


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_passes_then_requests_are_spaced_at_the_rate() -> None:
    """Three at once, then one every 1/3 s."""
    clock = Clock()
    throttle = Throttle(3.0, burst=3, clock=clock)
    delays = [round(throttle.reserve(), 3) for _ in range(6)]
    assert delays == [0.0, 0.0, 0.0, 0.333, 0.667, 1.0]


def test_the_average_rate_holds_over_any_window() -> None:
    """After idling the bucket refills only up to the burst."""
    clock = Clock()
    throttle = Throttle(3.0, burst=3, clock=clock)
    for _ in range(3):
        throttle.reserve()
    clock.now += 60
    assert [round(throttle.reserve(), 3) for _ in range(4)] == [0.0, 0.0, 0.0, 0.333]


def test_back_off_holds_everyone_for_retry_after_then_allows_no_burst() -> None:
    """A 429's Retry-After applies to the next caller, whoever it is."""
    clock = Clock()
    throttle = Throttle(3.0, burst=3, clock=clock)
    throttle.back_off(2.0)
    assert [round(throttle.reserve(), 3) for _ in range(2)] == [2.0, 2.333]


@pytest.mark.anyio
async def test_acquire_refuses_a_wait_longer_than_allowed() -> None:
    """The caller gets a rate-limited error with the wait instead of hanging."""
    throttle = Throttle(3.0, burst=1)
    throttle.back_off(30)
    with pytest.raises(RateLimitedError) as err:
        await throttle.acquire(max_wait=5)
    assert err.value.retry_after == pytest.approx(30, abs=0.5)


def test_clients_with_one_token_share_one_throttle() -> None:
    """Per token, process-wide; another token has its own budget."""
    assert shared_throttle("tok-a", 3.0) is shared_throttle("tok-a", 3.0)
    assert shared_throttle("tok-a", 3.0) is not shared_throttle("tok-b", 3.0)


@pytest.mark.parametrize(
    ("header", "seconds"), [("2", 2.0), (None, 1.0), ("soon", 1.0), ("0", 0.0)]
)
def test_retry_after_is_read_as_seconds(header: str | None, seconds: float) -> None:
    """Delta-seconds; a missing or garbled header means one second."""
    assert retry_after_seconds(header) == seconds
