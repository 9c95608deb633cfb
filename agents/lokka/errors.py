"""Graph, ARM and transport failures as tool errors carrying status, code and request id."""

from __future__ import annotations

import math
from typing import Any

import httpx

from agents.core.errors import AgentError, NotFoundError, UpstreamError
from agents.core.recorder import annotate_call
from agents.core.retry import retry_after as parse_retry_after
from agents.core.upstream import WRITE_DOUBT, broken_answer, reached, timed_out
from agents.lokka.settings import LokkaSettings

__all__ = [
    "WriteRefusedError",
    "api_error",
    "graph_error",
    "refuse_if_read_only",
    "transport_error",
    "transport_errors",
]


class WriteRefusedError(AgentError):
    """The guard refused a write (read-only mode, a protected or an unresolvable target)."""


def refuse_if_read_only(s: LokkaSettings, action: str) -> None:
    """Raise unless writes are allowed; called before every write attempt, retries included.

    Raises:
        WriteRefusedError: ``LOKKA_READ_ONLY=true``.
    """
    if s.read_only:
        annotate_call(refused="read_only")
        raise WriteRefusedError(
            f"{action} refused: LOKKA_READ_ONLY=true for this environment, so the agent makes no "
            "changes; set LOKKA_READ_ONLY=false in environments/.env.<env> to allow writes"
        )


URL_SETTINGS = {"Microsoft Graph": "LOKKA_GRAPH_URL", "Azure Resource Manager": "LOKKA_ARM_URL"}


def api_error(
    status: int,
    code: str | None,
    message: str | None,
    rid: str | None,
    api: str,
    *,
    retry_after: str | None = None,
    write: bool = False,
) -> AgentError:
    """An error answer as a tool error; a throttled or failed one says when to retry, and a
    failed write that it may have been applied."""
    text = f"{api} answered {status} {code or 'error'}: {message or 'no message'}"
    text += f" (request-id {rid or 'none'})"
    if status in (401, 403):
        text += (
            "; the app registration lacks a permission (or Azure role) this call needs: grant it "
            "and give admin consent, see docs/lokka.md"
        )
    if status == 404:
        return NotFoundError(text)
    wait = parse_retry_after(retry_after)  # the shared parser: seconds or an HTTP-date
    if wait is not None:
        text += f"; throttled: retry after {math.ceil(wait)} s"
    elif status == 429:
        text += "; throttled: retry later"
    if status >= 500 and (write or wait is None):
        text += "; " + (WRITE_DOUBT if write else "try again later")
    return UpstreamError(text, status=status, code=code)


def graph_error(exc: Any, *, write: bool = False) -> AgentError:
    """An ``ODataError`` as a tool error with status, code, message and request-id."""
    headers = {k.lower(): v for k, v in (exc.response_headers or {}).items()}
    err = exc.error
    code = getattr(err, "code", None)
    message = getattr(err, "message", None) or exc.message
    inner = getattr(err, "inner_error", None)
    rid = getattr(inner, "request_id", None) or headers.get("request-id")
    return api_error(
        exc.response_status_code or 0,
        code,
        message,
        rid,
        "Microsoft Graph",
        retry_after=headers.get("retry-after"),
        write=write,
    )


def transport_error(
    exc: Exception, api: str, s: LokkaSettings, *, about: str = "", write: bool = False
) -> AgentError:
    """A failure below HTTP (token, connection, TLS, a timeout, an answer that broke off) as a
    tool error naming what to check; ``about`` names the request, e.g. ``to GET /v1.0/users``.
    """
    from azure.core.exceptions import AzureError, ClientAuthenticationError

    if isinstance(exc, AzureError):
        first = (str(exc.message or exc).strip().splitlines() or [type(exc).__name__])[0]
        hint = (
            "check the credential settings"
            if isinstance(exc, ClientAuthenticationError)
            else (f"check that {s.authority_host} is reachable")
        )
        return UpstreamError(
            f"cannot get a token for {api} (LOKKA_AUTH_MODE={s.mode}, AZURE_CLIENT_ID="
            f"{s.client_id}): {first}; {hint} (docs/lokka.md)",
            code="authentication_failed",
        )
    if isinstance(exc, httpx.TransportError) and reached(exc):
        if isinstance(exc, httpx.TimeoutException):
            return timed_out(api, s.timeout, "LOKKA_TIMEOUT", about, write=write)
        return broken_answer(api, exc, about, write=write)
    return UpstreamError(
        f"cannot reach {api}: {type(exc).__name__}: {exc}; check the network and "
        f"{URL_SETTINGS.get(api, 'the API URL')}, then try again",
        code="unreachable",
    )


def transport_errors() -> tuple[type[Exception], ...]:
    """The exceptions :func:`transport_error` maps (azure-core's are imported on first use)."""
    from azure.core.exceptions import AzureError

    return (AzureError, httpx.HTTPError, OSError)
