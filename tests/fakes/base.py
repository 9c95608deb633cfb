"""A loopback HTTP(S) server for fakes: request log, fault injection, JSON replies.

``fail()`` answers with the vendor's error body and headers (subclasses shape them);
``slow()`` and ``truncate()`` (:mod:`tests.fakes.faults`) disturb the answer on the wire.
"""

from __future__ import annotations

import contextlib
import json
import re
import ssl
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self
from urllib.parse import parse_qs, unquote, urlsplit

from tests.fakes.faults import InjectsWireFaults, WireFaults, send_answer

Reply = tuple[int, dict[str, str], Any]


@dataclass
class Recorded:
    """One request as the fake received it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    raw_query: str = ""
    at: float = field(default_factory=time.monotonic)  # when it arrived
    raw: bytes = b""  # the body exactly as received

    @property
    def target(self) -> str:
        """``METHOD /path``."""
        return f"{self.method} {self.path}"


@dataclass
class Fault:
    """Answer the next ``times`` requests matching method and path with ``status``."""

    method: str
    path: str
    status: int
    times: int = 1
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None


class Loopback:
    """An HTTP server on a free 127.0.0.1 port, served from a daemon thread once started."""

    scheme = "http"
    server: ThreadingHTTPServer
    thread: threading.Thread

    def serve(self, handler: type[BaseHTTPRequestHandler]) -> None:
        """Bind the server for ``handler`` (not serving until :meth:`start`)."""
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>`` (no trailing slash)."""
        return f"{self.scheme}://127.0.0.1:{self.server.server_address[1]}"

    @property
    def port(self) -> int:
        """The port it listens on."""
        return int(self.server.server_address[1])

    def start(self) -> Self:
        """Serve in a daemon thread."""
        self.thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self.server.shutdown()
        self.server.server_close()


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that writes no access line to the test's stderr."""

    def log_message(self, format: str, *args: Any) -> None:
        pass


def challenge_basic(handler: BaseHTTPRequestHandler, realm: str = "git") -> None:
    """Answer 401 with an empty body, asking for HTTP Basic credentials as a git host does."""
    handler.send_response(401)
    handler.send_header("WWW-Authenticate", f'Basic realm="{realm}"')
    handler.send_header("Content-Length", "0")
    handler.end_headers()


@contextlib.contextmanager
def loopback(handler: type[BaseHTTPRequestHandler]) -> Iterator[Loopback]:
    """``handler`` served on a free 127.0.0.1 port for the ``with`` block, then stopped (a
    request still in a handler does not hold the block's end: handler threads are daemons)."""
    server = Loopback()
    server.serve(handler)
    server.start()
    try:
        yield server
    finally:
        server.stop()


class FakeServer(InjectsWireFaults, Loopback):
    """Base of every fake: subclasses implement :meth:`route`."""

    def __init__(self, tls: tuple[Path, Path] | None = None) -> None:
        self.requests: list[Recorded] = []
        self.faults: list[Fault] = []
        self.wire = WireFaults()
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                status, headers, body = fake.dispatch(
                    self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, raw
                )
                if isinstance(body, bytes):  # content (a file's bytes), sent as it is
                    data = body
                    headers = {"Content-Type": "application/octet-stream", **headers}
                else:
                    data = b"" if body is None else json.dumps(body).encode()
                    if data:
                        headers = {**headers, "Content-Type": "application/json"}
                wire = fake.wire.take(self.command, urlsplit(self.path).path)
                send_answer(self, status, headers, data, wire)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _handle  # noqa: N815  http.server names

        self.serve(Handler)
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(str(tls[0]), str(tls[1]))
            self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
            self.scheme = "https"

    def fail(self, method: str, path: str, status: int, **kwargs: Any) -> None:
        """Queue a fault for requests to ``path`` (a prefix of the collapsed path)."""
        self.faults.append(Fault(method, path, status, **kwargs))

    def clear_faults(self) -> None:
        """Drop every queued fault, status and wire alike."""
        with self._lock:
            self.faults.clear()
        self.wire.clear()

    def sent(self, method: str | None = None, path: str | None = None) -> list[Recorded]:
        """Recorded requests, optionally only those with this method and path prefix."""
        return [
            r
            for r in self.requests
            if (method is None or r.method == method) and (path is None or r.path.startswith(path))
        ]

    def writes(self) -> list[Recorded]:
        """Every request that was not a GET."""
        return [r for r in self.requests if r.method != "GET"]

    def dispatch(self, method: str, target: str, headers: dict[str, str], raw: bytes) -> Reply:
        """Record, apply a queued fault, else route."""
        parts = urlsplit(target)
        path = re.sub(r"/{2,}", "/", unquote(parts.path))
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        rec = Recorded(method, path, query, headers, body, parts.query, raw=raw)
        with self._lock:
            self.requests.append(rec)
            for f in self.faults:
                if f.times > 0 and f.method == method and path.startswith(f.path):
                    f.times -= 1
                    return self.fault_reply(f)
        return self.route(rec)

    def base_headers(self) -> dict[str, str]:
        """Headers on every answer."""
        return {"request-id": str(uuid.uuid4())}

    def error_body(self, status: int) -> Any:
        """The body of an injected fault."""
        return {"error": {"code": str(status), "message": "injected"}}

    def fault_reply(self, fault: Fault) -> Reply:
        """The answer to a request hit by ``fault``: the vendor's headers and error body, with
        the fault's own headers (``Retry-After``) and body when it has them."""
        return (
            fault.status,
            {**self.base_headers(), **fault.headers},
            fault.body or self.error_body(fault.status),
        )

    def route(self, req: Recorded) -> Reply:
        """Answer ``req``."""
        raise NotImplementedError
