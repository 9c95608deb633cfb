"""Helpers for testing an agent built on ``agents.core``: free ports, an MCP client sending a
bearer token, and an in-memory recorder.

```python
from agents.core.testing import free_port, mcp_client, recording

rec = recording()          # pass as the runtime's recorder; rec.calls holds each ToolCall
async with mcp_client(f"http://127.0.0.1:{port}/mcp", token) as client:
    result = await client.call_tool("agent_info", {})
```

Helpers only this repository's own tests use live under ``tests/``.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Recording", "free_port", "mcp_client", "recording"]


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.asynccontextmanager
async def mcp_client(url: str, token: str | None) -> AsyncIterator[Any]:
    """A connected ``mcp.Client`` over streamable HTTP, sending ``token`` as a bearer."""
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    http = httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30, read=60))
    async with http, Client(streamable_http_client(url, http_client=http)) as client:
        yield client


@dataclass
class Recording:
    """A recorder that keeps calls in memory (for in-process tests)."""

    calls: list[Any] = field(default_factory=list)

    async def record(self, call: Any) -> None:
        """Keep ``call``."""
        self.calls.append(call)

    async def run(self, status: Any) -> None:
        """No background duty."""

    async def aclose(self) -> None:
        """Nothing to release."""


def recording() -> Recording:
    """A fresh in-memory recorder."""
    return Recording()
