"""Figures of issue 18's ranked recall and lean tool list, for `scripts/bench continuity`.

One function per figure group, each returning its printed lines:

- :func:`search_figures`: search over N documents (100k by default), the FTS5/BM25 index
  against the substring scan it replaced (``store.list(text=…)``), in the same run on the same
  store, rounds interleaved; the index build time (``reindex``) and its size; and the cost of
  keeping the index on the recording path (an ``agent_output`` write with the index triggers ÷
  the same write with them dropped).
- :func:`tool_token_figures`: tool-definition tokens per agent (UTF-8 bytes ÷ 4 of the name,
  description and input schema of each tool as ``tools/list`` gives them to a client), with
  the default toolsets against everything enabled.
"""

from __future__ import annotations

import importlib
import json
import random
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio
from _common import figure
from mcp import Client

from agents.catalog import AGENTS
from agents.core.runtime import AgentRuntime
from agents.core.server import build_server
from agents.core.settings import CoreSettings, EnvLayers
from agents.store import search, search_index
from agents.store.canonical import now_iso
from agents.store.store import ContextStore

__all__ = ["search_figures", "tool_token_figures"]

KINDS = ("session", "checkpoint", "preference", "agent_output", "claude_file")


def _vocabulary(rng: random.Random, size: int = 20_000) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = {"".join(rng.choices(letters, k=rng.randint(4, 10))) for _ in range(size * 2)}
    return sorted(words)[:size]


def _text(rng: random.Random, vocab: list[str], weights: list[float], n: int) -> str:
    return " ".join(rng.choices(vocab, weights=weights, k=n))


def _body(kind: str, i: int, rng: random.Random, vocab: list[str], w: list[float]) -> Any:
    if kind == "session":
        return {
            "title": _text(rng, vocab, w, 6),
            "status": "active",
            "summary": _text(rng, vocab, w, 80),
            "project": {"id": f"github.com/acme/p{i % 50}"},
        }
    if kind == "checkpoint":
        return {
            "session": f"s{i}",
            "machine_id": f"m-{i % 5}",
            "project": {"id": f"github.com/acme/p{i % 50}"},
            "title": _text(rng, vocab, w, 6),
            "summary": _text(rng, vocab, w, 60),
            "trigger": "session_end",
            "updated_at": now_iso(),
        }
    if kind == "preference":
        return {"key": f"k{i}", "value": _text(rng, vocab, w, 8)}
    if kind == "claude_file":
        return {
            "path": f"~/.claude/notes/{i}.md",
            "format": "text",
            "text": _text(rng, vocab, w, 150),
        }
    return {
        "agent": "notion",
        "handler": "search_workspace",
        "status": "ok",
        "outcome": "ok",
        "started_at": now_iso(),
        "duration_ms": 12.5,
        "input": {"query": _text(rng, vocab, w, 3)},
        "output_preview": _text(rng, vocab, w, 40),
    }


def _fill(store: ContextStore, docs: int, rng: random.Random) -> tuple[list[str], list[float]]:
    vocab = _vocabulary(rng)
    weights = [1 / (r + 1) for r in range(len(vocab))]  # Zipf: a few common words, many rare
    batch = 2000
    for start in range(0, docs, batch):
        items = []
        for i in range(start, min(docs, start + batch)):
            kind = KINDS[i % len(KINDS)]
            items.append((f"{kind}:{i:07d}", kind, _body(kind, i, rng, vocab, weights)))
        store.add_many(items)
    return vocab, weights


def _p50_ms(fn: Any, queries: list[str]) -> float:
    took = []
    for q in queries:
        t0 = time.perf_counter()
        fn(q)
        took.append((time.perf_counter() - t0) * 1000)
    return statistics.median(took)


def _index_bytes(path: Path) -> int | None:
    db = sqlite3.connect(path)
    try:
        row = db.execute(
            "SELECT sum(pgsize) FROM dbstat WHERE name = 'search' OR name LIKE 'search\\_%' "
            "ESCAPE '\\'"
        ).fetchone()
        return int(row[0]) if row and row[0] is not None else None
    except sqlite3.Error:
        return None  # SQLite built without dbstat
    finally:
        db.close()


def _record_ms(store: ContextStore, rng: random.Random, n: int, tag: str) -> float:
    """Median ms of one agent_output write through ``add`` (the recorder's path)."""
    took = []
    for i in range(n):
        body = {
            "agent": "fizzy",
            "handler": "list_tasks",
            "status": "ok",
            "outcome": "ok",
            "started_at": now_iso(),
            "duration_ms": 3.0,
            "input": {"terms": ["deploy", "pipeline"], "limit": 20},
            "output_preview": "task 42 deploy the pipeline to staging " * 8,
        }
        t0 = time.perf_counter()
        store.add(f"agent_output:{tag}{i:06d}{rng.random():.6f}", "agent_output", body)
        took.append((time.perf_counter() - t0) * 1000)
    return statistics.median(took)


def search_figures(docs: int, rounds: int, queries: int = 20) -> list[str]:
    """Search p50 (index vs substring scan), index build time and size, recording cost."""
    rng = random.Random(18)
    lines: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        with ContextStore(Path(tmp) / "ctx", machine_id="m-bench") as store:
            t0 = time.perf_counter()
            vocab, _ = _fill(store, docs, rng)
            fill_s = time.perf_counter() - t0
            mid = vocab[200:5000]  # neither stop words nor hapaxes
            asked = [f"{rng.choice(mid)} {rng.choice(mid)}" for _ in range(queries)]

            def ranked(q: str) -> None:
                search.search(store, q, limit=10)

            def scan(q: str) -> None:
                store.list(None, text=q, limit=10)

            samples = {"ours": [], "base": []}  # type: dict[str, list[float]]
            for _ in range(rounds):
                samples["ours"].append(_p50_ms(ranked, asked))
                samples["base"].append(_p50_ms(scan, asked))
            lines.append(
                f"Search over {docs:,} documents ({', '.join(KINDS)}; written in {fill_s:.0f} s "
                f"with the index kept by triggers), {queries} two-word queries per round, "
                "p50 per round; baseline: the substring scan search_documents used to do"
            )
            lines.append(
                figure(
                    "search p50", samples["ours"], samples["base"], "ms", "<= 0.05, p50 <= 20 ms"
                )
            )
            speedup = statistics.median(samples["base"]) / statistics.median(samples["ours"])
            lines.append(f"{'search speedup':<28} {speedup:,.0f}x the substring scan (goal >= 20x)")
            t0 = time.perf_counter()
            indexed = search.reindex(store)
            build = time.perf_counter() - t0
            size = _index_bytes(store.path)
            total = store.path.stat().st_size
            lines.append(
                f"{'index build (reindex)':<28} {build:.1f} s for {indexed:,} documents; index "
                + (
                    f"{size / 2**20:.0f} MiB of a {total / 2**20:.0f} MiB store"
                    if size
                    else "size n/a"
                )
            )
        with ContextStore(Path(tmp) / "hot", machine_id="m-bench") as hot:
            with_index: list[float] = []
            without: list[float] = []
            for r in range(rounds):
                with_index.append(_record_ms(hot, rng, 200, f"w{r}"))
                with hot.transaction() as conn:
                    for name in ("docs_search_insert", "docs_search_update"):
                        conn.execute(f"DROP TRIGGER {name}")
                without.append(_record_ms(hot, rng, 200, f"n{r}"))
                with hot.transaction() as conn:
                    search_index.create_index(conn)
            lines.append(
                figure("record write, indexed", with_index, without, "ms", "<= 1.25 (for info)")
            )
    return lines


def _tokens(tools: list[Any]) -> int:
    return sum(
        len(
            json.dumps(
                {"name": t.name, "description": t.description, "input_schema": t.input_schema}
            ).encode()
        )
        // 4
        for t in tools
    )


async def _listed(agent: str, everything: bool) -> list[Any]:
    spec = importlib.import_module(f"agents.{agent}.tools").SPEC
    values = {f"{agent.upper()}_TOOLSETS": "all"} if everything else {}
    layers = EnvLayers(root=Path("/nonexistent"), env="bench", values=values)
    rt = AgentRuntime(spec=spec, layers=layers, core=CoreSettings(port_base=9000), port=None)
    async with Client(build_server(rt, token=None, port=None)) as client:
        return list((await client.list_tools()).tools)


def tool_token_figures() -> list[str]:
    """Tool-definition tokens per agent and in total, default toolsets vs everything."""
    lines = ["Tool-definition tokens (bytes / 4 of name + description + input schema)"]
    total_default = total_all = 0
    for entry in AGENTS:
        default = anyio.run(_listed, entry.name, False)
        everything = anyio.run(_listed, entry.name, True)
        d, a = _tokens(default), _tokens(everything)
        total_default += d
        total_all += a
        lines.append(
            f"{entry.name:<10} default {d:6,} tokens ({len(default):2} tools)   "
            f"all {a:6,} tokens ({len(everything):2} tools)   ratio {d / a:.2f}"
        )
    lines.append(
        f"{'total':<10} default {total_default:6,} tokens   all {total_all:6,} tokens   "
        f"ratio {total_default / total_all:.2f}  (goal: default <= 8,000)"
    )
    return lines
