"""How an agent answers a POST to ``/mcp``: one JSON body, or an SSE stream when the call may
notify the client first.

The Streamable HTTP transport lets a server answer each POST with ``application/json`` or
with a ``text/event-stream``; every client must accept both. The SDK's default, the stream,
cost a served call 0.06-0.22 ms more at p50 (docs/performance.md, "The thirteenth round"),
and only a call that sends something before its result needs it: on a stateless server a
2025-era client hears of a changed tool list only on the stream of the call that changed it.
So an agent answers in JSON, except a ``tools/call`` of a tool named in ``streaming``
(``toolsets``), which gets the SDK's stream.

The choice is made per request, from the request's body, in the SDK's own session manager: it
reads its ``json_response`` when it creates the request's transport, before its first
``await``, and nothing awaits between the choice and that moment (the body is read first, and
replayed from memory), so concurrent requests cannot take each other's mode.
"""

from __future__ import annotations

import json
from collections.abc import Collection

from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from starlette.types import Message, Receive, Scope, Send

__all__ = ["answer_in_json", "streams"]


def streams(body: bytes, streaming: Collection[str]) -> bool:
    """Whether the JSON-RPC request ``body`` calls one of the tools ``streaming``.

    Anything else (another method, a malformed or hostile body) is False: the SDK then
    answers it, or refuses it, in JSON.
    """
    if not streaming:
        return False  # every tool of the agent is enabled: no ``toolsets`` tool
    if b"\\" not in body and not any(name.encode() in body for name in streaming):
        return False  # the common case, without parsing the body twice (a name written
        # with escapes holds a backslash)
    try:
        message = json.loads(body)
    except (ValueError, RecursionError):
        return False
    if not isinstance(message, dict) or message.get("method") != "tools/call":
        return False
    params = message.get("params")
    return isinstance(params, dict) and params.get("name") in streaming


def answer_in_json(manager: StreamableHTTPSessionManager, streaming: Collection[str]) -> None:
    """Make ``manager`` (stateless) answer in JSON, and with a stream the calls of the tools
    ``streaming`` (a live collection: tools added later count).

    The choice sits inside the SDK's request body limit, which has read the whole body (or
    refused it) by then and hands it on from memory.
    """
    limited = manager.asgi_app
    handle = limited.app

    async def choose(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST":
            manager.json_response = True
            await handle(scope, receive, send)
            return
        first = await receive()  # the body, already in memory: no await suspends here
        body = first.get("body", b"") if first["type"] == "http.request" else b""
        manager.json_response = not streams(body, streaming)
        await handle(scope, _replay(first, receive), send)

    limited.app = choose


def _replay(first: Message, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return first

    return replay
