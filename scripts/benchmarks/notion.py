"""Notion agent: reading and writing a 300-block page against the loopback fake, as ratios of
the bare notion-client doing the same requests in the same run, plus what chunking saves.

    scripts/bench notion [--rounds N] [--blocks N]

Rows:
- get_page: the bare SDK listing the page's children (baseline) vs the full tool (MCP client
  -> server -> throttle -> SDK -> markdown).
- create_page: the bare SDK creating the page with 100 blocks and appending the rest in
  chunks of 100, blocks built in advance (baseline), vs the tool from markdown.
- one append per block: the bare SDK sending one request per block, as a naive client
  would, against the same chunked baseline. At Notion's 3 requests/s the request count sets
  the floor: the line says how long each takes at that rate.

The agent runs with NOTION_REQUESTS_PER_SECOND=100 (its maximum) so that the fake's speed, not
Notion's limit, is measured; its throttle spacing is included in the tool rows.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from mcp import Client
from notion_client import AsyncClient

from agents.core.logs import configure_logging
from agents.core.runtime import AgentRuntime
from agents.core.server import build_server
from agents.core.settings import CoreSettings, EnvLayers
from agents.notion.markdown import markdown_to_blocks
from agents.notion.tools import SPEC
from tests.fakes.notion import running

NOTION_RATE = 3.0


def sample_markdown(blocks: int) -> str:
    parts = []
    for i in range(blocks):
        kind = i % 4
        if kind == 0:
            parts.append(f"## Section {i}")
        elif kind == 1:
            parts.append(f"A paragraph with **bold**, *italic* and a [link](https://x.test/{i}).")
        elif kind == 2:
            parts.append(f"- item {i} with `code`")
        else:
            parts.append(f"- [ ] task {i}")
    return "\n\n".join(parts) + "\n"


async def timed(fn: Callable[[], Awaitable[Any]], rounds: int) -> float:
    await fn()  # warm-up
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        await fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


async def main(rounds: int, blocks: int) -> None:
    configure_logging(level="WARNING")
    markdown = sample_markdown(blocks)
    prebuilt = markdown_to_blocks(markdown)
    with running() as fake:
        root = fake.add_root_page("Bench")
        page = fake.add_page(root, "Read me", prebuilt)
        layers = EnvLayers(
            root=Path("/nonexistent"),
            env="bench",
            values={
                "NOTION_TOKEN": fake.token,
                "NOTION_BASE_URL": fake.url,
                "NOTION_REQUESTS_PER_SECOND": "100",
            },
        )
        runtime = AgentRuntime.start(SPEC, layers, CoreSettings(port_base=9000), None)
        raw = AsyncClient(auth=fake.token, base_url=fake.url)
        async with Client(build_server(runtime, token=None, port=None)) as mcp:

            async def raw_read() -> None:
                cursor = None
                while True:
                    got = await raw.blocks.children.list(block_id=page, start_cursor=cursor)
                    cursor = got["next_cursor"]
                    if not got["has_more"]:
                        return

            async def tool_read() -> None:
                result = await mcp.call_tool("get_page", {"page_id": page})
                assert result.structured_content["block_count"] == blocks

            async def raw_write() -> None:
                made = await raw.pages.create(
                    parent={"page_id": root},
                    properties={"title": {"title": [{"text": {"content": "w"}}]}},
                    children=prebuilt[:100],
                )
                for start in range(100, len(prebuilt), 100):
                    await raw.blocks.children.append(
                        block_id=made["id"], children=prebuilt[start : start + 100]
                    )

            async def naive_write() -> None:
                made = await raw.pages.create(
                    parent={"page_id": root},
                    properties={"title": {"title": [{"text": {"content": "n"}}]}},
                )
                for block in prebuilt:
                    await raw.blocks.children.append(block_id=made["id"], children=[block])

            async def tool_write() -> None:
                args = {"title": "t", "parent_page_id": root, "markdown": markdown}
                result = await mcp.call_tool("create_page", args)
                assert result.structured_content["blocks_written"] == blocks

            base_read = await timed(raw_read, rounds)
            base_write = await timed(raw_write, rounds)
            rows = [
                (f"bare SDK list {blocks} blocks (baseline)", base_read, base_read),
                (
                    f"get_page {blocks} blocks as markdown",
                    await timed(tool_read, rounds),
                    base_read,
                ),
                (f"bare SDK write {blocks} blocks (baseline)", base_write, base_write),
                ("create_page from markdown", await timed(tool_write, rounds), base_write),
                ("bare SDK, one append per block", await timed(naive_write, 3), base_write),
            ]
        await raw.aclose()
        await runtime.aclose()
    chunked = 1 + -(-(blocks - 100) // 100)
    print(f"median of {rounds} rounds against the loopback fake")
    for name, seconds, baseline in rows:
        print(f"{name:<42} {seconds * 1000:9.2f} ms  {seconds / baseline:7.2f}x")
    print(
        f"requests for {blocks} blocks: {chunked} chunked vs {blocks + 1} one per block "
        f"({(blocks + 1) / chunked:.0f}x); at Notion's {NOTION_RATE:g} requests/s that is "
        f"{chunked / NOTION_RATE:.1f} s vs {(blocks + 1) / NOTION_RATE:.0f} s"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--blocks", type=int, default=300)
    args = parser.parse_args()
    anyio.run(main, args.rounds, args.blocks)
