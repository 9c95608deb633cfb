"""A loopback Azure Resource Manager: api-version required, nextLink paging, ARM error bodies."""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import quote, urlencode

from tests.fakes.base import FakeServer, Recorded, Reply

SUB_A = "aaaaaaaa-0000-0000-0000-000000000001"
SUB_B = "aaaaaaaa-0000-0000-0000-000000000002"
SUB_C = "aaaaaaaa-0000-0000-0000-000000000003"
# ARM's codes for the statuses tests inject (learn.microsoft.com/azure/azure-resource-manager)
FAULTS = {
    429: (
        "TooManyRequests",
        "The request is being throttled as the limit has been reached for operation type.",
    ),
    500: ("InternalServerError", "Encountered internal server error. Please try again."),
    503: ("ServiceUnavailable", "The service is currently unavailable. Please try again later."),
    504: ("GatewayTimeout", "The gateway did not receive a response within the specified time."),
}


def _rg(sub: str, name: str, **tags: str) -> dict[str, Any]:
    return {
        "id": f"/subscriptions/{sub}/resourceGroups/{name}",
        "name": name,
        "type": "Microsoft.Resources/resourceGroups",
        "location": "westeurope",
        "tags": tags,
        "properties": {"provisioningState": "Succeeded"},
    }


def _res(sub: str, rg: str, rtype: str, name: str, **tags: str) -> dict[str, Any]:
    return {
        "id": f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{rtype}/{name}",
        "name": name,
        "type": rtype,
        "location": "westeurope",
        "tags": tags,
    }


class FakeArm(FakeServer):
    """ARM on 127.0.0.1; pages hold ``page_size`` items. ``tokens``: accepted tokens."""

    def __init__(self, tokens: dict[str, str] | None = None, page_size: int = 2) -> None:
        super().__init__()
        self.tokens = tokens
        self.page_size = page_size
        self.subscriptions = [
            {
                "id": f"/subscriptions/{s}",
                "subscriptionId": s,
                "displayName": n,
                "state": "Enabled",
                "tenantId": "contoso-tenant",
            }
            for s, n in ((SUB_A, "Production"), (SUB_B, "Development"), (SUB_C, "Sandbox"))
        ]
        self.groups = {
            SUB_A: [
                _rg(SUB_A, "web", env="prod"),
                _rg(SUB_A, "data", env="prod"),
                _rg(SUB_A, "scratch", env="test"),
            ],
            SUB_B: [],
        }
        self.resources = {
            SUB_A: [
                _res(SUB_A, "web", "Microsoft.Web/sites", "shop", env="prod"),
                _res(SUB_A, "web", "Microsoft.Compute/virtualMachines", "vm1", env="prod"),
                _res(SUB_A, "data", "Microsoft.Sql/servers", "sql1", env="prod"),
            ]
        }

    def base_headers(self) -> dict[str, str]:
        return {"x-ms-request-id": str(uuid.uuid4())}

    def error_body(self, status: int) -> Any:
        code, message = FAULTS.get(status, ("ServerError", "The server had an error."))
        return {"error": {"code": code, "message": message}}

    def _error(self, status: int, code: str, message: str) -> Reply:
        return status, self.base_headers(), {"error": {"code": code, "message": message}}

    def route(self, req: Recorded) -> Reply:
        auth = req.headers.get("authorization", "")
        if not auth.startswith("Bearer ") or (
            self.tokens is not None and self.tokens.get(auth[7:]) != f"{self.url}/.default"
        ):
            return self._error(
                401,
                "AuthenticationFailed",
                "Authentication failed. The 'Authorization' header is missing or invalid.",
            )
        if "api-version" not in req.query:
            return self._error(
                400,
                "MissingApiVersionParameter",
                "The api-version query parameter (?api-version=) is required for all requests.",
            )
        path = req.path.rstrip("/")
        if req.method == "GET" and path == "/subscriptions":
            return self._page(req, self.subscriptions)
        m = re.match(r"^/subscriptions/([^/]+)(?:/resourceGroups/([^/]+))?(/.*)$", path, re.I)
        if not m:
            return self._error(
                404, "InvalidResourceType", f"The resource type could not be found for {path}."
            )
        sub, rg, rest = m[1], m[2], m[3]
        if sub not in self.groups:
            return self._error(
                404, "SubscriptionNotFound", f"The subscription '{sub}' could not be found."
            )
        if req.method == "GET" and rest.lower() == "/resourcegroups" and rg is None:
            items = self.groups[sub]
            return self._page(req, self._tags(items, req.query.get("$filter")))
        if req.method == "GET" and rest.lower() == "/resources":
            items = [
                r
                for r in self.resources.get(sub, [])
                if rg is None or f"/resourceGroups/{rg}/" in r["id"]
            ]
            flt = req.query.get("$filter") or ""
            if t := re.match(r"^resourceType eq '([^']+)'$", flt):
                items = [r for r in items if r["type"].lower() == t[1].lower()]
            else:
                items = self._tags(items, flt or None)
            return self._page(req, items)
        if req.method == "POST" and rest == "/providers/Microsoft.CostManagement/query":
            body = req.body or {}
            if (
                body.get("type") not in ("ActualCost", "AmortizedCost", "Usage")
                or "timeframe" not in body
            ):
                return self._error(
                    400, "BadRequest", "Invalid query definition: type and timeframe are required."
                )
            dims = [g["name"] for g in body.get("dataset", {}).get("grouping", [])]
            cols = [
                {"name": "Cost", "type": "Number"},
                *({"name": d, "type": "String"} for d in dims),
                {"name": "Currency", "type": "String"},
            ]
            rows = [
                [12.5, *(f"{d}-a" for d in dims), "EUR"],
                [3.25, *(f"{d}-b" for d in dims), "EUR"],
            ]
            return (
                200,
                self.base_headers(),
                {
                    "id": f"{path}/query",
                    "type": "Microsoft.CostManagement/query",
                    "properties": {"nextLink": None, "columns": cols, "rows": rows},
                },
            )
        return self._error(
            404, "InvalidResourceType", f"The resource type could not be found for {path}."
        )

    def _tags(self, items: list[dict[str, Any]], flt: str | None) -> list[dict[str, Any]]:
        if not flt:
            return items
        m = re.match(r"^tagName eq '([^']+)'(?: and tagValue eq '([^']*)')?$", flt)
        if not m:
            raise ValueError(f"unsupported filter {flt!r}")
        return [i for i in items if m[1] in i["tags"] and (m[2] is None or i["tags"][m[1]] == m[2])]

    def _page(self, req: Recorded, items: list[dict[str, Any]]) -> Reply:
        size = min(int(req.query.get("$top") or self.page_size), self.page_size)
        skip = int(req.query.get("$skiptoken") or 0)
        out: dict[str, Any] = {"value": items[skip : skip + size]}
        if skip + size < len(items):
            q = {k: v for k, v in req.query.items() if k != "$skiptoken"} | {
                "$skiptoken": str(skip + size)
            }
            out["nextLink"] = f"{self.url}{req.path}?{urlencode(q, quote_via=quote, safe='$')}"
        return 200, self.base_headers(), out
