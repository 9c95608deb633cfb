"""The store under real processes: concurrent writers lose nothing; kill -9 loses no
acknowledged write."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from agents.store import audit
from agents.store.maintenance import check
from agents.store.store import ContextStore

pytestmark = pytest.mark.integration

WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from agents.store.store import ContextStore

    root, name, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    store = ContextStore(root, actor=f"agent:{name}")
    sys.stdin.readline()  # start together
    for i in range(count):
        store.put(
            f"agent_output:{name}-{i:05d}",
            "agent_output",
            {"agent": name, "handler": "write", "status": "ok", "outcome": "ok",
             "started_at": "2026-01-01T00:00:00.000Z", "duration_ms": i, "input": {"i": i}},
        )
        if i % 100 == 99:
            store.update("preference:counter", "preference",
                         lambda b: {"key": "counter", "value": (b or {"value": 0})["value"] + 1})
    store.close()
    """
)


def test_three_processes_writing_2000_documents_each_lose_nothing(tmp_path: Path) -> None:
    """Every write is present, read-modify-writes did not lose updates, the chain verifies."""
    root = tmp_path / "ctx"
    ContextStore(root).close()
    names, count = ["notion", "fizzy", "lokka"], 2000
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(root), name, str(count)],
            stdin=subprocess.PIPE,
            text=True,
        )
        for name in names
    ]
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.close()
    for proc in procs:
        assert proc.wait(timeout=300) == 0
    with ContextStore(root) as store:
        heads = store.heads({"agent_output"})
        assert len(heads) == len(names) * count
        assert {f"agent_output:{n}-{i:05d}" for n in names for i in range(count)} == set(heads)
        assert store.get("preference:counter").body["value"] == len(names) * count // 100
        with store.reading() as conn:
            report = audit.verify(conn)
            actors = dict(conn.execute("SELECT actor, count(*) FROM audit GROUP BY actor"))
        assert report.ok, report.problems
        assert report.rows == len(names) * (count + count // 100)
        assert actors == {f"agent:{n}": count + count // 100 for n in names}


CRASHER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from agents.core.recorder import ToolCall
    from agents.store.recorder import StoreRecorder
    from agents.store.store import ContextStore

    store = ContextStore(Path(sys.argv[1]), actor="agent:notion")
    recorder = StoreRecorder(store, "notion", blob_threshold=4096, state_interval=60)
    i = 0
    while True:
        output = ("y" * 9000 + str(i)) if i % 3 == 0 else {"n": i}
        call = ToolCall("notion", "local", "search", {"i": i}, "ok", 1.0, output=output)
        envelope = recorder.write(call)
        print(envelope.id, flush=True)  # acknowledged: the call would return now
        i += 1
    """
)


def test_a_writer_killed_with_sigkill_mid_batch_loses_no_acknowledged_write(
    tmp_path: Path,
) -> None:
    """The store opens cleanly; every acknowledged record and its blob are there."""
    root = tmp_path / "ctx"
    proc = subprocess.Popen(
        [sys.executable, "-c", CRASHER, str(root)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    acked: list[str] = []
    deadline = time.monotonic() + 120
    while len(acked) < 300 and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        acked.append(line.strip())
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    proc.stdout.close()
    assert len(acked) >= 300, "the writer stopped early"
    with ContextStore(root) as store:
        report = check(store)
        assert report["ok"], report
        heads = store.heads({"agent_output"})
        assert set(acked) <= set(heads)
        for doc_id in acked[::3]:
            body = store.get(doc_id).body
            if "output_ref" in body:
                data = store.blobs.get(body["output_ref"]["blob"])
                assert json.loads(data).startswith("yyy")
        store.put("preference:after", "preference", {"key": "after", "value": True})


RECORDERS = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from agents.core.recorder import ToolCall
    from agents.store.recorder import StoreRecorder
    from agents.store.store import ContextStore

    # grouped: FULL, eight callers at once, every record through the group writer; lone: the
    # agents' default (NORMAL), one caller, every record committed to the inbox on the loop
    grouped = sys.argv[3] == "grouped"
    store = ContextStore(Path(sys.argv[1]), actor=f"agent:{sys.argv[2]}",
                         synchronous="FULL" if grouped else "NORMAL")
    recorder = StoreRecorder(store, sys.argv[2], blob_threshold=4096, state_interval=60,
                             on_loop=not grouped)
    # lone: the agent's mover never runs, so the kill leaves every staged call in the inbox
    # (a call that found the lock taken went through the group writer into the store)
    recorder._mover.after, recorder._mover.every = 3600, 10**9

    async def caller(n):
        i = 0
        while True:
            call = ToolCall(sys.argv[2], "local", "search", {"caller": n, "i": i}, "ok", 1.0,
                            output={"n": i})
            await recorder.record(call)
            print(f"{n} {i}", flush=True)  # acknowledged: the call would return now
            i += 1

    async def main():
        await asyncio.gather(*(caller(n) for n in range(8 if grouped else 1)))

    asyncio.run(main())
    """
)


@pytest.mark.parametrize("mode", ["grouped", "lone"])
def test_three_recorders_killed_mid_run_lose_no_acknowledged_call(
    tmp_path: Path, mode: str
) -> None:
    """Three processes, eight concurrent calls each through group commit and the writer lock
    (grouped), or one call at a time through the inbox (lone): after SIGKILL, every
    acknowledged call is there, the chain verifies and every record is in the search index."""
    root = tmp_path / "ctx"
    ContextStore(root).close()
    names = ["notion", "fizzy", "lokka"]
    procs = {
        name: subprocess.Popen(
            [sys.executable, "-c", RECORDERS, str(root), name, mode],
            stdout=subprocess.PIPE,
            text=True,
        )
        for name in names
    }
    acked: dict[str, set[tuple[int, int]]] = {name: set() for name in names}
    deadline = time.monotonic() + 180
    try:
        for name, proc in procs.items():
            assert proc.stdout is not None
            while len(acked[name]) < 300 and time.monotonic() < deadline:
                line = proc.stdout.readline()
                if not line:
                    break
                n, i = line.split()
                acked[name].add((int(n), int(i)))
    finally:
        for name, proc in procs.items():
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
            assert proc.stdout is not None
            for line in proc.stdout:  # acknowledged up to the kill (one write per line)
                n, i = line.split()
                acked[name].add((int(n), int(i)))
            proc.stdout.close()
    assert all(len(a) >= 300 for a in acked.values()), "a writer stopped early"
    if mode == "lone":  # the staged calls, left in the inbox by the kills
        with sqlite3.connect(root / "store.sqlite") as raw:
            assert raw.execute("SELECT count(*) FROM inbox").fetchone()[0] > 0
    with ContextStore(root) as store:
        report = check(store)
        assert report["ok"], report
        recorded = {
            (e.body["agent"], e.body["input"]["caller"], e.body["input"]["i"])
            for e in store.list("agent_output", limit=1_000_000)
        }
        assert {(name, n, i) for name in names for n, i in acked[name]} <= recorded
        with store.reading() as conn:
            indexed = conn.execute("SELECT count(*) FROM search").fetchone()[0]
        assert indexed == len(recorded)
