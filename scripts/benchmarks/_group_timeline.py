"""The timeline of group commit across processes (docs/performance.md, "Group commit across
processes"): `bench store`'s grouped shape (3 processes x 8 concurrent recorded calls,
synchronous=FULL), each process stamping every transaction with CLOCK_MONOTONIC: batch taken,
lock wanted, lock got, statements done, COMMIT done, futures settled on the event loop.

    PYTHONPATH=. .venv/bin/python scripts/benchmarks/_group_timeline.py --rounds 6 --writes 1000 \\
        base=/tmp/main-copy ours=. ours-noflock=.:noflock ours-nogather=.:nogather

Each NAME=TREE[:PART] runs the store code of TREE (a checkout: its `agents` package goes first
on sys.path, before the working directory); PART switches one piece of the group writer off
(noflock: no writer.lock; nogather: nothing added once the lock is held). Trees run
interleaved, round by round. The instrumentation wraps private functions of the store, so it
follows the code it measures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

from store import race

CHILD = textwrap.dedent(
    """
    import asyncio, contextlib, json, os, sys, time
    sys.path.insert(0, sys.argv[5])  # the tree measured, before the working directory
    from pathlib import Path
    import agents.store.base as base
    import agents.store.group as group
    from agents.core.recorder import ToolCall
    from agents.store.recorder import StoreRecorder
    from agents.store.store import ContextStore

    root, count, out, part = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
    assert group.__file__.startswith(sys.argv[5]), group.__file__
    now = time.monotonic_ns
    txns, cur, settles = [], {}, []
    import threading
    def mine():  # the group writer's transactions, not the mover's
        return threading.current_thread().name == "group-commit"
    begin = base.begin
    def _begin(conn):
        if mine():
            cur.setdefault("wanted", now())
        r = begin(conn)
        if mine():
            cur["got"] = now()
        return r
    base.begin = _begin
    committing = base.committing
    @contextlib.contextmanager
    def _committing(conn):
        with committing(conn):
            yield conn
            if mine():
                cur["pre"] = now()
        if mine():
            cur["commit"] = now()
            txns.append(dict(cur))
    base.committing = _committing
    if hasattr(group, "WriterLock"):
        write = group.GroupWriter._write
        def _write(self, batch, *, gather=True):
            cur.clear()
            cur["build"] = now()
            return write(self, batch, gather=gather and part != "nogather")
        group.GroupWriter._write = _write
        acquire = group.WriterLock.acquire
        def _acquire(self):
            cur["wanted"] = now()
            if part != "noflock":
                acquire(self)
        group.WriterLock.acquire = _acquire
        if part == "noflock":
            group.WriterLock.release = lambda self: None
        stage = group.inbox.stage
        def _stage(*a, **k):
            cur["n"] = cur.get("n", 0) + 1
            return stage(*a, **k)
        group.inbox.stage = _stage
    else:
        add_many = ContextStore.add_many
        def _add_many(self, items, **kw):
            cur.clear()
            cur["build"] = now()
            cur["n"] = len(items)
            return add_many(self, items, **kw)
        ContextStore.add_many = _add_many
    settle = group._settle
    def _settle(f, r):
        settles.append(now())
        settle(f, r)
    group._settle = _settle
    store = ContextStore(root, actor="agent:bench", synchronous="FULL")
    recorder = StoreRecorder(store, "bench", blob_threshold=16384, state_interval=3600,
                             on_loop=False)
    call = ToolCall("bench", "local", "create_page", {"title": "Plan", "parent": "abc123"},
                    "ok", 12.5, output={"id": "p-1", "url": "https://example.test/p-1"},
                    meta={"write": True, "target": "page:p-1"})
    print("ready", flush=True)
    sys.stdin.readline()
    t0, c0 = now(), time.process_time()

    async def worker(n):
        for _ in range(n):
            await recorder.record(call)

    async def main():
        await asyncio.gather(*(worker(count // 8) for _ in range(8)))
        await recorder.aclose()

    asyncio.run(main())
    t1, c1 = now(), time.process_time()
    print("done", flush=True)
    with open(out, "w") as f:
        json.dump({"t0": t0, "t1": t1, "cpu": c1 - c0, "txns": txns, "settles": settles}, f)
    """
)


def one_run(tree: Path, part: str, work: Path, count: int) -> dict[str, float]:
    env = dict(os.environ, PYTHONPATH=str(tree))
    make = (
        "from pathlib import Path; from agents.store.store import ContextStore as S; "
        f"S(Path({str(work)!r})).close()"
    )
    subprocess.run([sys.executable, "-c", make], check=True, env=env, cwd=tree)
    outs = [work.with_name(f"{work.name}.{i}.json") for i in range(3)]
    argvs = [
        [sys.executable, "-c", CHILD, str(work), str(count), str(out), part, str(tree)]
        for out in outs
    ]
    load = os.getloadavg()[0]
    wall = race(argvs, env)
    data = [json.loads(out.read_text()) for out in outs]
    return summary(data, wall, load, count)


def summary(data: list[dict[str, Any]], wall: float, load: float, count: int) -> dict[str, float]:
    txns = [t for d in data for t in d["txns"]]
    holds = sorted((t["got"], t["commit"]) for t in txns)

    def held_during(a: int, b: int) -> int:
        return sum(min(b, h1) - max(a, h0) for h0, h1 in holds if h1 > a and h0 < b)

    waits = [(t["wanted"], t["got"]) for t in txns]
    start = min(d["t0"] for d in data)
    end = max(d["t1"] for d in data)

    def ms(values: list[int]) -> float:
        return statistics.median(values) / 1e6

    return {
        "load": load,
        "writes/s": 3 * count / wall,
        "cpu/write us": sum(d["cpu"] for d in data) / (3 * count) * 1e6,
        "transactions": len(txns),
        "docs/txn": statistics.mean(t["n"] for t in txns),
        "lock held %": 100 * sum(h1 - h0 for h0, h1 in holds) / (end - start),
        "wait ms": sum(b - a for a, b in waits) / 1e6,
        "wait, lock free ms": sum((b - a) - held_during(a, b) for a, b in waits) / 1e6,
        "prepare ms p50": ms([t["wanted"] - t["build"] for t in txns]),
        "statements ms p50": ms([t["pre"] - t["got"] for t in txns]),
        "commit ms p50": ms([t["commit"] - t["pre"] for t in txns]),
        "commit ms mean": statistics.mean(t["commit"] - t["pre"] for t in txns) / 1e6,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("trees", nargs="*", default=["ours=."], help="NAME=TREE[:noflock|:nogather]")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--writes", type=int, default=1000, help="per process and round")
    args = ap.parse_args()
    trees = []
    for spec in args.trees:
        name, _, rest = spec.partition("=")
        path, _, part = rest.partition(":")
        trees.append((name, Path(path).resolve(), part))
    results: dict[str, list[dict[str, float]]] = {name: [] for name, _, _ in trees}
    (Path.cwd() / ".bench").mkdir(exist_ok=True)  # on the disk the benchmarks use
    with tempfile.TemporaryDirectory(dir=Path.cwd() / ".bench") as tmp:
        for r in range(args.rounds):
            for name, tree, part in trees if r % 2 == 0 else trees[::-1]:
                rec = one_run(tree, part, Path(tmp) / f"{name}{r}", args.writes)
                results[name].append(rec)
                print(f"round {r} {name}: " + ", ".join(f"{k} {v:.2f}" for k, v in rec.items()))
    print("medians over rounds:")
    for name, recs in results.items():
        keys = recs[0].keys()
        print(
            f"  {name}: "
            + ", ".join(f"{k} {statistics.median(x[k] for x in recs):.2f}" for k in keys)
        )


if __name__ == "__main__":
    main()
