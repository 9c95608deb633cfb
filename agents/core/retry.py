"""The one retry policy of every hand-made upstream client (Fizzy, Lokka's ARM calls, the git
push), on tenacity; SDK clients (notion-client, msgraph) keep their SDK's own retry handler.

- Only what may be repeated is: the caller says how many attempts an operation allows (one for
  anything that may have been applied and is not idempotent).
- Waits back off exponentially from :attr:`RetryPolicy.first` (at least 1 s for upstream
  APIs), with jitter, up to :attr:`RetryPolicy.cap`; an answer's ``Retry-After`` (read by
  :func:`retry_after`, the one parser every agent uses) replaces the backoff. A
  ``Retry-After`` longer than :attr:`RetryPolicy.max_wait` is not waited for: the last answer
  is returned at once so the error can say when to retry.
- ``check`` runs before every attempt, retries included: a write asks the read-only switch
  each time, so no retry can send what the switch forbids.
- Waiting goes through :func:`async_sleep` / :func:`sync_sleep`, the one seam tests replace
  with a fake clock.
"""

from __future__ import annotations

import email.utils
import math
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import anyio
import tenacity
from tenacity import RetryCallState

__all__ = [
    "MAX_RETRY_AFTER",
    "RetryPolicy",
    "async_sleep",
    "retry_after",
    "sync_sleep",
]

T = TypeVar("T")

# No upstream is waited for longer than a day, whatever it says (and no overflow either).
MAX_RETRY_AFTER = 86_400.0
_SECONDS = re.compile(r"\s*(\d+)(?:\.(\d+))?\s*")


def retry_after(value: str | None, *, now: Callable[[], float] = time.time) -> float | None:
    """Seconds to wait per a ``Retry-After`` header: delta-seconds (``"7"``, ``"1.5"``) or an
    HTTP-date (a past date is 0). None when absent or not understood; capped at
    :data:`MAX_RETRY_AFTER`."""
    if not value:
        return None
    if m := _SECONDS.fullmatch(value):
        seconds = float(f"{m[1]}.{m[2] or 0}")
    else:
        try:
            when = email.utils.parsedate_to_datetime(value.strip())
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when.tzinfo is None:  # RFC 9110 dates are GMT
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.fromtimestamp(now(), UTC)).total_seconds()
    if not math.isfinite(seconds):
        return None
    return min(max(0.0, seconds), MAX_RETRY_AFTER)


async def async_sleep(seconds: float) -> None:
    """How the policy waits in async code (the seam a fake clock replaces)."""
    await anyio.sleep(seconds)


def sync_sleep(seconds: float) -> None:
    """How the policy waits in blocking code (the seam a fake clock replaces)."""
    time.sleep(seconds)


@dataclass(frozen=True)
class RetryPolicy:
    """When to repeat an operation and how long to wait between attempts.

    Args:
        attempts: Most attempts of an operation that may be repeated.
        first: First backoff in seconds; doubled per attempt.
        cap: Longest backoff.
        jitter: Up to this many seconds added at random to each backoff.
        max_wait: Longest ``Retry-After`` honoured by waiting.
    """

    attempts: int = 3
    first: float = 1.0
    cap: float = 30.0
    jitter: float = 1.0
    max_wait: float = 30.0
    _backoff: Any = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self,
            "_backoff",
            tenacity.wait_exponential(multiplier=self.first, max=self.cap, exp_base=2)
            + tenacity.wait_random(0, self.jitter),
        )

    def _wait(
        self, hint: Callable[[Any], float | None] | None
    ) -> Callable[[RetryCallState], float]:
        def wait(state: RetryCallState) -> float:
            outcome = state.outcome
            if hint is not None and outcome is not None and not outcome.failed:
                told = hint(outcome.result())
                if told is not None:
                    return told
            return float(self._backoff(state))

        return wait

    def _retry(
        self,
        retry_on: Callable[[Any], bool],
        errors: tuple[type[BaseException], ...],
        hint: Callable[[Any], float | None] | None,
    ) -> Callable[[RetryCallState], bool]:
        def retry(state: RetryCallState) -> bool:
            outcome = state.outcome
            if outcome is None:
                return False
            if outcome.failed:
                return isinstance(outcome.exception(), errors)
            result = outcome.result()
            if not retry_on(result):
                return False
            told = hint(result) if hint is not None else None
            return told is None or told <= self.max_wait

        return retry

    def _kwargs(
        self,
        attempts: int | None,
        retry_on: Callable[[Any], bool],
        errors: tuple[type[BaseException], ...],
        hint: Callable[[Any], float | None] | None,
        on_retry: Callable[[int, Any], None] | None,
    ) -> dict[str, Any]:
        def before_sleep(state: RetryCallState) -> None:
            if on_retry is not None and state.outcome is not None:
                failed = state.outcome.failed
                what = state.outcome.exception() if failed else state.outcome.result()
                on_retry(state.attempt_number, what)

        most = max(1, self.attempts if attempts is None else attempts)
        return {
            "stop": tenacity.stop_after_attempt(most),
            "wait": self._wait(hint),
            "retry": self._retry(retry_on, errors, hint),
            "reraise": True,
            "retry_error_callback": lambda state: state.outcome.result() if state.outcome else None,
            "before_sleep": before_sleep,
        }

    async def call(
        self,
        attempt: Callable[[], Awaitable[T]],
        *,
        attempts: int | None = None,
        retry_on: Callable[[T], bool] = lambda _: False,
        errors: tuple[type[BaseException], ...] = (),
        retry_after: Callable[[T], float | None] | None = None,
        check: Callable[[], None] | None = None,
        on_retry: Callable[[int, Any], None] | None = None,
    ) -> tuple[T, int]:
        """Run ``attempt`` until it returns a result ``retry_on`` does not ask to repeat, or
        raises an error not in ``errors``, or ``attempts`` are used up (then the last result
        is returned, or the last error raised). Returns the result and the attempts made.

        Args:
            attempts: This operation's most attempts (default :attr:`attempts`; 1 for an
                operation that must not be repeated).
            retry_on: Whether a result (an answer) asks to be repeated (429, 503…).
            errors: Exceptions that may be repeated (a refused connection…).
            retry_after: The wait a result asks for (its ``Retry-After``), if any.
            check: Runs before every attempt and may raise to stop (the read-only switch).
            on_retry: Told (attempt number, result or error) before each wait.
        """
        retrying = tenacity.AsyncRetrying(
            sleep=lambda s: async_sleep(s),
            **self._kwargs(attempts, retry_on, errors, retry_after, on_retry),
        )
        made = 0

        async def once() -> T:
            nonlocal made
            if check is not None:
                check()
            made += 1
            return await attempt()

        result: T = await retrying(once)
        return result, made

    def call_sync(
        self,
        attempt: Callable[[], T],
        *,
        attempts: int | None = None,
        retry_on: Callable[[T], bool] = lambda _: False,
        errors: tuple[type[BaseException], ...] = (),
        retry_after: Callable[[T], float | None] | None = None,
        check: Callable[[], None] | None = None,
        on_retry: Callable[[int, Any], None] | None = None,
    ) -> tuple[T, int]:
        """:meth:`call` for blocking code."""
        retrying = tenacity.Retrying(
            sleep=lambda s: sync_sleep(s),
            **self._kwargs(attempts, retry_on, errors, retry_after, on_retry),
        )
        made = 0

        def once() -> T:
            nonlocal made
            if check is not None:
                check()
            made += 1
            return attempt()

        result: T = retrying(once)
        return result, made
