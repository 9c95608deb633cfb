"""Failures below the HTTP status, worded once for every agent's upstream.

A request that never reached the upstream is safe to repeat; one that reached it and then
timed out, or whose answer broke off or is not JSON, may have been applied. The errors built
here say which happened and what to do, and a write is never called safe to repeat.
"""

from __future__ import annotations

import httpx

from agents.core.errors import UpstreamError

__all__ = ["WRITE_DOUBT", "broken_answer", "not_json", "reached", "timed_out"]

WRITE_DOUBT = "the change may or may not have been applied, so check before repeating it"
_EITHER = f"a read can be tried again; for a write, {WRITE_DOUBT}"

# Failures before the request could reach the upstream: nothing was sent or applied.
_UNREACHED = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.ProxyError,
    httpx.UnsupportedProtocol,
)


def reached(exc: httpx.TransportError) -> bool:
    """Whether the request may have reached the upstream before ``exc`` (so it may be applied)."""
    return not isinstance(exc, _UNREACHED)


def _advice(write: bool | None) -> str:
    if write is None:
        return _EITHER
    return WRITE_DOUBT if write else "try again"


def timed_out(
    api: str, seconds: float, setting: str, about: str, *, write: bool | None
) -> UpstreamError:
    """``api`` took longer than ``seconds`` (the ``setting``) to answer a request ``about``."""
    return UpstreamError(
        f"{api} did not answer within {seconds:g} s ({setting}) {about}; {_advice(write)}",
        code="timeout",
    )


def broken_answer(
    api: str, exc: httpx.TransportError, about: str, *, write: bool | None
) -> UpstreamError:
    """The connection broke while ``api`` was answering a request ``about``."""
    return UpstreamError(
        f"{api}'s answer {about} was incomplete: the connection broke before all of it arrived "
        f"({type(exc).__name__}: {exc}); {_advice(write)}",
        code="incomplete_answer",
    )


def not_json(
    api: str, exc: ValueError, about: str, *, status: int | None = None, write: bool | None
) -> UpstreamError:
    """``api`` answered a request ``about`` with a body that is not valid JSON."""
    http = f" (HTTP {status})" if status is not None else ""
    return UpstreamError(
        f"{api}'s answer {about}{http} is not valid JSON, as if cut short "
        f"({type(exc).__name__}: {exc}); {_advice(write)}",
        status=status,
        code="invalid_answer",
    )
