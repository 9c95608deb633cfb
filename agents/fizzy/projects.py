"""Fizzy agent tools: identity, projects (Fizzy boards), their columns and the account's people."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from agents.core.errors import InputError, NotFoundError
from agents.fizzy.app import (
    AccountSlug,
    Ctx,
    Limit,
    PageToken,
    ProjectId,
    UserId,
    fizzy,
    registry,
)
from agents.fizzy.models import Column, Identity, Member, Page, Project, ProjectMember


@registry.tool(read_only=True)
async def get_identity(ctx: Ctx) -> Identity:
    """Show who the Fizzy token belongs to: the accounts it reaches (with their slugs and your
    user in each) and the account the tools use by default."""
    client = fizzy(ctx)
    identity = await client.identity()
    default = client.default_account or next((a.slug for a in identity.accounts), None)
    return identity.model_copy(update={"default_account": default})


@registry.tool(read_only=True)
async def list_projects(
    ctx: Ctx, limit: Limit = 50, page_token: PageToken = None, account: AccountSlug = None
) -> Page[Project]:
    """List the projects (Fizzy boards) you can see, most recently visited first."""
    return await fizzy(ctx).page(
        "/boards", Project, what="the projects", limit=limit, page_token=page_token, account=account
    )


@registry.tool(read_only=True)
async def get_project(ctx: Ctx, project_id: ProjectId, account: AccountSlug = None) -> Project:
    """Show one project (Fizzy board), with its member ids when access is restricted."""
    return await fizzy(ctx).get(
        f"/boards/{project_id}", Project, what=f"project {project_id!r}", account=account
    )


@registry.tool()
async def create_project(
    ctx: Ctx,
    name: Annotated[str, Field(min_length=1, description="Project name")],
    all_access: Annotated[
        bool, Field(description="Everyone in the account can see it (else only chosen members)")
    ] = True,
    auto_postpone_days: Annotated[
        int | None,
        Field(ge=1, description="Move idle tasks to 'Not Now' after this many days"),
    ] = None,
    account: AccountSlug = None,
) -> Project:
    """Create a project (a Fizzy board) and return it."""
    board: dict[str, Any] = {"name": name, "all_access": all_access}
    if auto_postpone_days is not None:
        board["auto_postpone_period_in_days"] = auto_postpone_days
    return await fizzy(ctx).create(
        "/boards", {"board": board}, Project, what=f"project {name!r}", account=account
    )


@registry.tool(idempotent=True)
async def update_project(
    ctx: Ctx,
    project_id: ProjectId,
    name: Annotated[str | None, Field(min_length=1, description="New name")] = None,
    all_access: Annotated[
        bool | None, Field(description="Everyone in the account can see it")
    ] = None,
    auto_postpone_days: Annotated[
        int | None, Field(ge=1, description="Move idle tasks to 'Not Now' after this many days")
    ] = None,
    member_ids: Annotated[
        list[str] | None,
        Field(description="The full list of user ids with access (replaces the current list)"),
    ] = None,
    account: AccountSlug = None,
) -> Project:
    """Rename a project, change who can see it, or its auto-postpone period; only its admins
    (its creator and account admins) may."""
    client = fizzy(ctx)
    changes: dict[str, Any] = {
        k: v
        for k, v in (
            ("name", name),
            ("all_access", all_access),
            ("auto_postpone_period_in_days", auto_postpone_days),
        )
        if v is not None
    }
    if not changes and member_ids is None:
        raise InputError(
            "update_project needs at least one of name, all_access, auto_postpone_days, member_ids"
        )
    path, what = f"/boards/{project_id}", f"project {project_id!r}"
    before = None
    body: dict[str, Any] = {"board": changes}
    if member_ids is not None:
        before = await client.get(path, Project, what=what, account=account)
        # Fizzy requires the board wrapper even when only the access list changes.
        body = {"board": changes or {"name": before.name}, "user_ids": member_ids}
    try:
        return await client.update(
            path,
            body,
            Project,
            what=what,
            account=account,
            forbidden="only the project's admins (its creator and account admins) can change it",
        )
    except NotFoundError:
        # Saved, but Fizzy answered 204 and the project is gone from view: you removed yourself.
        if before is None:
            raise
        return before.model_copy(
            update={
                **changes,
                "member_ids": member_ids,
                "note": "Saved; your own access was removed, so you no longer see this project",
            }
        )


@registry.tool(read_only=True)
async def list_columns(
    ctx: Ctx, project_id: ProjectId, account: AccountSlug = None
) -> list[Column]:
    """List a project's workflow columns in board order (besides them every project has
    'Maybe?' for untriaged tasks, 'Not Now' for postponed ones and 'Done')."""
    return await fizzy(ctx).get_all(
        f"/boards/{project_id}/columns",
        Column,
        what=f"the columns of project {project_id!r}",
        account=account,
    )


@registry.tool(read_only=True)
async def list_project_members(
    ctx: Ctx,
    project_id: ProjectId,
    limit: Limit = 50,
    page_token: PageToken = None,
    account: AccountSlug = None,
) -> Page[ProjectMember]:
    """List the account's people with whether each can see a project and is watching it."""
    return await fizzy(ctx).page(
        f"/boards/{project_id}/accesses",
        ProjectMember,
        what=f"the members of project {project_id!r}",
        limit=limit,
        page_token=page_token,
        account=account,
        items_key="users",
    )


@registry.tool(read_only=True)
async def list_members(
    ctx: Ctx, limit: Limit = 50, page_token: PageToken = None, account: AccountSlug = None
) -> Page[Member]:
    """List the active people of the Fizzy account, alphabetically, with role and email."""
    return await fizzy(ctx).page(
        "/users", Member, what="the members", limit=limit, page_token=page_token, account=account
    )


@registry.tool(read_only=True)
async def get_member(ctx: Ctx, user_id: UserId, account: AccountSlug = None) -> Member:
    """Show one person of the Fizzy account."""
    return await fizzy(ctx).get(
        f"/users/{user_id}", Member, what=f"user {user_id!r}", account=account
    )
