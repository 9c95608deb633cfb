"""Turn an agent's registry into an MCP server: tools, the per-call seam, health, auth."""

from __future__ import annotations

import hmac
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
from mcp.server import MCPServer, NotificationOptions
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from mcp.types import Tool as MCPTool
from pydantic import BaseModel, Field, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse

from agents.core.discovery import add_toolsets_tool
from agents.core.errors import AgentError
from agents.core.identity import AGENT_HEADER, INSTANCE_HEADER
from agents.core.logs import get_logger
from agents.core.net import host_header_ok
from agents.core.recorder import Outcome, ToolCall, call_annotations
from agents.core.redact import file_output, mask_text, summary
from agents.core.registry import RegisteredTool
from agents.core.runtime import AgentRuntime
from agents.core.tool_errors import (
    arguments_message,
    unknown_arguments_message,
    unknown_tool_message,
)
from agents.core.toolsets import selected_toolsets

__all__ = [
    "MAX_ERROR_CHARS",
    "AgentInfo",
    "AgentServer",
    "StaticTokenVerifier",
    "UnknownArgumentsError",
    "build_server",
    "unknown_arguments_message",
]

log = get_logger(__name__)

# Errors quote the caller's values (``page {page_id!r} not found``): a 1 MB argument must not
# come back, and be recorded, as a 1 MB error.
MAX_ERROR_CHARS = 2000


class StaticTokenVerifier:
    """Accepts exactly one bearer token, compared in constant time."""

    def __init__(self, token: str, client_id: str) -> None:
        self._token = token.encode()
        self._client_id = client_id

    async def verify_token(self, token: str) -> AccessToken | None:
        """The access token if ``token`` matches, else None (the SDK answers 401)."""
        if hmac.compare_digest(token.encode(), self._token):
            return AccessToken(token=token, client_id=self._client_id, scopes=[])
        return None


class AgentInfo(BaseModel):
    """What ``agent_info`` reports about the agent itself."""

    agent: str = Field(description="Agent name")
    version: str = Field(description="Agent version")
    env: str = Field(description="Environment the agent runs in")
    tools: int = Field(description="Number of tools the agent serves, agent_info included")
    upstream_configured: bool = Field(description="Whether upstream credentials are set")
    reason: str | None = Field(default=None, description="Why the upstream is not configured")
    uptime_seconds: float = Field(description="Seconds since the agent started")


def _clip(message: str) -> str:
    """``message``, cut in the middle when longer than ``MAX_ERROR_CHARS`` (head and tail kept:
    what failed comes first, what to do last)."""
    if len(message) <= MAX_ERROR_CHARS:
        return message
    head, tail = MAX_ERROR_CHARS * 2 // 3, MAX_ERROR_CHARS // 4
    cut = len(message) - head - tail
    return f"{message[:head]} … [{cut} characters left out] … {message[-tail:]}"


class UnknownArgumentsError(ToolError):
    """A call named a tool the agent does not have, or parameters its tool does not take."""


def _summary(result: CallToolResult) -> Any:
    if result.structured_content is not None:
        return result.structured_content
    return [c.text if isinstance(c, TextContent) else c.type for c in result.content]


class AgentServer(MCPServer[AgentRuntime[Any]]):
    """An ``MCPServer`` whose every tool call passes through :meth:`call_tool`: one log event,
    one record, and the mapping of :class:`AgentError` to a tool error with its message."""

    def __init__(self, runtime: AgentRuntime[Any], *, owns_runtime: bool, **kwargs: Any) -> None:
        self.runtime = runtime

        @asynccontextmanager
        async def lifespan(_: MCPServer[AgentRuntime[Any]]) -> AsyncIterator[AgentRuntime[Any]]:
            try:
                if not owns_runtime:
                    yield runtime
                    return
                async with anyio.create_task_group() as tasks:
                    tasks.start_soon(runtime.recorder.run, runtime.status)
                    yield runtime
                    tasks.cancel_scope.cancel()
            finally:
                if owns_runtime:
                    await runtime.aclose()
                    log.info("agent_stopped")

        super().__init__(lifespan=lifespan, **kwargs)
        self._parameters: dict[str, frozenset[str]] | None = None
        self._listed: list[MCPTool] | None = None
        self.enabled_toolsets: set[str] = set()
        # tools whose calls may notify the client before their result: answered with a stream
        # over HTTP, where every other call is answered in JSON (agents.core.answers)
        self.streaming_tools: set[str] = set()
        # the legacy handshake advertises tools.listChanged only when asked to: the toolsets
        # tool changes the list (the 2026-07-28 era derives it from subscriptions/listen)
        low = self._lowlevel_server
        create = low.create_initialization_options

        def initialization_options(
            notification_options: NotificationOptions | None = None, *args: Any, **kw: Any
        ) -> Any:
            return create(
                notification_options or NotificationOptions(tools_changed=True), *args, **kw
            )

        low.create_initialization_options = initialization_options  # type: ignore[method-assign]

    async def list_tools(self) -> list[MCPTool]:
        """The tools, without output schemas: clients do not pass them to the model, and they
        were more than half of the bytes of every list (results still carry
        ``structuredContent``). Built once per change of the tools (``agent_info`` counts
        them on every call)."""
        if self._listed is None:
            self._listed = [
                t.model_copy(update={"output_schema": None}) for t in await super().list_tools()
            ]
        return list(self._listed)

    def add_tool(self, fn: Any, *args: Any, **kwargs: Any) -> None:
        """Add a tool (as the SDK does); the cached list is rebuilt on the next listing."""
        super().add_tool(fn, *args, **kwargs)
        self._listed = self._parameters = None

    def remove_tool(self, name: str) -> None:
        """Remove a tool (as the SDK does); the cached list is rebuilt on the next listing."""
        super().remove_tool(name)
        self._listed = self._parameters = None

    def serve(self, tool: RegisteredTool) -> None:
        """Add one registered tool to what this server lists and runs."""
        self.add_tool(
            tool.fn,
            name=tool.name,
            description=tool.description,
            annotations=_annotations(tool.read_only, tool.destructive, tool.idempotent),
        )

    async def _check_names(self, name: str, arguments: dict[str, Any]) -> None:
        """Refuse arguments the tool does not take: the SDK's argument models would drop them
        silently, so a misspelled ``confirm`` or ``filter`` would change what the call does."""
        if self._parameters is None:
            tools = await self.list_tools()
            self._parameters = {
                t.name: frozenset(t.input_schema.get("properties", {})) for t in tools
            }
        known = self._parameters.get(name)
        if known is None:
            raise UnknownArgumentsError(unknown_tool_message(name, self._parameters))
        unknown = [k for k in arguments if k not in known]
        if unknown:
            raise UnknownArgumentsError(unknown_arguments_message(name, unknown, known))

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None = None
    ) -> Any:
        """Run tool ``name``; log and record the call whatever its outcome."""
        started = time.perf_counter()
        outcome: Outcome = "ok"
        error: str | None = None
        output: Any = None
        meta: dict[str, Any] = {}
        reset = call_annotations().set(meta)
        try:
            await self._check_names(name, arguments)
            result = await super().call_tool(name, arguments, context)
            if isinstance(result, CallToolResult):
                output = _summary(result)
                if result.is_error:
                    outcome, error = "error", str(output)
            return result
        except UnexpectedToolError as exc:
            cause = exc.__cause__
            if isinstance(cause, AgentError):
                outcome, error = "error", _clip(str(cause))
                raise ToolError(error) from cause
            outcome, error = "crash", f"unexpected {type(cause).__name__}; see the agent log"
            raise
        except ToolError as exc:
            if isinstance(exc.__cause__, ValidationError):
                outcome, error = (
                    "invalid_arguments",
                    _clip(arguments_message(name, exc.__cause__, self._tool_input_schema(name))),
                )
                raise ToolError(error) from exc.__cause__
            outcome = "invalid_arguments" if isinstance(exc, UnknownArgumentsError) else "error"
            error = str(exc)
            raise
        finally:
            call_annotations().reset(reset)
            duration_ms = round((time.perf_counter() - started) * 1000, 3)
            # written before the record is committed and the result sent: a crash (even a
            # SIGKILL) after either cannot lose the line
            log.info("tool_call", tool=name, duration_ms=duration_ms, outcome=outcome)
            await self._record(name, arguments, outcome, duration_ms, output, error, meta)

    def _reads_files(self, name: str) -> bool:
        registry = self.runtime.spec.registry
        return name in registry and registry.get(name).reads_files

    async def _record(
        self,
        name: str,
        arguments: dict[str, Any],
        outcome: Outcome,
        duration_ms: float,
        output: Any,
        error: str | None,
        meta: dict[str, Any],
    ) -> None:
        rt = self.runtime
        call = ToolCall(
            agent=rt.spec.name,
            env=rt.env,
            tool=name,
            arguments=summary(arguments),
            outcome=outcome,
            duration_ms=duration_ms,
            started_at=datetime.now(UTC) - timedelta(milliseconds=duration_ms),
            output=file_output(output)
            if output is not None and self._reads_files(name)
            else output,
            error=None if error is None else mask_text(error),
            meta=summary(meta),
        )
        try:
            await rt.recorder.record(call)
        except AgentError as exc:
            log.error("record_failed", tool=name, reason=str(exc))
            raise ToolError(f"{name} ran, but its record could not be stored: {exc}") from exc


def _annotations(read_only: bool, destructive: bool, idempotent: bool) -> ToolAnnotations:
    return ToolAnnotations(
        read_only_hint=read_only,
        destructive_hint=destructive,
        idempotent_hint=idempotent,
        open_world_hint=True,
    )


def build_server(
    runtime: AgentRuntime[Any],
    *,
    token: str | None,
    port: int | None,
    owns_runtime: bool = False,
    instance: str | None = None,
) -> AgentServer:
    """The MCP server of ``runtime``'s agent: its tools, ``agent_info``, /healthz, /readyz.

    With ``token`` set, /mcp requires ``Authorization: Bearer <token>`` (checked by the SDK's
    token verifier); the health routes never need it and reveal no secrets: /readyz checks
    ``Host`` as the SDK does for /mcp and, without the token, says only whether it is ready
    (with it, why not). With
    ``owns_runtime`` the server closes the runtime when its lifespan ends (a real process;
    tests connecting several in-memory clients leave it False). /readyz names the agent and
    ``instance`` (the nonce of this supervisord start) in headers, so that `start` never takes
    another server on the port for this agent.
    """
    spec = runtime.spec
    auth: dict[str, Any] = {}
    if token is not None:
        base = f"http://127.0.0.1:{port or 0}"
        auth = {
            "token_verifier": StaticTokenVerifier(token, client_id=f"{spec.name}-client"),
            "auth": AuthSettings(
                issuer_url=base, resource_server_url=f"{base}/mcp", validate_token_resource=False
            ),
        }
    server = AgentServer(
        runtime,
        owns_runtime=owns_runtime,
        name=f"{spec.name}-agent",
        version=spec.version,
        instructions=spec.instructions or None,
        warn_on_duplicate_tools=False,
        **auth,
    )
    if spec.toolsets:
        server.enabled_toolsets = selected_toolsets(spec.name, spec.toolsets, runtime.layers)
        served = {n for ts in spec.toolsets if ts.name in server.enabled_toolsets for n in ts.tools}
    else:
        served = {t.name for t in spec.registry}
    for t in spec.registry:
        if t.name in served:
            server.serve(t)
    if spec.toolsets and server.enabled_toolsets != {ts.name for ts in spec.toolsets}:
        add_toolsets_tool(server)

    async def agent_info() -> AgentInfo:
        """Report this agent's version, environment, tool count and upstream configuration."""
        return AgentInfo(
            agent=spec.name,
            version=spec.version,
            env=runtime.env,
            tools=len(await server.list_tools()),
            upstream_configured=runtime.ready,
            reason=runtime.reason,
            uptime_seconds=round(time.monotonic() - runtime.started, 3),
        )

    server.add_tool(
        agent_info,
        name="agent_info",
        description=agent_info.__doc__,
        annotations=_annotations(True, False, True),
    )

    async def healthz(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> JSONResponse:
        identity = {AGENT_HEADER: spec.name, INSTANCE_HEADER: instance or ""}
        if not host_header_ok(request.headers.get("host"), port):  # as the SDK guards /mcp
            return JSONResponse(
                {"error": "the Host header must name this loopback listener"}, status_code=421
            )
        status = 200 if runtime.ready else 503
        given = request.headers.get("authorization", "")
        if token is not None and not hmac.compare_digest(
            given.encode(), f"Bearer {token}".encode()
        ):  # without the token: ready or not, nothing about why
            return JSONResponse({"ready": runtime.ready}, status_code=status, headers=identity)
        body: dict[str, Any] = {"ready": runtime.ready, "agent": spec.name, "env": runtime.env}
        if not runtime.ready:
            body["reason"] = runtime.reason
        return JSONResponse(body, status_code=status, headers=identity)

    server.custom_route("/healthz", methods=["GET"], include_in_schema=False)(healthz)
    server.custom_route("/readyz", methods=["GET"], include_in_schema=False)(readyz)
    if spec.http_routes is not None:
        for path, methods, endpoint in spec.http_routes(runtime, token):
            server.custom_route(path, methods=methods, include_in_schema=False)(endpoint)
    return server
