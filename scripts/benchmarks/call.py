"""`scripts/bench call`: p50/p99 and calls/s of `agent_info` over HTTP with auth, against a bare
SDK echo tool on the same transport, both under supervisord. Goal: p50 ratio <= 1.25."""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import anyio
from _common import BareSupervisor, project, ratio_line

from agents.core.testing import mcp_client


async def measure(url: str, token: str | None, tool: str, n: int) -> list[float]:
    async with mcp_client(url, token) as client:
        for _ in range(50):
            await client.call_tool(tool, {})
        samples = []
        for _ in range(n):
            t0 = time.perf_counter()
            result = await client.call_tool(tool, {})
            samples.append((time.perf_counter() - t0) * 1000)
            if result.is_error:
                raise SystemExit(f"{tool} failed: {result.content}")
        return samples


def pct(samples: list[float], q: float) -> float:
    return statistics.quantiles(samples, n=100)[int(q) - 1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--calls", type=int, default=1000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        proj = project(Path(tmp))
        bare = BareSupervisor(Path(tmp), n=1)
        with proj.started("local"):
            bare.start()
            try:
                port = proj.run("agents", "status", "local", "--json").stdout
                import json

                url = next(r["url"] for r in json.loads(port) if r["agent"] == "notion")
                token = proj.secret("local", "NOTION_AGENT_TOKEN")
                base_url = f"http://127.0.0.1:{bare.ports[0]}/mcp"
                b1 = anyio.run(measure, base_url, None, "echo", args.calls)
                o1 = anyio.run(measure, url, token, "agent_info", args.calls)
                b2 = anyio.run(measure, base_url, None, "echo", args.calls)
                o2 = anyio.run(measure, url, token, "agent_info", args.calls)
            finally:
                bare.stop()
    ours, base = o1 + o2, b1 + b2
    print(f"call, {len(ours)} sequential calls each (interleaved halves), one connection")
    print(ratio_line("p50", statistics.median(ours), statistics.median(base), "ms", "<= 1.25"))
    print(ratio_line("p99", pct(ours, 99), pct(base, 99), "ms", "-"))
    rate_o, rate_b = 1000 / statistics.mean(ours), 1000 / statistics.mean(base)
    print(ratio_line("calls/s", rate_o, rate_b, "1/s", "-"))


if __name__ == "__main__":
    main()
