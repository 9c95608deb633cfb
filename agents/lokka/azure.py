"""Azure Resource Manager tools: subscriptions, resource groups, resources, costs."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from pydantic import BaseModel, Field

from agents.core.errors import InputError
from agents.lokka.app import lokka, registry
from agents.lokka.client import seg, validate_path
from agents.lokka.models import Cursor, Limit, Page

SUBSCRIPTIONS_API = "2022-12-01"
RESOURCES_API = "2021-04-01"
COST_API = "2023-03-01"
SCOPE = re.compile(
    r"^/subscriptions/[0-9a-f-]{36}(/resourceGroups/[\w().-]+)?$"
    r"|^/providers/Microsoft\.Management/managementGroups/[\w.-]+$"
    r"|^/providers/Microsoft\.Billing/billingAccounts/[\w:.-]+$",
    re.I,
)
Subscription = Annotated[str, Field(pattern=r"^[0-9a-fA-F-]{36}$", description="Subscription id")]


@registry.tool(read_only=True)
async def list_subscriptions(
    ctx: Context[Any, Any], limit: Limit = 50, cursor: Cursor = None
) -> Page:
    """List the Azure subscriptions the agent can see (ARM GET /subscriptions)."""
    client = lokka(ctx)
    url = client.arm_url("/subscriptions", SUBSCRIPTIONS_API)
    return await client.arm_page(url, limit=limit, cursor=cursor)


@registry.tool(read_only=True)
async def list_resource_groups(
    ctx: Context[Any, Any],
    subscription: Subscription,
    tag: Annotated[
        str | None, Field(description="Only groups with this tag, as name or name=value")
    ] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page:
    """List a subscription's resource groups (ARM GET /subscriptions/{id}/resourcegroups)."""
    client = lokka(ctx)
    query = {"$filter": _tag_filter(tag)} if tag else None
    url = client.arm_url(f"/subscriptions/{subscription}/resourcegroups", RESOURCES_API, query)
    return await client.arm_page(url, limit=limit, cursor=cursor)


def _tag_filter(tag: str) -> str:
    name, _, value = tag.partition("=")
    name, value = name.replace("'", "''"), value.replace("'", "''")
    return f"tagName eq '{name}' and tagValue eq '{value}'" if value else f"tagName eq '{name}'"


@registry.tool(read_only=True)
async def list_resources(
    ctx: Context[Any, Any],
    subscription: Subscription,
    resource_group: Annotated[str | None, Field(description="Only this resource group")] = None,
    resource_type: Annotated[
        str | None, Field(description="Only this type, e.g. Microsoft.Compute/virtualMachines")
    ] = None,
    tag: Annotated[str | None, Field(description="Only with this tag, name or name=value")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page:
    """List Azure resources in a subscription or resource group (ARM GET .../resources)."""
    client = lokka(ctx)
    if resource_type and tag:
        raise InputError("ARM cannot filter by resource_type and tag at once: pass one of them")
    path = f"/subscriptions/{subscription}"
    if resource_group:
        path += f"/resourceGroups/{seg(resource_group, 'resource_group')}"
    flt = f"resourceType eq '{resource_type}'" if resource_type else None
    if tag:
        flt = _tag_filter(tag)
    query = {"$filter": flt, "$top": min(limit, 1000)}
    url = client.arm_url(f"{path}/resources", RESOURCES_API, query)
    return await client.arm_page(url, limit=limit, cursor=cursor)


class CostReport(BaseModel):
    """A Cost Management query result as rows of named columns."""

    tenant: str
    request: str = Field(description="The request sent")
    columns: list[str] = Field(description="Column names, e.g. Cost, ServiceName, Currency")
    rows: list[list[Any]] = Field(description="One list per row, in column order")
    next_cursor: str | None = Field(default=None, description="More rows: not fetched")


@registry.tool(read_only=True)
async def query_costs(
    ctx: Context[Any, Any],
    scope: Annotated[
        str,
        Field(
            description="/subscriptions/{id}[/resourceGroups/{name}], or a management group path"
        ),
    ],
    timeframe: Annotated[
        Literal["MonthToDate", "TheLastMonth", "BillingMonthToDate", "WeekToDate", "Custom"],
        Field(description="Period; Custom needs start and end"),
    ] = "MonthToDate",
    start: Annotated[
        str | None, Field(pattern=r"^\d{4}-\d{2}-\d{2}$", description="Custom start date")
    ] = None,
    end: Annotated[
        str | None, Field(pattern=r"^\d{4}-\d{2}-\d{2}$", description="Custom end date")
    ] = None,
    granularity: Annotated[
        Literal["None", "Daily", "Monthly"], Field(description="Row per period")
    ] = "None",
    group_by: Annotated[
        list[
            Literal[
                "ServiceName", "ResourceGroup", "ResourceType", "ResourceLocation", "MeterCategory"
            ]
        ],
        Field(max_length=2, description="Dimensions to group the cost by (at most 2)"),
    ] = ["ServiceName"],  # noqa: B006  pydantic copies defaults
) -> CostReport:
    """Actual cost of a scope over a period, grouped by service or resource group.

    ARM POST {scope}/providers/Microsoft.CostManagement/query (a query, so it changes nothing).
    """
    client = lokka(ctx)
    scope = validate_path(scope, "scope").rstrip("/")
    if not SCOPE.match(scope):
        raise InputError(
            f"scope {scope!r} must be /subscriptions/<id>[/resourceGroups/<name>] or a management "
            "group or billing account path"
        )
    if (timeframe == "Custom") != bool(start and end):
        raise InputError(
            "timeframe=Custom needs start and end (YYYY-MM-DD), and only it takes them"
        )
    body: dict[str, Any] = {
        "type": "ActualCost",
        "timeframe": timeframe,
        "dataset": {
            "granularity": granularity,
            "aggregation": {"totalCost": {"name": "Cost", "function": "Sum"}},
            "grouping": [{"type": "Dimension", "name": g} for g in group_by],
        },
    }
    if timeframe == "Custom":
        body["timePeriod"] = {"from": f"{start}T00:00:00Z", "to": f"{end}T23:59:59Z"}
    url = client.arm_url(f"{scope}/providers/Microsoft.CostManagement/query", COST_API)
    data = await client.arm("POST", url, body, idempotent=True)  # a query: changes nothing
    props = data.get("properties") or {}
    return CostReport(
        tenant=client.tenant,
        request=f"POST {url}",
        columns=[c.get("name", "") for c in props.get("columns", [])],
        rows=props.get("rows", []),
        next_cursor=props.get("nextLink"),
    )
