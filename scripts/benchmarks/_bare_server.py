"""The baseline: a bare MCP SDK server (echo tool, /readyz), served like our agents
(streamable HTTP, stateless, uvicorn without access log) but with none of our core, answering
as the SDK does by default (an event stream per POST), or in JSON (``PORT json``). It also
serves ``agent_info`` returning a result of the same fields as ours, so that `bench call` can
compare our ``agent_info`` with the same result served bare."""

import sys
import time

import uvicorn
from mcp.server import MCPServer
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import JSONResponse

mcp = MCPServer("bare")
STARTED = time.monotonic()


class AgentInfo(BaseModel):
    """The fields of our ``agent_info`` result (agents/core/server.py), without importing it:
    the baseline loads none of our code, so `bench startup` is not slowed by it."""

    agent: str
    version: str
    env: str
    tools: int
    upstream_configured: bool
    reason: str | None = None
    uptime_seconds: float


@mcp.tool()
async def echo(text: str = "") -> str:
    """Echo text back."""
    return text


@mcp.tool()
async def agent_info() -> AgentInfo:
    """Report this agent's version, environment, tool count and upstream configuration."""
    return AgentInfo(
        agent="bare",
        version="0",
        env="local",
        tools=len(await mcp.list_tools()),
        upstream_configured=False,
        reason="NOTION_TOKEN missing: set it in environments/.env.local.secrets",
        uptime_seconds=round(time.monotonic() - STARTED, 3),
    )


@mcp.custom_route("/readyz", methods=["GET"])
async def readyz(_: Request) -> JSONResponse:
    return JSONResponse({"ready": True})


if __name__ == "__main__":
    # `_bare_server.py PORT json`: answer in JSON, as our agents answer most calls
    json_response = sys.argv[2:] == ["json"]
    app = mcp.streamable_http_app(
        stateless_http=True, host="127.0.0.1", json_response=json_response
    )
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_config=None, access_log=False)
