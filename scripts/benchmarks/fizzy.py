"""Fizzy agent overhead: a tool call against the loopback fake, as a ratio of the same HTTP
requests made with bare httpx in the same run.

    scripts/bench fizzy [--rounds N]

Figures: get_task (1 request) and list_tasks over 300 tasks (5 pages), each through the
typed client and through the full agent (in-memory MCP client -> server -> client). The
"server side" rows are the agent's own `tool_call` duration_ms, without the Python MCP
client's validation of the result against the tool's output schema.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import httpx
import structlog

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from mcp import Client

from agents.core.logs import configure_logging
from agents.core.runtime import AgentRuntime
from agents.core.server import build_server
from agents.core.settings import CoreSettings, EnvLayers
from agents.fizzy.models import Task
from agents.fizzy.tools import SPEC
from tests.fakes.fizzy import SLUG, WRITE_TOKEN, FakeFizzy


async def timed(fn: Callable[[], Awaitable[Any]], rounds: int) -> float:
    await fn()  # warm-up
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        await fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


async def main(rounds: int) -> None:
    # INFO, so the tool_call events (with their server-side durations) reach capture_logs;
    # the lines themselves go nowhere
    configure_logging(level="INFO", stream=open(os.devnull, "w"))
    with FakeFizzy() as fake:
        for i in range(300):
            fake.account.add_card(fake.board, f"Task {i}", fake.david)
        headers = {"Authorization": f"Bearer {WRITE_TOKEN}", "Accept": "application/json"}
        layers = EnvLayers(
            root=Path("/nonexistent"),
            env="bench",
            values={"FIZZY_URL": fake.url, "FIZZY_TOKEN": WRITE_TOKEN, "FIZZY_ACCOUNT": SLUG},
        )
        runtime = AgentRuntime.start(SPEC, layers, CoreSettings(port_base=9000), None)
        client = runtime.require_client()
        async with (
            httpx.AsyncClient(base_url=fake.url, headers=headers) as raw,
            Client(build_server(runtime, token=None, port=None)) as mcp,
        ):

            async def raw_get() -> None:
                (await raw.get(f"/{SLUG}/cards/1")).json()

            async def raw_walk() -> None:
                url: str | None = f"/{SLUG}/cards"
                while url:
                    resp = await raw.get(url)
                    resp.json()
                    url = resp.links.get("next", {}).get("url")

            async def client_get() -> None:
                await client.get("/cards/1", Task, what="task #1")

            async def client_walk() -> None:
                await client.page("/cards", Task, what="tasks", limit=300)

            async def tool_get() -> None:
                assert not (await mcp.call_tool("get_task", {"task_number": 1})).is_error

            async def tool_walk() -> None:
                result = await mcp.call_tool("list_tasks", {"limit": 300})
                assert len(result.structured_content["items"]) == 300

            def server_side(tool: str) -> float:
                return statistics.median(
                    e["duration_ms"] / 1000 for e in events if e.get("tool") == tool
                )

            base_get, base_walk = await timed(raw_get, rounds), await timed(raw_walk, rounds)
            with structlog.testing.capture_logs() as events:
                via_get, via_walk = await timed(tool_get, rounds), await timed(tool_walk, rounds)
            rows = [
                ("bare httpx GET /cards/1 (baseline)", base_get, base_get),
                ("client.get task", await timed(client_get, rounds), base_get),
                ("get_task tool, server side", server_side("get_task"), base_get),
                ("get_task tool via MCP client", via_get, base_get),
                ("bare httpx walk of 300 cards (baseline)", base_walk, base_walk),
                ("client.page 300 tasks", await timed(client_walk, rounds), base_walk),
                ("list_tasks limit 300, server side", server_side("list_tasks"), base_walk),
                ("list_tasks limit 300 via MCP client", via_walk, base_walk),
            ]
        await runtime.aclose()
    print(f"median of {rounds} rounds against the loopback fake")
    for name, seconds, baseline in rows:
        print(f"{name:<42} {seconds * 1000:8.2f} ms  {seconds / baseline:5.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    anyio.run(main, parser.parse_args().rounds)
