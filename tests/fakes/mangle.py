"""A loopback proxy in front of any fake that spoils one of its answers on purpose.

Vendor answers are input too: the agents must turn a malformed or odd-but-valid answer into
a clear error, never a crash. The proxy forwards every request to the fake unchanged and
returns its answer, except the ``index``-th answer after :meth:`ManglingProxy.arm`, which a
:class:`Mutation` changes: a key dropped (an object without ``id``), a value of the wrong
type or null, a huge string, an extra field, an empty list, another JSON document, or a body
that is not JSON at all. The fake's origin is rewritten to the proxy's in bodies and headers
(``@odata.nextLink``, ``Link``, ``Location``), so follow-up requests come back through it.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

import httpx

from tests.fakes.base import Loopback

__all__ = ["OPS", "ManglingProxy", "Mutation", "mutate"]

OPS = ("drop", "drop_key", "retype", "huge", "extra", "empty", "replace", "not_json")
KEYS = ("id", "object", "type", "results", "value", "items", "data", "properties", "title")
HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding"}


def _slots(value: Any, out: list[tuple[Any, Any]], depth: int = 0) -> list[tuple[Any, Any]]:
    """Every (container, key) of ``value``, depth first, in a stable order."""
    if depth > 12:
        return out
    if isinstance(value, dict):
        for k in value:
            out.append((value, k))
            _slots(value[k], out, depth + 1)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out.append((value, i))
            _slots(v, out, depth + 1)
    return out


def mutate(body: Any, op: str, pick: int, value: Any) -> Any:
    """``body`` changed by ``op`` at the slot ``pick`` selects (modulo their number)."""
    if op == "replace":
        return value
    if op == "drop_top":  # explicit tests only: drop the top-level key ``value``
        if isinstance(body, dict):
            body.pop(value, None)
        return body
    slots = _slots(body, [])
    if op == "drop_key":  # prefer the keys code relies on: id, object, results...
        slots = [(c, k) for c, k in slots if isinstance(c, dict) and k in KEYS] or slots
    if op == "empty":
        slots = [(c, k) for c, k in slots if isinstance(c[k], list | dict)]
    if op == "extra":
        dicts = [body] if isinstance(body, dict) else []
        dicts += [c[k] for c, k in slots if isinstance(c[k], dict)]
        if dicts:
            dicts[pick % len(dicts)][f"unexpected_{pick}"] = value
        return body
    if not slots:
        return value if op in ("retype", "huge") else body
    container, key = slots[pick % len(slots)]
    if op in ("drop", "drop_key"):
        if isinstance(container, dict):
            del container[key]
        else:
            container.pop(key)
    elif op == "empty":
        container[key] = type(container[key])()
    else:  # retype, huge
        container[key] = value
    return body


@dataclass(frozen=True)
class Mutation:
    """What to do to which answer: ``op`` at slot ``pick`` of answer number ``index``."""

    op: str
    pick: int
    value: Any
    index: int = 0

    def apply(
        self, status: int, headers: dict[str, str], data: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        """The spoiled answer."""
        if self.op == "not_json":
            text = self.value if isinstance(self.value, bytes) else str(self.value).encode()
            return status, {**headers, "Content-Type": "text/html; charset=utf-8"}, text
        try:
            body = json.loads(data) if data else None
        except ValueError:
            return status, headers, data
        out = mutate(body, self.op, self.pick, self.value)
        return status, {**headers, "Content-Type": "application/json"}, json.dumps(out).encode()


class ManglingProxy(Loopback):
    """An HTTP proxy on 127.0.0.1 in front of the fake at ``target``."""

    def __init__(self, target: str) -> None:
        self.target = target.rstrip("/")
        self.mutation: Mutation | None = None
        self.answers = 0  # since the last arm()
        self.spoiled: list[str] = []  # ``METHOD path`` of each answer spoiled
        self._lock = threading.Lock()
        self._http = httpx.Client(base_url=self.target, timeout=60, verify=False)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                status, headers, data = proxy.forward(
                    self.command, self.path, dict(self.headers), raw
                )
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _handle  # noqa: N815  http.server names

        self.serve(Handler)

    def stop(self) -> None:
        """Stop serving, close the socket and the connection to the fake."""
        super().stop()
        self._http.close()

    def arm(self, mutation: Mutation | None) -> None:
        """Spoil the ``mutation.index``-th answer from now on (None: pass every answer)."""
        with self._lock:
            self.mutation, self.answers = mutation, 0

    def forward(
        self, method: str, target: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        """Send the request to the fake; its answer, possibly spoiled."""
        sent = {
            k: v for k, v in headers.items() if k.lower() not in HOP | {"host", "accept-encoding"}
        }
        resp = self._http.request(method, target, headers=sent, content=raw)
        back = {
            k: v.replace(self.target, self.url)
            for k, v in resp.headers.items()
            if k.lower() not in HOP
        }
        data = resp.content.replace(self.target.encode(), self.url.encode())
        with self._lock:
            n, m = self.answers, self.mutation
            self.answers += 1
            if m is not None and n == m.index:
                self.spoiled.append(f"{method} {target}")
        if m is not None and n == m.index:
            return m.apply(resp.status_code, back, data)
        return resp.status_code, back, data
