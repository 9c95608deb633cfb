"""`scripts/bench store`: the context store's cost, each figure against a baseline measured in
the same run.

1. Durable agent_output writes/s with 3 writer processes through the recorder (schema check,
   revision, head, audit row) / a raw sqlite3 loop of one insert per transaction with 3
   processes, WAL and the same ``synchronous``. Two figures: each process with ``--tasks``
   concurrent calls (an agent serving several clients: group commit shares transactions;
   goal >= 1.0), and one call at a time (each its own transaction, for information).
2. p50 of a tool call over HTTP to one of our agent servers that records every call into the
   store / the same server with recording off. Goal <= 1.25. Agents record with
   CONTEXT_RECORD_SYNCHRONOUS (NORMAL by default, docs/context-store.md), so that is the
   default here; --record-synchronous FULL shows the cost of an fsync per call.

Rounds interleave baseline and ours so load on the machine hits both alike; each figure is
min/median/max over the rounds with the load average beside it. A round of writes is clocked
from releasing the 3 processes (each has imported and opened its connection) until each has
said its last write is durable (the grouped recorder after ``aclose``: everything moved from
the inbox into the store); starting and exiting the interpreter are outside, on both sides.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import anyio
from _common import figure, wait_answering

from agents.core.testing import free_port, mcp_client
from agents.store.base import DB_NAME
from agents.store.store import ContextStore

SERVER = Path(__file__).with_name("_store_server.py")

RAW = textwrap.dedent(
    """
    import sqlite3, sys, time
    path, count, sync, size = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    conn.execute(f"PRAGMA synchronous={sync}")
    row = "x" * size
    print("ready", flush=True)
    sys.stdin.readline()
    for i in range(count):
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO t(body) VALUES (?)", (row,))
        conn.execute("COMMIT")
    print("done", flush=True)
    """
)

OURS = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from agents.core.recorder import ToolCall
    from agents.store.recorder import StoreRecorder
    from agents.store.store import ContextStore
    root, count, sync = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    store = ContextStore(root, actor="agent:bench", synchronous=sync)
    recorder = StoreRecorder(store, "bench", blob_threshold=16384, state_interval=3600)
    call = ToolCall("bench", "local", "create_page", {"title": "Plan", "parent": "abc123"},
                    "ok", 12.5, output={"id": "p-1", "url": "https://example.test/p-1"},
                    meta={"write": True, "target": "page:p-1"})
    print("ready", flush=True)
    sys.stdin.readline()
    for i in range(count):
        recorder.write(call)
    print("done", flush=True)
    """
)


GROUPED = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from agents.core.recorder import ToolCall
    from agents.store.recorder import StoreRecorder
    from agents.store.store import ContextStore
    root, count, sync, tasks = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    store = ContextStore(root, actor="agent:bench", synchronous=sync)
    recorder = StoreRecorder(store, "bench", blob_threshold=16384, state_interval=3600,
                             on_loop=sync == "NORMAL")
    call = ToolCall("bench", "local", "create_page", {"title": "Plan", "parent": "abc123"},
                    "ok", 12.5, output={"id": "p-1", "url": "https://example.test/p-1"},
                    meta={"write": True, "target": "page:p-1"})
    print("ready", flush=True)
    sys.stdin.readline()

    async def worker(n):
        for _ in range(n):
            await recorder.record(call)

    async def main():
        await asyncio.gather(*(worker(count // tasks) for _ in range(tasks)))
        await recorder.aclose()

    asyncio.run(main())
    print("done", flush=True)
    """
)


def run_writers(code: str, target: str, count: int, sync: str, extra: list[str]) -> float:
    argv = [sys.executable, "-c", code, target, str(count), sync, *extra]
    return 3 * count / race([argv] * 3)


def race(argvs: list[list[str]], env: dict[str, str] | None = None) -> float:
    """Start one process per ``argvs`` and wait until each has imported and opened its
    connection (it prints ``ready``), then release them together (a line on stdin); the
    seconds until the last one has written everything (it prints ``done`` after its last
    commit). Interpreter start-up and exit are outside the clock, on both sides alike."""
    procs = [
        subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
        for argv in argvs
    ]
    try:
        for p in procs:
            _expect(p, "ready")
        t0 = time.perf_counter()
        for p in procs:
            assert p.stdin is not None
            p.stdin.write("go\n")
            p.stdin.close()
        for p in procs:
            _expect(p, "done")
        seconds = time.perf_counter() - t0
        for p in procs:
            if p.wait(timeout=600) != 0:
                raise SystemExit("a writer failed")
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    return seconds


def _expect(proc: subprocess.Popen[str], word: str) -> None:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if line.strip() != word:
        raise SystemExit(f"a writer failed before saying {word!r} (it said {line!r})")


def throughput(
    tmp: Path, count: int, sync: str, rounds: int, tasks: int
) -> tuple[list[float], list[float], list[float], int]:
    """Per round, interleaved: the raw loop, our recorder one call at a time, and our
    recorder with ``tasks`` concurrent calls per process (group commit)."""
    probe = ContextStore(tmp / "probe", synchronous=sync)
    size = len(probe.put("agent_output:size", "agent_output", _body()).to_bytes())
    probe.close()
    raws, ours, grouped = [], [], []
    for r in range(rounds):
        db = tmp / f"raw{r}.sqlite"
        with sqlite3.connect(db) as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, body TEXT)")
        raws.append(run_writers(RAW, str(db), count, sync, [str(size)]))
        ContextStore(tmp / f"ours{r}", synchronous=sync).close()
        ours.append(run_writers(OURS, str(tmp / f"ours{r}"), count, sync, []))
        _written(tmp / f"ours{r}", 3 * count)
        ContextStore(tmp / f"grouped{r}", synchronous=sync).close()
        each = count // tasks * tasks  # every task writes count // tasks
        grouped.append(run_writers(GROUPED, str(tmp / f"grouped{r}"), each, sync, [str(tasks)]))
        _written(tmp / f"grouped{r}", 3 * each)
    return ours, grouped, raws, size


def _written(root: Path, expected: int) -> None:
    """Checked after the clock stops, read directly (a store's read would move its inbox
    first): every record is in the store, none left in its inbox."""
    with contextlib.closing(sqlite3.connect(root / DB_NAME)) as conn:
        docs = conn.execute("SELECT count(*) FROM docs WHERE kind = 'agent_output'").fetchone()
        inbox = conn.execute("SELECT count(*) FROM inbox").fetchone()
    if (docs[0], inbox[0]) != (expected, 0):
        raise SystemExit(
            f"{root}: {docs[0]} records in the store and {inbox[0]} in its inbox, "
            f"expected {expected} and 0"
        )


def _body() -> dict[str, object]:
    return {
        "agent": "bench",
        "handler": "create_page",
        "status": "ok",
        "outcome": "ok",
        "started_at": "2026-01-01T00:00:00.000Z",
        "duration_ms": 12.5,
        "input": {"title": "Plan", "parent": "abc123"},
        "error": None,
        "meta": {"write": True, "target": "page:p-1"},
        "output": {"id": "p-1", "url": "https://example.test/p-1"},
    }


async def calls(port: int, n: int) -> list[float]:
    async with mcp_client(f"http://127.0.0.1:{port}/mcp", "t") as client:
        samples = []
        for i in range(n):
            t0 = time.perf_counter()
            result = await client.call_tool("echo", {"text": f"hello {i}"})
            samples.append((time.perf_counter() - t0) * 1000)
            if result.is_error:
                raise SystemExit(f"echo failed: {result.content}")
        return samples


def latency(tmp: Path, n: int, sync: str, rounds: int) -> tuple[list[float], list[float]]:
    """Per round (interleaved), the p50 of ``n // rounds`` calls to each server."""
    servers = {}
    procs = []
    for mode in ("none", "record"):
        port = free_port()
        procs.append(
            subprocess.Popen(
                [sys.executable, str(SERVER), str(port), mode, str(tmp / "calls"), sync],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        servers[mode] = port
    try:
        wait_answering(list(servers.values()))
        for port in servers.values():
            anyio.run(calls, port, 50)  # warm up
        base: list[float] = []
        ours: list[float] = []
        for _ in range(rounds):
            base.append(statistics.median(anyio.run(calls, servers["none"], n // rounds)))
            ours.append(statistics.median(anyio.run(calls, servers["record"], n // rounds)))
    finally:
        for p in procs:
            p.terminate()
            p.wait(timeout=30)
    return ours, base


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--writes", type=int, default=1000, help="per writer process and round")
    ap.add_argument("--calls", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--tasks", type=int, default=8, help="concurrent calls per process (group)")
    ap.add_argument(
        "--synchronous",
        choices=["FULL", "NORMAL"],
        default="FULL",
        help="for the throughput figure (default FULL: durable through power loss)",
    )
    ap.add_argument(
        "--record-synchronous",
        choices=["FULL", "NORMAL"],
        default="NORMAL",
        help="for the call figure (default NORMAL, as agents record)",
    )
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(dir=Path.cwd() / ".bench" if _mk() else None) as tmp:
        ours_w, grouped_w, raw_w, size = throughput(
            Path(tmp), args.writes, args.synchronous, args.rounds, args.tasks
        )
        ours_p50, base_p50 = latency(Path(tmp), args.calls, args.record_synchronous, args.rounds)
    if args.json:
        print(
            json.dumps(
                {
                    "synchronous": args.synchronous,
                    "record_synchronous": args.record_synchronous,
                    "writes_per_s": {"sequential": ours_w, "grouped": grouped_w, "raw": raw_w},
                    "call_p50_ms": {"recorded": ours_p50, "unrecorded": base_p50},
                },
                indent=2,
            )
        )
        return
    print(f"store, WAL, {args.rounds} interleaved rounds")
    print(
        f"  writes: 3 processes x {args.writes} agent_output each, synchronous="
        f"{args.synchronous} on both sides; raw rows of {size} bytes, one per transaction"
    )
    print(figure("durable writes/s, grouped", grouped_w, raw_w, "1/s", ">= 1.0"))
    each = args.writes // args.tasks * args.tasks
    print(
        f"    (grouped: {args.tasks} concurrent calls per process share transactions; "
        f"{each} records per process)"
    )
    print(figure("durable writes/s, one by one", ours_w, raw_w, "1/s", "-"))
    print(
        f"  calls: {args.calls} sequential echo calls over HTTP each, one connection, "
        f"recording with synchronous={args.record_synchronous}"
    )
    print(figure("call p50 recorded", ours_p50, base_p50, "ms", "<= 1.25"))


def _mk() -> bool:
    (Path.cwd() / ".bench").mkdir(exist_ok=True)
    return True


if __name__ == "__main__":
    main()
