"""A loopback Microsoft Graph: v1.0 and beta, OData queries and paging, $batch, ODataError bodies.

It follows Graph's documented behaviour: directory objects answer $count, $search and
advanced filters only with ``ConsistencyLevel: eventual``; pages carry an absolute
``@odata.nextLink``; errors are ``{"error": {"code", "message", "innerError": {"request-id",
"date"}}}`` with a ``request-id`` header; a throttled request gets 429 and ``Retry-After``.
"""

from __future__ import annotations

import copy
import re
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

from tests.fakes.base import FakeServer, Fault, Recorded, Reply
from tests.fakes.graph_data import seed
from tests.fakes.odata import ODataQueryError, apply_filter, apply_search, needs_advanced, project

DIRECTORY = {"users", "groups", "devices", "applications", "servicePrincipals", "directoryRoles"}
PAGE_SIZE = 100
ROLE_BY_TEMPLATE = re.compile(r"^directoryRoles\(roleTemplateId='([^']+)'\)$")
# Graph's codes and messages for the statuses tests inject (learn.microsoft.com/graph/errors)
FAULTS = {
    429: ("TooManyRequests", "Please retry again later."),
    500: ("generalException", "An unspecified error occurred."),
    503: ("serviceNotAvailable", "The service is temporarily unavailable. Please retry later."),
    504: ("gatewayTimeout", "The gateway did not receive a timely response."),
}


class GraphError(Exception):
    """Answer with an ODataError."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class FakeGraph(FakeServer):
    """Microsoft Graph on 127.0.0.1. ``tokens``: accepted bearer tokens (None: any)."""

    def __init__(self, tokens: dict[str, str] | None = None, page_size: int = PAGE_SIZE) -> None:
        super().__init__()
        self.data = seed()
        self.tokens = tokens
        self.page_size = page_size

    # --- plumbing ----------------------------------------------------------------------

    def error_body(self, status: int) -> Any:
        return self._injected(status)[2]

    def fault_reply(self, fault: Fault) -> Reply:
        """Graph's ODataError for the status, its ``request-id`` header matching the body's."""
        if fault.body is not None:
            return super().fault_reply(fault)
        status, headers, body = self._injected(fault.status)
        return status, {**headers, **fault.headers}, body

    def _injected(self, status: int) -> Reply:
        code, message = FAULTS.get(status, ("generalException", "An unspecified error occurred."))
        return self._error(status, code, message)

    def _error(self, status: int, code: str, message: str) -> Reply:
        rid = str(uuid.uuid4())
        inner = {"request-id": rid, "client-request-id": rid, "date": _now()}
        return (
            status,
            {"request-id": rid},
            {"error": {"code": code, "message": message, "innerError": inner}},
        )

    def route(self, req: Recorded) -> Reply:
        auth = req.headers.get("authorization", "")
        if not auth.startswith("Bearer ") or (
            self.tokens is not None and self.tokens.get(auth[7:]) != f"{self.url}/.default"
        ):
            return self._error(
                401, "InvalidAuthenticationToken", "Access token is empty or invalid."
            )
        m = re.match(r"^/(v1\.0|beta)(/.*)$", req.path)
        if not m:
            return self._error(400, "BadRequest", f"Invalid version in {req.path!r}.")
        try:
            return self._route(req, m[1], m[2].strip("/"))
        except GraphError as e:
            return self._error(e.status, e.code, e.message)
        except ODataQueryError as e:
            return self._error(400, "BadRequest", str(e))

    def _route(self, req: Recorded, version: str, path: str) -> Reply:
        if path == "$batch" and req.method == "POST":
            return self._batch(req, version)
        if req.method == "GET":
            return 200, self.base_headers(), self._get(req, version, path)
        return self._write(req, path)

    # --- reads ---------------------------------------------------------------------------

    def _get(self, req: Recorded, version: str, path: str) -> Any:
        d, q = self.data, req.query
        parts = path.split("/")
        if path in d and isinstance(d[path], list):
            return self._collection(req, version, path, d[path])
        if m := ROLE_BY_TEMPLATE.match(parts[0]):
            role = self._find("directoryRoles", m[1], key="roleTemplateId")
            parts = ["directoryRoles", role["id"], *parts[1:]]
        head = "/".join(parts[:-1])
        if head in d and isinstance(d[head], list):
            obj = self._find(head, parts[-1])
            out = project(obj, q.get("$select"))
            if q.get("$expand", "").startswith("manager") and head == "users":
                mgr = d["managers"].get(obj["id"])
                out["manager"] = (
                    project(self._find("users", mgr), "id,displayName,userPrincipalName")
                    if mgr
                    else None
                )
            return out
        if parts[0] == "directoryObjects" and len(parts) == 2:
            return project(self._object(parts[1]), q.get("$select"))
        if len(parts) == 3:
            coll, oid, rel = parts
            obj = self._find(coll, oid)
            related = self._related(coll, obj, rel)
            if related is not None:
                return self._collection(req, version, path, related)
        raise GraphError(400, "BadRequest", f"Resource not found for the segment '{parts[-1]}'.")

    def _related(self, coll: str, obj: dict[str, Any], rel: str) -> list[dict[str, Any]] | None:
        d = self.data
        if coll == "groups" and rel in ("members", "transitiveMembers"):
            ids = list(d["members"].get(obj["id"], []))
            if rel == "transitiveMembers":
                ids += [i for g in ids for i in d["members"].get(g, [])]
            return [self._object(i) for i in ids]
        if coll == "directoryRoles" and rel == "members":
            return [self._object(i) for i in d["roleMembers"].get(obj["id"], [])]
        if coll == "users" and rel in ("memberOf", "transitiveMemberOf"):
            groups = [self._object(g) for g, ms in d["members"].items() if obj["id"] in ms]
            roles = [self._object(r) for r, ms in d["roleMembers"].items() if obj["id"] in ms]
            return groups + roles
        table = {("users", "licenseDetails"), ("teams", "channels"), ("sites", "drives")}
        if (coll, rel) in table:
            found: list[dict[str, Any]] = d[rel].get(obj["id"], [])
            return found
        return None

    def _collection(
        self, req: Recorded, version: str, path: str, items: list[dict[str, Any]]
    ) -> Any:
        q, eventual = req.query, req.headers.get("consistencylevel", "").lower() == "eventual"
        directory = path.split("/")[0] in DIRECTORY
        if directory and not eventual:
            if "$search" in q:
                raise GraphError(
                    400,
                    "Request_BadRequest",
                    "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'",
                )
            if q.get("$count") == "true" or needs_advanced(q.get("$filter", "")):
                raise GraphError(400, "Request_UnsupportedQuery", "Unsupported Query.")
        if path == "sites" and "search" in q:
            items = [
                s
                for s in items
                if q["search"].casefold() in (s["displayName"] + s["name"]).casefold()
            ]
        if q.get("$filter"):
            items = apply_filter(items, q["$filter"])
        if q.get("$search"):
            items = apply_search(items, q["$search"])
        top = int(q.get("$top") or self.page_size)
        if top > 999 or top < 1:
            raise GraphError(
                400,
                "Request_BadRequest",
                f"Invalid page size specified: '{top}'. Must be between 1 and 999 inclusive.",
            )
        skip = int(q.get("$skiptoken") or 0)
        out: dict[str, Any] = {"@odata.context": f"{self.url}/{version}/$metadata#{path}"}
        if q.get("$count") == "true":
            out["@odata.count"] = len(items)
        out["value"] = [project(o, q.get("$select")) for o in items[skip : skip + top]]
        if skip + top < len(items):
            params = {k: v for k, v in parse_qs(req.raw_query).items() if k != "$skiptoken"}
            flat = {k: v[-1] for k, v in params.items()} | {"$skiptoken": str(skip + top)}
            out["@odata.nextLink"] = (
                f"{self.url}/{version}/{path}?{urlencode(flat, quote_via=quote, safe='$,')}"
            )
        return out

    def _find(self, coll: str, ref: str, key: str | None = None) -> dict[str, Any]:
        if coll == "teams":
            coll = "groups"
        for obj in self.data.get(coll, []):
            keys = [obj.get(key)] if key else [obj.get("id"), obj.get("userPrincipalName")]
            if ref.casefold() in [str(k).casefold() for k in keys if k]:
                found: dict[str, Any] = obj  # the stored object itself: callers change it
                return found
        raise GraphError(
            404,
            "Request_ResourceNotFound",
            f"Resource '{ref}' does not exist or one of its queried reference-property objects are not present.",
        )

    def _object(self, oid: str) -> dict[str, Any]:
        for coll in ("users", "groups", "servicePrincipals", "devices", "directoryRoles"):
            for obj in self.data[coll]:
                if obj["id"].casefold() == oid.casefold():  # Graph ids are case-insensitive
                    stored: dict[str, Any] = obj  # the stored object itself
                    return stored
        raise GraphError(
            404,
            "Request_ResourceNotFound",
            f"Resource '{oid}' does not exist or one of its queried reference-property objects are not present.",
        )

    # --- writes --------------------------------------------------------------------------

    def _write(self, req: Recorded, path: str) -> Reply:
        d, body, parts = self.data, req.body or {}, path.split("/")
        ok = self.base_headers()
        if req.method == "POST" and path == "users":
            for field in ("accountEnabled", "displayName", "mailNickname", "userPrincipalName"):
                if field not in body:
                    raise GraphError(
                        400,
                        "Request_BadRequest",
                        f"Invalid value specified for property '{field}' of resource 'User'.",
                    )
            if not (body.get("passwordProfile") or {}).get("password"):
                raise GraphError(
                    400, "Request_BadRequest", "A password must be specified to create a new user."
                )
            if any(u["userPrincipalName"] == body["userPrincipalName"] for u in d["users"]):
                raise GraphError(
                    400,
                    "Request_BadRequest",
                    "Another object with the same value for property userPrincipalName already exists.",
                )
            _read_only(body)
            user = {
                "@odata.type": "#microsoft.graph.user",
                "id": str(uuid.uuid4()),
                "mail": None,
                **body,
            }
            user.pop("passwordProfile")
            d["users"].append(user)
            return 201, ok, user
        if req.method == "POST" and path == "groups":
            for field in ("displayName", "mailEnabled", "mailNickname", "securityEnabled"):
                if field not in body:  # Graph's required properties of a new group
                    raise GraphError(
                        400,
                        "Request_BadRequest",
                        f"A value is required for property '{field}' of resource 'Group'.",
                    )
            _read_only(body)
            group = {"@odata.type": "#microsoft.graph.group", "id": str(uuid.uuid4()), **body}
            d["groups"].append(group)
            return 201, ok, group
        if req.method == "PATCH" and parts[0] == "users" and len(parts) == 2:
            _read_only(body)
            self._find("users", parts[1]).update(
                {k: v for k, v in body.items() if k != "passwordProfile"}
            )
            return 204, ok, None
        if req.method == "POST" and parts[0] == "users" and len(parts) == 3:
            user = self._find("users", parts[1])
            if parts[2] == "revokeSignInSessions":
                return (
                    200,
                    ok,
                    {"@odata.context": f"{self.url}/v1.0/$metadata#Edm.Boolean", "value": True},
                )
            if parts[2] == "assignLicense":
                if not user.get("usageLocation"):
                    raise GraphError(
                        400,
                        "Request_BadRequest",
                        "License assignment cannot be done for user with invalid usage location.",
                    )
                return 200, ok, user
        if parts[-1] == "$ref" and parts[0] in ("groups", "directoryRoles"):
            table = d["members"] if parts[0] == "groups" else d["roleMembers"]
            owner = self._find(parts[0], parts[1])
            members = table.setdefault(owner["id"], [])
            if req.method == "POST" and len(parts) == 4:
                member = self._object(str(body.get("@odata.id", "")).rsplit("/", 1)[-1])
                if member["id"] in members:
                    raise GraphError(
                        400,
                        "Request_BadRequest",
                        "One or more added object references already exist for the following modified properties: 'members'.",
                    )
                members.append(member["id"])
                return 204, ok, None
            if req.method == "DELETE" and len(parts) == 5:
                if parts[3] not in members:
                    raise GraphError(
                        404,
                        "Request_ResourceNotFound",
                        f"Resource '{parts[3]}' does not exist or one of its queried reference-property objects are not present.",
                    )
                members.remove(parts[3])
                return 204, ok, None
        if (
            req.method == "POST"
            and path.startswith("deviceManagement/managedDevices/")
            and len(parts) == 4
        ):
            self._find("deviceManagement/managedDevices", parts[2])
            if parts[3] in ("syncDevice", "rebootNow", "retire", "wipe"):
                return 204, ok, None
        raise GraphError(
            405,
            "Request_BadRequest",
            f"The HTTP method '{req.method}' is not allowed for '{path}'.",
        )

    def _batch(self, req: Recorded, version: str) -> Reply:
        requests = (req.body or {}).get("requests") or []
        if len(requests) > 20:
            raise GraphError(
                400, "BadRequest", "Number of batch request steps exceeds the maximum of 20."
            )
        responses = []
        for r in requests:
            target = urlsplit(r["url"])
            sub = Recorded(
                method=r["method"],
                path=f"/{version}{target.path}",
                query={k: v[-1] for k, v in parse_qs(target.query).items()},
                headers={k.lower(): v for k, v in (r.get("headers") or {}).items()},
                body=r.get("body"),
                raw_query=target.query,
            )
            try:
                status, headers, body = self._route(sub, version, target.path.strip("/"))
            except GraphError as e:
                status, headers, body = self._error(e.status, e.code, e.message)
            responses.append({"id": r["id"], "status": status, "headers": headers, "body": body})
        return 200, self.base_headers(), {"responses": responses}

    def snapshot(self) -> dict[str, Any]:
        """A deep copy of the tenant state (to assert that a dry run changed nothing)."""
        return copy.deepcopy(self.data)


def _read_only(body: dict[str, Any]) -> None:
    """Graph refuses to set an object's key: ``id`` is assigned by the directory."""
    if "id" in body:
        raise GraphError(400, "Request_BadRequest", "Property 'id' is read-only and cannot be set.")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
