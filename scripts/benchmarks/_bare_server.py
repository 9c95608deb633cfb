"""The baseline: a bare MCP SDK server (echo tool, /readyz), served like our agents
(streamable HTTP, stateless, uvicorn without access log) but with none of our core."""

import sys

import uvicorn
from mcp.server import MCPServer
from starlette.requests import Request
from starlette.responses import JSONResponse

mcp = MCPServer("bare")


@mcp.tool()
async def echo(text: str = "") -> str:
    """Echo text back."""
    return text


@mcp.custom_route("/readyz", methods=["GET"])
async def readyz(_: Request) -> JSONResponse:
    return JSONResponse({"ready": True})


if __name__ == "__main__":
    app = mcp.streamable_http_app(stateless_http=True, host="127.0.0.1")
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_config=None, access_log=False)
