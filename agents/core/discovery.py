"""The ``toolsets`` tool: lists an agent's toolsets and enables more on demand, then tells the
client its tool list changed (``notifications/tools/list_changed``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from mcp.server.mcpserver import Context
from mcp.types import ToolListChangedNotification
from pydantic import BaseModel, Field

from agents.core.errors import InputError
from agents.core.logs import get_logger
from agents.core.toolsets import toolsets_var

if TYPE_CHECKING:
    from agents.core.server import AgentServer

__all__ = ["ToolsetInfo", "ToolsetList", "add_toolsets_tool"]

log = get_logger(__name__)


class ToolsetInfo(BaseModel):
    """One toolset of the agent."""

    name: str
    description: str
    enabled: bool
    tools: list[str]


class ToolsetList(BaseModel):
    """The agent's toolsets; ``enabled_now`` names those this call enabled."""

    toolsets: list[ToolsetInfo]
    enabled_now: list[str]


def add_toolsets_tool(server: AgentServer) -> None:
    """Serve ``toolsets`` on ``server``."""
    spec = server.runtime.spec
    by_name = {ts.name: ts for ts in spec.toolsets}
    var = toolsets_var(spec.name)

    async def toolsets(
        ctx: Context[Any, Any],
        enable: Annotated[
            list[str], Field(description="Toolset names to enable now (see the list)")
        ] = [],  # noqa: B006 - the SDK builds the schema from the default; never mutated
    ) -> ToolsetList:
        unknown = [n for n in enable if n not in by_name]
        if unknown:
            raise InputError(
                f"no toolset {', '.join(repr(n) for n in unknown)}; "
                f"this agent has {', '.join(by_name)}"
            )
        fresh = [n for n in dict.fromkeys(enable) if n not in server.enabled_toolsets]
        for name in fresh:
            server.enabled_toolsets.add(name)
            for tool in by_name[name].tools:
                server.serve(spec.registry.get(tool))
        if fresh:
            log.info("toolsets_enabled", toolsets=fresh)
            await _tell_client(ctx)
        return ToolsetList(
            toolsets=[
                ToolsetInfo(
                    name=ts.name,
                    description=ts.description,
                    enabled=ts.name in server.enabled_toolsets,
                    tools=list(ts.tools),
                )
                for ts in spec.toolsets
            ],
            enabled_now=fresh,
        )

    server.streaming_tools.add("toolsets")  # its notification goes on the call's own stream
    server.add_tool(
        toolsets,
        name="toolsets",
        description=f"List this agent's toolsets; enable=[names] adds their tools ({var})",
        annotations=None,
    )


async def _tell_client(ctx: Context[Any, Any]) -> None:
    """``notifications/tools/list_changed`` in both protocol eras: on the request's stream for
    a 2025 session, and to ``subscriptions/listen`` streams for a 2026-07-28 client."""
    await ctx.notify_tools_changed()
    # on this request's own stream: a stateless server has no standalone one
    await ctx.session.send_notification(ToolListChangedNotification(), ctx.request_id)
