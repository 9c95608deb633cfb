"""The Notion agent's tools, in the order ``tools/list`` shows them, and its ``SPEC``."""

from __future__ import annotations

from agents import __version__
from agents.core.runtime import AgentSpec
from agents.core.toolsets import Toolset, check_toolsets
from agents.notion import data_tools, page_tools
from agents.notion.app import connect, registry

__all__ = ["SPEC", "TOOLSETS"]


TOOLSETS = (
    Toolset(
        "core",
        "Search, read and write pages; query databases",
        (
            "search_workspace",
            "list_pages",
            "get_page",
            "create_page",
            "update_page",
            "add_block",
            "query_database",
        ),
        default=True,
    ),
    Toolset(
        "databases",
        "Create databases and add entries",
        (
            "create_database",
            "add_database_entry",
        ),
    ),
    Toolset(
        "documents",
        "Import local documents and consolidate pages",
        (
            "parse_document",
            "consolidate_pages",
        ),
    ),
)

SPEC = AgentSpec(
    name="notion",
    registry=registry.declare(page_tools, data_tools),
    connect=connect,
    version=__version__,
    toolsets=TOOLSETS,
)
check_toolsets(SPEC.registry, SPEC.toolsets)
