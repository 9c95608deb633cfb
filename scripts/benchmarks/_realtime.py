"""`scripts/bench sync --realtime [--pushes N] [--interval S]`: how long a change pushed on
machine A takes to be in machine B's store while B's supervised sync program runs.

B runs the very command supervisord runs (`python -m agents.sync run --env local`, with
CONTEXT_REMOTE pointing at a loopback PostgreSQL server and SYNC_INTERVAL = S). A writes a
document and pushes, N times, a second apart; each figure is the time from A's push
returning to the document's revision being B's head (B's store polled every 2 ms, read
only). Without real-time sync the expected wait is about S/2 (the baseline printed beside).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from agents.store.store import ContextStore
from agents.sync.engine import Syncer
from agents.sync.urls import open_remote
from tests.servers import find_pg_bindir, postgres_server, trust_each_other

REPO = Path(__file__).resolve().parents[2]


def _project(root: Path, url: str, interval: float) -> Path:
    (root / "environments").mkdir(parents=True)
    (root / "environments" / ".env.local").write_text(
        f"AGENTS_PORT_BASE=9400\nSYNC_INTERVAL={interval:g}\n"
    )
    secrets = root / "environments" / ".env.local.secrets"
    secrets.write_text(f"CONTEXT_REMOTE={url}\n")
    secrets.chmod(0o600)
    return root


def _head(path: Path, doc: str) -> str | None:
    import sqlite3

    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1)
    except sqlite3.Error:
        return None
    try:
        row = conn.execute("SELECT head FROM docs WHERE id = ?", (doc,)).fetchone()
    except sqlite3.Error:
        return None
    finally:
        conn.close()
    return str(row[0]) if row else None


def run(pushes: int, interval: float) -> None:
    bindir = find_pg_bindir()
    if bindir is None:
        sys.exit("PostgreSQL server not found: apt-get install postgresql")
    with postgres_server(bindir) as server, tempfile.TemporaryDirectory() as tmp:
        url = server.url()
        b_root = _project(Path(tmp) / "b", url, interval)
        env = {**os.environ, "AGENTS_HOME": str(b_root), "PYTHONUNBUFFERED": "1"}
        env.pop("AGENT_ENV", None)
        log = open(Path(tmp) / "b-sync.log", "wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "agents.cli", "sync", "run", "--env", "local"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        b_store = b_root / "context" / "local" / "store.sqlite"
        latencies: list[float] = []
        try:
            with (
                ContextStore(Path(tmp) / "a", machine_id="machine-a") as a,
                open_remote(url) as remote,
            ):
                syncer = Syncer(a, remote)
                deadline = time.monotonic() + 60
                while not b_store.exists():
                    if time.monotonic() > deadline:
                        sys.exit("B's sync program did not start; see its log")
                    time.sleep(0.1)
                with ContextStore(b_store.parent) as b:  # B trusts A (agents machines trust)
                    trust_each_other(a, b)
                time.sleep(2.0)  # B: first sync done, listening
                for i in range(pushes):
                    env_ = a.put("preference:bench", "preference", {"key": "bench", "value": i})
                    syncer.push()
                    pushed = time.perf_counter()
                    want = env_.hash
                    while _head(b_store, "preference:bench") != want:
                        if time.perf_counter() - pushed > interval + 30:
                            sys.exit(f"push {i} never arrived on B")
                        time.sleep(0.002)
                    latencies.append(time.perf_counter() - pushed)
                    time.sleep(1.0)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
            log.close()
    lat = sorted(latencies)
    p50 = statistics.median(lat)
    p95 = lat[min(len(lat) - 1, round(0.95 * (len(lat) - 1)))]
    load = os.getloadavg()[0]
    print(
        f"realtime sync over loopback PostgreSQL, {pushes} pushes, B's SYNC_INTERVAL "
        f"{interval:g} s (load {load:.2f})"
    )
    print(
        f"  push on A -> in B's store: min {lat[0]:.3f} s  p50 {p50:.3f} s  p95 {p95:.3f} s  "
        f"max {lat[-1]:.3f} s  (goal p50 <= 1 s)"
    )
    print(
        f"  without real-time sync (interval only): expected {interval / 2:.1f} s on average, "
        f"up to {interval:g} s; ratio p50 / expected = {p50 / (interval / 2):.4f}"
    )
