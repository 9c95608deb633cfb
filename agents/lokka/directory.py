"""Directory tools: groups and members, license SKUs, directory roles."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from pydantic import Field

from agents.core.errors import InputError, NotFoundError
from agents.lokka.app import listing, lokka, registry
from agents.lokka.client import seg
from agents.lokka.guard import GUID, Plan, Target, guarded_write, resolve
from agents.lokka.models import Confirm, Cursor, Filter, Limit, Page, Select, WriteResult

GroupRef = Annotated[str, Field(description="Group object id")]
MemberRef = Annotated[str, Field(description="Member object id, or a user's UPN")]


@registry.tool(read_only=True)
async def list_groups(
    ctx: Context[Any, Any],
    filter: Filter = None,
    search: Annotated[str | None, Field(description="Search text in display names")] = None,
    kind: Annotated[
        Literal["any", "security", "microsoft365", "dynamic"],
        Field(description="Only groups of this kind"),
    ] = "any",
    select: Select = None,
    count: Annotated[bool, Field(description="Also return the total number of matches")] = False,
    limit: Limit = 25,
    cursor: Cursor = None,
) -> Page:
    """List groups (GET /groups), optionally only security, Microsoft 365 or dynamic groups."""
    kinds = {
        "security": "securityEnabled eq true",
        "microsoft365": "groupTypes/any(c:c eq 'Unified')",
        "dynamic": "groupTypes/any(c:c eq 'DynamicMembership')",
    }
    clauses = [c for c in (filter, kinds.get(kind)) if c]
    return await listing(
        ctx,
        "/groups",
        select=select,
        default_select="id,displayName,mail,mailEnabled,securityEnabled,groupTypes,membershipRule",
        limit=limit,
        cursor=cursor,
        filter=" and ".join(clauses) or None,
        search=search,
        count=count,
    )


@registry.tool(read_only=True)
async def list_group_members(
    ctx: Context[Any, Any],
    group: GroupRef,
    transitive: Annotated[bool, Field(description="Include members of nested groups")] = False,
    select: Select = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page:
    """List a group's members (GET /groups/{id}/members or /transitiveMembers)."""
    rel = "transitiveMembers" if transitive else "members"
    return await listing(
        ctx,
        f"/groups/{seg(group, 'group')}/{rel}",
        select=select,
        default_select="id,displayName,userPrincipalName,mail",
        limit=limit,
        cursor=cursor,
    )


@registry.tool()
async def create_group(
    ctx: Context[Any, Any],
    display_name: Annotated[str, Field(min_length=1, description="Display name")],
    mail_nickname: Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]+$", description="Mail alias")],
    kind: Annotated[
        Literal["security", "microsoft365"],
        Field(description="Security group or Microsoft 365 group"),
    ] = "security",
    description: Annotated[str | None, Field(description="Description")] = None,
    membership_rule: Annotated[
        str | None, Field(description="Dynamic membership rule; makes the group dynamic")
    ] = None,
    confirm: Confirm = False,
) -> WriteResult:
    """Create a security or Microsoft 365 group, optionally dynamic (POST /groups)."""
    client = lokka(ctx)
    types = ["Unified"] if kind == "microsoft365" else []
    body: dict[str, Any] = {
        "displayName": display_name,
        "mailNickname": mail_nickname,
        "mailEnabled": kind == "microsoft365",
        "securityEnabled": kind == "security",
        "groupTypes": types,
    }
    if description:
        body["description"] = description
    if membership_rule:
        body.update(
            groupTypes=[*types, "DynamicMembership"],
            membershipRule=membership_rule,
            membershipRuleProcessingState="On",
        )

    async def plan() -> Plan:
        new = Target(kind="group", id="(new)", names=(display_name, mail_nickname))
        return Plan([new], [client.graph_request("POST", client.graph_url("/groups"), body)])

    return await guarded_write(client, action="create group", confirm=confirm, plan=plan)


async def _member(client: Any, ref: str) -> Target:
    if "@" in ref:
        return await resolve(client, "users", ref, "member")
    return await resolve(client, "directoryObjects", ref, "member")


@registry.tool(idempotent=True)
async def add_group_member(
    ctx: Context[Any, Any], group: GroupRef, member: MemberRef, confirm: Confirm = False
) -> WriteResult:
    """Add a user, group or device to a group (POST /groups/{id}/members/$ref)."""
    client = lokka(ctx)

    async def plan() -> Plan:
        g = await resolve(client, "groups", group, "group")
        m = await _member(client, member)
        body = {"@odata.id": client.graph_url(f"/directoryObjects/{m.id}")}
        url = client.graph_url(f"/groups/{g.id}/members/$ref")
        return Plan([g, m], [client.graph_request("POST", url, body)])

    return await guarded_write(client, action="add group member", confirm=confirm, plan=plan)


@registry.tool(destructive=True, idempotent=True)
async def remove_group_member(
    ctx: Context[Any, Any], group: GroupRef, member: MemberRef, confirm: Confirm = False
) -> WriteResult:
    """Remove a member from a group (DELETE /groups/{id}/members/{memberId}/$ref)."""
    client = lokka(ctx)

    async def plan() -> Plan:
        g = await resolve(client, "groups", group, "group")
        m = await _member(client, member)
        url = client.graph_url(f"/groups/{g.id}/members/{m.id}/$ref")
        return Plan([g, m], [client.graph_request("DELETE", url)])

    return await guarded_write(client, action="remove group member", confirm=confirm, plan=plan)


@registry.tool(read_only=True)
async def list_subscribed_skus(ctx: Context[Any, Any]) -> Page:
    """List the tenant's license SKUs with enabled, consumed and free seats (/subscribedSkus)."""
    page = await listing(
        ctx,
        "/subscribedSkus",
        select=None,
        default_select="skuId,skuPartNumber,capabilityStatus,consumedUnits,prepaidUnits,appliesTo",
        limit=500,
        cursor=None,
        top=False,
        directory=False,
    )
    for sku in page.items:
        enabled = (sku.get("prepaidUnits") or {}).get("enabled", 0)
        sku["freeUnits"] = enabled - sku.get("consumedUnits", 0)
    return page


@registry.tool(read_only=True)
async def list_directory_roles(ctx: Context[Any, Any]) -> Page:
    """List the activated directory roles (GET /directoryRoles) with their template ids."""
    return await listing(
        ctx,
        "/directoryRoles",
        select=None,
        default_select="id,displayName,roleTemplateId,description",
        limit=500,
        cursor=None,
        top=False,
    )


@registry.tool(read_only=True)
async def list_directory_role_members(
    ctx: Context[Any, Any],
    role: Annotated[str, Field(description="Directory role id, or its roleTemplateId")],
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Page:
    """List who holds a directory role (GET /directoryRoles/{id}/members)."""
    ref = seg(role, "role")

    async def members(path: str) -> Page:
        return await listing(
            ctx,
            f"{path}/members",
            select=None,
            default_select="id,displayName,userPrincipalName",
            limit=limit,
            cursor=cursor,
            top=False,
        )

    try:
        return await members(f"/directoryRoles/{ref}")
    except NotFoundError:
        if cursor or not GUID.match(ref):
            raise
        return await members(f"/directoryRoles(roleTemplateId='{ref}')")


@registry.tool()
async def add_directory_role_member(
    ctx: Context[Any, Any],
    role: Annotated[str, Field(description="Directory role id")],
    member: MemberRef,
    confirm: Confirm = False,
) -> WriteResult:
    """Give a user or service principal a directory role (POST /directoryRoles/{id}/members)."""
    client = lokka(ctx)
    if not role.strip():
        raise InputError("role must be a directory role id (see list_directory_roles)")

    async def plan() -> Plan:
        r = await resolve(client, "directoryRoles", role, "role")
        m = await _member(client, member)
        body = {"@odata.id": client.graph_url(f"/directoryObjects/{m.id}")}
        url = client.graph_url(f"/directoryRoles/{r.id}/members/$ref")
        note = f"grants {r.label} to {m.label}: privileged access, check with the user first"
        return Plan([r, m], [client.graph_request("POST", url, body)], note)

    return await guarded_write(client, action="add role member", confirm=confirm, plan=plan)
