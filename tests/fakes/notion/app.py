"""The fake Notion HTTP API: routes, auth, versions, pagination, errors, rate limit, faults.

Status faults answer with Notion's error body (and ``Retry-After`` when given); wire faults
(:mod:`tests.fakes.faults`) delay or cut the answer after the request was handled.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from tests.fakes.faults import Cut, WireFaults, cut_body
from tests.fakes.notion.query import matches, sort_rows
from tests.fakes.notion.store import ApiError, Obj, invalid, norm_id
from tests.fakes.notion.workspace import Workspace, title_of

VERSION = "2025-09-03"
MAX_BODY = 500 * 1024


@dataclass
class Seen:
    """One request as the fake received it."""

    method: str
    path: str
    body: Any
    status: int
    at: float


@dataclass
class Fault:
    """An injected answer for the next matching requests."""

    status: int
    code: str | None
    times: int
    method: str | None = None
    path: str | None = None
    retry_after: int | None = None
    raw_body: str | None = None

    def hits(self, method: str, path: str) -> bool:
        return (self.method in (None, method)) and (self.path is None or self.path in path)


@dataclass
class Limiter:
    """Notion's rule as a token bucket: ``rate`` requests/s on average, bursts of ``burst``."""

    rate: float
    burst: int
    tat: float = 0.0

    def admit(self, now: float) -> float:
        """0 when admitted, else the seconds to wait."""
        interval = 1 / self.rate
        tat = max(self.tat, now)
        wait = tat - (self.burst - 1) * interval - now
        if wait > 1e-6:
            return wait
        self.tat = tat + interval
        return 0.0


def envelope(results: list[Obj], offset: int, size: int, kind: str) -> Obj:
    window = results[offset : offset + size]
    more = offset + size < len(results)
    return {
        "object": "list",
        "results": window,
        "next_cursor": str(offset + size) if more else None,
        "has_more": more,
        "type": kind,
        kind: {},
        "request_id": str(uuid.uuid4()),
    }


def paging(params: Obj) -> tuple[int, int]:
    size = params.get("page_size", 100)
    try:
        size = int(size)
    except (TypeError, ValueError):
        raise invalid("body failed validation: page_size should be a number") from None
    if not 1 <= size <= 100:
        raise invalid(f"body failed validation: page_size should be ≤ `100`, instead was `{size}`.")
    cursor = params.get("start_cursor")
    if cursor is None:
        return 0, size
    if not str(cursor).isdigit():
        raise invalid(f"body failed validation: start_cursor {cursor!r} is not valid")
    return int(cursor), size


@dataclass
class Api:
    """Dispatches requests against the workspace under one lock."""

    ws: Workspace
    token: str
    limiter: Limiter | None = None
    seen: list[Seen] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    wire: WireFaults = field(default_factory=WireFaults)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def routes(self) -> list[tuple[str, re.Pattern[str], Callable[..., Obj]]]:
        table: list[tuple[str, str, Callable[..., Obj]]] = [
            ("POST", r"/v1/search", self.search),
            ("POST", r"/v1/pages", lambda b, q: self.ws.create_page(b)),
            ("GET", r"/v1/pages/(?P<id>[^/]+)", lambda b, q, id: self.ws.page(norm_id(id))),
            (
                "PATCH",
                r"/v1/pages/(?P<id>[^/]+)",
                lambda b, q, id: self.ws.update_page(norm_id(id), b),
            ),
            ("GET", r"/v1/blocks/(?P<id>[^/]+)/children", self.list_children),
            ("PATCH", r"/v1/blocks/(?P<id>[^/]+)/children", self.append),
            ("GET", r"/v1/blocks/(?P<id>[^/]+)", lambda b, q, id: self.ws.container(norm_id(id))),
            ("DELETE", r"/v1/blocks/(?P<id>[^/]+)", self.delete_block),
            ("POST", r"/v1/databases", lambda b, q: self.ws.create_database(b)),
            ("GET", r"/v1/databases/(?P<id>[^/]+)", lambda b, q, id: self.ws.database(norm_id(id))),
            (
                "GET",
                r"/v1/data_sources/(?P<id>[^/]+)",
                lambda b, q, id: self.ws.data_source(norm_id(id)),
            ),
            ("POST", r"/v1/data_sources/(?P<id>[^/]+)/query", self.query),
        ]
        return [(m, re.compile(f"^{p}$"), fn) for m, p, fn in table]

    # --- endpoints ---------------------------------------------------------------------

    def search(self, body: Obj, query: Obj) -> Obj:
        offset, size = paging(body)
        pool = self.ws.search_pool()
        flt = body.get("filter")
        if flt is not None:
            if flt.get("property") != "object" or flt.get("value") not in ("page", "data_source"):
                raise invalid(
                    "body failed validation: body.filter.value should be `page` or `data_source`"
                )
            pool = [o for o in pool if o["object"] == flt["value"]]
        text = str(body.get("query") or "").casefold()
        pool = [o for o in pool if text in title_of(o).casefold()]
        sort = body.get("sort") or {"timestamp": "last_edited_time", "direction": "descending"}
        pool.sort(key=lambda o: o["last_edited_time"], reverse=sort.get("direction") != "ascending")
        return envelope(pool, offset, size, "page_or_data_source")

    def list_children(self, body: Obj, query: Obj, id: str) -> Obj:
        offset, size = paging(query)
        return envelope(self.ws.live_children(norm_id(id)), offset, size, "block")

    def append(self, body: Obj, query: Obj, id: str) -> Obj:
        created = self.ws.append(
            norm_id(id), body.get("children"), body.get("position"), body.get("after")
        )
        return envelope(created, 0, len(created), "block")

    def delete_block(self, body: Obj, query: Obj, id: str) -> Obj:
        ident = norm_id(id)
        block = self.ws.container(ident)
        self.ws.trash(ident, True)
        return block

    def query(self, body: Obj, query: Obj, id: str) -> Obj:
        offset, size = paging(body)
        source = self.ws.data_source(norm_id(id))
        rows = self.ws.rows(source["id"])
        if body.get("filter"):
            rows = [r for r in rows if matches(r, body["filter"], source["properties"])]
        sorts = body.get("sorts") or [{"timestamp": "created_time", "direction": "descending"}]
        rows = sort_rows(rows, sorts, source["properties"])
        return envelope(rows, offset, size, "page_or_data_source")

    # --- the HTTP layer ----------------------------------------------------------------

    def _fault(self, method: str, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.times > 0 and fault.hits(method, path):
                fault.times -= 1
                return fault
        return None

    def answer(self, method: str, path: str, headers: Any, raw: bytes, query: Obj) -> Response:
        if self.limiter is not None:
            wait = self.limiter.admit(time.monotonic())
            if wait:
                return error(
                    429,
                    "rate_limited",
                    "You have been rate limited. Please try again in a few minutes.",
                    retry_after=math.ceil(wait),
                )
        if headers.get("authorization") != f"Bearer {self.token}":
            return error(401, "unauthorized", "API token is invalid.")
        version = headers.get("notion-version")
        if version is None:
            return error(
                400,
                "missing_version",
                "Notion-Version header failed validation: "
                "Notion-Version header should be defined, instead was `undefined`.",
            )
        if version != VERSION:
            return error(
                400, "validation_error", f"Notion-Version {version!r} is not supported here."
            )
        fault = self._fault(method, path)
        if fault is not None:
            if fault.raw_body is not None:
                return PlainTextResponse(fault.raw_body, status_code=fault.status)
            return error(
                fault.status,
                fault.code or "internal_server_error",
                "Injected failure.",
                retry_after=fault.retry_after,
            )
        if len(raw) > MAX_BODY:
            return error(413, "validation_error", "Request body too large.")
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            return error(400, "invalid_json", "Error parsing JSON body.")
        for verb, pattern, fn in self.routes():
            found = pattern.match(path)
            if found and verb == method:
                try:
                    return JSONResponse(fn(body, query, **found.groupdict()))
                except ApiError as exc:
                    return error(exc.status, exc.code, exc.message)
        return error(400, "invalid_request_url", "Invalid request URL.")


def error(status: int, code: str, message: str, retry_after: int | None = None) -> Response:
    body = {
        "object": "error",
        "status": status,
        "code": code,
        "message": message,
        "request_id": str(uuid.uuid4()),
    }
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return JSONResponse(body, status_code=status, headers=headers)


class CutResponse(Response):
    """``response`` cut short on the wire (see :func:`tests.fakes.faults.cut_body`)."""

    def __init__(self, response: Response, how: Cut) -> None:
        sent, declared = cut_body(bytes(response.body), how)
        super().__init__(sent, status_code=response.status_code, media_type=response.media_type)
        self.headers["content-length"] = str(declared)
        self.complete = how == "cut"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        # "short": the body never completes, so uvicorn closes the connection mid-answer
        await send(
            {"type": "http.response.body", "body": self.body, "more_body": not self.complete}
        )


def build_app(api: Api) -> Starlette:
    async def endpoint(request: Request) -> Response:
        raw = await request.body()
        path = request.url.path
        with api.lock:
            response = api.answer(
                request.method, path, request.headers, raw, dict(request.query_params)
            )
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode(errors="replace")
            api.seen.append(
                Seen(request.method, path, body, response.status_code, time.monotonic())
            )
        wire = api.wire.take(request.method, path)
        if wire is not None and wire.delay:
            await asyncio.sleep(wire.delay)
        if wire is not None and wire.truncate:
            return CutResponse(response, wire.truncate)
        return response

    methods = ["GET", "POST", "PATCH", "DELETE", "PUT"]
    return Starlette(routes=[Route("/{path:path}", endpoint, methods=methods)])
