"""Fizzy agent tools for tasks (Fizzy cards): find, create, change and move them.

Tags and assignments are toggles in Fizzy; ``tag_task`` and ``assign_task`` read the current
state first and toggle only when it differs, so repeating a call changes nothing.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from agents.core.errors import AgentError, InputError, UpstreamError
from agents.fizzy.app import (
    ID_PATTERN,
    AccountSlug,
    Ctx,
    IdList,
    Limit,
    PageToken,
    ProjectId,
    TaskNumber,
    UserId,
    fizzy,
    registry,
)
from agents.fizzy.client import FizzyClient, Params
from agents.fizzy.models import Page, Step, Task

View = Literal["all", "maybe", "closed", "not_now", "stalled", "postponing_soon", "golden"]
Sort = Literal["latest", "newest", "oldest"]


async def load_task(client: FizzyClient, number: int, account: str | None) -> Task:
    """``GET /cards/{number}``: the task with its steps."""
    return await client.get(f"/cards/{number}", Task, what=f"task #{number}", account=account)


def tag_title(tag: str, name: str) -> str:
    """A tag as Fizzy stores it: no leading ``#``, no surrounding spaces."""
    title = tag.strip().lstrip("#").strip()
    if not title:
        raise InputError(f"{name} {tag!r} is empty once '#' and spaces are removed: name a tag")
    return title


def _ids(params: dict[str, Any], key: str, values: list[str] | None) -> None:
    if values:
        params[f"{key}[]"] = list(values)


@registry.tool(read_only=True)
async def list_tasks(
    ctx: Ctx,
    project_ids: Annotated[IdList, Field(description="Only tasks of these projects")] = None,
    column_ids: Annotated[IdList, Field(description="Only tasks in these columns")] = None,
    tag_ids: Annotated[IdList, Field(description="Only tasks with these tags (list_tags)")] = None,
    assignee_ids: Annotated[IdList, Field(description="Only tasks assigned to these users")] = None,
    creator_ids: Annotated[IdList, Field(description="Only tasks created by these users")] = None,
    view: Annotated[
        View,
        Field(
            description="all open tasks, maybe (awaiting triage), closed (done), not_now "
            "(postponed), stalled, postponing_soon or golden"
        ),
    ] = "all",
    sort: Annotated[
        Sort, Field(description="latest activity, newest created or oldest created first")
    ] = "latest",
    unassigned_only: Annotated[bool, Field(description="Only tasks nobody is assigned")] = False,
    terms: Annotated[
        list[str] | None, Field(description="Only tasks mentioning all of these words")
    ] = None,
    limit: Limit = 50,
    page_token: PageToken = None,
    account: AccountSlug = None,
) -> Page[Task]:
    """List tasks (Fizzy cards) across projects, filtered by project, column, tag, assignee,
    creator, state or words; filters of one kind are ORed, different kinds ANDed."""
    params: dict[str, Any] = {"indexed_by": view, "sorted_by": sort}
    _ids(params, "board_ids", project_ids)
    _ids(params, "column_ids", column_ids)
    _ids(params, "tag_ids", tag_ids)
    _ids(params, "assignee_ids", assignee_ids)
    _ids(params, "creator_ids", creator_ids)
    _ids(params, "terms", terms)
    if unassigned_only:
        params["assignment_status"] = "unassigned"
    return await fizzy(ctx).page(
        "/cards",
        Task,
        what="the tasks",
        limit=limit,
        page_token=page_token,
        params=params,
        account=account,
    )


@registry.tool(read_only=True)
async def search_tasks(
    ctx: Ctx,
    query: Annotated[str, Field(min_length=1, description="Words to find, or a task id")],
    limit: Limit = 50,
    page_token: PageToken = None,
    account: AccountSlug = None,
) -> Page[Task]:
    """Search tasks by text (titles, descriptions, comments), latest first."""
    return await fizzy(ctx).page(
        "/search",
        Task,
        what=f"the search for {query!r}",
        limit=limit,
        page_token=page_token,
        params={"q": query},
        account=account,
    )


@registry.tool(read_only=True)
async def get_task(ctx: Ctx, task_number: TaskNumber, account: AccountSlug = None) -> Task:
    """Show one task with its stage, tags, assignees and checklist steps."""
    return await load_task(fizzy(ctx), task_number, account)


@registry.tool()
async def create_task(
    ctx: Ctx,
    project_id: ProjectId,
    title: Annotated[str, Field(min_length=1, description="Task title")],
    description: Annotated[str | None, Field(description="Description (HTML or text)")] = None,
    column_id: Annotated[
        str | None,
        Field(pattern=ID_PATTERN, description="Put it in this column (default: 'Maybe?')"),
    ] = None,
    tags: Annotated[list[str] | None, Field(description="Tag titles; new tags are created")] = None,
    assignee_ids: Annotated[IdList, Field(description="Assign these users")] = None,
    steps: Annotated[list[str] | None, Field(description="Checklist items to add")] = None,
    account: AccountSlug = None,
) -> Task:
    """Create a task (a Fizzy card) on a project, optionally in a column, tagged, assigned and
    with checklist steps; returns the finished task."""
    client = fizzy(ctx)
    titles = list(dict.fromkeys(tag_title(t, "tags item") for t in tags or []))
    if any(not s.strip() for s in steps or []):
        raise InputError("steps holds an empty item: give each step some text")
    card: dict[str, Any] = {"title": title}
    if description is not None:
        card["description"] = description
    created = await client.create(
        f"/boards/{project_id}/cards",
        {"card": card},
        Task,
        what=f"a task on project {project_id!r}",
        account=account,
    )
    n = created.number
    try:
        if column_id:
            await client.act(
                "POST",
                f"/cards/{n}/triage",
                body={"column_id": column_id},
                idempotent=True,
                what=f"column {column_id!r} on project {project_id!r}",
                account=account,
            )
        for title_ in titles:
            await client.act(
                "POST",
                f"/cards/{n}/taggings",
                body={"tag_title": title_},
                what=f"tag {title_!r} of task #{n}",
                account=account,
            )
        for user in dict.fromkeys(assignee_ids or []):
            await client.act(
                "POST",
                f"/cards/{n}/assignments",
                body={"assignee_id": user},
                what=f"user {user!r} on project {project_id!r}",
                account=account,
            )
        for step in steps or []:
            await client.create(
                f"/cards/{n}/steps",
                {"step": {"content": step}},
                Step,
                what=f"a step of task #{n}",
                account=account,
            )
    except AgentError as exc:
        raise UpstreamError(
            f"task #{n} was created, but completing it failed: {exc}. Finish it with move_task, "
            f"tag_task, assign_task or add_step on task #{n} (do not create it again)",
            status=getattr(exc, "status", None),
        ) from exc
    return await load_task(client, n, account)


@registry.tool(idempotent=True)
async def update_task(
    ctx: Ctx,
    task_number: TaskNumber,
    title: Annotated[str | None, Field(min_length=1, description="New title")] = None,
    description: Annotated[str | None, Field(description="New description (HTML or text)")] = None,
    account: AccountSlug = None,
) -> Task:
    """Change a task's title or description."""
    card = {k: v for k, v in (("title", title), ("description", description)) if v is not None}
    if not card:
        raise InputError("update_task needs a title or a description to change")
    return await fizzy(ctx).update(
        f"/cards/{task_number}", {"card": card}, Task, what=f"task #{task_number}", account=account
    )


async def _act_then_load(
    ctx: Ctx, method: str, task_number: int, action: str, account: str | None, **kw: Any
) -> Task:
    client = fizzy(ctx)
    await client.act(
        method, f"/cards/{task_number}/{action}", idempotent=True, account=account, **kw
    )
    return await load_task(client, task_number, account)


@registry.tool(idempotent=True)
async def close_task(ctx: Ctx, task_number: TaskNumber, account: AccountSlug = None) -> Task:
    """Close a task: mark it done (it moves to 'Done')."""
    return await _act_then_load(
        ctx, "POST", task_number, "closure", account, what=f"task #{task_number}"
    )


@registry.tool(idempotent=True)
async def reopen_task(ctx: Ctx, task_number: TaskNumber, account: AccountSlug = None) -> Task:
    """Reopen a closed task."""
    return await _act_then_load(
        ctx, "DELETE", task_number, "closure", account, what=f"task #{task_number}"
    )


@registry.tool(idempotent=True)
async def postpone_task(ctx: Ctx, task_number: TaskNumber, account: AccountSlug = None) -> Task:
    """Postpone a task: move it to 'Not Now' (this reopens it and takes it out of its column)."""
    return await _act_then_load(
        ctx, "POST", task_number, "not_now", account, what=f"task #{task_number}"
    )


@registry.tool(idempotent=True)
async def move_task(
    ctx: Ctx,
    task_number: TaskNumber,
    column_id: Annotated[
        str | None,
        Field(
            pattern=ID_PATTERN,
            description="A column of the task's project (list_columns); null sends the task "
            "back to 'Maybe?' for triage",
        ),
    ],
    account: AccountSlug = None,
) -> Task:
    """Triage a task into a column of its project, or send it back to 'Maybe?'; either also
    reopens it and takes it out of 'Not Now'."""
    if column_id is None:
        return await _act_then_load(
            ctx, "DELETE", task_number, "triage", account, what=f"task #{task_number}"
        )
    return await _act_then_load(
        ctx,
        "POST",
        task_number,
        "triage",
        account,
        body={"column_id": column_id},
        what=f"task #{task_number}, or column {column_id!r} on its project",
    )


@registry.tool(idempotent=True)
async def move_task_to_project(
    ctx: Ctx, task_number: TaskNumber, project_id: ProjectId, account: AccountSlug = None
) -> Task:
    """Move a task to another project (it lands in that project's 'Maybe?')."""
    return await fizzy(ctx).update(
        f"/cards/{task_number}/board",
        {"board_id": project_id},
        Task,
        what=f"task #{task_number}, or project {project_id!r}",
        account=account,
        reread=f"/cards/{task_number}",
    )


async def _is_assigned(client: FizzyClient, task: Task, user_id: str, account: str | None) -> bool:
    if any(a.id == user_id for a in task.assignees):
        return True
    if not task.has_more_assignees:
        return False
    # Card JSON lists only 5 assignees: ask the card filter for the rest.
    view = "closed" if task.closed else "not_now" if task.postponed else "all"
    params: Params = {"card_ids[]": [task.id], "assignee_ids[]": [user_id], "indexed_by": view}
    found = await client.page(
        "/cards", Task, what=f"task #{task.number}", limit=1, params=params, account=account
    )
    return bool(found.items)


@registry.tool(idempotent=True)
async def assign_task(
    ctx: Ctx,
    task_number: TaskNumber,
    user_id: UserId,
    assigned: Annotated[
        bool, Field(description="true: make sure the user is assigned; false: unassigned")
    ] = True,
    account: AccountSlug = None,
) -> Task:
    """Assign a person to a task, or unassign them; repeating the call changes nothing."""
    client = fizzy(ctx)
    task = await load_task(client, task_number, account)
    if await _is_assigned(client, task, user_id, account) == assigned:
        return task
    await client.act(
        "POST",
        f"/cards/{task_number}/assignments",
        body={"assignee_id": user_id},
        what=f"user {user_id!r} on the project of task #{task_number}",
        account=account,
    )
    return await load_task(client, task_number, account)


@registry.tool(idempotent=True)
async def tag_task(
    ctx: Ctx,
    task_number: TaskNumber,
    tag: Annotated[str, Field(min_length=1, description="Tag title; a new tag is created")],
    present: Annotated[
        bool, Field(description="true: make sure the task has the tag; false: remove it")
    ] = True,
    account: AccountSlug = None,
) -> Task:
    """Add a tag to a task, or remove it; repeating the call changes nothing."""
    title = tag_title(tag, "tag")
    client = fizzy(ctx)
    task = await load_task(client, task_number, account)
    existing = next((t for t in task.tags if t.casefold() == title.casefold()), None)
    if (existing is not None) == present:
        return task
    await client.act(
        "POST",
        f"/cards/{task_number}/taggings",
        body={"tag_title": existing or title},
        what=f"tag {title!r} of task #{task_number}",
        account=account,
    )
    return await load_task(client, task_number, account)
