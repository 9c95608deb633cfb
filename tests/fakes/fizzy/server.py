"""A loopback fake of Fizzy's JSON API, served from a thread (``with FakeFizzy() as fake:``).

It follows Fizzy's documented API, not our convenience: the account slug leads every
path (unknown slug: 302 to the account menu), no credentials get a 302 to the login page, a bad
or read-only-for-a-write token or a non-JSON request gets 401, deactivated users 403; lists are
paged 15/30/50/100 with ``Link: rel=next`` and ``X-Total-Count``; errors have Rails' bodies.
``fail()`` injects 429/5xx answers with ``Retry-After`` to exercise client retries;
``slow()`` and ``truncate()`` (:mod:`tests.fakes.faults`) disturb answers on the wire.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from tests.fakes.faults import InjectsWireFaults, WireFaults, send_answer
from tests.fakes.fizzy.state import AccessToken, Account, Clock, Identity, User, new_id
from tests.fakes.fizzy.views import Views

SLUG = "897362094"
OTHER_SLUG = "686465299"
WRITE_TOKEN = "fizzy-write-token-david"
READ_TOKEN = "fizzy-read-token-david"
MEMBER_TOKEN = "fizzy-write-token-kevin"
INACTIVE_TOKEN = "fizzy-write-token-former"
PAGE_SIZES = (15, 30, 50, 100)
NOT_FOUND = {"status": 404, "error": "Not Found"}
# Injected faults: a rate limit answers {"message"} as Fizzy's rate_limit does; anything else
# comes from Rails' PublicExceptions, {"status", "error"} for a JSON request.
RATE_LIMITED = {"message": "Try again later."}
REASONS = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}
BAD_REQUEST = {"status": 400, "error": "Bad Request"}


@dataclass
class Response:
    status: int
    body: Any = None  # dict/list: JSON; str: text; None: empty
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, str):
            self.headers.setdefault("Content-Type", "text/plain; charset=utf-8")
            return self.body.encode()
        self.headers.setdefault("Content-Type", "application/json; charset=utf-8")
        return json.dumps(self.body).encode()


class HttpError(Exception):
    """Raised by a route to answer with ``status`` and Rails' body for it."""

    def __init__(self, status: int, body: Any = None) -> None:
        super().__init__(status)
        self.response = Response(status, body)


def not_found() -> HttpError:
    return HttpError(404, NOT_FOUND)


@dataclass
class Request:
    """One authenticated request to an account route."""

    fake: FakeFizzy
    method: str
    path: str  # as sent, with slug and any .json
    query: list[tuple[str, str]]
    body: dict[str, Any]
    account: Account
    user: User
    args: dict[str, str]

    @property
    def views(self) -> Views:
        return Views(self.fake.url, self.account)

    def q(self, name: str) -> str | None:
        return next((v for k, v in self.query if k == name), None)

    def qlist(self, name: str) -> list[str]:
        return [v for k, v in self.query if k == f"{name}[]"]

    def resource(self, key: str, fields: tuple[str, ...]) -> dict[str, Any]:
        """Params nested under ``key``, or flat ones (Rails ``wrap_parameters``); 400 if none."""
        nested = self.body.get(key)
        if isinstance(nested, dict) and nested:
            return nested
        flat = {k: v for k, v in self.body.items() if k in fields}
        if not flat:
            raise HttpError(400, BAD_REQUEST)
        return flat

    def top(self, name: str) -> Any:
        """A required top-level param (ParameterMissing: 400)."""
        if self.body.get(name) in (None, ""):
            raise HttpError(400, BAD_REQUEST)
        return self.body[name]

    def paginate(self, items: list[Any], render: Callable[[Any], Any]) -> Response:
        """Geared pagination: pages of 15, 30, 50, then 100; Link rel=next while more remain."""
        raw = self.q("page") or "1"
        page = int(raw) if raw.isdigit() and int(raw) > 0 else 1
        start = sum(PAGE_SIZES[min(i, 3)] for i in range(page - 1))
        size = PAGE_SIZES[min(page - 1, 3)]
        headers = {"X-Total-Count": str(len(items))}
        if start + size < len(items):
            headers["Link"] = f'<{self.page_url(page + 1)}>; rel="next"'
        return Response(200, [render(i) for i in items[start : start + size]], headers)

    def page_url(self, page: int) -> str:
        pairs = [(k, v) for k, v in self.query if k != "page"] + [("page", str(page))]
        return f"{self.fake.url}{self.path}?{urlencode(pairs)}"


Route = Callable[[Request], Response]
ROUTES: list[tuple[str, re.Pattern[str], Route]] = []


def route(methods: str, pattern: str) -> Callable[[Route], Route]:
    """Register a route for ``methods`` ("GET", "PUT|PATCH") under the account slug."""

    def register(fn: Route) -> Route:
        ROUTES.extend((m, re.compile(f"^{pattern}$"), fn) for m in methods.split("|"))
        return fn

    return register


@dataclass
class Seen:
    method: str
    path: str
    status: int
    body: dict[str, Any]
    headers: dict[str, str]
    request_id: str = ""  # the X-Request-Id it was answered with
    at: float = field(default_factory=time.monotonic)  # when it arrived


@dataclass
class Fault:
    status: int
    times: int
    retry_after: str | None
    method: str | None
    path: str | None
    location: str | None = None


class FakeFizzy(InjectsWireFaults):
    """The fake's world (two accounts, people, boards, tokens) and its HTTP server."""

    def __init__(self) -> None:
        from tests.fakes.fizzy import collab, routes  # noqa: F401  (they register routes)

        self.clock = Clock()
        self.lock = threading.RLock()
        self.seen: list[Seen] = []
        self.faults: list[Fault] = []
        self.wire = WireFaults()
        self.create_bodies = True
        self.sso_only = False  # a self-hosted server where only SSO sign-in is allowed
        self.url = ""
        acct = Account(new_id(), SLUG, "37signals", self.clock.now(), self.clock)
        self.account = acct
        self.david = acct.add_user("David Heinemeier Hansson", "owner")
        self.jason = acct.add_user("Jason Fried", "admin")
        self.kevin = acct.add_user("Kevin McConnell")
        self.people = [acct.add_user(n) for n in ("Ann Lee", "Jorge Manrubia", "Mike Dalessio")]
        self.former = acct.add_user("Former Member", active=False)
        self.board = acct.add_board("Writebook", self.david)
        self.columns = [
            acct.add_column(self.board, "Figuring it out", "Blue"),
            acct.add_column(self.board, "In progress", "Lime"),
        ]
        self.secret = acct.add_board("Secret plans", self.jason, [self.david.id, self.jason.id])
        other = Account(new_id(), OTHER_SLUG, "Side project", self.clock.now(), self.clock)
        other_david = other.add_user("David Heinemeier Hansson", "owner")
        other.add_board("Side board", other_david)
        self.accounts = {SLUG: acct, OTHER_SLUG: other}
        david = Identity(new_id(), {SLUG: self.david.id, OTHER_SLUG: other_david.id})
        kevin = Identity(new_id(), {SLUG: self.kevin.id})
        former = Identity(new_id(), {SLUG: self.former.id})
        self.identities = {i.id: i for i in (david, kevin, former)}
        self.tokens = {
            t.token: t
            for t in (
                AccessToken(WRITE_TOKEN, david.id, "write"),
                AccessToken(READ_TOKEN, david.id, "read"),
                AccessToken(MEMBER_TOKEN, kevin.id, "write"),
                AccessToken(INACTIVE_TOKEN, former.id, "write"),
            )
        }

    # -- test controls -------------------------------------------------------------------------

    def fail(
        self,
        status: int,
        *,
        times: int = 1,
        retry_after: str | None = None,
        method: str | None = None,
        path: str | None = None,
        location: str | None = None,
    ) -> None:
        """Answer the next ``times`` matching requests with ``status`` (a proxy's 429/503, or a
        redirect to ``location``)."""
        with self.lock:
            self.faults.append(Fault(status, times, retry_after, method, path, location))

    def clear_faults(self) -> None:
        """Drop every queued fault, status and wire alike."""
        with self.lock:
            self.faults.clear()
        self.wire.clear()

    def requests(self, method: str | None = None, path: str | None = None) -> list[Seen]:
        """Requests seen, optionally only one method and paths containing ``path``."""
        return [
            s
            for s in self.seen
            if (method is None or s.method == method) and (path is None or path in s.path)
        ]

    # -- HTTP ------------------------------------------------------------------------------------

    def handle(self, method: str, target: str, headers: dict[str, str], raw: bytes) -> Response:
        with self.lock:
            body: dict[str, Any] = {}
            if raw:
                try:
                    parsed = json.loads(raw)
                except ValueError:
                    parsed = None
                body = parsed if isinstance(parsed, dict) else {"_invalid": True}
            response = self._dispatch(method, target, headers, body)
            # Rails' ActionDispatch::RequestId: every answer carries X-Request-Id, the
            # client's own when it sent a usable one, else a fresh UUID.
            given = re.sub(r"[^\w\-@]", "", headers.get("x-request-id", ""))[:255]
            rid = given or str(uuid.uuid4())
            response.headers["X-Request-Id"] = rid
            self.seen.append(Seen(method, target, response.status, body, headers, rid))
            return response

    def _fault(self, method: str, path: str) -> Response | None:
        for fault in self.faults:
            if fault.times > 0 and fault.method in (None, method) and (fault.path or "") in path:
                fault.times -= 1
                if fault.location:
                    return Response(fault.status, None, {"Location": fault.location})
                headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                reason = REASONS.get(fault.status, "Service Unavailable")
                body = (
                    RATE_LIMITED
                    if fault.status == 429
                    else {"status": fault.status, "error": reason}
                )
                return Response(fault.status, dict(body), headers)
        return None

    def _dispatch(
        self, method: str, target: str, headers: dict[str, str], body: dict[str, Any]
    ) -> Response:
        parts = urlsplit(target)
        if (fault := self._fault(method, parts.path)) is not None:
            return fault
        json_format = parts.path.endswith(".json") or "application/json" in headers.get(
            "accept", ""
        )
        path = parts.path.removesuffix(".json")
        scoped = re.match(r"^/(\d+)(/.*)?$", path)
        account = self.accounts.get(scoped[1]) if scoped else None
        rest = (scoped[2] or "/") if scoped else path
        if scoped and account is None:
            return self._redirect("/session/menu")
        if account is not None and rest == "/my/identity":
            return self._redirect("/")  # disallow_account_scope
        if account is None and rest != "/my/identity":
            return self._redirect("/session/menu")  # require_account
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme != "Bearer" or not token:
            return self._redirect("/session/new")
        if self.sso_only:
            return Response(
                403, {"error": "single_sign_on_required", "message": "Sign in with SSO."}
            )
        grant = self.tokens.get(token)
        if (
            not json_format
            or grant is None
            or (method not in ("GET", "HEAD") and grant.permission != "write")
        ):
            return Response(
                401,
                "HTTP Token: Access denied.\n",
                {"WWW-Authenticate": 'Token realm="Application"'},
            )
        identity = self.identities[grant.identity_id]
        if body.get("_invalid"):
            return Response(400, BAD_REQUEST)
        if account is None:
            return self._identity(identity)
        user = account.users.get(identity.users.get(account.slug, ""))
        if user is None or not user.active or not account.active:
            return Response(403)
        query = parse_qsl(parts.query, keep_blank_values=True)
        for route_method, pattern, fn in ROUTES:
            if route_method == method and (m := pattern.match(rest)):
                req = Request(self, method, parts.path, query, body, account, user, m.groupdict())
                try:
                    return fn(req)
                except HttpError as exc:
                    return exc.response
        return Response(404, NOT_FOUND)

    def _redirect(self, path: str) -> Response:
        return Response(302, None, {"Location": f"{self.url}{path}"})

    def _identity(self, identity: Identity) -> Response:
        from tests.fakes.fizzy.views import identity as render

        pairs = [
            (Views(self.url, self.accounts[slug]), self.accounts[slug].users[user_id])
            for slug, user_id in identity.users.items()
        ]
        return Response(200, render(identity, pairs))

    # -- lifecycle -------------------------------------------------------------------------------

    def __enter__(self) -> FakeFizzy:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    fake: FakeFizzy


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 5
    disable_nagle_algorithm = True
    server: _Server

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        response = self.server.fake.handle(self.command, self.path, headers, raw)
        payload = response.encoded()
        wire = self.server.fake.wire.take(self.command, urlsplit(self.path).path)
        bodied = response.status not in (204, 304)
        send_answer(self, response.status, response.headers, payload, wire, length=bodied)

    # http.server dispatches to do_<METHOD>.
    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve  # noqa: N815

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the fake records requests in ``FakeFizzy.seen``."""
