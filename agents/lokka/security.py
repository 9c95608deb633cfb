"""Security and collaboration tools: logs, conditional access, alerts, health, sites, Teams."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from pydantic import BaseModel, Field

from agents.lokka.app import listing, lokka, registry
from agents.lokka.client import seg
from agents.lokka.guard import protected_match, target_of
from agents.lokka.models import Cursor, Filter, Limit, Page, Select

Since = Annotated[
    str | None,
    Field(
        pattern=r"^\d{4}-\d{2}-\d{2}(T[\d:.]+Z?)?$",
        description="Only entries at or after this UTC time: 2026-01-31 or 2026-01-31T08:00:00Z",
    ),
]


def _since(field: str, since: str | None) -> str | None:
    if not since:
        return None
    return f"{field} ge {since if 'T' in since else since + 'T00:00:00Z'}"


def _and(*clauses: str | None) -> str | None:
    return " and ".join(c for c in clauses if c) or None


def _q(value: str) -> str:
    return value.replace("'", "''")


@registry.tool(read_only=True)
async def list_sign_ins(
    ctx: Context[Any, Any],
    user: Annotated[str | None, Field(description="Only this user's UPN")] = None,
    app: Annotated[str | None, Field(description="Only this app's display name")] = None,
    failures_only: Annotated[bool, Field(description="Only failed sign-ins")] = False,
    since: Since = None,
    filter: Filter = None,
    limit: Limit = 25,
    cursor: Cursor = None,
) -> Page:
    """List Entra ID sign-in logs (GET /auditLogs/signIns; needs Entra ID P1), newest first."""
    clause = _and(
        filter,
        f"userPrincipalName eq '{_q(user)}'" if user else None,
        f"appDisplayName eq '{_q(app)}'" if app else None,
        "status/errorCode ne 0" if failures_only else None,
        _since("createdDateTime", since),
    )
    return await listing(
        ctx,
        "/auditLogs/signIns",
        select=None,
        default_select=None,
        limit=limit,
        cursor=cursor,
        filter=clause,
        directory=False,
    )


@registry.tool(read_only=True)
async def list_directory_audits(
    ctx: Context[Any, Any],
    category: Annotated[
        str | None, Field(description="e.g. UserManagement, GroupManagement, RoleManagement")
    ] = None,
    activity: Annotated[
        str | None, Field(description="Activity name, e.g. Add member to role")
    ] = None,
    initiated_by: Annotated[str | None, Field(description="UPN of the user who did it")] = None,
    since: Since = None,
    filter: Filter = None,
    limit: Limit = 25,
    cursor: Cursor = None,
) -> Page:
    """List directory audit logs: who changed what in Entra ID (GET /auditLogs/directoryAudits)."""
    clause = _and(
        filter,
        f"category eq '{_q(category)}'" if category else None,
        f"activityDisplayName eq '{_q(activity)}'" if activity else None,
        f"initiatedBy/user/userPrincipalName eq '{_q(initiated_by)}'" if initiated_by else None,
        _since("activityDateTime", since),
    )
    return await listing(
        ctx,
        "/auditLogs/directoryAudits",
        select=None,
        default_select=None,
        limit=limit,
        cursor=cursor,
        filter=clause,
        directory=False,
    )


@registry.tool(read_only=True)
async def list_conditional_access_policies(
    ctx: Context[Any, Any],
    state: Annotated[
        Literal["any", "enabled", "disabled", "enabledForReportingButNotEnforced"],
        Field(description="Only policies in this state"),
    ] = "any",
) -> Page:
    """List conditional access policies; flag enabled ones that exclude no protected account.

    A policy that excludes no break-glass account can lock every admin out.
    """
    client = lokka(ctx)
    page = await listing(
        ctx,
        "/identity/conditionalAccess/policies",
        select=None,
        default_select="id,displayName,state,conditions,grantControls,modifiedDateTime",
        limit=client.settings.max_items,
        cursor=None,
        top=False,
        directory=False,
        filter=f"state eq '{state}'" if state != "any" else None,
    )
    excluded: dict[str, list[str]] = {}
    for p in page.items:
        users = (p.get("conditions") or {}).get("users") or {}
        excluded[p["id"]] = (users.get("excludeUsers") or []) + (users.get("excludeGroups") or [])
    ids = list(dict.fromkeys(i for v in excluded.values() for i in v))[:100]
    names: dict[str, Any] = {}
    for start in range(0, len(ids), 20):
        chunk = ids[start : start + 20]
        urls = [client.graph_url(f"/directoryObjects/{seg(i, 'id')}") for i in chunk]
        for i, body in zip(chunk, await client.batch(urls, missing_ok=True), strict=True):
            names[i] = target_of("object", body or {"id": i})
    for p in page.items:
        hits = [
            names[i].label
            for i in excluded[p["id"]]
            if i in names and protected_match(client.settings.protected, names[i])
        ]
        p["lokkaExcludedProtected"] = hits
        p["lokkaWarning"] = (
            "enabled policy excludes no protected (break-glass) account: a mistake here can "
            "lock every admin out"
            if p.get("state") == "enabled" and not hits
            else None
        )
    return page


@registry.tool(read_only=True)
async def list_security_alerts(
    ctx: Context[Any, Any],
    severity: Annotated[
        Literal["any", "high", "medium", "low", "informational"], Field(description="Severity")
    ] = "any",
    status: Annotated[
        Literal["any", "new", "inProgress", "resolved"], Field(description="Alert status")
    ] = "any",
    since: Since = None,
    filter: Filter = None,
    limit: Limit = 25,
    cursor: Cursor = None,
) -> Page:
    """List Microsoft Defender security alerts (GET /security/alerts_v2), newest first."""
    clause = _and(
        filter,
        f"severity eq '{severity}'" if severity != "any" else None,
        f"status eq '{status}'" if status != "any" else None,
        _since("createdDateTime", since),
    )
    return await listing(
        ctx,
        "/security/alerts_v2",
        select=None,
        default_select=None,
        limit=limit,
        cursor=cursor,
        filter=clause,
        directory=False,
    )


class ServiceHealth(BaseModel):
    """Microsoft 365 service health: one status per service, and the unresolved issues."""

    tenant: str
    services: list[dict[str, Any]] = Field(description="Health overview per service")
    open_issues: list[dict[str, Any]] = Field(description="Unresolved incidents and advisories")


@registry.tool(read_only=True)
async def get_service_health(
    ctx: Context[Any, Any],
    service: Annotated[
        str | None, Field(description="Only this service, e.g. Exchange Online")
    ] = None,
    include_issues: Annotated[bool, Field(description="Also list unresolved issues")] = True,
) -> ServiceHealth:
    """Microsoft 365 service health and open issues, fetched together in one $batch."""
    client = lokka(ctx)
    base = "/admin/serviceAnnouncement"
    urls = [client.graph_url(f"{base}/healthOverviews", {"$select": "id,service,status"})]
    if include_issues:
        flt = _and("isResolved eq false", f"service eq '{_q(service)}'" if service else None)
        urls.append(
            client.graph_url(
                f"{base}/issues",
                {
                    "$filter": flt,
                    "$select": "id,title,service,status,classification,"
                    "startDateTime,lastModifiedDateTime,impactDescription",
                    "$top": 100,
                },
            )
        )
    bodies = await client.batch(urls)
    services = bodies[0].get("value", [])
    if service:
        services = [s for s in services if s.get("service", "").casefold() == service.casefold()]
    issues = bodies[1].get("value", []) if include_issues else []
    return ServiceHealth(tenant=client.tenant, services=services, open_issues=issues)


@registry.tool(read_only=True)
async def list_service_messages(
    ctx: Context[Any, Any],
    service: Annotated[str | None, Field(description="Only messages about this service")] = None,
    limit: Limit = 25,
    cursor: Cursor = None,
) -> Page:
    """List Microsoft 365 message center posts (GET /admin/serviceAnnouncement/messages)."""
    return await listing(
        ctx,
        "/admin/serviceAnnouncement/messages",
        select=None,
        default_select="id,title,services,category,severity,startDateTime,actionRequiredByDateTime",
        limit=limit,
        cursor=cursor,
        directory=False,
        filter=f"services/any(s:s eq '{_q(service)}')" if service else None,
    )


@registry.tool(read_only=True)
async def search_sites(
    ctx: Context[Any, Any],
    query: Annotated[str, Field(min_length=1, description="Words in the site's name or URL")],
    limit: Limit = 25,
    cursor: Cursor = None,
) -> Page:
    """Search SharePoint sites (GET /sites?search=...)."""
    return await listing(
        ctx,
        "/sites",
        select=None,
        default_select="id,displayName,name,webUrl,createdDateTime",
        limit=limit,
        cursor=cursor,
        extra={"search": query},
        top=False,
        directory=False,
    )


@registry.tool(read_only=True)
async def list_site_drives(
    ctx: Context[Any, Any],
    site: Annotated[str, Field(description="Site id from search_sites")],
) -> Page:
    """List a SharePoint site's document libraries (GET /sites/{id}/drives)."""
    return await listing(
        ctx,
        f"/sites/{seg(site, 'site')}/drives",
        select=None,
        default_select="id,name,driveType,webUrl,quota",
        limit=100,
        cursor=None,
        top=False,
        directory=False,
    )


@registry.tool(read_only=True)
async def list_teams(
    ctx: Context[Any, Any],
    name: Annotated[str | None, Field(description="Only teams whose name starts with this")] = None,
    select: Select = None,
    limit: Limit = 25,
    cursor: Cursor = None,
) -> Page:
    """List Microsoft Teams teams (groups provisioned as a team)."""
    clause = _and(
        "resourceProvisioningOptions/Any(x:x eq 'Team')",
        f"startswith(displayName,'{_q(name)}')" if name else None,
    )
    return await listing(
        ctx,
        "/groups",
        select=select,
        default_select="id,displayName,description,mail,visibility,createdDateTime",
        limit=limit,
        cursor=cursor,
        filter=clause,
    )


@registry.tool(read_only=True)
async def list_team_channels(
    ctx: Context[Any, Any],
    team: Annotated[str, Field(description="Team (group) id")],
) -> Page:
    """List a team's channels (GET /teams/{id}/channels)."""
    return await listing(
        ctx,
        f"/teams/{seg(team, 'team')}/channels",
        select=None,
        default_select="id,displayName,description,membershipType,webUrl",
        limit=200,
        cursor=None,
        top=False,
        directory=False,
    )
