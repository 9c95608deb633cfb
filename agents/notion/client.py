"""The upstream: notion-client's ``AsyncClient`` behind one shared throttle and one error map.

Every HTTP request, the SDK's own retries included, passes an httpx request hook that waits
for a slot of the token's throttle (about 3 requests/s on average, as Notion asks of each
integration). A 429 pushes the throttle back by its ``Retry-After`` for every caller of that
token; the SDK then retries it (a 429 was not applied, so retrying even a POST is safe). The
SDK retries 500/503 only for GET and DELETE and never retries a timeout or an answer that
broke off or is not JSON, so a write is never sent twice blindly; those errors say that a
write may have been applied.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

import httpx
from notion_client import (
    APIErrorCode,
    APIResponseError,
    AsyncClient,
    InvalidPathParameterError,
    RequestTimeoutError,
    RetryOptions,
    UnknownHTTPResponseError,
    extract_notion_id,
)

from agents.core.errors import AgentError, InputError, NotFoundError, UpstreamError
from agents.core.retry import retry_after
from agents.core.upstream import broken_answer, not_json, reached
from agents.notion.answers import checked
from agents.notion.imports import ImportPolicy

__all__ = [
    "Listing",
    "Notion",
    "RateLimitedError",
    "Throttle",
    "build_client",
    "client_of",
    "notion_id",
    "shared_throttle",
]

NOTION_VERSION = "2025-09-03"
SHARE_HINT = (
    "not found or not shared with the integration (in Notion, open it and add the "
    "integration under ••• → Connections)"
)


class RateLimitedError(Exception):
    """The throttle would have to wait longer than allowed; carries the wait in seconds."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"rate limited; retry after {retry_after:.1f} s")
        self.retry_after = retry_after


class Throttle:
    """A token bucket (GCRA): ``rate`` requests/s on average, bursts of up to ``burst``.

    Reservations are computed without awaiting, so concurrent tasks never race, and the state
    is plain floats, so one throttle serves any event loop.
    """

    def __init__(
        self, rate: float, burst: int = 3, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.interval = 1.0 / rate
        self.tolerance = (max(burst, 1) - 1) * self.interval
        self._tat = 0.0  # theoretical arrival time of the next request
        self._clock = clock

    def wait_time(self) -> float:
        """Seconds the next request would wait now."""
        now = self._clock()
        return max(0.0, max(self._tat, now) - self.tolerance - now)

    def reserve(self) -> float:
        """Take the next slot; return how long to wait before using it."""
        now = self._clock()
        tat = max(self._tat, now)
        start = max(now, tat - self.tolerance)
        self._tat = tat + self.interval
        return start - now

    async def acquire(self, max_wait: float) -> None:
        """Wait for a slot.

        Raises:
            RateLimitedError: The slot is further away than ``max_wait`` seconds.
        """
        ahead = self.wait_time()
        if ahead > max_wait:
            raise RateLimitedError(ahead)
        delay = self.reserve()
        if delay > 0:
            await asyncio.sleep(delay)

    def back_off(self, seconds: float) -> None:
        """Let nothing through for ``seconds`` (a 429's Retry-After), then no burst."""
        self._tat = max(self._tat, self._clock() + seconds + self.tolerance)


_THROTTLES: dict[tuple[str, float, int], Throttle] = {}


def shared_throttle(token: str, rate: float, burst: int = 3) -> Throttle:
    """The process-wide throttle of ``token`` (clients sharing a token share a budget)."""
    key = (hashlib.sha256(token.encode()).hexdigest(), rate, burst)
    if key not in _THROTTLES:
        _THROTTLES[key] = Throttle(rate, burst)
    return _THROTTLES[key]


def retry_after_seconds(value: str | None, default: float = 1.0) -> float:
    """Seconds from a ``Retry-After`` header (the shared parser), ``default`` when absent."""
    wait = retry_after(value)
    return default if wait is None else wait


def notion_id(value: str, param: str) -> str:
    """The dashed UUID in ``value`` (an ID, a compact ID or a Notion URL).

    Raises:
        InputError: ``value`` holds no Notion ID; names ``param``.
    """
    found = extract_notion_id(value.strip()) if value else None
    if not found:
        raise InputError(
            f"{param}: {value!r} is not a Notion ID or URL; pass the page's URL or its "
            "32-character ID"
        )
    return found


@dataclass
class Listing:
    """One window of a paginated list."""

    results: list[dict[str, Any]]
    next_cursor: str | None
    has_more: bool


@dataclass
class Notion:
    """The SDK client plus what error messages need to say."""

    sdk: AsyncClient
    base_url: str
    timeout: float
    token_home: str
    throttle: Throttle
    imports: ImportPolicy = field(default_factory=ImportPolicy)
    _closed: bool = field(default=False, repr=False)

    async def aclose(self) -> None:
        """Close the HTTP connection pool."""
        if not self._closed:
            self._closed = True
            await self.sdk.aclose()

    async def call(self, what: str, fn: Callable[..., Any], /, **kwargs: Any) -> dict[str, Any]:
        """Await ``fn(**kwargs)`` (an SDK endpoint) and map its failures to agent errors.

        ``what`` names the object for messages, e.g. ``"page 'abc…'"``.
        """
        try:
            answer = await fn(**kwargs)
        except APIResponseError as exc:
            raise self._api_error(exc, what) from exc
        except RequestTimeoutError as exc:
            raise UpstreamError(
                f"Notion did not answer within {self.timeout:g} s while working on {what}; "
                "a write may or may not have been applied, so check before repeating it",
                code="timeout",
            ) from exc
        except UnknownHTTPResponseError as exc:
            raise UpstreamError(
                f"Notion answered HTTP {exc.status} with an unexpected body while working on "
                f"{what}; try again later",
                status=exc.status,
                code="upstream_error",
            ) from exc
        except InvalidPathParameterError as exc:
            raise InputError(f"{what}: the ID contains characters an ID cannot have") from exc
        except RateLimitedError as exc:
            raise _rate_limited(exc.retry_after) from exc
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:  # a 2xx body cut mid-JSON
            raise not_json("Notion", exc, f"while working on {what}", write=None) from exc
        except httpx.TransportError as exc:
            if reached(exc):
                raise broken_answer("Notion", exc, f"while working on {what}", write=None) from exc
            raise UpstreamError(
                f"cannot reach Notion at {self.base_url} ({type(exc).__name__}: {exc}); "
                "check the network or NOTION_BASE_URL",
                code="network",
            ) from exc
        return checked(answer, what)

    def _api_error(self, exc: APIResponseError, what: str) -> AgentError:
        code = exc.code.value if isinstance(exc.code, APIErrorCode) else str(exc.code)
        status = exc.status
        if code == "object_not_found":
            return NotFoundError(f"{what} {SHARE_HINT}")
        if code == "unauthorized":
            return UpstreamError(
                f"Notion refused NOTION_TOKEN (unauthorized): check it in {self.token_home} "
                "(an internal integration token from notion.so/profile/integrations)",
                status=status,
                code=code,
            )
        if code == "restricted_resource":
            return UpstreamError(
                f"the integration may not do this to {what} (restricted_resource): give it "
                "the read, update and insert content capabilities",
                status=status,
                code=code,
            )
        if code == "rate_limited":
            return _rate_limited(retry_after_seconds(exc.headers.get("retry-after")))
        if code in ("validation_error", "invalid_request", "invalid_json", "invalid_request_url"):
            return UpstreamError(
                f"Notion rejected the request for {what} ({code}): {exc}", status=status, code=code
            )
        if code == "conflict_error":
            return UpstreamError(
                f"{what} was changed at the same time by someone else (conflict_error); "
                "read it again and retry",
                status=status,
                code=code,
            )
        return UpstreamError(
            f"Notion failed while working on {what} (HTTP {status} {code}); try again later",
            status=status,
            code=code,
        )

    async def collect(
        self,
        what: str,
        fn: Callable[..., Any],
        /,
        *,
        limit: int | None = None,
        cursor: str | None = None,
        **kwargs: Any,
    ) -> Listing:
        """Follow ``next_cursor`` until the list ends or ``limit`` results are in hand."""
        results: list[dict[str, Any]] = []
        while True:
            size = 100 if limit is None else max(1, min(100, limit - len(results)))
            page = await self.call(what, fn, start_cursor=cursor, page_size=size, **kwargs)
            results.extend(page.get("results", []))
            cursor = page.get("next_cursor")
            more = bool(page.get("has_more") and cursor)
            if not more or (limit is not None and len(results) >= limit):
                return Listing(results, cursor if more else None, more)


def _rate_limited(retry_after: float) -> UpstreamError:
    wait = math.ceil(retry_after)
    return UpstreamError(
        f"Notion is rate limiting this integration (rate_limited); retry after {wait} s",
        status=429,
        code="rate_limited",
    )


def build_client(
    *,
    token: str,
    base_url: str,
    timeout: float,
    rate: float,
    max_retries: int,
    max_wait: float,
    token_home: str,
    imports: ImportPolicy | None = None,
) -> Notion:
    """An ``AsyncClient`` wired to the token's shared throttle; touches no network."""
    throttle = shared_throttle(token, rate)

    async def before(_: httpx.Request) -> None:
        await throttle.acquire(max_wait)

    async def after(response: httpx.Response) -> None:
        if response.status_code == 429:
            wait = retry_after_seconds(response.headers.get("retry-after"))
            throttle.back_off(wait)
            if wait > max_wait:
                raise RateLimitedError(wait)

    http = httpx.AsyncClient(event_hooks={"request": [before], "response": [after]})
    sdk = AsyncClient(
        client=http,
        auth=token,
        base_url=base_url,
        timeout_ms=int(timeout * 1000),
        notion_version=NOTION_VERSION,
        logger=logging.getLogger("agents.notion.sdk"),
        log_level=logging.WARNING,
        retry=RetryOptions(
            max_retries=max_retries,
            initial_retry_delay_ms=500,
            max_retry_delay_ms=int(max_wait * 1000),
        ),
    )
    return Notion(
        sdk=sdk,
        base_url=base_url,
        timeout=timeout,
        token_home=token_home,
        throttle=throttle,
        imports=imports or ImportPolicy(),
    )


def client_of(ctx: Any) -> Notion:
    """The Notion client of the agent answering ``ctx`` (a "not configured" error otherwise)."""
    return cast(Notion, ctx.request_context.lifespan_context.require_client())
