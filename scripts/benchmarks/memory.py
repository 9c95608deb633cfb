"""`scripts/bench memory`: idle RSS of the agents against as many bare SDK servers under the
same supervisord. Goal: ratio <= 1.3."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from _common import BareSupervisor, project, ratio_line, rss_mb


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        proj = project(Path(tmp))
        bare = BareSupervisor(Path(tmp))
        with proj.started("local"):
            bare.start()
            try:
                time.sleep(3)  # let both sides settle after start-up
                rows = json.loads(proj.run("agents", "status", "local", "--json").stdout)
                ours = sum(rss_mb(r["pid"]) for r in rows)
                base = sum(rss_mb(p) for p in bare.pids())
                count = len(rows)
            finally:
                bare.stop()
    print(f"memory, idle RSS summed over {count} agents vs {len(bare.ports)} bare servers")
    print(ratio_line("idle RSS", ours, base, "MB", "<= 1.3"))


if __name__ == "__main__":
    main()
