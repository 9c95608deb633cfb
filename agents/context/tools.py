"""The context agent's tools, in the order ``tools/list`` shows them, and its ``SPEC``."""

from __future__ import annotations

from agents import __version__
from agents.context import documents, recall, syncing
from agents.context.api import api_routes
from agents.context.app import INSTRUCTIONS, connect, registry
from agents.core.runtime import AgentSpec

__all__ = ["SPEC"]


SPEC = AgentSpec(
    name="context",
    registry=registry.declare(documents, recall, syncing),
    connect=connect,
    http_routes=api_routes,
    version=__version__,
    instructions=INSTRUCTIONS,
)
