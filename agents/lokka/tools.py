"""The Lokka agent's tools, in the order ``tools/list`` shows them, and its ``SPEC``."""

from __future__ import annotations

from agents import __version__
from agents.core.runtime import AgentSpec
from agents.lokka import apps, azure, directory, passthrough, security, users
from agents.lokka.app import INSTRUCTIONS, connect, registry

__all__ = ["SPEC"]


SPEC = AgentSpec(
    name="lokka",
    registry=registry.declare(users, directory, apps, security, azure, passthrough),
    connect=connect,
    version=__version__,
    instructions=INSTRUCTIONS,
)
