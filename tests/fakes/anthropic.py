"""A loopback Anthropic Messages API, enough for the real Claude Code CLI to run a session.

Follows the documented API: ``POST /v1/messages`` with ``x-api-key`` (401
``authentication_error`` without it), answering one text message, as server-sent events
(``message_start``, ``content_block_start``, ``content_block_delta``, ``content_block_stop``,
``message_delta``, ``message_stop``) when ``"stream": true``, else as one JSON message;
``POST /v1/messages/count_tokens`` answers ``{"input_tokens": n}``. Every request is kept, so a
test can read what Claude Code sent: the hooks' context, and the history a resumed session
carries.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.fakes.base import Loopback

__all__ = ["FakeAnthropic", "Sent"]


@dataclass
class Sent:
    """One request as received."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def text(self) -> str:
        """The body as JSON text (to look for what Claude Code put in it)."""
        return json.dumps(self.body)


class FakeAnthropic(Loopback):
    """``POST /v1/messages`` answering ``reply`` to every prompt."""

    def __init__(self, reply: str = "Done.") -> None:
        self.reply = reply
        self.requests: list[Sent] = []
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                self._json(404, _error("not_found_error", f"{self.path} not found"))

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    self._json(400, _error("invalid_request_error", "body is not JSON"))
                    return
                headers = {k.lower(): v for k, v in self.headers.items()}
                path = self.path.split("?", 1)[0]
                with fake._lock:
                    fake.requests.append(Sent(path, headers, body))
                if not headers.get("x-api-key") and not headers.get("authorization"):
                    self._json(401, _error("authentication_error", "invalid x-api-key"))
                elif path == "/v1/messages/count_tokens":
                    self._json(200, {"input_tokens": max(1, len(raw) // 4)})
                elif path != "/v1/messages":
                    self._json(404, _error("not_found_error", f"{path} not found"))
                elif body.get("stream"):
                    self._stream(str(body.get("model", "claude")))
                else:
                    self._json(200, fake.message(str(body.get("model", "claude"))))

            def _json(self, status: int, data: Any) -> None:
                out = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def _stream(self, model: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Connection", "close")
                self.end_headers()
                for event, data in fake.events(model):
                    self.wfile.write(f"event: {event}\ndata: {json.dumps(data)}\n\n".encode())
                    self.wfile.flush()
                self.close_connection = True

        self.serve(Handler)

    def message(self, model: str) -> dict[str, Any]:
        """The non-streaming answer."""
        return {
            "id": "msg_fake",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [{"type": "text", "text": self.reply}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": 10, "output_tokens": 5},
        }

    def events(self, model: str) -> list[tuple[str, dict[str, Any]]]:
        """The streamed answer, event by event."""
        start = {**self.message(model), "content": [], "stop_reason": None}
        return [
            ("message_start", {"type": "message_start", "message": start}),
            (
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": 0,
                    "content_block": {"type": "text", "text": ""},
                },
            ),
            (
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": 0,
                    "delta": {"type": "text_delta", "text": self.reply},
                },
            ),
            ("content_block_stop", {"type": "content_block_stop", "index": 0}),
            (
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                    "usage": {"output_tokens": 5},
                },
            ),
            ("message_stop", {"type": "message_stop"}),
        ]

    def conversations(self) -> list[Sent]:
        """Requests for the main conversation (they carry the session's messages)."""
        return [r for r in self.requests if r.path == "/v1/messages" and r.body.get("messages")]


def _error(kind: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": kind, "message": message}}
