"""Lokka start cost: importing the agent's tools, against the shared core alone (same run).

Each figure is the median of fresh interpreters (`python -c "import ..."`), printed as a ratio
against the baseline: importing agents.core.server, which every agent pays. The third figure is
what the first tool call adds when it loads msgraph-sdk and azure-identity.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

RUNS = 7
CASES = {
    "baseline: import agents.core.server": "import agents.core.server",
    "lokka agent: import agents.lokka.handlers": "import agents.core.server, agents.lokka.handlers",
    "first call: + msgraph, azure.identity.aio": (
        "import agents.core.server, agents.lokka.handlers, msgraph.graph_service_client, "
        "azure.identity.aio"
    ),
}


def measure(code: str) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    results = {name: measure(code) for name, code in CASES.items()}
    base = next(iter(results.values()))
    for name, seconds in results.items():
        print(f"{name:48} {seconds * 1000:8.0f} ms  x{seconds / base:5.2f}")


if __name__ == "__main__":
    main()
