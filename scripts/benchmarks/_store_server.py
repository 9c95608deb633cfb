"""One of our agent servers with an echo tool, recording into a context store or not:
``_store_server.py PORT record|none DIR FULL|NORMAL``."""

import sys
from pathlib import Path
from typing import Annotated

import anyio
from pydantic import Field

from agents.core.recorder import NullRecorder, Recorder
from agents.core.registry import ToolRegistry
from agents.core.runtime import AgentRuntime, AgentSpec
from agents.core.server import build_server
from agents.core.settings import CoreSettings, EnvLayers
from agents.launch import _serve_http

registry = ToolRegistry("bench")


@registry.tool(read_only=True)
async def echo(text: Annotated[str, Field(description="Text")] = "") -> dict[str, object]:
    """Echo text back with its length."""
    return {"text": text, "length": len(text)}


def main() -> None:
    port, mode, where, synchronous = int(sys.argv[1]), sys.argv[2], Path(sys.argv[3]), sys.argv[4]
    recorder: Recorder = NullRecorder()
    if mode == "record":
        from agents.store.recorder import StoreRecorder
        from agents.store.store import ContextStore

        store = ContextStore(where, actor="agent:bench", synchronous=synchronous)  # type: ignore[arg-type]
        recorder = StoreRecorder(store, "bench", blob_threshold=16384, state_interval=3600)
    spec = AgentSpec(name="bench", registry=registry, connect=lambda _: "client", version="1")
    layers = EnvLayers(root=where, env="bench")
    runtime = AgentRuntime.start(spec, layers, CoreSettings(port_base=9000), port, recorder)
    anyio.run(_serve_http, build_server(runtime, token="t", port=port, owns_runtime=True), port)


if __name__ == "__main__":
    main()
