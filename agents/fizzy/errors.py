"""How Fizzy's HTTP answers become errors a user can act on.

Fizzy's real error bodies: 302 to the login page without a
valid session or token, 302 to the account menu for an unknown account, 401 plain text for a
bad or read-only token, 403 mostly empty (JSON on SSO-only servers), 404
``{"status":404,"error":"Not Found"}``, 422 ``{"field": ["message"]}``, Rails'
``{"status":422,"error":...}`` or empty, 429 ``{"message"}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from agents.core.errors import AgentError, NotConfiguredError, NotFoundError, UpstreamError
from agents.core.retry import retry_after
from agents.core.upstream import WRITE_DOUBT

__all__ = ["http_error", "with_request_id"]

VERBS = {"GET": "read", "POST": "change", "PUT": "update", "PATCH": "update", "DELETE": "delete"}
DEFAULT_403 = (
    "you lack the permission for it (an admin-only change, someone else's comment, a draft "
    "task), or your Fizzy user or account is deactivated"
)


def _body(resp: httpx.Response) -> dict[str, Any]:
    try:
        data = resp.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _field_errors(data: Mapping[str, Any]) -> str:
    return "; ".join(
        f"{field}: {', '.join(str(m) for m in messages)}"
        for field, messages in data.items()
        if isinstance(messages, list)
    )


def _sent_fields(body: Mapping[str, Any] | None) -> str:
    fields: list[str] = []
    for key, value in (body or {}).items():
        fields.extend(value if isinstance(value, dict) else [key])
    return ", ".join(fields) or "none"


def _redirect(resp: httpx.Response, what: str, token_home: str, base_url: str) -> AgentError:
    location = resp.headers.get("location", "")
    parts = urlsplit(location)
    target = parts.path
    origin = f"{parts.scheme}://{parts.netloc}"
    base = urlsplit(base_url)
    if parts.netloc and (parts.scheme, parts.netloc.lower()) != (base.scheme, base.netloc.lower()):
        if base.scheme == "https" and parts.scheme != "https":
            return UpstreamError(
                f"Fizzy at {base_url} redirects {what} to {origin}, downgrading https to http; "
                "it was not followed (the token never travels in cleartext): check FIZZY_URL "
                "and the proxy in front of Fizzy",
                status=resp.status_code,
                code="cross_origin",
            )
        return UpstreamError(
            f"Fizzy at {base_url} redirects {what} to another origin, {origin}; it was not "
            f"followed (the token goes only to FIZZY_URL): if {origin} is your Fizzy, set "
            f"FIZZY_URL={origin}",
            status=resp.status_code,
            code="cross_origin",
        )
    if target.startswith("/session/menu"):
        slug = resp.request.url.path.split("/")[1]
        return NotConfiguredError(
            f"Fizzy does not know account {slug!r} for this token (it redirected to its account "
            "menu): fix FIZZY_ACCOUNT or the account argument, or leave FIZZY_ACCOUNT empty to "
            "use your first account"
        )
    if target.startswith("/session") or "login" in target:
        return NotConfiguredError(
            "Fizzy redirected to its login page: FIZZY_TOKEN is missing or invalid; set a "
            f"personal access token in {token_home}"
        )
    if target.endswith("/draft"):
        return UpstreamError(
            f"{what} is a draft: Fizzy shows drafts only in its web UI until they are published",
            status=resp.status_code,
            code="draft",
        )
    return UpstreamError(
        f"Fizzy redirected {what} to {location!r} instead of answering: check that FIZZY_URL "
        f"({base_url}) is the Fizzy origin",
        status=resp.status_code,
    )


def with_request_id(error: AgentError, resp: httpx.Response) -> AgentError:
    """``error`` ending with Fizzy's ``X-Request-Id`` for ``resp`` when it sent one (what
    Fizzy's support asks for); kept on an ``UpstreamError`` as ``request_id`` too."""
    rid = resp.headers.get("x-request-id", "").strip()
    if rid:
        shown = rid if len(rid) <= 80 and rid.isprintable() else repr(rid[:80])
        error.args = (f"{error} (X-Request-Id {shown})", *error.args[1:])
        if isinstance(error, UpstreamError):
            error.request_id = shown
    return error


def http_error(
    resp: httpx.Response,
    *,
    what: str,
    attempts: int,
    body: Mapping[str, Any] | None,
    forbidden: str | None,
    token_home: str,
    base_url: str,
    idempotent: bool = True,
) -> AgentError:
    """The error for Fizzy's answer ``resp`` (status 300 or more) to a request about ``what``.

    ``idempotent`` False (a create, a toggle) warns that a server error may have come after
    the change was made.
    """
    status, method = resp.status_code, resp.request.method
    if 300 <= status < 400:
        return _redirect(resp, what, token_home, base_url)
    if status == 401:
        why = "invalid or revoked"
        if method not in ("GET", "HEAD"):
            why += ", or read-only (this call writes, so the token needs write permission)"
        return UpstreamError(
            f"Fizzy refused FIZZY_TOKEN (401): it is {why}; create a personal access token in "
            f"Fizzy and set it in {token_home}",
            status=401,
            code="unauthorized",
        )
    data = _body(resp)
    if status == 403:
        # Usually empty; SSO-only servers say why: {"error": "single_sign_on_required", ...}.
        said = data.get("message")
        return UpstreamError(
            f"Fizzy refused to {VERBS.get(method, method)} {what} (403 Forbidden): "
            + (
                f"{said} ({data.get('error')})"
                if isinstance(said, str)
                else forbidden or DEFAULT_403
            ),
            status=403,
            code=str(data.get("error") or "forbidden"),
        )
    if status == 404:
        return NotFoundError(
            f"{what} not found in Fizzy (404): check the id or number (the list tools show "
            "them), or whether this token's user can see it"
        )
    if status == 422:
        fields = _field_errors(data)
        return UpstreamError(
            f"Fizzy rejected {what} (422 Unprocessable Entity): "
            + (fields or f"it refused a value; fields sent: {_sent_fields(body)}"),
            status=422,
            code="invalid",
        )
    if status == 429:
        wait = retry_after(resp.headers.get("retry-after"))
        return UpstreamError(
            f"Fizzy is rate limiting requests (429) for {what}: "
            + (f"retry after {wait:.0f} s" if wait is not None else "retry later"),
            status=429,
            code="rate_limited",
        )
    detail = data.get("error") or data.get("message") or _field_errors(data)
    tried = f" after {attempts} attempts" if attempts > 1 else ""
    advice = ""
    if status >= 500:
        advice = "; " + ("try again later" if idempotent else WRITE_DOUBT)
    return UpstreamError(
        f"Fizzy answered {status} {resp.reason_phrase} for {what}{tried}"
        + (f": {detail}" if isinstance(detail, str) and detail else "")
        + advice,
        status=status,
    )
