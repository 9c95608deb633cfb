"""Fizzy agent tools for working together on tasks: comments, checklist steps, tags,
notifications and the activity feed."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from agents.core.errors import InputError
from agents.fizzy.app import (
    ID_PATTERN,
    AccountSlug,
    Ctx,
    IdList,
    Limit,
    PageToken,
    TaskNumber,
    fizzy,
    registry,
)
from agents.fizzy.models import (
    Activity,
    Comment,
    Deleted,
    Notification,
    NotificationReading,
    Page,
    Step,
    Tag,
)

CommentId = Annotated[str, Field(pattern=ID_PATTERN, description="Comment id (list_comments)")]
StepId = Annotated[str, Field(pattern=ID_PATTERN, description="Step id (list_steps, get_task)")]
NotificationId = Annotated[
    str, Field(pattern=ID_PATTERN, description="Notification id (list_notifications)")
]
CommentBody = Annotated[str, Field(min_length=1, description="Comment text (HTML or plain text)")]
AUTHOR_ONLY = "only the comment's author can change or delete it"


@registry.tool(read_only=True)
async def list_comments(
    ctx: Ctx,
    task_number: TaskNumber,
    limit: Limit = 50,
    page_token: PageToken = None,
    account: AccountSlug = None,
) -> Page[Comment]:
    """List the comments on a task, oldest first."""
    return await fizzy(ctx).page(
        f"/cards/{task_number}/comments",
        Comment,
        what=f"the comments of task #{task_number}",
        limit=limit,
        page_token=page_token,
        account=account,
    )


@registry.tool()
async def add_comment(
    ctx: Ctx, task_number: TaskNumber, body: CommentBody, account: AccountSlug = None
) -> Comment:
    """Comment on a task."""
    return await fizzy(ctx).create(
        f"/cards/{task_number}/comments",
        {"comment": {"body": body}},
        Comment,
        what=f"a comment on task #{task_number}",
        account=account,
        forbidden=f"task #{task_number} is a draft (only published tasks take comments), or "
        "your Fizzy user is deactivated",
    )


@registry.tool(idempotent=True)
async def update_comment(
    ctx: Ctx,
    task_number: TaskNumber,
    comment_id: CommentId,
    body: CommentBody,
    account: AccountSlug = None,
) -> Comment:
    """Rewrite one of your comments on a task."""
    return await fizzy(ctx).update(
        f"/cards/{task_number}/comments/{comment_id}",
        {"comment": {"body": body}},
        Comment,
        what=f"comment {comment_id!r} on task #{task_number}",
        account=account,
        forbidden=AUTHOR_ONLY,
    )


@registry.tool(destructive=True, idempotent=True)
async def delete_comment(
    ctx: Ctx, task_number: TaskNumber, comment_id: CommentId, account: AccountSlug = None
) -> Deleted:
    """Delete one of your comments on a task."""
    await fizzy(ctx).act(
        "DELETE",
        f"/cards/{task_number}/comments/{comment_id}",
        what=f"comment {comment_id!r} on task #{task_number}",
        account=account,
        forbidden=AUTHOR_ONLY,
    )
    return Deleted(id=comment_id)


@registry.tool(read_only=True)
async def list_steps(ctx: Ctx, task_number: TaskNumber, account: AccountSlug = None) -> list[Step]:
    """List a task's checklist steps in order, with whether each is done."""
    return await fizzy(ctx).get_all(
        f"/cards/{task_number}/steps",
        Step,
        what=f"the steps of task #{task_number}",
        account=account,
    )


@registry.tool()
async def add_step(
    ctx: Ctx,
    task_number: TaskNumber,
    content: Annotated[str, Field(min_length=1, description="What the step says")],
    completed: Annotated[bool, Field(description="Add it already ticked off")] = False,
    account: AccountSlug = None,
) -> Step:
    """Add a checklist step to a task."""
    return await fizzy(ctx).create(
        f"/cards/{task_number}/steps",
        {"step": {"content": content, "completed": completed}},
        Step,
        what=f"a step of task #{task_number}",
        account=account,
    )


@registry.tool(idempotent=True)
async def update_step(
    ctx: Ctx,
    task_number: TaskNumber,
    step_id: StepId,
    content: Annotated[str | None, Field(min_length=1, description="New text")] = None,
    completed: Annotated[bool | None, Field(description="Tick (true) or untick (false)")] = None,
    account: AccountSlug = None,
) -> Step:
    """Tick off or untick a checklist step, or change its text."""
    step: dict[str, Any] = {
        k: v for k, v in (("content", content), ("completed", completed)) if v is not None
    }
    if not step:
        raise InputError("update_step needs content or completed to change")
    return await fizzy(ctx).update(
        f"/cards/{task_number}/steps/{step_id}",
        {"step": step},
        Step,
        what=f"step {step_id!r} of task #{task_number}",
        account=account,
    )


@registry.tool(destructive=True, idempotent=True)
async def delete_step(
    ctx: Ctx, task_number: TaskNumber, step_id: StepId, account: AccountSlug = None
) -> Deleted:
    """Remove a checklist step from a task."""
    await fizzy(ctx).act(
        "DELETE",
        f"/cards/{task_number}/steps/{step_id}",
        what=f"step {step_id!r} of task #{task_number}",
        account=account,
    )
    return Deleted(id=step_id)


@registry.tool(read_only=True)
async def list_tags(
    ctx: Ctx, limit: Limit = 50, page_token: PageToken = None, account: AccountSlug = None
) -> Page[Tag]:
    """List the account's tags alphabetically (tag_task creates new ones)."""
    return await fizzy(ctx).page(
        "/tags", Tag, what="the tags", limit=limit, page_token=page_token, account=account
    )


@registry.tool(read_only=True)
async def list_notifications(
    ctx: Ctx,
    unread_only: Annotated[bool, Field(description="Only notifications not read yet")] = False,
    limit: Limit = 50,
    page_token: PageToken = None,
    account: AccountSlug = None,
) -> Page[Notification]:
    """List your notifications (mentions, assignments, comments on your tasks), unread first."""
    return await fizzy(ctx).page(
        "/notifications",
        Notification,
        what="your notifications",
        limit=limit,
        page_token=page_token,
        account=account,
        # Fizzy sends every unread notification before the first read one.
        until=(lambda n: n.read) if unread_only else None,
    )


@registry.tool(idempotent=True)
async def mark_notification_read(
    ctx: Ctx,
    notification_id: NotificationId,
    read: Annotated[bool, Field(description="true: mark read; false: mark unread again")] = True,
    account: AccountSlug = None,
) -> NotificationReading:
    """Mark one notification read (or unread again)."""
    await fizzy(ctx).act(
        "POST" if read else "DELETE",
        f"/notifications/{notification_id}/reading",
        what=f"notification {notification_id!r}",
        idempotent=True,
        account=account,
    )
    return NotificationReading(notification_id=notification_id, read=read)


@registry.tool(idempotent=True)
async def mark_all_notifications_read(ctx: Ctx, account: AccountSlug = None) -> NotificationReading:
    """Mark all your notifications read."""
    await fizzy(ctx).act(
        "POST",
        "/notifications/bulk_reading",
        what="your notifications",
        idempotent=True,
        attempts=1,  # Fizzy's SDK allows bulk_reading one attempt
        account=account,
    )
    return NotificationReading(notification_id=None, read=True)


@registry.tool(read_only=True)
async def list_activity(
    ctx: Ctx,
    project_ids: Annotated[IdList, Field(description="Only events on these projects")] = None,
    creator_ids: Annotated[IdList, Field(description="Only events by these users")] = None,
    limit: Limit = 50,
    page_token: PageToken = None,
    account: AccountSlug = None,
) -> Page[Activity]:
    """List recent activity (tasks created, moved, closed, assigned, comments), newest first."""
    params: dict[str, Any] = {}
    if project_ids:
        params["board_ids[]"] = project_ids
    if creator_ids:
        params["creator_ids[]"] = creator_ids
    return await fizzy(ctx).page(
        "/activities",
        Activity,
        what="the activity",
        limit=limit,
        page_token=page_token,
        params=params,
        account=account,
    )
