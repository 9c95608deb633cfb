"""The fake Fizzy's data and its model rules (APP ``app/models/card/*.rb`` as described in
Fizzy's documented API): close, reopen, postpone, triage, toggles, activity."""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"
COLORS = {
    "Blue": "var(--color-card-default)",
    "Gray": "var(--color-card-1)",
    "Tan": "var(--color-card-2)",
    "Yellow": "var(--color-card-3)",
    "Lime": "var(--color-card-4)",
    "Aqua": "var(--color-card-5)",
    "Violet": "var(--color-card-6)",
    "Purple": "var(--color-card-7)",
    "Pink": "var(--color-card-8)",
}


def new_id() -> str:
    """An opaque id of 25 base36 characters, like Fizzy's."""
    return "03" + "".join(random.choice(BASE36) for _ in range(23))


class Clock:
    """Deterministic time: every event is one second after the previous one."""

    def __init__(self) -> None:
        self._start = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
        self._ticks = itertools.count()

    def now(self) -> datetime:
        """The next instant."""
        return self._start + timedelta(seconds=next(self._ticks))


@dataclass
class User:
    id: str
    name: str
    role: str
    email: str | None
    created_at: datetime
    active: bool = True


@dataclass
class Board:
    id: str
    name: str
    creator_id: str
    created_at: datetime
    all_access: bool = True
    auto_postpone: int = 30
    user_ids: list[str] = field(default_factory=list)
    accessed_at: datetime | None = None


@dataclass
class Column:
    id: str
    board_id: str
    name: str
    color: str
    position: int
    created_at: datetime


@dataclass
class Step:
    id: str
    content: str
    completed: bool = False


@dataclass
class Card:
    id: str
    number: int
    board_id: str
    title: str
    description: str
    creator_id: str
    created_at: datetime
    last_active_at: datetime
    status: str = "published"
    column_id: str | None = None
    closed: bool = False
    not_now: bool = False
    golden: bool = False
    tag_ids: list[str] = field(default_factory=list)
    assignee_ids: list[str] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)

    @property
    def postponed(self) -> bool:
        return self.not_now and not self.closed and self.status == "published"


@dataclass
class Comment:
    id: str
    card_id: str
    body: str
    creator_id: str
    created_at: datetime
    updated_at: datetime


@dataclass
class Tag:
    id: str
    title: str
    created_at: datetime


@dataclass
class Notification:
    id: str
    user_id: str
    card_id: str
    creator_id: str
    title: str
    body: str
    source_type: str
    created_at: datetime
    read_at: datetime | None = None


@dataclass
class Activity:
    id: str
    action: str
    board_id: str
    card_id: str
    comment_id: str | None
    creator_id: str
    created_at: datetime
    particulars: dict[str, Any]
    description: str


@dataclass
class Account:
    """One tenant, addressed by its numeric slug."""

    id: str
    slug: str
    name: str
    created_at: datetime
    clock: Clock
    active: bool = True
    users: dict[str, User] = field(default_factory=dict)
    boards: dict[str, Board] = field(default_factory=dict)
    columns: dict[str, Column] = field(default_factory=dict)
    cards: dict[int, Card] = field(default_factory=dict)
    comments: dict[str, Comment] = field(default_factory=dict)
    tags: dict[str, Tag] = field(default_factory=dict)
    notifications: dict[str, Notification] = field(default_factory=dict)
    activities: list[Activity] = field(default_factory=list)
    next_number: int = 1

    # -- building ----------------------------------------------------------------------------

    def add_user(self, name: str, role: str = "member", active: bool = True) -> User:
        email = f"{name.split()[0].lower()}@example.com"
        user = User(new_id(), name, role, email, self.clock.now(), active)
        self.users[user.id] = user
        return user

    def add_board(self, name: str, creator: User, user_ids: list[str] | None = None) -> Board:
        board = Board(new_id(), name, creator.id, self.clock.now(), all_access=user_ids is None)
        board.user_ids = list(user_ids or [])
        board.accessed_at = board.created_at
        self.boards[board.id] = board
        return board

    def add_column(self, board: Board, name: str, color: str = "Blue") -> Column:
        position = sum(1 for c in self.columns.values() if c.board_id == board.id)
        column = Column(new_id(), board.id, name, COLORS[color], position, self.clock.now())
        self.columns[column.id] = column
        return column

    def add_card(
        self, board: Board, title: str, creator: User, description: str = "", **extra: Any
    ) -> Card:
        now = self.clock.now()
        card = Card(new_id(), self.next_number, board.id, title, description, creator.id, now, now)
        for key, value in extra.items():
            setattr(card, key, value)
        self.next_number += 1
        self.cards[card.number] = card
        if card.status == "published":
            self.record("card_published", card, creator)
        return card

    def add_comment(self, card: Card, body: str, creator: User) -> Comment:
        now = self.clock.now()
        comment = Comment(new_id(), card.id, body, creator.id, now, now)
        self.comments[comment.id] = comment
        self.touch(card)
        self.record("comment_created", card, creator, comment=comment)
        return comment

    def add_notification(self, user: User, card: Card, title: str, read: bool = False) -> None:
        now = self.clock.now()
        creator = next(iter(self.users.values()))
        note = Notification(
            new_id(), user.id, card.id, creator.id, title, "", "event", now, now if read else None
        )
        self.notifications[note.id] = note

    # -- queries -----------------------------------------------------------------------------

    def board_users(self, board: Board) -> list[User]:
        return [
            u
            for u in self.users.values()
            if u.active and (board.all_access or u.id in board.user_ids)
        ]

    def visible_boards(self, user: User) -> list[Board]:
        return [b for b in self.boards.values() if b.all_access or user.id in b.user_ids]

    def can_see(self, user: User, card: Card) -> bool:
        return self.boards[card.board_id] in self.visible_boards(user)

    def card_by_id(self, card_id: str) -> Card | None:
        return next((c for c in self.cards.values() if c.id == card_id), None)

    def tag_titles(self, card: Card) -> list[str]:
        return sorted(self.tags[t].title for t in card.tag_ids)

    # -- rules -------------------------------------------------------------------------------

    def touch(self, card: Card) -> None:
        card.last_active_at = self.clock.now()

    def record(
        self,
        action: str,
        card: Card,
        user: User,
        comment: Comment | None = None,
        **particulars: Any,
    ) -> None:
        verb = action.removeprefix("card_").replace("_", " ")
        self.activities.append(
            Activity(
                new_id(),
                action,
                card.board_id,
                card.id,
                comment.id if comment else None,
                user.id,
                self.clock.now(),
                particulars,
                f"{user.name} {verb} {card.title!r}",
            )
        )

    def close(self, card: Card, user: User) -> None:
        """Closing a closed card does nothing; it clears not-now and keeps the column."""
        if card.closed:
            return
        card.not_now = False
        card.closed = True
        self.touch(card)
        self.record("card_closed", card, user)

    def reopen(self, card: Card, user: User) -> None:
        if card.closed:
            card.closed = False
            self.touch(card)
            self.record("card_reopened", card, user)

    def postpone(self, card: Card, user: User) -> None:
        """Back to triage (no column), reopened, then not-now unless already postponed."""
        card.column_id = None
        card.closed = False
        if not card.not_now:
            card.not_now = True
            self.record("card_postponed", card, user)
        self.touch(card)

    def triage_into(self, card: Card, column: Column, user: User) -> None:
        card.closed = False
        card.not_now = False
        card.column_id = column.id
        self.touch(card)
        self.record("card_triaged", card, user, column=column.name)

    def send_back_to_triage(self, card: Card, user: User) -> None:
        card.closed = False
        card.not_now = False
        card.column_id = None
        self.touch(card)
        self.record("card_sent_back_to_triage", card, user)

    def move_to_board(self, card: Card, board: Board, user: User) -> None:
        old = self.boards[card.board_id]
        card.board_id = board.id
        card.column_id = None
        self.touch(card)
        self.record("card_board_changed", card, user, old_board=old.name, new_board=board.name)

    def toggle_tag(self, card: Card, title: str) -> None:
        tag = next((t for t in self.tags.values() if t.title == title), None)
        if tag is None:
            tag = Tag(new_id(), title, self.clock.now())
            self.tags[tag.id] = tag
        if tag.id in card.tag_ids:
            card.tag_ids.remove(tag.id)
        else:
            card.tag_ids.append(tag.id)
        self.touch(card)

    def toggle_assignment(self, card: Card, assignee: User, user: User) -> None:
        if assignee.id in card.assignee_ids:
            card.assignee_ids.remove(assignee.id)
            self.record("card_unassigned", card, user, assignee_ids=[assignee.id])
        else:
            card.assignee_ids.append(assignee.id)
            self.record("card_assigned", card, user, assignee_ids=[assignee.id])
        self.touch(card)


@dataclass
class Identity:
    """A login: one user per account it belongs to."""

    id: str
    users: dict[str, str] = field(default_factory=dict)  # account slug -> user id


@dataclass
class AccessToken:
    token: str
    identity_id: str
    permission: str  # read | write
