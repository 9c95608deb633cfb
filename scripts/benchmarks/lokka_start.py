"""Lokka start cost: importing the agent's tools, against the shared core alone (same run).

Each figure is the median CPU time (user + system) of fresh interpreters
(`python -c "import ..."`), which a busy machine disturbs far less than wall time (shown too),
printed as a ratio against the baseline: importing agents.core.server, which every agent
pays. The third figure adds what the first tool call loads: msgraph-sdk and azure-identity.
"""

from __future__ import annotations

import resource
import statistics
import subprocess
import sys
import time

RUNS = 7
CASES = {
    "baseline: import agents.core.server": "import agents.core.server",
    "lokka agent: import agents.lokka.tools": "import agents.core.server, agents.lokka.tools",
    "first call: + msgraph, azure.identity.aio": (
        "import agents.core.server, agents.lokka.tools, msgraph.graph_service_client, "
        "azure.identity.aio"
    ),
}


def measure(code: str) -> tuple[float, float]:
    """Median CPU seconds and median wall seconds of ``python -c code``."""
    cpu, wall = [], []
    for _ in range(RUNS):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        wall.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(cpu), statistics.median(wall)


def main() -> None:
    results = {name: measure(code) for name, code in CASES.items()}
    base_cpu, base_wall = next(iter(results.values()))
    print(f"{'':48} {'cpu':>8}  {'ratio':>6}  {'wall':>8}  {'ratio':>6}")
    for name, (cpu, wall) in results.items():
        print(
            f"{name:48} {cpu * 1000:6.0f}ms  x{cpu / base_cpu:5.2f}  "
            f"{wall * 1000:6.0f}ms  x{wall / base_wall:5.2f}"
        )


if __name__ == "__main__":
    main()
