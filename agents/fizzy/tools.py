"""The Fizzy agent's tools, in the order ``tools/list`` shows them, and its ``SPEC``."""

from __future__ import annotations

from agents import __version__
from agents.core.runtime import AgentSpec
from agents.core.toolsets import Toolset, check_toolsets
from agents.fizzy import collaboration, projects, tasks
from agents.fizzy.app import connect, registry

__all__ = ["SPEC", "TOOLSETS"]


TOOLSETS = (
    Toolset(
        "core",
        "Find, read, create, change, move and close tasks; comment",
        (
            "get_identity",
            "list_projects",
            "list_tasks",
            "search_tasks",
            "get_task",
            "create_task",
            "update_task",
            "close_task",
            "move_task",
            "add_comment",
        ),
        default=True,
    ),
    Toolset(
        "projects",
        "Project (board) details, columns, members; create and change projects",
        (
            "get_project",
            "create_project",
            "update_project",
            "list_columns",
            "list_project_members",
            "list_members",
            "get_member",
        ),
    ),
    Toolset(
        "tasks",
        "More task changes: reopen, postpone, move across projects, assign, tag",
        (
            "reopen_task",
            "postpone_task",
            "move_task_to_project",
            "assign_task",
            "tag_task",
            "list_tags",
        ),
    ),
    Toolset(
        "collaboration",
        "Comments and steps: list, change, delete",
        (
            "list_comments",
            "update_comment",
            "delete_comment",
            "list_steps",
            "add_step",
            "update_step",
            "delete_step",
        ),
    ),
    Toolset(
        "activity",
        "Notifications and the activity feed",
        (
            "list_notifications",
            "mark_notification_read",
            "mark_all_notifications_read",
            "list_activity",
        ),
    ),
)

SPEC = AgentSpec(
    name="fizzy",
    registry=registry.declare(projects, tasks, collaboration),
    connect=connect,
    version=__version__,
    instructions=(
        "Fizzy (37signals' kanban tool): projects are Fizzy boards, tasks are cards, addressed "
        "by their number (#42). A task is in a column of its project, in 'Maybe?' (awaiting "
        "triage), 'Not Now' (postponed) or 'Done' (closed)."
    ),
    toolsets=TOOLSETS,
)
check_toolsets(SPEC.registry, SPEC.toolsets)
