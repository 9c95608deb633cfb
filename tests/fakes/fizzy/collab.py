"""The fake Fizzy's collaboration endpoints: comments, steps, tags, users, notifications and
activity."""

from __future__ import annotations

from tests.fakes.fizzy.routes import UNPROCESSABLE, created, find_card
from tests.fakes.fizzy.server import HttpError, Request, Response, not_found, route
from tests.fakes.fizzy.state import Card, Comment, Step, new_id

# -- comments and steps ------------------------------------------------------------------------


def _comment(req: Request, card: Card) -> Comment:
    comment = req.account.comments.get(req.args["id"])
    if comment is None or comment.card_id != card.id:
        raise not_found()
    return comment


@route("GET", r"/cards/(?P<number>\d+)/comments")
def comments_index(req: Request) -> Response:
    card = find_card(req)
    comments = [c for c in req.account.comments.values() if c.card_id == card.id]
    return req.paginate(sorted(comments, key=lambda c: c.created_at), req.views.comment)


@route("GET", r"/cards/(?P<number>\d+)/comments/(?P<id>[^/]+)")
def comments_show(req: Request) -> Response:
    return Response(200, req.views.comment(_comment(req, find_card(req))))


@route("POST", r"/cards/(?P<number>\d+)/comments")
def comments_create(req: Request) -> Response:
    card = find_card(req)
    if card.status != "published":
        return Response(403)
    body = str(req.resource("comment", ("body", "created_at")).get("body") or "")
    if not body.strip():
        raise HttpError(422, UNPROCESSABLE)
    comment = req.account.add_comment(card, body, req.user)
    return created(req, f"/cards/{card.number}/comments/{comment.id}", req.views.comment(comment))


@route("PUT|PATCH", r"/cards/(?P<number>\d+)/comments/(?P<id>[^/]+)")
def comments_update(req: Request) -> Response:
    comment = _comment(req, find_card(req))
    if comment.creator_id != req.user.id:
        return Response(403)
    body = str(req.resource("comment", ("body",)).get("body") or "")
    if not body.strip():
        raise HttpError(422, UNPROCESSABLE)
    comment.body, comment.updated_at = body, req.account.clock.now()
    return Response(200, req.views.comment(comment))


@route("DELETE", r"/cards/(?P<number>\d+)/comments/(?P<id>[^/]+)")
def comments_destroy(req: Request) -> Response:
    comment = _comment(req, find_card(req))
    if comment.creator_id != req.user.id:
        return Response(403)
    del req.account.comments[comment.id]
    return Response(204)


def _step(req: Request, card: Card) -> Step:
    step = next((s for s in card.steps if s.id == req.args["id"]), None)
    if step is None:
        raise not_found()
    return step


@route("GET", r"/cards/(?P<number>\d+)/steps")
def steps_index(req: Request) -> Response:
    return Response(200, [req.views.step(s) for s in find_card(req).steps])


@route("GET", r"/cards/(?P<number>\d+)/steps/(?P<id>[^/]+)")
def steps_show(req: Request) -> Response:
    return Response(200, req.views.step(_step(req, find_card(req))))


@route("POST", r"/cards/(?P<number>\d+)/steps")
def steps_create(req: Request) -> Response:
    card = find_card(req)
    params = req.resource("step", ("content", "completed"))
    if not str(params.get("content") or "").strip():
        raise HttpError(422, UNPROCESSABLE)
    step = Step(new_id(), str(params["content"]), bool(params.get("completed", False)))
    card.steps.append(step)
    return created(req, f"/cards/{card.number}/steps/{step.id}", req.views.step(step))


@route("PUT|PATCH", r"/cards/(?P<number>\d+)/steps/(?P<id>[^/]+)")
def steps_update(req: Request) -> Response:
    step = _step(req, find_card(req))
    params = req.resource("step", ("content", "completed"))
    if "content" in params:
        if not str(params["content"] or "").strip():
            raise HttpError(422, UNPROCESSABLE)
        step.content = str(params["content"])
    if "completed" in params:
        step.completed = bool(params["completed"])
    return Response(200, req.views.step(step))


@route("DELETE", r"/cards/(?P<number>\d+)/steps/(?P<id>[^/]+)")
def steps_destroy(req: Request) -> Response:
    card = find_card(req)
    card.steps.remove(_step(req, card))
    return Response(204)


# -- tags, people, notifications, activity ------------------------------------------------------


@route("GET", r"/tags")
def tags_index(req: Request) -> Response:
    tags = sorted(req.account.tags.values(), key=lambda t: t.title.lower())
    return req.paginate(tags, req.views.tag)


@route("GET", r"/users")
def users_index(req: Request) -> Response:
    users = sorted((u for u in req.account.users.values() if u.active), key=lambda u: u.name)
    return req.paginate(users, req.views.user)


@route("GET", r"/users/(?P<id>[^/]+)")
def users_show(req: Request) -> Response:
    user = req.account.users.get(req.args["id"])
    if user is None:
        raise not_found()
    return Response(200, req.views.user(user))


@route("PUT|PATCH", r"/users/(?P<id>[^/]+)")
def users_update(req: Request) -> Response:
    user = req.account.users.get(req.args["id"])
    if user is None:
        raise not_found()
    if user.id != req.user.id and req.user.role not in ("owner", "admin"):
        return Response(403)
    name = str(req.resource("user", ("name",)).get("name") or "")
    if not name.strip():
        return Response(422, {"name": ["can't be blank"]})  # render json: user.errors
    user.name = name
    return Response(200, req.views.user(user))


@route("GET", r"/notifications")
def notifications_index(req: Request) -> Response:
    mine = [n for n in req.account.notifications.values() if n.user_id == req.user.id]
    mine.sort(key=lambda n: n.created_at, reverse=True)
    read = [n for n in mine if n.read_at]
    page = req.paginate(read, req.views.notification)
    if req.q("page") is None:
        unread = [req.views.notification(n) for n in mine if not n.read_at][:100]
        page.body = unread + page.body
    return page


@route("POST", r"/notifications/(?P<id>[^/]+)/reading")
def reading_create(req: Request) -> Response:
    note = req.account.notifications.get(req.args["id"])
    if note is None or note.user_id != req.user.id:
        raise not_found()
    note.read_at = note.read_at or req.account.clock.now()
    return Response(204)


@route("DELETE", r"/notifications/(?P<id>[^/]+)/reading")
def reading_destroy(req: Request) -> Response:
    note = req.account.notifications.get(req.args["id"])
    if note is None or note.user_id != req.user.id:
        raise not_found()
    note.read_at = None
    return Response(204)


@route("POST", r"/notifications/bulk_reading")
def bulk_reading_create(req: Request) -> Response:
    now = req.account.clock.now()
    for note in req.account.notifications.values():
        if note.user_id == req.user.id and note.read_at is None:
            note.read_at = now
    return Response(204)


@route("GET", r"/activities")
def activities_index(req: Request) -> Response:
    visible = {b.id for b in req.account.visible_boards(req.user)}
    boards, creators = req.qlist("board_ids"), req.qlist("creator_ids")
    events = [
        e
        for e in req.account.activities
        if e.board_id in visible
        and (not boards or e.board_id in boards)
        and (not creators or e.creator_id in creators)
        and req.account.card_by_id(e.card_id) is not None
        and (e.comment_id is None or e.comment_id in req.account.comments)
    ]
    return req.paginate(
        sorted(events, key=lambda e: e.created_at, reverse=True), req.views.activity
    )
