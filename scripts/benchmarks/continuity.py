"""`scripts/bench continuity`: figures of issue 18 (continuity across machines).

Briefing (the context-sync plugin's SessionStart hook, :func:`briefing_figures`): the real hook
process (`agents/claude/plugin/bin/agents-hook session-start`, Claude Code's JSON on stdin)
against a warm store of a busy user (checkpoints of 20 projects from 5 machines, saved
sessions, 5,000 agent outputs, open conflicts), p50 and p95 over alternating rounds, divided by
the floor of any Python hook measured in the same rounds (the same shim and interpreter
reading stdin and exiting); and the briefing's size in tokens (UTF-8 bytes / 4) against its
budget (CONTEXT_BRIEFING_TOKENS, default 1,500). Goal: p95 <= 300 ms.

Ranked recall and the lean tool list (scripts/benchmarks/_recall_figures.py): search over 100k
documents against the substring scan, index build time and size, the index's cost on the
recording path, and tool-definition tokens per agent (default toolsets against all).
`--only briefing|search|tokens` runs one group.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import REPO
from _recall_figures import search_figures, tool_token_figures

from agents.store.canonical import now_iso
from agents.store.conflicts import add_conflict
from agents.store.store import ContextStore

HOOK = REPO / "agents" / "claude" / "plugin" / "bin" / "agents-hook"
MACHINES = 5
PROJECTS = 20


def _populate(store: ContextStore) -> None:
    """A busy user's store: what the briefing has to choose from."""
    for p in range(PROJECTS):
        for m in range(MACHINES):
            for s in range(4):
                session = f"{p:02d}{m}{s}-5f0c5a52-8d0e-4e8a-9a57"
                store.put(
                    f"checkpoint:m-{m}/{session}",
                    "checkpoint",
                    {
                        "session": session,
                        "machine_id": f"m-{m}",
                        "host": f"host-{m}",
                        "project": {"id": f"github.com/acme/p{p}", "subdir": "", "name": f"p{p}"},
                        "title": f"Work on p{p} number {s} " + "detail " * 10,
                        "summary": "Did a few things and left a few. " * 20,
                        "tasks": [
                            {"title": f"Task {t} of p{p} " + "words " * 8, "status": "pending"}
                            for t in range(8)
                        ],
                        "files": [f"src/module_{f}.py" for f in range(30)],
                        "transcript": {"session": session, "lines": 1000, "bytes": 2_000_000},
                        "trigger": "session_end",
                        "updated_at": now_iso(),
                    },
                )
    for n in range(50):
        store.put(
            f"session:s{n}",
            "session",
            {
                "title": f"Saved session {n}",
                "status": "active",
                "project": {"name": f"github.com/acme/p{n % PROJECTS}"},
                "summary": "A saved summary. " * 10,
                "current_tasks": [f"saved task {t}" for t in range(5)],
            },
        )
    with store.deferred_sync():
        for n in range(5000):
            store.add(
                f"agent_output:{n:08d}",
                "agent_output",
                {
                    "agent": "notion",
                    "handler": "search_pages",
                    "status": "ok",
                    "outcome": "ok",
                    "started_at": now_iso(),
                    "duration_ms": 12.5,
                    "input": {"query": f"q{n}"},
                    "output_preview": "3 pages found " * 5,
                },
            )
    for n in range(3):
        doc = store.put(f"preference:k{n}", "preference", {"key": f"k{n}", "value": n})
        add_conflict(store, doc.id, doc.content_hash, doc.content_hash, None, policy="json3")


def _timed(argv: list[str], payload: bytes, env: dict[str, str]) -> tuple[float, bytes]:
    t0 = time.perf_counter()
    done = subprocess.run(argv, input=payload, capture_output=True, env=env, check=True)
    return (time.perf_counter() - t0) * 1000, done.stdout


def briefing_figures(runs: int) -> list[str]:
    """SessionStart briefing latency p50/p95 (real hook process, warm store) and its size."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "claude-agents"
        (root / "environments").mkdir(parents=True)
        (root / "environments" / ".env.local").write_text("AGENTS_PORT_BASE=8700\n")
        (root / ".venv").symlink_to(Path(sys.prefix))
        shop = Path(tmp) / "home" / "src" / "p7"
        shop.mkdir(parents=True)
        subprocess.run(["git", "init", "-q", str(shop)], check=True)
        subprocess.run(
            ["git", "-C", str(shop), "remote", "add", "origin", "git@github.com:acme/p7.git"],
            check=True,
        )
        with ContextStore(root / "context" / "local") as store:
            _populate(store)
        keep = ("PATH", "LANG")
        env = {k: v for k, v in os.environ.items() if k in keep}
        env.update(AGENTS_HOME=str(root), HOME=str(Path(tmp) / "home"))
        payload = json.dumps(
            {"session_id": "x", "cwd": str(shop), "hook_event_name": "SessionStart"}
        ).encode()
        floor = [
            "sh",
            "-c",
            f'. "{HOOK.parent}/_locate.sh" && exec "$AGENTS_PYTHON" -c '
            '"import sys; sys.stdin.read()"',
        ]
        ours: list[float] = []
        base: list[float] = []
        text = b""
        _timed([str(HOOK), "session-start"], payload, env)  # warm: page cache, .pyc files
        for _ in range(runs):
            took, text = _timed([str(HOOK), "session-start"], payload, env)
            ours.append(took)
            base.append(_timed(floor, payload, env)[0])
    q = statistics.quantiles
    o50, o95 = statistics.median(ours), q(ours, n=20)[-1]
    b50, b95 = statistics.median(base), q(base, n=20)[-1]
    tokens = -(-len(text) // 4)
    return [
        f"SessionStart briefing, {runs} alternating rounds, warm store "
        f"({PROJECTS * MACHINES * 4} checkpoints, 50 sessions, 5,000 agent outputs, 3 conflicts)",
        f"{'briefing hook p50':<28} ours {o50:8.1f} ms  floor {b50:8.1f} ms  "
        f"ratio {o50 / b50:5.2f}",
        f"{'briefing hook p95':<28} ours {o95:8.1f} ms  floor {b95:8.1f} ms  "
        f"ratio {o95 / b95:5.2f}  (goal: p95 <= 300 ms)",
        f"{'briefing size':<28} {tokens} tokens ({len(text)} bytes / 4; budget 1500)",
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=40, help="briefing hook rounds")
    ap.add_argument("--docs", type=int, default=100_000, help="documents for the search figures")
    ap.add_argument("--rounds", type=int, default=5, help="search rounds (interleaved)")
    ap.add_argument("--only", choices=["briefing", "search", "tokens"], help="one group of figures")
    args = ap.parse_args()
    groups = {
        "briefing": lambda: briefing_figures(args.runs),
        "search": lambda: search_figures(args.docs, args.rounds),
        "tokens": tool_token_figures,
    }
    for name, group in groups.items():
        if args.only in (None, name):
            for line in group():
                print(line, flush=True)


if __name__ == "__main__":
    main()
