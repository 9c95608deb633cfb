"""Device and application tools: Entra and Intune devices, apps, service principals, secrets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from pydantic import BaseModel, Field

from agents.lokka.app import listing, lokka, registry
from agents.lokka.guard import Plan, guarded_write, resolve
from agents.lokka.models import Confirm, Cursor, Filter, Limit, Page, Select, WriteResult


@registry.tool(read_only=True)
async def list_devices(
    ctx: Context[Any, Any],
    filter: Filter = None,
    select: Select = None,
    count: Annotated[bool, Field(description="Also return the total number of matches")] = False,
    limit: Limit = 25,
    cursor: Cursor = None,
) -> Page:
    """List Entra ID device objects (GET /devices), e.g. filter operatingSystem eq 'Windows'."""
    return await listing(
        ctx,
        "/devices",
        select=select,
        default_select="id,deviceId,displayName,operatingSystem,operatingSystemVersion,trustType,"
        "accountEnabled,approximateLastSignInDateTime",
        limit=limit,
        cursor=cursor,
        filter=filter,
        count=count,
    )


@registry.tool(read_only=True)
async def list_managed_devices(
    ctx: Context[Any, Any],
    filter: Filter = None,
    select: Select = None,
    limit: Limit = 25,
    cursor: Cursor = None,
) -> Page:
    """List Intune managed devices (GET /deviceManagement/managedDevices).

    Filter e.g. complianceState eq 'noncompliant'.
    """
    return await listing(
        ctx,
        "/deviceManagement/managedDevices",
        select=select,
        default_select="id,deviceName,userPrincipalName,operatingSystem,osVersion,"
        "complianceState,managementState,lastSyncDateTime",
        limit=limit,
        cursor=cursor,
        filter=filter,
        directory=False,
    )


@registry.tool(destructive=True)
async def run_managed_device_action(
    ctx: Context[Any, Any],
    device: Annotated[str, Field(description="Intune managed device id")],
    action: Annotated[
        Literal["syncDevice", "rebootNow", "retire", "wipe"],
        Field(description="Remote action; retire and wipe remove company data or everything"),
    ],
    confirm: Confirm = False,
) -> WriteResult:
    """Run an Intune remote action on a managed device: sync, reboot, retire or wipe.

    POST /deviceManagement/managedDevices/{id}/{action}.
    """
    client = lokka(ctx)

    async def plan() -> Plan:
        d = await resolve(client, "deviceManagement/managedDevices", device, "device")
        url = client.graph_url(f"/deviceManagement/managedDevices/{d.id}/{action}")
        note = None
        if action in ("retire", "wipe"):
            note = f"{action} cannot be undone: check the device name and user before confirming"
        return Plan(
            [d], [client.graph_request("POST", url, {} if action == "wipe" else None)], note
        )

    return await guarded_write(client, action=f"device {action}", confirm=confirm, plan=plan)


@registry.tool(read_only=True)
async def list_applications(
    ctx: Context[Any, Any],
    filter: Filter = None,
    select: Select = None,
    limit: Limit = 25,
    cursor: Cursor = None,
) -> Page:
    """List app registrations (GET /applications) with their secrets' and certificates' expiry."""
    return await listing(
        ctx,
        "/applications",
        select=select,
        default_select="id,appId,displayName,signInAudience,createdDateTime,passwordCredentials,"
        "keyCredentials",
        limit=limit,
        cursor=cursor,
        filter=filter,
    )


@registry.tool(read_only=True)
async def list_service_principals(
    ctx: Context[Any, Any],
    filter: Filter = None,
    app_id: Annotated[str | None, Field(description="Only the principal of this appId")] = None,
    select: Select = None,
    limit: Limit = 25,
    cursor: Cursor = None,
) -> Page:
    """List service principals (enterprise apps) (GET /servicePrincipals)."""
    clauses = [c for c in (filter, f"appId eq '{app_id}'" if app_id else None) if c]
    return await listing(
        ctx,
        "/servicePrincipals",
        select=select,
        default_select="id,appId,displayName,servicePrincipalType,accountEnabled,"
        "appOwnerOrganizationId,passwordCredentials,keyCredentials",
        limit=limit,
        cursor=cursor,
        filter=" and ".join(clauses) or None,
    )


class ExpiringCredential(BaseModel):
    """A secret or certificate of an app that expires soon (or has expired)."""

    object: str = Field(description="applications or servicePrincipals")
    id: str = Field(description="Object id")
    app_id: str | None = Field(description="Application (client) id")
    display_name: str | None = Field(description="App name")
    kind: Literal["secret", "certificate"] = Field(description="Credential type")
    key_id: str | None = Field(description="Credential key id")
    end: str = Field(description="Expiry (ISO 8601)")
    days_left: int = Field(description="Days until expiry; negative when already expired")


class ExpiringCredentials(BaseModel):
    """Credentials expiring within the window, soonest first, over the apps scanned."""

    tenant: str
    within_days: int
    scanned: int = Field(description="Apps scanned in this call")
    credentials: list[ExpiringCredential]
    next_cursor: str | None = Field(description="More apps to scan: call again with cursor")


@registry.tool(read_only=True)
async def list_expiring_credentials(
    ctx: Context[Any, Any],
    within_days: Annotated[int, Field(ge=0, le=3650, description="Expiry window in days")] = 30,
    objects: Annotated[
        Literal["applications", "servicePrincipals"], Field(description="What to scan")
    ] = "applications",
    limit: Annotated[int, Field(ge=1, le=1000, description="Most apps to scan")] = 200,
    cursor: Cursor = None,
) -> ExpiringCredentials:
    """Find app secrets and certificates that expire within N days (or already expired)."""
    page = await listing(
        ctx,
        f"/{objects}",
        select=None,
        default_select="id,appId,displayName,passwordCredentials,keyCredentials",
        limit=limit,
        cursor=cursor,
    )
    now = datetime.now(UTC)
    horizon = now + timedelta(days=within_days)
    found = []
    for app in page.items:
        for kind, field in (("secret", "passwordCredentials"), ("certificate", "keyCredentials")):
            for cred in app.get(field) or []:
                raw = cred.get("endDateTime")
                if not raw:
                    continue
                end = datetime.fromisoformat(raw.replace("Z", "+00:00"))
                if end <= horizon:
                    found.append(
                        ExpiringCredential(
                            object=objects,
                            id=app["id"],
                            app_id=app.get("appId"),
                            display_name=app.get("displayName"),
                            kind=kind,
                            key_id=cred.get("keyId"),
                            end=raw,
                            days_left=(end - now).days,
                        )
                    )
    found.sort(key=lambda c: c.end)
    return ExpiringCredentials(
        tenant=page.tenant,
        within_days=within_days,
        scanned=len(page.items),
        credentials=found,
        next_cursor=page.next_cursor,
    )
