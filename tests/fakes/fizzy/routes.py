"""The fake Fizzy's endpoints: statuses and bodies as the
APP controllers produce them. Cards are found by ``number``, everything else by string id."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.fakes.fizzy.server import (
    HttpError,
    Request,
    Response,
    not_found,
    route,
)
from tests.fakes.fizzy.state import Board, Card

UNPROCESSABLE = {"status": 422, "error": "Unprocessable Entity"}
CARD_FIELDS = ("title", "description", "created_at", "last_active_at")


def find_board(req: Request, board_id: str) -> Board:
    board = req.account.boards.get(board_id)
    if board is None or board not in req.account.visible_boards(req.user):
        raise not_found()
    return board


def find_card(req: Request) -> Card:
    card = req.account.cards.get(int(req.args["number"]))
    if card is None or not req.account.can_see(req.user, card):
        raise not_found()
    return card


def created(req: Request, location: str, body: dict[str, Any]) -> Response:
    headers = {"Location": f"{req.views.base}{location}.json"}
    return Response(201, body if req.fake.create_bodies else None, headers)


# -- boards -------------------------------------------------------------------------------------


@route("GET", r"/boards")
def boards_index(req: Request) -> Response:
    boards = sorted(
        req.account.visible_boards(req.user), key=lambda b: b.accessed_at or b.created_at
    )
    return req.paginate(boards[::-1], req.views.board)


@route("GET", r"/boards/(?P<id>[^/]+)")
def boards_show(req: Request) -> Response:
    board = find_board(req, req.args["id"])
    board.accessed_at = req.account.clock.now()
    return Response(200, req.views.board(board, show=True))


@route("POST", r"/boards")
def boards_create(req: Request) -> Response:
    params = req.resource("board", ("name", "all_access", "auto_postpone_period_in_days"))
    if not str(params.get("name") or "").strip():
        raise HttpError(422, UNPROCESSABLE)
    board = req.account.add_board(params["name"], req.user)
    board.all_access = bool(params.get("all_access", True))
    board.auto_postpone = int(params.get("auto_postpone_period_in_days") or 30)
    if not board.all_access:
        board.user_ids = [req.user.id]
    return created(req, f"/boards/{board.id}", req.views.board(board, show=True))


@route("PUT|PATCH", r"/boards/(?P<id>[^/]+)")
def boards_update(req: Request) -> Response:
    board = find_board(req, req.args["id"])
    if req.user.role not in ("owner", "admin") and req.user.id != board.creator_id:
        return Response(403)
    params = req.resource("board", ("name", "all_access", "auto_postpone_period_in_days"))
    if "name" in params:
        if not str(params["name"]).strip():
            raise HttpError(422, UNPROCESSABLE)
        board.name = params["name"]
    if "all_access" in params:
        board.all_access = bool(params["all_access"])
    if "auto_postpone_period_in_days" in params:
        board.auto_postpone = int(params["auto_postpone_period_in_days"])
    if "user_ids" in req.body:
        active = {u.id for u in req.account.users.values() if u.active}
        board.user_ids = [u for u in req.body["user_ids"] if u in active]
    if board not in req.account.visible_boards(req.user):
        return Response(204)
    return Response(200, req.views.board(board, show=True))


@route("GET", r"/boards/(?P<id>[^/]+)/columns")
def columns_index(req: Request) -> Response:
    board = find_board(req, req.args["id"])
    columns = [c for c in req.account.columns.values() if c.board_id == board.id]
    return Response(200, [req.views.column(c) for c in sorted(columns, key=lambda c: c.position)])


@route("GET", r"/boards/(?P<id>[^/]+)/accesses")
def accesses_index(req: Request) -> Response:
    board = find_board(req, req.args["id"])
    users = sorted((u for u in req.account.users.values() if u.active), key=lambda u: u.name)
    page = req.paginate(users, lambda u: req.views.access(u, board))
    page.body = {"board_id": board.id, "all_access": board.all_access, "users": page.body}
    return page


# -- cards --------------------------------------------------------------------------------------


def _filtered(req: Request) -> list[Card]:
    acct = req.account
    view = req.q("indexed_by") or "all"
    cards = [c for c in acct.cards.values() if acct.can_see(req.user, c) and c.status != "drafted"]
    keep: Callable[[Card], bool] | None = {
        "all": lambda c: not c.closed,
        "maybe": lambda c: not c.closed and not c.postponed and c.column_id is None,
        "closed": lambda c: c.closed,
        "not_now": lambda c: c.postponed,
        "golden": lambda c: c.golden and not c.closed,
        "stalled": lambda c: False,
        "postponing_soon": lambda c: False,
    }.get(view)
    if keep is None:
        raise HttpError(400, {"status": 400, "error": "Bad Request"})
    cards = [c for c in cards if keep(c)]
    filters: dict[str, Callable[[Card, list[str]], bool]] = {
        "board_ids": lambda c, ids: c.board_id in ids,
        "column_ids": lambda c, ids: c.column_id in ids,
        "tag_ids": lambda c, ids: bool(set(c.tag_ids) & set(ids)),
        "assignee_ids": lambda c, ids: bool(set(c.assignee_ids) & set(ids)),
        "creator_ids": lambda c, ids: c.creator_id in ids,
        "card_ids": lambda c, ids: c.id in ids,
    }
    for name, test in filters.items():
        if ids := req.qlist(name):
            cards = [c for c in cards if test(c, ids)]
    if req.q("assignment_status") == "unassigned":
        cards = [c for c in cards if not c.assignee_ids]
    for term in req.qlist("terms"):
        cards = [c for c in cards if term.lower() in f"{c.title} {c.description}".lower()]
    order = req.q("sorted_by") or "latest"
    if order == "oldest":
        return sorted(cards, key=lambda c: c.created_at)
    key = (lambda c: c.created_at) if order == "newest" else (lambda c: c.last_active_at)
    return sorted(cards, key=key, reverse=True)


@route("GET", r"/cards")
def cards_index(req: Request) -> Response:
    return req.paginate(_filtered(req), req.views.card)


@route("GET", r"/search")
def search(req: Request) -> Response:
    query = (req.q("q") or "").strip()
    acct = req.account
    cards = [c for c in acct.cards.values() if acct.can_see(req.user, c) and c.status != "drafted"]
    exact = [c for c in cards if c.id == query]
    if not exact:

        def mentions(card: Card) -> bool:
            comments = " ".join(m.body for m in acct.comments.values() if m.card_id == card.id)
            return (
                bool(query)
                and query.lower() in f"{card.title} {card.description} {comments}".lower()
            )

        exact = sorted(filter(mentions, cards), key=lambda c: c.last_active_at, reverse=True)
    return req.paginate(exact, req.views.card)


@route("GET", r"/cards/(?P<number>\d+)")
def cards_show(req: Request) -> Response:
    card = find_card(req)
    if card.status == "drafted":
        return Response(302, None, {"Location": f"{req.views.base}/cards/{card.number}/draft"})
    return Response(200, req.views.card(card, show=True))


@route("POST", r"/boards/(?P<id>[^/]+)/cards")
def cards_create(req: Request) -> Response:
    board = find_board(req, req.args["id"])
    params = req.resource("card", CARD_FIELDS)
    card = req.account.add_card(
        board, str(params.get("title") or ""), req.user, str(params.get("description") or "")
    )
    return created(req, f"/cards/{card.number}", req.views.card(card, show=True))


@route("PUT|PATCH", r"/cards/(?P<number>\d+)")
def cards_update(req: Request) -> Response:
    card = find_card(req)
    params = req.resource("card", CARD_FIELDS)
    if "title" in params and params["title"] != card.title:
        old, card.title = card.title, str(params["title"])
        req.account.record(
            "card_title_changed", card, req.user, old_title=old, new_title=card.title
        )
    if "description" in params:
        card.description = str(params["description"] or "")
    req.account.touch(card)
    return Response(200, req.views.card(card, show=True))


@route("POST", r"/cards/(?P<number>\d+)/closure")
def closure_create(req: Request) -> Response:
    req.account.close(find_card(req), req.user)
    return Response(204)


@route("DELETE", r"/cards/(?P<number>\d+)/closure")
def closure_destroy(req: Request) -> Response:
    req.account.reopen(find_card(req), req.user)
    return Response(204)


@route("POST", r"/cards/(?P<number>\d+)/not_now")
def not_now_create(req: Request) -> Response:
    req.account.postpone(find_card(req), req.user)
    return Response(204)


@route("POST", r"/cards/(?P<number>\d+)/triage")
def triage_create(req: Request) -> Response:
    card = find_card(req)
    column = req.account.columns.get(str(req.top("column_id")))
    if column is None or column.board_id != card.board_id:
        raise not_found()  # board.columns.find
    req.account.triage_into(card, column, req.user)
    return Response(204)


@route("DELETE", r"/cards/(?P<number>\d+)/triage")
def triage_destroy(req: Request) -> Response:
    req.account.send_back_to_triage(find_card(req), req.user)
    return Response(204)


@route("PUT|PATCH", r"/cards/(?P<number>\d+)/board")
def card_board_update(req: Request) -> Response:
    card = find_card(req)
    board = find_board(req, str(req.top("board_id")))
    req.account.move_to_board(card, board, req.user)
    return Response(200, req.views.card(card, show=True))


@route("POST", r"/cards/(?P<number>\d+)/taggings")
def taggings_create(req: Request) -> Response:
    card = find_card(req)
    title = str(req.top("tag_title")).strip().lstrip("#")
    if not title:
        raise HttpError(422, UNPROCESSABLE)
    req.account.toggle_tag(card, title)
    return Response(204)


@route("POST", r"/cards/(?P<number>\d+)/assignments")
def assignments_create(req: Request) -> Response:
    card = find_card(req)
    users = req.account.board_users(req.account.boards[card.board_id])
    assignee = next((u for u in users if u.id == req.top("assignee_id")), None)
    if assignee is None:
        raise not_found()  # board.users.active.find
    req.account.toggle_assignment(card, assignee, req.user)
    return Response(204)
