"""A small typed async client for Fizzy's JSON API, on httpx (Fizzy has no Python SDK).

It knows Fizzy's conventions once, so the tools do not: the bearer token and JSON format,
the account slug in every path (discovered from ``/my/identity`` on first use when not
configured), ``Link: rel=next`` pagination on FIZZY_URL's origin only, retries of idempotent
requests through the shared policy honouring ``Retry-After``, creates that answer 201 with or
without a body, and turning Fizzy's 302/401/403/404/422 answers into errors that say what to do.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import urljoin, urlsplit

import anyio
import httpx
from pydantic import BaseModel, ValidationError

from agents import __version__
from agents.core.errors import InputError, NotConfiguredError, UpstreamError
from agents.core.recorder import call_annotations
from agents.core.retry import RetryPolicy, retry_after
from agents.core.upstream import broken_answer, not_json, reached, timed_out
from agents.fizzy.errors import http_error, with_request_id
from agents.fizzy.models import Identity, Page

__all__ = ["SDK_POLICY", "FizzyClient", "normalize_slug"]

M = TypeVar("M", bound=BaseModel)
Params = Mapping[str, str | int | bool | Sequence[str]]

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE"})
# Fizzy's SDK (behavior-model.json): idempotent calls get up to 3 attempts on 429/500/503,
# backing off exponentially from 1 s.
RETRY_STATUSES = frozenset({429, 500, 503})
SDK_POLICY = RetryPolicy(attempts=3, first=1.0, cap=8.0, jitter=0.5, max_wait=30.0)


def normalize_slug(value: str, *, name: str) -> str:
    """An account slug without its leading ``/`` (as ``/my/identity`` shows it).

    Raises:
        InputError: Not a Fizzy account slug (digits).
    """
    slug = value.strip().lstrip("/")
    if not (slug.isascii() and slug.isdigit()):
        raise InputError(
            f"{name} {value!r} is not a Fizzy account slug: use the digits of the account URL "
            "(https://app.fizzy.do/897362094/...), as get_identity lists them"
        )
    return slug


def _relative(url: str, base_path: str) -> str:
    parts = urlsplit(url)
    path = parts.path
    if base_path and path.startswith(base_path + "/"):
        path = path[len(base_path) :]
    return path + (f"?{parts.query}" if parts.query else "")


class FizzyClient:
    """One Fizzy instance and token; every tool call goes through :meth:`request`.

    Args:
        token: Personal access token, sent as ``Authorization: Bearer`` (none when empty).
        base_url: Fizzy's origin, e.g. ``https://app.fizzy.do``.
        account: Default account slug; discovered from ``/my/identity`` when None.
        token_home: Where FIZZY_TOKEN is set, for error messages.
        timeout: Seconds one request may take (connecting takes at most 10 of them).
        policy: Retries of idempotent requests (Fizzy's SDK: 3 attempts, backoff from 1 s
            with jitter, ``Retry-After`` honoured up to 30 s; longer ones fail at once).
    """

    def __init__(
        self,
        token: str,
        base_url: str,
        account: str | None = None,
        *,
        token_home: str = "the secrets file",
        timeout: float = 30.0,
        policy: RetryPolicy = SDK_POLICY,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._base_path = urlsplit(self.base_url).path.rstrip("/")
        self._account = normalize_slug(account, name="FIZZY_ACCOUNT") if account else None
        self._token_home = token_home
        self.timeout = timeout
        self._lock: anyio.Lock | None = None
        self.policy = policy
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers={
                "Accept": "application/json",
                "User-Agent": f"claude-agents-fizzy/{__version__}",
                **({"Authorization": f"Bearer {token}"} if token else {}),
            },
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            follow_redirects=False,
        )

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    # -- account ---------------------------------------------------------------------------

    async def identity(self) -> Identity:
        """``GET /my/identity``: the token's identity and its accounts."""
        resp = await self.request("GET", "/my/identity", what="your Fizzy identity", scoped=False)
        identity = self._parse(resp, Identity, "your Fizzy identity")
        if self._account is None and identity.accounts:
            self._account = identity.accounts[0].slug
        return identity

    async def slug(self, account: str | None = None) -> str:
        """The account slug for a call: ``account``, else FIZZY_ACCOUNT, else the first
        account of ``/my/identity`` (looked up once)."""
        if account:
            return normalize_slug(account, name="account")
        if self._account is None:
            self._lock = self._lock or anyio.Lock()
            async with self._lock:
                if self._account is None:
                    await self.identity()
        if self._account is None:
            raise NotConfiguredError(
                "the FIZZY_TOKEN identity belongs to no Fizzy account: join one, or set "
                "FIZZY_URL to the instance that holds your account"
            )
        return self._account

    @property
    def default_account(self) -> str | None:
        """The configured or discovered default slug (None until discovered)."""
        return self._account

    # -- typed calls -----------------------------------------------------------------------

    async def get(
        self,
        path: str,
        model: type[M],
        *,
        what: str,
        params: Params | None = None,
        account: str | None = None,
    ) -> M:
        """``GET`` one resource."""
        resp = await self.request("GET", path, what=what, params=params, account=account)
        return self._parse(resp, model, what)

    async def get_all(
        self, path: str, model: type[M], *, what: str, account: str | None = None
    ) -> list[M]:
        """``GET`` a list Fizzy does not paginate (columns, steps)."""
        resp = await self.request("GET", path, what=what, account=account)
        data = self._json(resp, what)
        if not isinstance(data, list):
            raise UpstreamError(f"Fizzy answered {what} with {type(data).__name__}, not a list")
        return [self._validate(item, model, what) for item in data]

    async def page(
        self,
        path: str,
        model: type[M],
        *,
        what: str,
        limit: int,
        page_token: str | None = None,
        params: Params | None = None,
        account: str | None = None,
        items_key: str | None = None,
        until: Callable[[M], bool] | None = None,
    ) -> Page[M]:
        """Up to ``limit`` items of a paginated list, following ``Link: rel=next``.

        The returned token resumes exactly after the last item, even inside a page.
        ``until`` ends the list at the first item it accepts (that item is left out).
        """
        skip = 0
        if page_token:
            url, skip = self._parse_token(page_token, path)
            params = None
        else:
            url = f"/{await self.slug(account)}{path}"
        items: list[M] = []
        while True:
            resp = await self.request("GET", url, what=what, params=params, scoped=False)
            data = self._json(resp, what)
            raw = data.get(items_key) if items_key and isinstance(data, dict) else data
            if not isinstance(raw, list):
                raise UpstreamError(f"Fizzy answered {what} without a list of items")
            here = _relative(str(resp.request.url), self._base_path)
            for index in range(skip, len(raw)):
                if len(items) == limit:
                    return Page[M](items=items, next_page_token=f"{here}#skip={index}")
                item = self._validate(raw[index], model, what)
                if until is not None and until(item):
                    return Page[M](items=items)
                items.append(item)
            following = resp.links.get("next", {}).get("url")
            if not following:
                return Page[M](items=items)
            url, skip, params = self.same_origin(following, what, "Link: rel=next"), 0, None
            if len(items) == limit:
                return Page[M](items=items, next_page_token=url)

    async def create(
        self,
        path: str,
        body: Mapping[str, Any],
        model: type[M],
        *,
        what: str,
        account: str | None = None,
        forbidden: str | None = None,
    ) -> M:
        """``POST`` a new resource and return it: from the 201 body, else from ``Location``."""
        resp = await self.request(
            "POST", path, what=what, json=body, account=account, forbidden=forbidden
        )
        if resp.content.strip():
            return self._parse(resp, model, what)
        location = resp.headers.get("location")
        if not location:
            raise UpstreamError(f"Fizzy created {what} but answered with neither body nor Location")
        fetched = await self.request(
            "GET", self.same_origin(location, what, "Location"), what=what, scoped=False
        )
        return self._parse(fetched, model, what)

    async def update(
        self,
        path: str,
        body: Mapping[str, Any],
        model: type[M],
        *,
        what: str,
        account: str | None = None,
        forbidden: str | None = None,
        reread: str | None = None,
    ) -> M:
        """``PUT`` changes and return the resource: from the 200 body, or when Fizzy answers
        204, read back from ``reread`` (default ``path``)."""
        resp = await self.request(
            "PUT", path, what=what, json=body, account=account, forbidden=forbidden
        )
        if resp.status_code != 204:
            return self._parse(resp, model, what)
        return await self.get(reread or path, model, what=what, account=account)

    async def act(
        self,
        method: str,
        path: str,
        *,
        what: str,
        body: Mapping[str, Any] | None = None,
        idempotent: bool = False,
        attempts: int | None = None,
        account: str | None = None,
        forbidden: str | None = None,
    ) -> None:
        """An action answered 204 (close, triage, toggles, deletes, readings)."""
        await self.request(
            method,
            path,
            what=what,
            json=body,
            idempotent=idempotent or method in IDEMPOTENT_METHODS,
            attempts=attempts,
            account=account,
            forbidden=forbidden,
        )

    # -- transport ---------------------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        what: str,
        params: Params | None = None,
        json: Mapping[str, Any] | None = None,
        idempotent: bool | None = None,
        attempts: int | None = None,
        account: str | None = None,
        scoped: bool = True,
        forbidden: str | None = None,
    ) -> httpx.Response:
        """Send one request (``path`` under the account slug unless ``scoped`` is False),
        repeating idempotent ones on 429/500/503 and network errors through the shared
        :class:`~agents.core.retry.RetryPolicy`; errors become ``AgentError``s.

        ``attempts`` caps the attempts of an operation Fizzy's SDK allows fewer (1 for
        ``bulk_reading``); a request that is not idempotent is always sent once.
        """
        url = f"/{await self.slug(account)}{path}" if scoped else path
        retry = method in IDEMPOTENT_METHODS if idempotent is None else idempotent
        allowed = min(attempts or self.policy.attempts, self.policy.attempts) if retry else 1

        async def attempt() -> httpx.Response:
            try:
                return await self._http.request(method, url, params=params, json=json)
            except httpx.InvalidURL as exc:  # an id or text of the call cannot go in a URL
                raise InputError(
                    f"cannot ask Fizzy for {what}: {exc}; an id, account or text in this call is "
                    "too long for a URL or holds characters a URL cannot carry"
                ) from exc

        try:
            resp, made = await self.policy.call(
                attempt,
                attempts=allowed,
                retry_on=lambda r: r.status_code in RETRY_STATUSES,
                errors=(httpx.TransportError,),
                retry_after=lambda r: retry_after(r.headers.get("retry-after")),
            )
        except httpx.TransportError as exc:
            raise self._transport_error(exc, what, allowed, retry) from exc
        if resp.status_code < 300:
            if method not in ("GET", "HEAD"):
                meta = call_annotations().get()
                if meta is not None and "target" not in meta:
                    meta.update(write=True, target=f"fizzy:{method} {url}")
            return resp
        error = http_error(
            resp,
            what=what,
            attempts=made,
            body=json,
            forbidden=forbidden,
            token_home=self._token_home,
            base_url=self.base_url,
            idempotent=retry,
        )
        raise with_request_id(error, resp)

    def same_origin(self, url: str, what: str, header: str) -> str:
        """``url`` (from a ``Link`` or ``Location`` header, maybe relative) as a path on
        FIZZY_URL. One pointing at another origin, or downgrading https to http, is refused:
        following it would send the token elsewhere (Fizzy's SDK refuses it too).

        Raises:
            UpstreamError: ``url`` is on another origin.
        """
        target = urlsplit(urljoin(self.base_url + "/", url))
        base = urlsplit(self.base_url)
        if (target.scheme, target.netloc.lower()) != (base.scheme, base.netloc.lower()):
            why = (
                "downgrades https to http"
                if base.scheme == "https" and target.scheme == "http"
                else f"points at another origin ({target.scheme}://{target.netloc})"
            )
            raise UpstreamError(
                f"Fizzy's {header} header for {what} {why}; it was not followed, so the token "
                f"stays with FIZZY_URL ({self.base_url}); check FIZZY_URL, or the proxy in front "
                "of Fizzy",
                code="cross_origin",
            )
        return _relative(target.geturl(), self._base_path)

    def _transport_error(
        self, exc: httpx.TransportError, what: str, attempts: int, idempotent: bool
    ) -> UpstreamError:
        """No answer: Fizzy unreachable, too slow, or the connection broke mid-answer."""
        about = f"for {what}" + (f" after {attempts} attempts" if attempts > 1 else "")
        if not reached(exc):
            return UpstreamError(
                f"cannot reach Fizzy at {self.base_url} ({type(exc).__name__}: {exc}); check "
                "FIZZY_URL and the network, then try again",
                code="network",
            )
        if isinstance(exc, httpx.TimeoutException):
            return timed_out(
                "Fizzy", self.timeout, "FIZZY_TIMEOUT_SECONDS", about, write=not idempotent
            )
        return broken_answer("Fizzy", exc, about, write=not idempotent)

    def _parse_token(self, token: str, path: str) -> tuple[str, int]:
        url, _, fragment = token.partition("#skip=")
        route = urlsplit(url).path.removesuffix(".json")
        segments = route.split("/", 2)
        if (
            not url.startswith("/")
            or url.startswith("//")
            or len(segments) < 3
            or not segments[1].isdigit()
            or "/" + segments[2] != path
            or (fragment and not fragment.isdigit())
        ):
            raise InputError(
                "page_token is not a next_page_token of this list: pass the value a previous "
                "call of this same tool returned, unchanged"
            )
        return url, int(fragment or 0)

    @staticmethod
    def _json(resp: httpx.Response, what: str) -> Any:
        try:
            return resp.json()
        except ValueError as exc:
            kind = resp.headers.get("content-type", "no content type")
            if "json" in kind:  # a JSON answer cut short or garbled, not another server
                write = resp.request.method not in ("GET", "HEAD")
                raise not_json(
                    "Fizzy", exc, f"for {what}", status=resp.status_code, write=write
                ) from None
            raise UpstreamError(
                f"Fizzy answered {what} with non-JSON content ({kind}): check that FIZZY_URL "
                "points at a Fizzy instance",
                status=resp.status_code,
            ) from None

    @staticmethod
    def _validate(data: Any, model: type[M], what: str) -> M:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            raise UpstreamError(
                f"Fizzy's answer for {what} does not have the documented shape: "
                f"{exc.error_count()} problem(s), first: {exc.errors()[0]['msg']} at "
                f"{'.'.join(str(p) for p in exc.errors()[0]['loc'])}"
            ) from None

    def _parse(self, resp: httpx.Response, model: type[M], what: str) -> M:
        return self._validate(self._json(resp, what), model, what)
