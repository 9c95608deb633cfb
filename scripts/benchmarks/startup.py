"""`scripts/bench startup`: `start-all-agents local` until every agent answers, divided by the
same supervisord starting as many bare MCP SDK servers. Goal: ratio <= 1.3."""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from _common import BareSupervisor, figure, interleaved, project


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        proj = project(Path(tmp))
        proj.run("agents", "render", "local")  # first-start token generation is not timed
        bare = BareSupervisor(Path(tmp))

        def ours() -> float:
            t0 = time.perf_counter()
            proj.run("start-all-agents", "local")
            took = time.perf_counter() - t0
            proj.run("stop-all-agents", "local")
            return took

        def baseline() -> float:
            took = bare.start()
            bare.stop()
            return took

        runs = interleaved(args.runs, baseline=baseline, ours=ours)
    print(f"startup, {args.runs} interleaved rounds")
    print(figure("start until all answer", runs["ours"], runs["baseline"], "s", "<= 1.3"))


if __name__ == "__main__":
    main()
