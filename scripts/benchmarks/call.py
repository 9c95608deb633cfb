"""`scripts/bench call`: p50/p99 and calls/s of `agent_info` over HTTP with auth, against a bare
SDK echo tool on the same transport, both under supervisord, rounds interleaved.
Goal: p50 ratio <= 1.15. For information, the same against the bare server's `agent_info`
(the same result model, so the tool's own work is equal on both sides), and against the bare
echo answering in JSON as our agents answer a tool call (the SDK answers with an event stream
by default), so that what the answer's form saves is told apart from our path's cost."""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import anyio
from _common import BareSupervisor, figure, project

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
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        proj = project(Path(tmp))
        bare = BareSupervisor(Path(tmp), n=2, json_from=1)
        with proj.started("local"):
            bare.start()
            try:
                port = proj.run("agents", "status", "local", "--json").stdout
                import json

                url = next(r["url"] for r in json.loads(port) if r["agent"] == "notion")
                token = proj.secret("local", "NOTION_AGENT_TOKEN")
                base_url = f"http://127.0.0.1:{bare.ports[0]}/mcp"
                json_url = f"http://127.0.0.1:{bare.ports[1]}/mcp"
                rounds: dict[str, list[list[float]]] = {
                    "ours": [],
                    "base": [],
                    "info": [],
                    "json": [],
                }
                for _ in range(args.rounds):
                    per = args.calls // args.rounds
                    rounds["base"].append(anyio.run(measure, base_url, None, "echo", per))
                    rounds["info"].append(anyio.run(measure, base_url, None, "agent_info", per))
                    rounds["json"].append(anyio.run(measure, json_url, None, "echo", per))
                    rounds["ours"].append(anyio.run(measure, url, token, "agent_info", per))
            finally:
                bare.stop()
    ours = [x for r in rounds["ours"] for x in r]
    base = [x for r in rounds["base"] for x in r]
    print(f"call, {len(ours)} sequential calls each in {args.rounds} interleaved rounds")
    p50s = {k: [statistics.median(r) for r in v] for k, v in rounds.items()}
    print(figure("p50 (per round)", p50s["ours"], p50s["base"], "ms", "<= 1.15"))
    print(figure("p50 against the same result", p50s["ours"], p50s["info"], "ms", "-"))
    print(figure("p50 against the echo in JSON", p50s["ours"], p50s["json"], "ms", "-"))
    print(figure("p99 (all calls)", [pct(ours, 99)], [pct(base, 99)], "ms", "-"))
    rate_o, rate_b = 1000 / statistics.mean(ours), 1000 / statistics.mean(base)
    print(figure("calls/s (all calls)", [rate_o], [rate_b], "1/s", "-"))


if __name__ == "__main__":
    main()
