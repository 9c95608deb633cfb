"""`scripts/bench all [--quick] [--only NAME ...]`: run the benchmarks one after the other and
write docs/benchmarks.md: every figure (ours and the baseline measured in the same run,
min/median/max over interleaved rounds, the ratio of the medians, the goal), with the
machine, the date and the load average beside each figure.

Each benchmark is run as `scripts/bench NAME` would run it, with ``BENCH_RECORD`` set so that
its figures are collected as it prints them. ``--quick`` uses smaller sizes (a smoke run);
the published page comes from a full run on a quiet machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
# name, full arguments, quick arguments
SUITE: list[tuple[str, list[str], list[str]]] = [
    ("startup", ["--runs", "5"], ["--runs", "2"]),
    ("call", ["--calls", "2000", "--rounds", "5"], ["--calls", "200", "--rounds", "2"]),
    (
        "store",
        ["--writes", "500", "--rounds", "5"],
        ["--writes", "200", "--calls", "200", "--rounds", "2"],
    ),
    ("claude", ["--runs", "7"], ["--runs", "2"]),
    ("sync", ["--runs", "5"], ["--docs", "1000", "--runs", "2"]),
    ("remotes", ["--rounds", "5"], ["--docs", "1000", "--rounds", "2"]),
    ("continuity", ["--only", "tokens"], ["--only", "tokens"]),
]


def _machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kib / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return f"{os.cpu_count()} cores ({cpu}){mem}, {platform.system()} {platform.release()}"


def _fmt(samples: list[float]) -> str:
    if len(samples) == 1:
        return f"{samples[0]:.3f}"
    ordered = sorted(samples)
    mid = (
        ordered[len(ordered) // 2]
        if len(ordered) % 2
        else sum(ordered[len(ordered) // 2 - 1 : len(ordered) // 2 + 1]) / 2
    )
    return f"{ordered[0]:.3f} / {mid:.3f} / {ordered[-1]:.3f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    ap.add_argument("--only", nargs="*", help="only these benchmarks")
    ap.add_argument("--out", default=str(REPO / "docs" / "benchmarks.md"))
    args = ap.parse_args()
    record = Path(tempfile.mkstemp(prefix="bench-", suffix=".jsonl")[1])
    failed: list[str] = []
    ran: list[str] = []
    started = dt.datetime.now(dt.UTC)
    for name, full, quick in SUITE:
        if args.only and name not in args.only:
            continue
        argv = [sys.executable, str(HERE / f"{name}.py"), *(quick if args.quick else full)]
        print(f"== {name}: {' '.join(argv[2:])}", flush=True)
        ran.append(f"`scripts/bench {name} {' '.join(argv[2:])}`".replace(" `", "`"))
        env = {**os.environ, "BENCH_RECORD": str(record), "BENCH_NAME": name}
        code = subprocess.run(argv, cwd=REPO, env=env, check=False).returncode
        if code != 0:
            failed.append(f"{name} (exit {code})")
    figures = [json.loads(line) for line in record.read_text().splitlines() if line.strip()]
    record.unlink()
    lines = [
        "# Benchmarks",
        "",
        "Every figure is ours against a baseline measured in the same run, rounds interleaved",
        "(baseline, then ours, each round), as min / median / max over the rounds; the ratio is",
        "of the medians. The load is the 1-minute load average when the figure was printed.",
        "Written by `scripts/bench all`" + (" --quick (a smoke run)" if args.quick else "") + ".",
        "",
        f"- Machine: {_machine()}",
        f"- Date: {started:%Y-%m-%d %H:%M} UTC",
        f"- Python {platform.python_version()}",
        "- Runs: " + ", ".join(ran),
        "",
        "| benchmark | figure | ours | baseline | unit | ratio | goal | load |",
        "|---|---|---|---|---|---|---|---|",
    ]
    lines.extend(
        f"| {f['bench']} | {f['figure']} | {_fmt(f['ours'])} | {_fmt(f['baseline'])} | "
        f"{f['unit']} | {f['ratio']:.2f} | {f['goal']} | {f['load']:.2f} |"
        for f in figures
    )
    if failed:
        lines += ["", "Benchmarks that failed in this run: " + ", ".join(failed)]
    Path(args.out).write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({len(figures)} figures)")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
