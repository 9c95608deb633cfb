"""The Notion agent's tools, in the order ``tools/list`` shows them, and its ``SPEC``."""

from __future__ import annotations

from agents import __version__
from agents.core.runtime import AgentSpec
from agents.notion import data_tools, page_tools
from agents.notion.app import connect, registry

__all__ = ["SPEC"]


SPEC = AgentSpec(
    name="notion",
    registry=registry.declare(page_tools, data_tools),
    connect=connect,
    version=__version__,
)
