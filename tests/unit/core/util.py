"""Build in-memory agents for unit tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agents.core.errors import NotConfiguredError
from agents.core.recorder import Recorder
from agents.core.registry import ToolRegistry
from agents.core.runtime import AgentRuntime, AgentSpec
from agents.core.server import AgentServer, build_server
from agents.core.settings import CoreSettings, EnvLayers


def runtime_for(
    reg: ToolRegistry,
    *,
    client: Any = "client",
    recorder: Recorder | None = None,
    root: Path | None = None,
    instructions: str = "",
) -> AgentRuntime[Any]:
    """A runtime for ``reg`` whose upstream is ``client`` (None: not configured)."""

    def connect(_: EnvLayers) -> Any:
        if client is None:
            raise NotConfiguredError("DEMO_TOKEN missing: set it in environments/.env.test.secrets")
        return client

    spec = AgentSpec(
        name=reg.agent, registry=reg, connect=connect, version="9.9.9", instructions=instructions
    )
    layers = EnvLayers(root=root or Path("/nonexistent"), env="test")
    return AgentRuntime.start(spec, layers, CoreSettings(port_base=9000), None, recorder)


def server_for(reg: ToolRegistry, **kwargs: Any) -> AgentServer:
    """An in-memory server for ``reg`` (no auth: in-process clients send no headers)."""
    return build_server(runtime_for(reg, **kwargs), token=None, port=None)
