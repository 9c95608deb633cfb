"""JSON shapes of the fake Fizzy, field for field as the APP jbuilder partials
(Fizzy's documented API): absolute URLs, UTC timestamps with milliseconds."""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

from tests.fakes.fizzy.state import (
    COLORS,
    Account,
    Activity,
    Board,
    Card,
    Column,
    Comment,
    Identity,
    Notification,
    Step,
    Tag,
    User,
)

COLOR_NAMES = {value: name for name, value in COLORS.items()}


def ts(when: datetime | None) -> str | None:
    """ISO-8601 UTC with milliseconds, as the jbuilder views render times."""
    if when is None:
        return None
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


class Views:
    """Renders one account's records for responses of a fake listening at ``origin``."""

    def __init__(self, origin: str, account: Account) -> None:
        self.origin = origin
        self.account = account
        self.base = f"{origin}/{account.slug}"

    def user(self, user: User) -> dict[str, Any]:
        return {
            "id": user.id,
            "name": user.name,
            "role": user.role,
            "active": user.active,
            "email_address": user.email,
            "created_at": ts(user.created_at),
            "url": f"{self.base}/users/{user.id}",
            "avatar_url": f"{self.base}/users/{user.id}/avatar",
        }

    def board(self, board: Board, *, show: bool = False) -> dict[str, Any]:
        data = {
            "id": board.id,
            "name": board.name,
            "all_access": board.all_access,
            "created_at": ts(board.created_at),
            "auto_postpone_period_in_days": board.auto_postpone,
            "url": f"{self.base}/boards/{board.id}",
            "creator": self.user(self.account.users[board.creator_id]),
        }
        if show and not board.all_access:
            data["user_ids"] = list(board.user_ids)
        return data

    def column(self, column: Column) -> dict[str, Any]:
        return {
            "id": column.id,
            "name": column.name,
            "color": {"name": COLOR_NAMES[column.color], "value": column.color},
            "created_at": ts(column.created_at),
            "cards_url": f"{self.base}/boards/{column.board_id}/columns/{column.id}/cards",
        }

    def step(self, step: Step) -> dict[str, Any]:
        return {"id": step.id, "content": step.content, "completed": step.completed}

    def card(self, card: Card, *, show: bool = False) -> dict[str, Any]:
        acct = self.account
        url = f"{self.base}/cards/{card.number}"
        data: dict[str, Any] = {
            "id": card.id,
            "number": card.number,
            "title": card.title,
            "status": card.status,
            "description": card.description,
            "description_html": f"<div>{html.escape(card.description)}</div>",
            "image_url": None,
            "has_attachments": False,
            "tags": acct.tag_titles(card),
            "closed": card.closed,
            "postponed": card.postponed,
            "golden": card.golden,
            "last_active_at": ts(card.last_active_at),
            "created_at": ts(card.created_at),
            "url": url,
            "board": self.board(acct.boards[card.board_id]),
        }
        if card.column_id:
            data["column"] = self.column(acct.columns[card.column_id])
        data |= {
            "creator": self.user(acct.users[card.creator_id]),
            "assignees": [self.user(acct.users[u]) for u in card.assignee_ids[:5]],
            "has_more_assignees": len(card.assignee_ids) > 5,
            "comments_url": f"{url}/comments",
            "reactions_url": f"{url}/reactions",
        }
        if show:
            data["steps"] = [self.step(s) for s in card.steps]
        return data

    def comment(self, comment: Comment) -> dict[str, Any]:
        card = self.account.card_by_id(comment.card_id)
        assert card is not None
        card_url = f"{self.base}/cards/{card.number}"
        return {
            "id": comment.id,
            "created_at": ts(comment.created_at),
            "updated_at": ts(comment.updated_at),
            "body": {"plain_text": comment.body, "html": f"<div>{html.escape(comment.body)}</div>"},
            "creator": self.user(self.account.users[comment.creator_id]),
            "card": {"id": card.id, "url": card_url},
            "reactions_url": f"{card_url}/comments/{comment.id}/reactions",
            "url": f"{card_url}/comments/{comment.id}",
        }

    def tag(self, tag: Tag) -> dict[str, Any]:
        return {
            "id": tag.id,
            "title": tag.title,
            "created_at": ts(tag.created_at),
            "url": f"{self.base}/cards?tag_ids[]={tag.id}",
        }

    def notification(self, note: Notification) -> dict[str, Any]:
        card = self.account.card_by_id(note.card_id)
        assert card is not None
        column = self.account.columns.get(card.column_id or "")
        return {
            "id": note.id,
            "unread_count": 0 if note.read_at else 1,
            "read": note.read_at is not None,
            "read_at": ts(note.read_at),
            "created_at": ts(note.created_at),
            "source_type": note.source_type,
            "title": note.title,
            "body": note.body,
            "creator": self.user(self.account.users[note.creator_id]),
            "card": {
                "id": card.id,
                "number": card.number,
                "title": card.title,
                "status": card.status,
                "board_name": self.account.boards[card.board_id].name,
                "closed": card.closed,
                "postponed": card.postponed,
                "url": f"{self.base}/cards/{card.number}",
                "column": self.column(column) if column else None,
            },
            "url": f"{self.base}/notifications/{note.id}",
        }

    def activity(self, event: Activity) -> dict[str, Any]:
        card = self.account.card_by_id(event.card_id)
        assert card is not None
        comment = self.account.comments.get(event.comment_id or "")
        return {
            "id": event.id,
            "action": event.action,
            "created_at": ts(event.created_at),
            "description": event.description,
            "particulars": event.particulars,
            "url": f"{self.base}/cards/{card.number}",
            "eventable_type": "Comment" if comment else "Card",
            "eventable": self.comment(comment) if comment else self.card(card),
            "board": self.board(self.account.boards[event.board_id]),
            "creator": self.user(self.account.users[event.creator_id]),
        }

    def access(self, user: User, board: Board) -> dict[str, Any]:
        has = board.all_access or user.id in board.user_ids
        watching = "watching" if user.id == board.creator_id else "access_only"
        return self.user(user) | {"has_access": has, "involvement": watching if has else None}


def identity(identity: Identity, views: list[tuple[Views, User]]) -> dict[str, Any]:
    """``GET /my/identity``: slugs carry a leading ``/``."""
    return {
        "id": identity.id,
        "accounts": [
            {
                "id": v.account.id,
                "name": v.account.name,
                "slug": f"/{v.account.slug}",
                "created_at": ts(v.account.created_at),
                "user": v.user(user),
            }
            for v, user in views
        ],
    }
