"""The one retry policy and the one Retry-After parser every agent uses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pytest_mock import MockerFixture

from agents.core.retry import MAX_RETRY_AFTER, RetryPolicy, retry_after

pytestmark = pytest.mark.anyio

NOW = 1_800_000_000.0


def clock() -> float:
    return NOW


@given(st.integers(min_value=0, max_value=10**12))
def test_delta_seconds_are_read_and_capped(seconds: int) -> None:
    """RFC 9110 delta-seconds: the number, at most a day."""
    assert retry_after(str(seconds), now=clock) == min(float(seconds), MAX_RETRY_AFTER)


@given(st.integers(min_value=-(10**6), max_value=10**7))
def test_http_dates_become_the_seconds_until_then_never_negative(offset: int) -> None:
    """An HTTP-date in the past is 0; in the future, the seconds until then (capped)."""
    when = datetime.fromtimestamp(NOW, UTC) + timedelta(seconds=offset)
    expected = min(max(0.0, float(offset)), MAX_RETRY_AFTER)
    assert retry_after(format_datetime(when, usegmt=True), now=clock) == expected


@given(st.text(max_size=40))
def test_any_header_value_is_none_or_a_bounded_wait(value: str) -> None:
    """Garbage never raises and never gives a negative, infinite or huge wait."""
    wait = retry_after(value, now=clock)
    assert wait is None or 0.0 <= wait <= MAX_RETRY_AFTER


@pytest.mark.parametrize("value", [None, "", "soon", "-5", "1e9", "nan", "inf", "Wed, 99 Foo"])
def test_values_that_are_not_retry_after_are_none(value: str | None) -> None:
    """The caller then backs off on its own schedule."""
    assert retry_after(value, now=clock) is None


async def test_the_policy_backs_off_from_its_first_wait_with_jitter_and_stops(
    mocker: MockerFixture,
) -> None:
    """Three attempts of a failing answer: two waits, first >= 1 s, second >= 2 s; the last
    answer is returned so the caller can word the error."""
    waits: list[float] = []
    mocker.patch("agents.core.retry.async_sleep", side_effect=waits.append)
    answers = iter([503, 503, 503, 200])

    async def attempt() -> int:
        return next(answers)

    result, made = await RetryPolicy(jitter=0.5).call(attempt, retry_on=lambda r: r == 503)
    assert (result, made) == (503, 3)
    assert 1.0 <= waits[0] <= 1.5 and 2.0 <= waits[1] <= 2.5


async def test_retry_after_replaces_the_backoff_and_a_long_one_is_not_waited(
    mocker: MockerFixture,
) -> None:
    """A hint within max_wait is waited exactly; a longer one returns the answer at once."""
    waits: list[float] = []
    mocker.patch("agents.core.retry.async_sleep", side_effect=waits.append)
    answers = iter([("429", 3.0), ("429", 99.0), ("200", None)])

    async def attempt() -> tuple[str, float | None]:
        return next(answers)

    policy = RetryPolicy(attempts=5, max_wait=30.0)
    result, made = await policy.call(
        attempt, retry_on=lambda r: r[0] == "429", retry_after=lambda r: r[1]
    )
    assert result == ("429", 99.0) and made == 2 and waits == [3.0]


async def test_the_check_runs_before_every_attempt_and_stops_a_retry(
    mocker: MockerFixture,
) -> None:
    """The read-only switch turned on after the first attempt: the retry is never sent."""
    mocker.patch("agents.core.retry.async_sleep", side_effect=[].append)
    sent: list[int] = []
    switch = {"read_only": False}

    def check() -> None:
        if switch["read_only"]:
            raise PermissionError("read-only")

    async def attempt() -> int:
        sent.append(1)
        switch["read_only"] = True
        return 429

    with pytest.raises(PermissionError):
        await RetryPolicy().call(attempt, retry_on=lambda r: r == 429, check=check)
    assert sent == [1]


async def test_one_attempt_means_one_and_errors_not_listed_are_not_retried(
    mocker: MockerFixture,
) -> None:
    """attempts=1 for what must not be repeated; only listed errors are retried."""
    mocker.patch("agents.core.retry.async_sleep", side_effect=[].append)
    calls: list[int] = []

    async def attempt() -> int:
        calls.append(1)
        raise ConnectionError("refused")

    with pytest.raises(ConnectionError):
        await RetryPolicy().call(attempt, attempts=1, errors=(ConnectionError,))
    with pytest.raises(ConnectionError):
        await RetryPolicy().call(attempt, errors=(ValueError,))
    assert len(calls) == 2
    with pytest.raises(ConnectionError):
        await RetryPolicy().call(attempt, errors=(ConnectionError,))
    assert len(calls) == 5


def test_blocking_code_uses_the_same_policy(mocker: MockerFixture) -> None:
    """The git push: retried while the attempt says it lost a race."""
    waits: list[float] = []
    mocker.patch("agents.core.retry.sync_sleep", side_effect=waits.append)
    results = iter([False, False, True])
    ok, made = RetryPolicy(attempts=5, first=0.01, jitter=0.0).call_sync(
        lambda: next(results), retry_on=lambda pushed: not pushed
    )
    assert ok and made == 3 and waits == [0.01, 0.02]
