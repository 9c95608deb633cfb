"""Agent bootstrap: ``python -m agents.<name> --env <env> [--transport http|stdio] [--port N]``.

The composition root of an agent process: it joins the shared core, the catalog (ports,
tokens) and the context store (the recorder, through ``core.runtime.RecorderFactory``), so
none of those needs to know the others.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, NoReturn

import anyio

from agents.catalog import by_name, port_of, resolve_token
from agents.core.answers import answer_in_json
from agents.core.errors import AgentError
from agents.core.identity import INSTANCE_ENV
from agents.core.logs import configure_logging, get_logger
from agents.core.recorder import NullRecorder, Recorder
from agents.core.runtime import AgentRuntime, AgentSpec, RecorderFactory
from agents.core.scheduling import normal_scheduling
from agents.core.server import AgentServer, build_server
from agents.core.settings import CoreSettings, EnvLayers, find_root, load_layers
from agents.core.toolsets import selected_toolsets
from agents.store.recorder import open_store_recorder

__all__ = ["http_app", "run", "store_recorder"]

log = get_logger(__name__)


def _parse(name: str, argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog=f"python -m agents.{name}", description=f"Run the {name} agent."
    )
    p.add_argument("--env", default=os.environ.get("AGENT_ENV", "local"), help="environment name")
    p.add_argument("--transport", choices=["http", "stdio"], default="http")
    p.add_argument("--port", type=int, default=None, help="override the port from the env files")
    return p.parse_args(argv)


def _fail(exc: AgentError) -> NoReturn:
    log.error("agent_refused_to_start", error=str(exc))
    sys.exit(2)


def store_recorder(layers: EnvLayers, agent: str) -> Recorder:
    """The recorder every agent process uses: the environment's context store, unless
    ``CONTEXT_RECORD=false``.

    Raises:
        ConfigError: A ``CONTEXT_*`` variable is invalid.
        StoreError: The store cannot be opened (corrupt, locked, newer format…).
    """
    return open_store_recorder(layers, agent) or NullRecorder()


def run(
    spec: AgentSpec[Any],
    argv: list[str] | None = None,
    *,
    recorder_factory: RecorderFactory = store_recorder,
) -> None:
    """Run ``spec`` as an MCP server until SIGTERM/SIGINT (HTTP) or end of input (stdio);
    every tool call is recorded by the recorder ``recorder_factory`` opens."""
    normal_scheduling()  # before any thread: supervisord's batch policy is not an agent's
    args = _parse(spec.name, argv)
    stdio = args.transport == "stdio"
    stream = sys.stderr if stdio else sys.stdout
    configure_logging(stream=stream, agent=spec.name, env=args.env)
    try:
        layers = load_layers(find_root(), args.env)
        layers.refuse_committed_secrets()
        core = layers.model(CoreSettings)
        port = args.port or port_of(by_name(spec.name), layers, core)
        token = None if stdio else resolve_token(layers, core, spec.name)
        selected_toolsets(spec.name, spec.toolsets, layers)  # refuses a bad <AGENT>_TOOLSETS
        recorder = recorder_factory(layers, spec.name)
    except AgentError as exc:
        _fail(exc)
    configure_logging(stream=stream, level=core.log_level, agent=spec.name, env=args.env)
    runtime = AgentRuntime.start(spec, layers, core, None if stdio else port, recorder)
    server = build_server(
        runtime, token=token, port=port, owns_runtime=True, instance=os.environ.get(INSTANCE_ENV)
    )
    log.info(
        "agent_starting",
        transport=args.transport,
        port=None if stdio else port,
        tools=len(spec.registry) + 1,
        upstream_configured=runtime.ready,
        reason=runtime.reason,
    )
    if stdio:
        anyio.run(server.run_stdio_async)
    else:
        anyio.run(_serve_http, server, port)


def http_app(server: AgentServer) -> Any:
    """The ASGI app an agent serves over HTTP: the SDK's stateless streamable HTTP app, with
    its bearer check, /mcp and the server's routes, answering in JSON except the calls that
    may notify first (:mod:`agents.core.answers`)."""
    app = server.streamable_http_app(stateless_http=True, host="127.0.0.1", json_response=True)
    answer_in_json(server.session_manager, server.streaming_tools)
    return app


async def _serve_http(server: AgentServer, port: int) -> None:
    import uvicorn

    config = uvicorn.Config(
        http_app(server),
        host="127.0.0.1",
        port=port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=5,
        lifespan="on",
    )
    await uvicorn.Server(config).serve()
