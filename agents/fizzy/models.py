"""What the Fizzy tools return, parsed from Fizzy's JSON (its jbuilder shapes, flattened).

Fizzy says *board* and *card*; the tools say *project* and *task*. Nested objects are cut down
to the ids and names a caller needs, so one task does not carry three full user records.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "Account",
    "Activity",
    "Column",
    "Comment",
    "Deleted",
    "Identity",
    "Member",
    "Notification",
    "NotificationReading",
    "NotificationTask",
    "Page",
    "Person",
    "Project",
    "ProjectMember",
    "ProjectRef",
    "Step",
    "Tag",
    "Task",
]

T = TypeVar("T")


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


def _obj(value: Any) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else None


class Page(_Model, Generic[T]):
    """One stretch of a paginated list."""

    items: list[T] = Field(description="The items, in Fizzy's order")
    next_page_token: str | None = Field(
        default=None,
        description="Pass as page_token to get the items after these; null when there are none",
    )


class Person(_Model):
    """A user, by id and name."""

    id: str
    name: str


class ProjectRef(_Model):
    """A project (Fizzy board), by id and name."""

    id: str
    name: str


class Member(_Model):
    """A user of the Fizzy account."""

    id: str
    name: str
    role: str = Field(description="owner, admin, member or system")
    active: bool = True
    email_address: str | None = None
    created_at: datetime | None = None
    url: str | None = None
    avatar_url: str | None = None


class ProjectMember(Member):
    """A user of the account and their access to one project."""

    has_access: bool = Field(description="Whether the user can see the project")
    involvement: str | None = Field(
        default=None, description="watching, access_only, or null without access"
    )


class Account(_Model):
    """An account the token's identity belongs to, with the identity's user there."""

    id: str
    name: str
    slug: str = Field(description="Account slug for URLs and FIZZY_ACCOUNT (no leading '/')")
    created_at: datetime | None = None
    user: Member | None = None

    @model_validator(mode="before")
    @classmethod
    def _strip_slug(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("slug"), str):
            data = {**data, "slug": data["slug"].strip().lstrip("/")}
        return data


class Identity(_Model):
    """Who the token belongs to, and which accounts it reaches."""

    id: str | None = None
    accounts: list[Account] = Field(default_factory=list)
    default_account: str | None = Field(
        default=None, description="The account slug tools use when no account is given"
    )


class Project(_Model):
    """A project: a Fizzy board."""

    id: str
    name: str
    all_access: bool = Field(description="Everyone in the account can see it")
    auto_postpone_period_in_days: int | None = Field(
        default=None, description="Idle tasks move to 'Not Now' after this many days"
    )
    member_ids: list[str] | None = Field(
        default=None, description="User ids with access (only when all_access is false)"
    )
    creator: Person | None = None
    created_at: datetime | None = None
    public_url: str | None = None
    url: str | None = None
    note: str | None = Field(default=None, description="Anything to know about this result")

    @model_validator(mode="before")
    @classmethod
    def _from_board(cls, data: Any) -> Any:
        if isinstance(data, dict) and "user_ids" in data and "member_ids" not in data:
            data = {**data, "member_ids": data["user_ids"]}
        return data


class Column(_Model):
    """A workflow column of a project."""

    id: str
    name: str
    color: str | None = Field(default=None, description="Color name (Blue, Lime, ...)")
    created_at: datetime | None = None

    @model_validator(mode="before")
    @classmethod
    def _color_name(cls, data: Any) -> Any:
        # Responses carry color as {name, value}; the docs show a bare string.
        if isinstance(data, dict) and (color := _obj(data.get("color"))) is not None:
            data = {**data, "color": color.get("name")}
        return data


class Step(_Model):
    """A checklist item of a task."""

    id: str
    content: str
    completed: bool


class Task(_Model):
    """A task: a Fizzy card, addressed by its number."""

    number: int = Field(description="The task number (#42); tools take this, not the id")
    id: str
    title: str
    stage: str = Field(
        description="Where the task is: 'Done', 'Not Now', 'Maybe?' (awaiting triage), "
        "'Draft', or its column's name"
    )
    status: str = Field(default="published", description="drafted or published")
    closed: bool = False
    postponed: bool = False
    golden: bool = False
    description: str = ""
    tags: list[str] = Field(default_factory=list)
    project: ProjectRef | None = None
    column: Column | None = None
    creator: Person | None = None
    assignees: list[Person] = Field(default_factory=list, description="Up to 5 assignees")
    has_more_assignees: bool = False
    steps: list[Step] | None = Field(default=None, description="The checklist (single task only)")
    created_at: datetime | None = None
    last_active_at: datetime | None = None
    url: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_card(cls, data: Any) -> Any:
        if not isinstance(data, dict) or "stage" in data:
            return data
        data = dict(data)
        if "board" in data and "project" not in data:
            data["project"] = data.pop("board")
        column = _obj(data.get("column"))
        # Closing keeps the column association, so the flags decide the stage.
        if data.get("closed"):
            data["stage"] = "Done"
        elif data.get("status") == "drafted":
            data["stage"] = "Draft"
        elif data.get("postponed"):
            data["stage"] = "Not Now"
        elif column is not None:
            data["stage"] = column.get("name", "")
        else:
            data["stage"] = "Maybe?"
        if data.get("description") is None:
            data["description"] = ""
        return data


class Comment(_Model):
    """A comment on a task."""

    id: str
    body: str = Field(description="Plain text")
    body_html: str | None = None
    creator: Person | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    url: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _flatten_body(cls, data: Any) -> Any:
        if isinstance(data, dict) and (body := _obj(data.get("body"))) is not None:
            data = {**data, "body": body.get("plain_text") or "", "body_html": body.get("html")}
        return data


class Tag(_Model):
    """A tag of the account."""

    id: str
    title: str
    created_at: datetime | None = None


class NotificationTask(_Model):
    """The task a notification is about."""

    id: str
    number: int
    title: str
    project_name: str | None = None
    closed: bool = False
    postponed: bool = False

    @model_validator(mode="before")
    @classmethod
    def _board_name(cls, data: Any) -> Any:
        if isinstance(data, dict) and "board_name" in data:
            data = {**data, "project_name": data["board_name"]}
        return data


class Notification(_Model):
    """A notification of the token's user."""

    id: str
    read: bool
    read_at: datetime | None = None
    created_at: datetime | None = None
    source_type: str | None = Field(default=None, description="event or mention")
    title: str | None = None
    body: str | None = None
    creator: Person | None = None
    task: NotificationTask | None = None
    url: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _card(cls, data: Any) -> Any:
        if isinstance(data, dict) and "card" in data and "task" not in data:
            data = {**data, "task": data["card"]}
        return data


class NotificationReading(_Model):
    """The read state just set."""

    notification_id: str | None = Field(description="The notification, or null for all of them")
    read: bool


class Activity(_Model):
    """One event of the activity feed."""

    id: str
    action: str = Field(description="card_closed, card_triaged, comment_created, ...")
    description: str | None = None
    created_at: datetime | None = None
    particulars: dict[str, Any] = Field(default_factory=dict)
    subject_type: str | None = Field(default=None, description="Card or Comment")
    task_number: int | None = Field(default=None, description="The task, when the subject is one")
    project: ProjectRef | None = None
    creator: Person | None = None
    url: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_event(cls, data: Any) -> Any:
        if not isinstance(data, dict) or "subject_type" in data:
            return data
        data = dict(data)
        data["subject_type"] = data.get("eventable_type")
        eventable = _obj(data.get("eventable")) or {}
        if isinstance(eventable.get("number"), int):
            data["task_number"] = eventable["number"]
        if "board" in data:
            data["project"] = data.pop("board")
        return data


class Deleted(_Model):
    """What was deleted."""

    id: str
    deleted: bool = True
