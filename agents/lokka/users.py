"""User tools: list, get, create, update, disable/enable, password, sessions, licenses."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from pydantic import Field

from agents.core.errors import InputError
from agents.lokka.app import listing, lokka, registry
from agents.lokka.client import seg
from agents.lokka.guard import GUID, Plan, Target, guarded_write, resolve
from agents.lokka.models import Confirm, Cursor, Filter, Item, Limit, Page, Select, WriteResult

USER_SELECT = (
    "id,displayName,userPrincipalName,mail,accountEnabled,jobTitle,department,usageLocation,"
    "createdDateTime"
)
UserRef = Annotated[str, Field(description="User object id or userPrincipalName")]
Password = Annotated[
    str,
    Field(
        min_length=8,
        max_length=256,
        description="Temporary password (never shown back or recorded); the user changes it",
    ),
]


def _check_password(password: str) -> None:
    classes = sum(
        any(f(c) for c in password)
        for f in (str.islower, str.isupper, str.isdigit, lambda c: not c.isalnum())
    )
    if classes < 3:
        raise InputError(
            "password must mix at least three of: lower case, upper case, digits, symbols "
            "(Entra ID's complexity rule)"
        )


@registry.tool(read_only=True)
async def list_users(
    ctx: Context[Any, Any],
    filter: Filter = None,
    search: Annotated[
        str | None, Field(description='Search text, e.g. "ada" or "mail:ada@contoso.com"')
    ] = None,
    select: Select = None,
    count: Annotated[bool, Field(description="Also return the total number of matches")] = False,
    limit: Limit = 25,
    cursor: Cursor = None,
) -> Page:
    """List users (GET /users) with optional $filter, $search, $select and $count."""
    return await listing(
        ctx,
        "/users",
        select=select,
        default_select=USER_SELECT,
        limit=limit,
        cursor=cursor,
        filter=filter,
        search=search,
        count=count,
    )


@registry.tool(read_only=True)
async def get_user(
    ctx: Context[Any, Any],
    user: UserRef,
    select: Select = None,
    include_manager: Annotated[bool, Field(description="Also return the user's manager")] = False,
) -> Item:
    """Get one user by id or UPN (GET /users/{id}), optionally with their manager."""
    client = lokka(ctx)
    query: dict[str, Any] = {"$select": ",".join(select) if select else USER_SELECT}
    if include_manager:
        query["$expand"] = "manager($select=id,displayName,userPrincipalName)"
    url = client.graph_url(f"/users/{seg(user, 'user')}", query)
    return Item(tenant=client.tenant, request=f"GET {url}", item=await client.get(url))


@registry.tool(read_only=True)
async def list_user_licenses(ctx: Context[Any, Any], user: UserRef) -> Page:
    """List the licenses (SKUs, service plans) a user has (GET /users/{id}/licenseDetails)."""
    return await listing(
        ctx,
        f"/users/{seg(user, 'user')}/licenseDetails",
        select=None,
        default_select=None,
        limit=100,
        cursor=None,
        top=False,
    )


@registry.tool(read_only=True)
async def list_user_groups(
    ctx: Context[Any, Any],
    user: UserRef,
    transitive: Annotated[bool, Field(description="Include nested memberships")] = False,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page:
    """List the groups and directory roles a user belongs to (GET /users/{id}/memberOf)."""
    rel = "transitiveMemberOf" if transitive else "memberOf"
    return await listing(
        ctx,
        f"/users/{seg(user, 'user')}/{rel}",
        select=None,
        default_select="id,displayName,mail,securityEnabled,roleTemplateId",
        limit=limit,
        cursor=cursor,
    )


@registry.tool(destructive=False)
async def create_user(
    ctx: Context[Any, Any],
    display_name: Annotated[str, Field(min_length=1, description="Display name")],
    user_principal_name: Annotated[
        str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", description="UPN, e.g. ada@contoso.com")
    ],
    password: Password,
    mail_nickname: Annotated[
        str | None, Field(description="Mail alias; defaults to the UPN's local part")
    ] = None,
    usage_location: Annotated[
        str | None,
        Field(pattern=r"^[A-Z]{2}$", description="Two-letter country code (licenses need it)"),
    ] = None,
    job_title: Annotated[str | None, Field(description="Job title")] = None,
    department: Annotated[str | None, Field(description="Department")] = None,
    account_enabled: Annotated[bool, Field(description="Whether the account can sign in")] = True,
    confirm: Confirm = False,
) -> WriteResult:
    """Create a user (POST /users) who must change the password at first sign-in."""
    client = lokka(ctx)
    _check_password(password)
    nickname = mail_nickname or user_principal_name.split("@", 1)[0]
    body: dict[str, Any] = {
        "accountEnabled": account_enabled,
        "displayName": display_name,
        "mailNickname": nickname,
        "userPrincipalName": user_principal_name,
        "passwordProfile": {"forceChangePasswordNextSignIn": True, "password": password},
    }
    body.update(
        {
            k: v
            for k, v in (
                ("usageLocation", usage_location),
                ("jobTitle", job_title),
                ("department", department),
            )
            if v
        }
    )

    async def plan() -> Plan:
        new = Target(kind="user", id="(new)", names=(user_principal_name, nickname, display_name))
        req = client.graph_request("POST", client.graph_url("/users"), body)
        return Plan([new], [req])

    return await guarded_write(client, action="create user", confirm=confirm, plan=plan)


UPDATABLE = {
    "display_name": "displayName",
    "job_title": "jobTitle",
    "department": "department",
    "office_location": "officeLocation",
    "mobile_phone": "mobilePhone",
    "usage_location": "usageLocation",
    "company_name": "companyName",
    "employee_id": "employeeId",
}


@registry.tool(idempotent=True)
async def update_user(
    ctx: Context[Any, Any],
    user: UserRef,
    display_name: Annotated[str | None, Field(description="New display name")] = None,
    job_title: Annotated[str | None, Field(description="New job title")] = None,
    department: Annotated[str | None, Field(description="New department")] = None,
    office_location: Annotated[str | None, Field(description="New office location")] = None,
    mobile_phone: Annotated[str | None, Field(description="New mobile phone")] = None,
    usage_location: Annotated[
        str | None, Field(pattern=r"^[A-Z]{2}$", description="Two-letter country code")
    ] = None,
    company_name: Annotated[str | None, Field(description="New company name")] = None,
    employee_id: Annotated[str | None, Field(description="New employee id")] = None,
    confirm: Confirm = False,
) -> WriteResult:
    """Update a user's profile fields (PATCH /users/{id}); only the fields given change."""
    client = lokka(ctx)
    given = locals()
    body = {graph: given[name] for name, graph in UPDATABLE.items() if given[name] is not None}
    if not body:
        raise InputError(f"nothing to update: pass at least one of {', '.join(UPDATABLE)}")

    async def plan() -> Plan:
        t = await resolve(client, "users", user, "user")
        return Plan([t], [client.graph_request("PATCH", client.graph_url(f"/users/{t.id}"), body)])

    return await guarded_write(client, action="update user", confirm=confirm, plan=plan)


async def _account_enabled(
    ctx: Context[Any, Any], user: str, enabled: bool, revoke: bool, confirm: bool
) -> WriteResult:
    client = lokka(ctx)

    async def plan() -> Plan:
        t = await resolve(client, "users", user, "user")
        url = client.graph_url(f"/users/{t.id}")
        reqs = [client.graph_request("PATCH", url, {"accountEnabled": enabled})]
        if revoke:
            reqs.append(client.graph_request("POST", f"{url}/revokeSignInSessions"))
        return Plan([t], reqs)

    action = "enable user" if enabled else "disable user"
    return await guarded_write(client, action=action, confirm=confirm, plan=plan)


@registry.tool(idempotent=True)
async def disable_user(
    ctx: Context[Any, Any],
    user: UserRef,
    revoke_sessions: Annotated[
        bool, Field(description="Also revoke refresh tokens so existing sessions end")
    ] = True,
    confirm: Confirm = False,
) -> WriteResult:
    """Block a user's sign-in (PATCH accountEnabled=false) and revoke their sessions."""
    return await _account_enabled(ctx, user, False, revoke_sessions, confirm)


@registry.tool(idempotent=True)
async def enable_user(
    ctx: Context[Any, Any], user: UserRef, confirm: Confirm = False
) -> WriteResult:
    """Allow a user to sign in again (PATCH accountEnabled=true)."""
    return await _account_enabled(ctx, user, True, False, confirm)


@registry.tool()
async def reset_user_password(
    ctx: Context[Any, Any],
    user: UserRef,
    password: Password,
    force_change: Annotated[
        bool, Field(description="Require a new password at next sign-in")
    ] = True,
    confirm: Confirm = False,
) -> WriteResult:
    """Set a new temporary password for a user (PATCH /users/{id} passwordProfile)."""
    client = lokka(ctx)
    _check_password(password)
    body = {
        "passwordProfile": {"forceChangePasswordNextSignIn": force_change, "password": password}
    }

    async def plan() -> Plan:
        t = await resolve(client, "users", user, "user")
        return Plan([t], [client.graph_request("PATCH", client.graph_url(f"/users/{t.id}"), body)])

    return await guarded_write(client, action="reset password", confirm=confirm, plan=plan)


@registry.tool(idempotent=True)
async def revoke_user_sessions(
    ctx: Context[Any, Any], user: UserRef, confirm: Confirm = False
) -> WriteResult:
    """Sign a user out everywhere (POST /users/{id}/revokeSignInSessions)."""
    client = lokka(ctx)

    async def plan() -> Plan:
        t = await resolve(client, "users", user, "user")
        url = client.graph_url(f"/users/{t.id}/revokeSignInSessions")
        return Plan([t], [client.graph_request("POST", url)])

    return await guarded_write(client, action="revoke sessions", confirm=confirm, plan=plan)


SkuIds = Annotated[list[str], Field(description="SKU ids (GUIDs) from list_subscribed_skus")]


@registry.tool(idempotent=True)
async def assign_user_licenses(
    ctx: Context[Any, Any],
    user: UserRef,
    add_sku_ids: SkuIds = [],  # noqa: B006  pydantic copies defaults
    remove_sku_ids: SkuIds = [],  # noqa: B006
    disabled_plans: Annotated[
        list[str], Field(description="Service plan ids to leave off in the added SKUs")
    ] = [],  # noqa: B006
    confirm: Confirm = False,
) -> WriteResult:
    """Add and/or remove licenses for a user (POST /users/{id}/assignLicense)."""
    client = lokka(ctx)
    if not add_sku_ids and not remove_sku_ids:
        raise InputError("pass add_sku_ids and/or remove_sku_ids (see list_subscribed_skus)")
    for name, ids in (
        ("add_sku_ids", add_sku_ids),
        ("remove_sku_ids", remove_sku_ids),
        ("disabled_plans", disabled_plans),
    ):
        bad = [i for i in ids if not GUID.match(i)]
        if bad:
            raise InputError(f"{name} must hold GUIDs; not: {', '.join(bad)}")
    body = {
        "addLicenses": [{"skuId": s, "disabledPlans": disabled_plans} for s in add_sku_ids],
        "removeLicenses": remove_sku_ids,
    }

    async def plan() -> Plan:
        t = await resolve(client, "users", user, "user")
        if add_sku_ids and not t.data.get("usageLocation"):
            raise InputError(
                f"{t.label} has no usageLocation, which Graph needs before assigning a license: "
                "set it first with update_user(usage_location='US')"
            )
        url = client.graph_url(f"/users/{t.id}/assignLicense")
        return Plan([t], [client.graph_request("POST", url, body)])

    return await guarded_write(client, action="assign licenses", confirm=confirm, plan=plan)
