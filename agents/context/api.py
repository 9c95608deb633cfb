"""The context agent's HTTP API for workflow tools (n8n, scripts): ``/api/v1``.

Same door rules as ``/mcp``: the agent's bearer token on every request (compared in
constant time), a loopback ``Host`` (and ``Origin``, when sent) so a web page cannot reach it
through DNS rebinding, and the listener on 127.0.0.1 only. Writes go through the same rule
as the MCP tools (:mod:`agents.store.access`): only sessions, preferences and projects;
the kinds that run code or carry keys are refused with 403.

Operations (the OpenAPI document at ``/api/v1/openapi.json`` describes each):

- documents: list, get, put, delete, history;
- sessions: list, get, save; search;
- sync: status, and a trigger (pull, push or both).

Errors are ``{"error": {"code", "message"}}`` with 400 (bad input), 401, 403, 404, 409 (the
head moved: ``expect_revision``), 421 (a foreign Host), 502 (the remote failed) or 503 (the
store is not available).
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

import anyio.to_thread
from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from agents.context.models import (
    Deleted,
    Document,
    DocumentList,
    DocumentSummary,
    History,
    HistoryEntry,
    SaveSession,
    SessionView,
    SyncOutcome,
    SyncRequest,
    SyncStatus,
    WriteDocument,
)
from agents.context.app import noise
from agents.context.openapi import openapi_document
from agents.context.recall import Hit, SearchResults
from agents.core.errors import AgentError, InputError, NotConfiguredError, NotFoundError
from agents.core.logs import get_logger
from agents.core.runtime import AgentRuntime
from agents.store import search, sessions, views
from agents.store.access import RemoteWriteRefusedError, check_remote_delete, check_remote_write
from agents.store.store import ContextStore
from agents.store.timeref import require_time

__all__ = ["PREFIX", "api_routes"]

PREFIX = "/api/v1"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
MAX_BODY = 1024 * 1024
ACTOR = "api:context"
T = TypeVar("T")
Handler = Callable[[Request], Awaitable[Response]]

log = get_logger("agents.context.api")


class _RefusedError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code = status, code


def _error(status: int, code: str, message: str) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"error": {"code": code, "message": message}}, status, headers=headers)


def _host_ok(value: str | None, port: int | None) -> bool:
    if not value:
        return False
    parts = urlsplit(f"//{value}")
    return parts.hostname in LOOPBACK and (port is None or parts.port in (port, None))


def _int(request: Request, name: str, default: int, lo: int, hi: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _RefusedError(400, "bad_request", f"{name} must be a whole number, not {raw!r}") from None
    if not lo <= value <= hi:
        raise _RefusedError(400, "bad_request", f"{name} must be between {lo} and {hi}, not {value}")
    return value


M = TypeVar("M", bound=BaseModel)


async def _json(request: Request, model: type[M]) -> M:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise _RefusedError(413, "too_large", f"the body is over {MAX_BODY} bytes")
    try:
        return model.model_validate_json(raw or b"{}")
    except ValidationError as exc:
        where = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors()
        )
        raise _RefusedError(400, "bad_request", f"invalid body: {where}") from None


def api_routes(
    runtime: AgentRuntime[ContextStore], token: str | None
) -> list[tuple[str, list[str], Handler]]:
    """The API's routes (path, methods, endpoint) for ``build_server`` to add."""
    port = runtime.port

    def guarded(name: str, work: Callable[[Request, ContextStore], Awaitable[Any]]) -> Handler:
        async def endpoint(request: Request) -> Response:
            started = time.monotonic()
            status = 500
            try:
                response = await _answer(request, work)
                status = response.status_code
                return response
            finally:
                log.info(
                    "api_call",
                    route=name,
                    method=request.method,
                    status=status,
                    duration_ms=round((time.monotonic() - started) * 1000, 1),
                )

        return endpoint

    async def _answer(
        request: Request, work: Callable[[Request, ContextStore], Awaitable[Any]]
    ) -> Response:
        if not _host_ok(request.headers.get("host"), port):
            return _error(421, "misdirected", "the Host header must name this loopback listener")
        origin = request.headers.get("origin")
        if origin and urlsplit(origin).hostname not in LOOPBACK:
            return _error(403, "forbidden_origin", "requests from web pages are refused")
        given = request.headers.get("authorization", "")
        if token is not None and not hmac.compare_digest(
            given.encode(), f"Bearer {token}".encode()
        ):
            return _error(401, "unauthorized", "send Authorization: Bearer <the agent's token>")
        try:
            store = runtime.require_client()
            result = await work(request, store)
        except _RefusedError as exc:
            return _error(exc.status, exc.code, str(exc))
        except RemoteWriteRefusedError as exc:
            return _error(403, "kind_refused", str(exc))
        except NotFoundError as exc:
            return _error(404, "not_found", str(exc))
        except NotConfiguredError as exc:
            return _error(503, "not_configured", str(exc))
        except InputError as exc:
            moved = "changed since revision" in str(exc)
            return _error(409 if moved else 400, "conflict" if moved else "bad_request", str(exc))
        except AgentError as exc:
            return _error(502, "failed", str(exc))
        if isinstance(result, Response):
            return result
        return JSONResponse(result.model_dump(mode="json"))

    async def run(fn: Callable[[], T]) -> T:
        return await anyio.to_thread.run_sync(fn)

    async def list_documents(request: Request, store: ContextStore) -> DocumentList:
        kind = request.query_params.get("kind") or None
        prefix = request.query_params.get("prefix") or None
        limit = _int(request, "limit", 50, 1, 500)
        exclude = set() if kind else {"agent_output"}
        found = await run(lambda: store.list(kind, prefix=prefix, exclude=exclude, limit=limit))
        return DocumentList(documents=[DocumentSummary(**views.summary(e)) for e in found])

    async def search_documents(request: Request, store: ContextStore) -> SearchResults:
        """Ranked (BM25) like the search_documents tool: ids and snippets, best first."""
        q = request.query_params
        text = q.get("q", "")
        if not text.strip():
            raise _RefusedError(400, "bad_request", "q (the words to find) is required")
        kind = q.get("kind") or ""
        since = require_time(q["since"]) if q.get("since") else None
        until = require_time(q["until"]) if q.get("until") else None
        limit = _int(request, "limit", 10, 1, 50)
        hits = await run(
            lambda: search.search(
                store,
                text,
                kind=kind or None,
                project=q.get("project") or None,
                machine=q.get("machine") or None,
                since=since,
                until=until,
                exclude=noise(kind),
                limit=limit,
            )
        )
        return SearchResults(hits=[Hit(**h.as_dict()) for h in hits])

    async def get_document(request: Request, store: ContextStore) -> Document:
        doc_id = request.path_params["id"]
        at = request.query_params.get("at") or None
        return Document(**views.document(await run(lambda: store.get(doc_id, at))))

    async def put_document(request: Request, store: ContextStore) -> DocumentSummary:
        doc_id = request.path_params["id"]
        data = await _json(request, WriteDocument)
        check_remote_write(doc_id, data.kind)
        envelope = await run(
            lambda: store.put(
                doc_id, data.kind, data.body, actor=ACTOR, expect_head=data.expect_revision
            )
        )
        return DocumentSummary(**views.summary(envelope))

    async def delete_document(request: Request, store: ContextStore) -> Deleted:
        doc_id = request.path_params["id"]

        def delete() -> Any:
            check_remote_delete(store, doc_id)
            return store.delete(doc_id, actor=ACTOR)

        return Deleted(document=DocumentSummary(**views.summary(await run(delete))))

    async def history(request: Request, store: ContextStore) -> History:
        doc_id = request.path_params["id"]
        revisions = await run(lambda: store.history(doc_id))
        return History(id=doc_id, revisions=[HistoryEntry(**r.as_dict()) for r in revisions])

    async def list_sessions(request: Request, store: ContextStore) -> DocumentList:
        status = request.query_params.get("status") or None
        limit = _int(request, "limit", 20, 1, 500)
        where = {"status": status} if status else None
        found = await run(lambda: store.list("session", where=where, limit=limit))
        return DocumentList(documents=[DocumentSummary(**views.summary(e)) for e in found])

    async def get_session(request: Request, store: ContextStore) -> SessionView:
        ref = request.path_params["id"]
        return SessionView.of(await run(lambda: sessions.find_session(store, ref)))

    async def save_session(request: Request, store: ContextStore) -> SessionView:
        data = await _json(request, SaveSession)
        fields = {
            "title": data.title,
            "status": data.status,
            "summary": data.summary,
            "key_decisions": data.key_decisions,
            "current_tasks": data.current_tasks,
            "references": data.references,
            "project": {"name": data.project} if data.project else None,
        }
        envelope = await run(
            lambda: sessions.save_session(store, fields, ref=data.session_id, append=data.append)
        )
        return SessionView.of(envelope)

    async def sync_status(request: Request, store: ContextStore) -> SyncStatus:
        from agents.context.syncing import status_of, with_remote

        return status_of(await with_remote(store, runtime.layers, lambda s: s.status()))

    async def sync_now(request: Request, store: ContextStore) -> SyncOutcome:
        from agents.context.syncing import outcome_of, with_remote

        data = await _json(request, SyncRequest)
        report = await with_remote(store, runtime.layers, lambda s: getattr(s, data.direction)())
        return outcome_of(report)

    async def spec(request: Request, store: ContextStore) -> Response:
        return JSONResponse(openapi_document())

    p = PREFIX
    # ids may hold slashes (claude_file:user/rules/x.md): {id:path}, history matched first
    return [
        (f"{p}/openapi.json", ["GET"], guarded("openapi", spec)),
        (f"{p}/documents", ["GET"], guarded("list_documents", list_documents)),
        (f"{p}/documents/{{id:path}}/history", ["GET"], guarded("history", history)),
        (f"{p}/documents/{{id:path}}", ["GET"], guarded("get_document", get_document)),
        (f"{p}/documents/{{id:path}}", ["PUT"], guarded("put_document", put_document)),
        (f"{p}/documents/{{id:path}}", ["DELETE"], guarded("delete_document", delete_document)),
        (f"{p}/search", ["GET"], guarded("search", search_documents)),
        (f"{p}/sessions", ["GET"], guarded("list_sessions", list_sessions)),
        (f"{p}/sessions", ["POST"], guarded("save_session", save_session)),
        (f"{p}/sessions/{{id}}", ["GET"], guarded("get_session", get_session)),
        (f"{p}/sync", ["GET"], guarded("sync_status", sync_status)),
        (f"{p}/sync", ["POST"], guarded("sync_now", sync_now)),
    ]


