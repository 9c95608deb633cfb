"""The OpenAPI 3.1 document of the context agent's HTTP API (``/api/v1/openapi.json``),
built from the same pydantic models the API validates and returns."""

from __future__ import annotations

import functools
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from agents import __version__
from agents.context.models import (
    ApiError,
    Deleted,
    Document,
    DocumentList,
    DocumentSummary,
    History,
    SaveSession,
    SessionView,
    SyncOutcome,
    SyncRequest,
    SyncStatus,
    WriteDocument,
)
from agents.context.recall import SearchResults

__all__ = ["openapi_document"]

REF = "#/components/schemas/{model}"
ERRORS = {
    "400": "Bad input (the message says what and how to fix it)",
    "401": "Missing or wrong bearer token",
    "403": "A kind that runs code or carries keys, or a request from a web page",
    "404": "No such document or session",
    "421": "The Host header does not name this loopback listener",
    "502": "The remote failed",
    "503": "The store is not available",
}


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


def _json(model: type[BaseModel], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(model)}}}


def _param(name: str, where: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": where,
        "required": where == "path",
        "schema": schema,
        "description": description,
    }


def _op(
    op_id: str,
    summary: str,
    answer: type[BaseModel],
    *,
    params: list[dict[str, Any]] | None = None,
    body: type[BaseModel] | None = None,
    errors: tuple[str, ...] = ("400", "401", "421", "503"),
) -> dict[str, Any]:
    responses: dict[str, Any] = {"200": _json(answer, summary)}
    responses.update({code: _json(ApiError, ERRORS[code]) for code in errors})
    op: dict[str, Any] = {"operationId": op_id, "summary": summary, "responses": responses}
    if params:
        op["parameters"] = params
    if body is not None:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref(body)}},
        }
    return op


DOC_ID = _param("id", "path", {"type": "string"}, "Document id, e.g. session:01J… or pref:theme")
KIND = _param("kind", "query", {"type": "string"}, "Only this kind (agent outputs only if named)")
LIMIT = _param("limit", "query", {"type": "integer", "minimum": 1, "maximum": 500}, "At most")


@functools.cache
def openapi_document() -> dict[str, Any]:
    """The document (built once)."""
    models: list[type[BaseModel]] = [
        ApiError,
        Deleted,
        Document,
        DocumentList,
        DocumentSummary,
        History,
        SaveSession,
        SessionView,
        SyncOutcome,
        SyncRequest,
        SyncStatus,
        WriteDocument,
        SearchResults,
    ]
    _, schemas = models_json_schema(
        [(m, "validation" if m in (SaveSession, SyncRequest, WriteDocument) else "serialization")
         for m in models],
        ref_template=REF,
    )
    components = dict(schemas.get("$defs", {}))
    write_errors = ("400", "401", "403", "421", "503")
    paths: dict[str, Any] = {
        "/documents": {
            "get": _op(
                "listDocuments",
                "List documents, newest first",
                DocumentList,
                params=[
                    KIND,
                    _param("prefix", "query", {"type": "string"}, "Only ids starting with this"),
                    LIMIT,
                ],
            )
        },
        "/documents/{id}": {
            "get": _op(
                "getDocument",
                "One document: body, revision and lineage",
                Document,
                params=[
                    DOC_ID,
                    _param("at", "query", {"type": "string"}, "A snapshot, revision or time"),
                ],
                errors=("400", "401", "404", "421", "503"),
            ),
            "put": _op(
                "putDocument",
                "Create or replace a document (session, preference or project)",
                DocumentSummary,
                params=[DOC_ID],
                body=WriteDocument,
                errors=write_errors,
            ),
            "delete": _op(
                "deleteDocument",
                "Delete a document (a tombstone revision; history keeps it)",
                Deleted,
                params=[DOC_ID],
                errors=(*write_errors, "404"),
            ),
        },
        "/documents/{id}/history": {
            "get": _op(
                "documentHistory",
                "Every revision of a document, oldest first",
                History,
                params=[DOC_ID],
                errors=("400", "401", "404", "421", "503"),
            )
        },
        "/search": {
            "get": _op(
                "searchDocuments",
                "Ranked full-text search (BM25): ids and snippets, best first",
                SearchResults,
                params=[
                    _param("q", "query", {"type": "string", "minLength": 1}, "Words or a phrase"),
                    KIND,
                    _param("project", "query", {"type": "string"}, "Only this project id"),
                    _param("machine", "query", {"type": "string"}, "Only from this machine id"),
                    _param("since", "query", {"type": "string"}, "Changed at/after: 2h, 7d, ISO"),
                    _param("until", "query", {"type": "string"}, "Changed before: 2h, 7d, ISO"),
                    _param(
                        "limit", "query", {"type": "integer", "minimum": 1, "maximum": 50}, "At most"
                    ),
                ],
            )
        },
        "/sessions": {
            "get": _op(
                "listSessions",
                "Saved sessions, most recently updated first",
                DocumentList,
                params=[
                    _param(
                        "status",
                        "query",
                        {"type": "string", "enum": ["active", "paused", "completed", "archived"]},
                        "Only sessions with this status",
                    ),
                    LIMIT,
                ],
            ),
            "post": _op(
                "saveSession",
                "Save a session (new, or session_id to update one)",
                SessionView,
                body=SaveSession,
                errors=("400", "401", "404", "421", "503"),
            ),
        },
        "/sessions/{id}": {
            "get": _op(
                "getSession",
                "One session, as data and as Markdown",
                SessionView,
                params=[_param("id", "path", {"type": "string"}, "Session id, or latest")],
                errors=("400", "401", "404", "421", "503"),
            )
        },
        "/sync": {
            "get": _op(
                "syncStatus",
                "This machine against the remote",
                SyncStatus,
                errors=("400", "401", "421", "502", "503"),
            ),
            "post": _op(
                "syncNow",
                "Pull, push or both",
                SyncOutcome,
                body=SyncRequest,
                errors=("400", "401", "421", "502", "503"),
            ),
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "context agent API",
            "version": __version__,
            "description": "The context store of one environment, for workflow tools. Every "
            "request needs the agent's bearer token; the listener is on 127.0.0.1 only.",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
