"""The Lokka upstream: Microsoft Graph through msgraph-sdk's request adapter, and ARM over httpx.

Everything heavy (azure.identity, msgraph, kiota) is imported on the first call. Reads go
through the SDK's retry middleware, which honours 429/503 ``Retry-After``; writes switch it
off per request, so a POST or PATCH reaches Graph exactly once. Timeouts, answers that break
off and answers that are not JSON are never retried, and say so.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from agents.core.errors import InputError, UpstreamError
from agents.core.retry import RetryPolicy, retry_after
from agents.core.upstream import not_json
from agents.lokka.answers import an_object, batch_answers, checked, collection
from agents.lokka.auth import AsyncCredential, build_credential
from agents.lokka.errors import (
    api_error,
    graph_error,
    refuse_if_read_only,
    transport_error,
    transport_errors,
)
from agents.lokka.models import Page, SentRequest
from agents.lokka.paths import GraphPath, bounded, parse_path, query_string, seg, validate_path
from agents.lokka.settings import LokkaSettings

if TYPE_CHECKING:
    from kiota_abstractions.request_adapter import RequestAdapter

__all__ = ["Lokka", "bounded", "query_string", "seg", "validate_path"]

MAX_WAIT = 60.0


class Lokka:
    """The process's one credential, Graph adapter and ARM client, built on first use."""

    def __init__(
        self,
        settings: LokkaSettings,
        credential_factory: Callable[[LokkaSettings], AsyncCredential] = build_credential,
    ) -> None:
        self.settings = settings
        self._credential_factory = credential_factory
        self._credential: AsyncCredential | None = None
        self._adapter: RequestAdapter | None = None
        self._arm: httpx.AsyncClient | None = None
        # ARM's own guidance: honour Retry-After (up to a minute), else back off from 1 s
        self._arm_policy = RetryPolicy(first=1.0, cap=30.0, jitter=0.5, max_wait=MAX_WAIT)
        self._graph_transport: httpx.AsyncHTTPTransport | None = None

    @property
    def tenant(self) -> str:
        """The pinned tenant, shown in every answer."""
        return self.settings.tenant_id or "managed identity's home tenant"

    @property
    def credential(self) -> AsyncCredential:
        """The one credential of this process."""
        if self._credential is None:
            self._credential = self._credential_factory(self.settings)
        return self._credential

    def _verify(self) -> ssl.SSLContext | bool:
        if self.settings.ca_bundle:
            return ssl.create_default_context(cafile=self.settings.ca_bundle)
        return True

    # --- Graph -------------------------------------------------------------------------

    @property
    def adapter(self) -> RequestAdapter:
        """msgraph-sdk's request adapter: auth (only for the Graph host), retry, redirects."""
        if self._adapter is None:
            from kiota_authentication_azure.azure_identity_authentication_provider import (
                AzureIdentityAuthenticationProvider,
            )
            from kiota_http.middleware.options import RetryHandlerOption
            from msgraph.graph_request_adapter import GraphRequestAdapter
            from msgraph.graph_service_client import GraphServiceClient
            from msgraph_core import GraphClientFactory

            s = self.settings
            auth = AzureIdentityAuthenticationProvider(
                self.credential,  # type: ignore[arg-type]
                scopes=[f"{s.graph_url}/.default"],
                allowed_hosts=[urlsplit(s.graph_url).hostname or ""],
            )
            # msgraph-core's wrapping transport does not close the one it wraps: keep it.
            self._graph_transport = httpx.AsyncHTTPTransport(verify=self._verify())
            http = GraphClientFactory.create_with_default_middleware(
                client=httpx.AsyncClient(transport=self._graph_transport, timeout=s.timeout),
                options={
                    RetryHandlerOption.get_key(): RetryHandlerOption(max_retries=s.max_retries)
                },
            )
            adapter = GraphRequestAdapter(auth, client=http)
            adapter.base_url = f"{s.graph_url}/v1.0"
            # The service client registers the JSON (de)serializers that ODataError parsing needs.
            GraphServiceClient(request_adapter=adapter)
            self._adapter = adapter
        return self._adapter

    def graph_url(
        self, path: str | GraphPath, query: dict[str, Any] | None = None, version: str = ""
    ) -> str:
        """The absolute Graph URL of a relative path, decoded and normalised once
        (:func:`agents.lokka.paths.parse_path`) and sent in that form.

        Raises:
            InputError: The path is not a plain relative Graph path, or names another version.
        """
        gp = parse_path(bounded(path, "path")) if isinstance(path, str) else path
        if version and gp.version and version != gp.version:
            raise InputError(f"path names {gp.version} but the call asks for {version}")
        url = f"{self.settings.graph_url}/{version or gp.version or 'v1.0'}{gp.encoded()}"
        qs = query_string(query)
        return bounded(f"{url}?{qs}" if qs else url)

    def check_cursor(self, cursor: str) -> str:
        """A nextLink handed back by an earlier call; it must point at the configured Graph.

        Raises:
            InputError: The cursor points elsewhere.
        """
        base = self.settings.graph_url
        if not any(cursor.startswith(f"{base}/{v}/") for v in ("v1.0", "beta")):
            raise InputError(
                f"cursor must be a next_cursor returned by this agent (a {base}/v1.0/... link)"
            )
        return bounded(cursor, "cursor")

    def graph_request(
        self, method: str, url: str, body: Any = None, *, eventual: bool = False
    ) -> SentRequest:
        """What would be sent: method, absolute URL, headers (never the token) and body."""
        headers = {"Accept": "application/json"}
        if eventual:
            headers["ConsistencyLevel"] = "eventual"
        if body is not None:
            headers["Content-Type"] = "application/json"
        return SentRequest(method=method.upper(), url=url, headers=headers, body=body)

    async def send(self, req: SentRequest, *, write: bool) -> Any:
        """Send ``req`` through the SDK; the parsed JSON answer, or None for 204.

        Raises:
            AgentError: Graph refused or failed; the message carries code and request-id.
        """
        from kiota_abstractions.api_error import APIError
        from kiota_abstractions.method import Method
        from kiota_abstractions.request_information import RequestInformation
        from kiota_http.middleware.options import RetryHandlerOption
        from msgraph.generated.models.o_data_errors.o_data_error import ODataError

        ri = RequestInformation(Method(req.method))
        ri.url = req.url
        for name, value in req.headers.items():
            if name != "Content-Type":
                ri.headers.try_add(name, value)
        if req.body is not None:
            ri.set_stream_content(json.dumps(req.body).encode(), "application/json")
        if write:
            ri.add_request_options([RetryHandlerOption(max_retries=0, should_retry=False)])
        about = f"to {req.method} {urlsplit(req.url).path}"
        try:
            adapter: Any = self.adapter
            raw = await adapter.send_primitive_async(ri, "bytes", {"XXX": ODataError})
        except ODataError as exc:
            raise graph_error(exc, write=write) from None
        except APIError as exc:
            status = exc.response_status_code or 0
            raise api_error(status, None, str(exc), None, "Microsoft Graph", write=write) from None
        except transport_errors() as exc:
            graph = "Microsoft Graph"
            raise transport_error(exc, graph, self.settings, about=about, write=write) from exc
        try:
            data = json.loads(raw) if raw else None
        except ValueError as exc:  # a 2xx body cut mid-JSON (or mid-character)
            raise not_json("Microsoft Graph", exc, about, write=write) from None
        return checked(data, "Microsoft Graph", about)

    async def get(self, url: str, *, eventual: bool = False) -> Any:
        """GET an absolute Graph URL (retried on 429/503 as Retry-After says); a JSON object.

        Raises:
            UnexpectedAnswerError: Graph answered nothing, or no JSON object.
        """
        data = await self.send(self.graph_request("GET", url, eventual=eventual), write=False)
        return an_object(data, "Microsoft Graph", f"to GET {urlsplit(url).path}")

    async def page(
        self,
        path: str,
        query: dict[str, Any],
        *,
        limit: int,
        cursor: str | None = None,
        eventual: bool = False,
        version: str = "",
    ) -> Page:
        """The first ``limit`` items of a collection (or the next ones, from ``cursor``)."""
        url = self.check_cursor(cursor) if cursor else self.graph_url(path, query, version)
        data = await self.get(url, eventual=eventual or _needs_eventual(url))
        return await self.collect(url, data, limit=limit, eventual=eventual)

    async def collect(self, first: str, data: Any, *, limit: int, eventual: bool) -> Page:
        """Follow ``@odata.nextLink`` from the answer ``data`` to ``first`` until ``limit`` items.

        Pages are never split, so a cursor never skips an item; at most one page more than
        ``limit`` can come back when a cursor resumes with a smaller limit.
        """
        limit = min(limit, self.settings.max_items)
        items: list[dict[str, Any]] = []
        count: int | None = None
        while True:
            data = collection(data, "Microsoft Graph", f"to GET {urlsplit(first).path}")
            count = data.get("@odata.count", count)
            items.extend(data.get("value", []))
            next_link: str | None = data.get("@odata.nextLink")
            if not next_link or len(items) >= limit:
                break
            url = self.check_cursor(next_link)
            data = await self.get(url, eventual=eventual or _needs_eventual(url))
        return Page(
            tenant=self.tenant,
            request=f"GET {first}",
            items=items,
            count=count,
            next_cursor=next_link,
        )

    async def batch(self, urls: list[str], *, missing_ok: bool = False) -> list[Any]:
        """GET several Graph URLs in one ``$batch`` (at most 20); bodies in order.

        With ``missing_ok`` a 404 answer gives None instead of an error.

        Raises:
            AgentError: The batch, or one of its requests, failed.
        """
        base = f"{self.settings.graph_url}/v1.0"
        body = {
            "requests": [
                {"id": str(i), "method": "GET", "url": u.removeprefix(base)}
                for i, u in enumerate(urls, 1)
            ]
        }
        data = await self.send(self.graph_request("POST", f"{base}/$batch", body), write=False)
        answers = batch_answers(data, "to POST $batch")
        out: list[Any] = []
        for i in range(1, len(urls) + 1):
            r = answers.get(str(i), {"status": 500, "body": {}})
            if r["status"] == 404 and missing_ok:
                out.append(None)
                continue
            if r["status"] >= 400:
                err = (r.get("body") or {}).get("error") or {}
                rid = (r.get("headers") or {}).get("request-id") or err.get("innerError", {}).get(
                    "request-id"
                )
                raise api_error(r["status"], err.get("code"), err.get("message"), rid, "Graph")
            out.append(r.get("body"))
        return out

    # --- Azure Resource Manager --------------------------------------------------------

    async def _arm_client(self) -> httpx.AsyncClient:
        if self._arm is None:
            self._arm = httpx.AsyncClient(
                base_url=self.settings.arm_url, verify=self._verify(), timeout=self.settings.timeout
            )
        return self._arm

    async def arm(
        self,
        method: str,
        url: str,
        body: Any = None,
        *,
        write: bool = False,
        idempotent: bool | None = None,
    ) -> Any:
        """One ARM call through the shared retry policy: 429/503 answers of an idempotent call
        (GET, PUT, DELETE, or ``idempotent=True``, e.g. a POST query) are retried as
        ``Retry-After`` says, else after a backoff from 1 s; any other call is sent once.

        ``write``: the call changes something, so every attempt, retries included, asks the
        read-only switch first (the policy's ``check``): no retry can send a write the switch
        forbids.

        Raises:
            WriteRefusedError: A write while ``LOKKA_READ_ONLY=true``.
            AgentError: ARM refused or failed; the message carries code and request id.
        """
        s = self.settings
        about = f"to {method} {urlsplit(url).path}"
        repeat = method in ("GET", "HEAD", "PUT", "DELETE") if idempotent is None else idempotent

        def check() -> None:
            if write:
                refuse_if_read_only(self.settings, f"ARM {method} {urlsplit(url).path}")

        try:
            token = await self.credential.get_token(f"{s.arm_url}/.default")
            client = await self._arm_client()
            resp, _ = await self._arm_policy.call(
                lambda: client.request(
                    method, url, json=body, headers={"Authorization": f"Bearer {token.token}"}
                ),
                attempts=s.max_retries + 1 if repeat else 1,
                retry_on=lambda r: r.status_code in (429, 503),
                retry_after=lambda r: retry_after(r.headers.get("retry-after")),
                check=check,
            )
        except transport_errors() as exc:
            raise transport_error(exc, "Azure Resource Manager", s, about=about) from exc
        if resp.status_code >= 400:
            try:
                err = resp.json().get("error") or {}
            except ValueError:
                err = {}
            rid = resp.headers.get("x-ms-request-id")
            after = resp.headers.get("retry-after")
            code, message = err.get("code"), err.get("message")
            raise api_error(resp.status_code, code, message, rid, "ARM", retry_after=after)
        try:
            data = resp.json() if resp.content else None
        except ValueError as exc:  # a 2xx body cut mid-JSON
            raise not_json("ARM", exc, about, status=resp.status_code, write=write) from None
        return checked(data, "ARM", about)

    def arm_url(self, path: str, api_version: str, query: dict[str, Any] | None = None) -> str:
        """The absolute ARM URL of a validated path, always with its api-version."""
        qs = query_string({"api-version": api_version, **(query or {})})
        return bounded(f"{self.settings.arm_url}{validate_path(path)}?{qs}")

    async def arm_page(self, url: str, *, limit: int, cursor: str | None = None) -> Page:
        """Follow ARM ``nextLink`` (same host only) until ``limit`` items."""
        base = self.settings.arm_url
        if cursor and not cursor.startswith(base + "/"):
            raise InputError(f"cursor must be a next_cursor returned by this agent ({base}/...)")
        bounded(cursor or url, "cursor")
        first = cursor or url
        next_link: str | None = first
        limit = min(limit, self.settings.max_items)
        items: list[dict[str, Any]] = []
        while next_link and len(items) < limit:
            data = collection(await self.arm("GET", next_link), "ARM", "to GET a listing")
            items.extend(data.get("value", []))
            next_link = data.get("nextLink")
            if next_link and not next_link.startswith(base + "/"):
                raise UpstreamError(f"ARM returned a nextLink to another host: {next_link!r}")
        return Page(tenant=self.tenant, request=f"GET {first}", items=items, next_cursor=next_link)

    async def aclose(self) -> None:
        """Close the HTTP clients and the credential."""
        if self._adapter is not None:
            await self._adapter._http_client.aclose()  # type: ignore[attr-defined]
        if self._graph_transport is not None:
            await self._graph_transport.aclose()
        if self._arm is not None:
            await self._arm.aclose()
        if self._credential is not None:
            await self._credential.close()


def _needs_eventual(url: str) -> bool:
    low = url.lower()
    return any(k in low for k in ("$count=true", "%24count=true", "$search=", "%24search="))
