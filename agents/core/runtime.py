"""What an agent is (``AgentSpec``) and what it holds while running (``AgentRuntime``)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, cast

from mcp.server.mcpserver import Context

from agents.core.errors import AgentError, NotConfiguredError
from agents.core.recorder import NullRecorder, Recorder
from agents.core.registry import ToolRegistry
from agents.core.settings import CoreSettings, EnvLayers
from agents.core.toolsets import Toolset

__all__ = ["AgentRuntime", "AgentSpec", "RecorderFactory", "runtime_of"]

ClientT = TypeVar("ClientT")
RecorderFactory = Callable[[EnvLayers, str], Recorder]


HttpRoutes = Callable[["AgentRuntime[ClientT]", str | None], list[tuple[str, list[str], Any]]]


@dataclass
class AgentSpec(Generic[ClientT]):
    """An agent: its tools and how to build its upstream client from the environment.

    ``connect`` must be cheap and must not touch the network: it validates settings and builds
    the client object. It raises :class:`NotConfiguredError` (or ``ConfigError``) with a reason
    naming the variable and file when the upstream is not configured.
    """

    name: str
    registry: ToolRegistry
    connect: Callable[[EnvLayers], ClientT]
    version: str
    instructions: str = ""
    # groups of the registry's tools, served per <AGENT>_TOOLSETS; empty: every tool, always
    toolsets: tuple[Toolset, ...] = ()
    # extra HTTP routes beside /mcp (path, methods, endpoint), given the runtime and the
    # bearer token; each route checks the token itself (the SDK guards /mcp only)
    http_routes: (
        Callable[[AgentRuntime[ClientT], str | None], list[tuple[str, list[str], Any]]] | None
    ) = None

    def runtime(self, ctx: Context[Any, Any]) -> AgentRuntime[ClientT]:
        """The runtime of the server answering ``ctx``."""
        return cast(AgentRuntime[ClientT], runtime_of(ctx))

    def client(self, ctx: Context[Any, Any]) -> ClientT:
        """The upstream client, or a "not configured" error naming what is missing."""
        return self.runtime(ctx).require_client()


@dataclass
class AgentRuntime(Generic[ClientT]):
    """One running agent: settings, upstream client (if configured), recorder."""

    spec: AgentSpec[ClientT]
    layers: EnvLayers
    core: CoreSettings
    port: int | None
    recorder: Recorder = field(default_factory=NullRecorder)
    client: ClientT | None = None
    reason: str | None = None
    started: float = field(default_factory=time.monotonic)

    @classmethod
    def start(
        cls,
        spec: AgentSpec[ClientT],
        layers: EnvLayers,
        core: CoreSettings,
        port: int | None,
        recorder: Recorder | None = None,
    ) -> AgentRuntime[ClientT]:
        """Build the runtime; an unconfigured upstream is remembered as the not-ready reason."""
        rt = cls(
            spec=spec, layers=layers, core=core, port=port, recorder=recorder or NullRecorder()
        )
        try:
            rt.client = spec.connect(layers)
        except AgentError as exc:
            rt.reason = str(exc)
        return rt

    @property
    def env(self) -> str:
        """The environment name."""
        return self.layers.env

    @property
    def ready(self) -> bool:
        """Config loaded and the upstream client built."""
        return self.client is not None

    def status(self) -> dict[str, Any]:
        """What this agent reports about itself for the machine state."""
        return {
            "pid": os.getpid(),
            "port": self.port,
            "state": "RUNNING",
            "started_at": time.strftime(
                "%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - (time.monotonic() - self.started))
            ),
            "ready": self.ready,
            "reason": self.reason,
            "version": self.spec.version,
        }

    def require_client(self) -> ClientT:
        """The upstream client.

        Raises:
            NotConfiguredError: The upstream is not configured; says what to set where.
        """
        if self.client is None:
            raise NotConfiguredError(f"the {self.spec.name} agent is not configured: {self.reason}")
        return self.client

    async def aclose(self) -> None:
        """Close the upstream client and the recorder."""
        closer = getattr(self.client, "aclose", None)
        if closer is not None:
            await closer()
        await self.recorder.aclose()


def runtime_of(ctx: Context[Any, Any]) -> AgentRuntime[Any]:
    """The runtime of the server answering ``ctx`` (tools reach their client through it)."""
    return cast(AgentRuntime[Any], ctx.request_context.lifespan_context)
