"""Shared by the spine benchmarks: a throwaway project copy and a bare-server supervisord."""

from __future__ import annotations

import json
import os
import shlex
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from agents.catalog import AGENTS
from agents.supervisor.probe import probe_ready
from tests.project import Project, free_port_block

REPO = Path(__file__).resolve().parents[2]
BARE = Path(__file__).with_name("_bare_server.py")

BARE_CONF = """[unix_http_server]
file={dir}/s.sock
chmod=0700
[supervisord]
logfile={dir}/supervisord.log
pidfile={dir}/supervisord.pid
directory={dir}
childlogdir={dir}
[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
[supervisorctl]
serverurl=unix://{dir}/s.sock
"""
BARE_PROGRAM = """[program:bare{i}]
command={command}
startsecs=3
stopsignal=TERM
stopasgroup=true
killasgroup=true
redirect_stderr=true
stdout_logfile={dir}/bare{i}.log
"""


def project(tmp: Path) -> Project:
    """A repo copy with a random port base, so a running `local` is never touched."""
    p = Project.copy(REPO, tmp / "repo")
    p.set_env("local", AGENTS_PORT_BASE=str(free_port_block(6)))
    return p


def wait_answering(ports: list[int], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not all(probe_ready(p, 0.5)[0] for p in ports):
        if time.monotonic() > deadline:
            raise SystemExit(f"ports {ports} did not answer within {timeout}s")
        time.sleep(0.02)


class BareSupervisor:
    """supervisord running ``n`` bare SDK servers (as many as we have agents by default);
    ``json_from``: the servers from this index on answer in JSON instead of the SDK's default
    event stream."""

    def __init__(self, tmp: Path, n: int = len(AGENTS), json_from: int | None = None) -> None:
        self.dir = tmp / "bare"
        self.dir.mkdir(parents=True, exist_ok=True)
        base = free_port_block(n)
        self.ports = [base + i + 1 for i in range(n)]
        text = BARE_CONF.format(dir=self.dir)
        for i, port in enumerate(self.ports):
            mode = ["json"] if json_from is not None and i >= json_from else []
            cmd = " ".join(shlex.quote(a) for a in (sys.executable, str(BARE), str(port), *mode))
            text += BARE_PROGRAM.format(i=i, command=cmd, dir=self.dir)
        self.conf = self.dir / "supervisord.conf"
        self.conf.write_text(text)

    def start(self) -> float:
        """Launch supervisord; seconds until every server answers /readyz."""
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "supervisor.supervisord", "-c", str(self.conf)], check=True
        )
        wait_answering(self.ports)
        return time.perf_counter() - t0

    def pids(self) -> list[int]:
        out = self.ctl("pid", "all").stdout.split()
        return [int(p) for p in out if p.isdigit()]

    def ctl(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "supervisor.supervisorctl", "-c", str(self.conf), *args],
            capture_output=True,
            text=True,
            check=False,
        )

    def stop(self) -> None:
        self.ctl("shutdown")
        pidfile = self.dir / "supervisord.pid"
        deadline = time.monotonic() + 30
        while pidfile.exists() and time.monotonic() < deadline:
            time.sleep(0.05)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise SystemExit(f"no RSS for pid {pid}")


def median_of(runs: int, fn: Callable[[], float]) -> float:
    return statistics.median(fn() for _ in range(runs))


def ratio_line(name: str, ours: float, base: float, unit: str, goal: str) -> str:
    """One figure from single values (see :func:`figure` for rounds)."""
    return figure(name, [ours], [base], unit, goal)


def _spread(samples: list[float]) -> str:
    if len(samples) == 1:
        return f"{samples[0]:.3f}"
    return f"{min(samples):.3f}/{statistics.median(samples):.3f}/{max(samples):.3f}"


def figure(name: str, ours: list[float], base: list[float], unit: str, goal: str) -> str:
    """A figure from rounds of ours and of the baseline measured in the same run (interleaved
    round by round): min/median/max of each, the ratio of the medians, and the 1-minute load
    average. With ``BENCH_RECORD=<file>`` it is also appended there as a JSON line, for
    ``scripts/bench all``."""
    ratio = statistics.median(ours) / statistics.median(base)
    load = os.getloadavg()[0]
    record = os.environ.get("BENCH_RECORD")
    if record:
        entry = {
            "bench": os.environ.get("BENCH_NAME", Path(sys.argv[0]).stem),
            "figure": name.strip(),
            "unit": unit,
            "ours": [round(x, 6) for x in ours],
            "baseline": [round(x, 6) for x in base],
            "ratio": round(ratio, 3),
            "goal": goal,
            "load": round(load, 2),
        }
        with open(record, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry) + "\n")
    rounds = f" ({len(ours)} rounds, min/median/max)" if len(ours) > 1 else ""
    return (
        f"{name:<28} ours {_spread(ours)} {unit}  baseline {_spread(base)} {unit}  "
        f"ratio {ratio:.2f}  (goal {goal}){rounds}  load {load:.2f}"
    )


def interleaved(rounds: int, **fns: Callable[[], float]) -> dict[str, list[float]]:
    """Run each of ``fns`` once per round, in turn, ``rounds`` times (so that load on the
    machine falls on every side alike); the samples by name."""
    out: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            out[name].append(fn())
    return out
