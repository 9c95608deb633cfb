"""``graph_request``: any Graph call, like upstream Lokka's generic tool, behind the write guard."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from pydantic import Field

from agents.core.errors import InputError
from agents.lokka.app import lokka, registry
from agents.lokka.client import bounded
from agents.lokka.guard import Plan, guarded_write, request_targets, write_parts
from agents.lokka.models import Confirm, Cursor, Item, Limit, Page, WriteResult
from agents.lokka.paths import parse_path


@registry.tool(destructive=True)
async def graph_request(
    ctx: Context[Any, Any],
    path: Annotated[str, Field(description="Relative Graph path, e.g. /users/{id}/memberOf")],
    method: Annotated[
        Literal["GET", "POST", "PATCH", "PUT", "DELETE"], Field(description="HTTP method")
    ] = "GET",
    query: Annotated[
        dict[str, str] | None,
        Field(description='Query options, e.g. {"$select": "id,displayName", "$top": "10"}'),
    ] = None,
    body: Annotated[
        dict[str, Any] | None, Field(description="JSON body for POST, PATCH and PUT")
    ] = None,
    version: Annotated[
        Literal["v1.0", "beta"] | None,
        Field(description="Graph version; default LOKKA_GRAPH_VERSION (v1.0)"),
    ] = None,
    consistency_eventual: Annotated[
        bool,
        Field(description="Send ConsistencyLevel: eventual (for $count, $search, ne, endsWith)"),
    ] = False,
    limit: Limit = 25,
    cursor: Cursor = None,
    confirm: Confirm = False,
) -> Page | Item | WriteResult:
    """Call any Microsoft Graph endpoint. GET returns a page (collections) or the object;
    any other method is a write: a dry run showing the exact request unless confirm=true.
    A write to /$batch is checked request by request, and refused unless every one passes."""
    client = lokka(ctx)
    gpath = parse_path(bounded(path, "path"))
    if version and gpath.version and version != gpath.version:
        raise InputError(f"path names {gpath.version} but version is {version}: pass one")
    ver = version or gpath.version or client.settings.graph_version
    query = dict(query or {})
    if method == "GET":
        if body is not None:
            raise InputError("body is only for POST, PATCH and PUT")
        url = client.check_cursor(cursor) if cursor else client.graph_url(gpath, query, ver)
        data = await client.get(url, eventual=consistency_eventual)
        if isinstance(data, dict) and isinstance(data.get("value"), list):
            return await client.collect(url, data, limit=limit, eventual=consistency_eventual)
        item = data if isinstance(data, dict) else {"value": data}
        return Item(tenant=client.tenant, request=f"GET {url}", item=item)
    if method == "DELETE" and body is not None:
        raise InputError("DELETE takes no body")

    async def plan() -> Plan:
        url = client.graph_url(gpath, query, ver)
        sent, parts = write_parts(client, method, gpath, body)
        req = client.graph_request(method, url, sent, eventual=consistency_eventual)
        if method in ("POST", "PATCH", "PUT") and body is None:
            req.body = {} if method != "POST" else None
        return Plan(await request_targets(client, parts), [req])

    action = f"graph {method} {gpath.text}"
    return await guarded_write(client, action=action, confirm=confirm, plan=plan)
