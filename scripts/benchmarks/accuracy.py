"""`scripts/bench accuracy [--runs N] [--steps K] [--seed S]`: the "sync accuracy" figure.

Runs N random interleavings (K steps each, seeded) of edits, deletions, imports, applies,
pulls, pushes and restores on three machines with their own stores and homes and one folder
remote, through the real `agents` command in process (the model of
tests/integration/claude/accuracy.py), then brings every machine to the end state and counts:
interleavings run, edits made, edits imported, edits lost (the goal is 0), and imported edits
that are not in every machine's file but in a conflict some machine lists.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.integration.claude.accuracy import OPS, Tally, World


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    for name in ("AGENT_ENV", "CONTEXT_REMOTE", "AGENTS_HOME", "CLAUDE_CONFIG_DIR"):
        os.environ.pop(name, None)
    os.environ["XDG_CONFIG_HOME"] = "/nonexistent-xdg"
    total = Tally()
    rng = random.Random(args.seed)
    started = time.perf_counter()
    for run in range(args.runs):
        scratch = Path(tempfile.mkdtemp(prefix="accuracy-"))
        try:
            world = World(scratch)
            for _ in range(rng.randint(1, args.steps)):
                world.step(rng.choice(OPS), rng.choice("abc"), rng.randint(0, 9))
            world.settle()
            tally = world.check()
            total.add(tally)
            for failure in tally.failures:
                print(f"run {run}: LOST {failure}", file=sys.stderr)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    took = time.perf_counter() - started
    runs = f"{args.runs} interleavings ({total.steps} steps, seed {args.seed}, {took:.0f} s)"
    print(f"sync accuracy: {runs}")
    print(f"  edits made:                          {total.edits}")
    print(f"  edits imported:                      {total.imported}")
    print(f"  edits lost:                          {total.lost}")
    print(f"  imported edits kept in a conflict:   {total.in_conflicts}")
    sys.exit(1 if total.lost else 0)


if __name__ == "__main__":
    main()
