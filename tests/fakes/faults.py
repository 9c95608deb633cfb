"""Wire faults every fake can inject: an answer that comes late, or one that is cut short.

Status faults (a 429 with ``Retry-After``, a 500 or 503) stay with each fake, because their
bodies are the vendor's own. What goes wrong on the wire is the same for every vendor, so it
is described here once and applied by each fake's transport:

- ``delay``: the fake receives the request, does its work (a write is applied), and waits
  ``delay`` seconds before answering. Longer than the client's timeout, that is a timeout;
  shorter, a slow answer that should still succeed.
- ``truncate="short"``: the answer declares its full ``Content-Length`` but only half of the
  bytes are sent before the connection closes.
- ``truncate="cut"``: the body ends in the middle of its JSON, with an honest
  ``Content-Length`` (a proxy that rewrote it, a buggy gateway).

In both truncations the request was handled first, so a truncated write *was applied*.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Literal

__all__ = ["Cut", "InjectsWireFaults", "WireFault", "WireFaults", "cut_body", "send_answer"]

Cut = Literal["short", "cut"]


@dataclass
class WireFault:
    """What happens on the wire to the next ``times`` answers matching method and path."""

    method: str | None = None
    path: str | None = None  # a substring of the request path
    times: int = 1
    delay: float = 0.0
    truncate: Cut | None = None

    def hits(self, method: str, path: str) -> bool:
        """Whether this fault applies to ``method path``."""
        return self.times > 0 and self.method in (None, method) and (self.path or "") in path


class WireFaults:
    """A thread-safe queue of wire faults; each matching answer uses up one."""

    def __init__(self) -> None:
        self._faults: list[WireFault] = []
        self._lock = threading.Lock()

    def add(self, fault: WireFault) -> None:
        """Queue ``fault``."""
        with self._lock:
            self._faults.append(fault)

    def take(self, method: str, path: str) -> WireFault | None:
        """The first fault for ``method path``, with one of its uses spent; None if none."""
        with self._lock:
            for fault in self._faults:
                if fault.hits(method, path):
                    fault.times -= 1
                    return fault
        return None

    def clear(self) -> None:
        """Forget every queued fault."""
        with self._lock:
            self._faults.clear()


class InjectsWireFaults:
    """``slow()`` and ``truncate()`` for a fake that keeps its queue in ``self.wire``."""

    wire: WireFaults

    def slow(
        self, seconds: float, *, method: str | None = None, path: str | None = None, times: int = 1
    ) -> None:
        """Answer the next ``times`` matching requests ``seconds`` late (after handling them)."""
        self.wire.add(WireFault(method, path, times, delay=seconds))

    def truncate(
        self,
        how: Cut = "short",
        *,
        method: str | None = None,
        path: str | None = None,
        times: int = 1,
    ) -> None:
        """Cut the next ``times`` matching answers short (after handling the requests)."""
        self.wire.add(WireFault(method, path, times, truncate=how))


def cut_body(payload: bytes, how: Cut) -> tuple[bytes, int]:
    """The bytes to send and the ``Content-Length`` to declare for a truncated ``payload``.

    Half of a JSON object or array is never valid JSON; an empty body becomes a lone ``{``.
    """
    half = payload[: len(payload) // 2] or b"{"
    return half, (max(len(payload), len(half) + 1) if how == "short" else len(half))


def send_answer(
    handler: BaseHTTPRequestHandler,
    status: int,
    headers: Mapping[str, str],
    payload: bytes,
    fault: WireFault | None,
    *,
    length: bool = True,
) -> None:
    """Write an answer through a ``http.server`` handler, late or cut short as ``fault`` says.

    ``length`` False leaves ``Content-Length`` out (204 and 304). A client that gave up
    waiting has closed its end: the answer is dropped and the connection closed.
    """
    if fault is not None and fault.delay:
        time.sleep(fault.delay)
    declared = len(payload)
    if fault is not None and fault.truncate:
        payload, declared = cut_body(payload, fault.truncate)
        length = True
    try:
        handler.send_response(status)
        for name, value in headers.items():
            handler.send_header(name, value)
        if length:
            handler.send_header("Content-Length", str(declared))
        handler.end_headers()
        handler.wfile.write(payload)
        handler.wfile.flush()
    except OSError:  # the client timed out and left
        handler.close_connection = True
        return
    if fault is not None and fault.truncate == "short":
        handler.close_connection = True
