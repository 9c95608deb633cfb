"""`scripts/bench sync`: restore N documents (default 10 000, about 50 MB) into an empty store
from a git remote and from PostgreSQL, against moving the same bytes with the plain tool.

- git: ``agents`` pull into an empty store (fresh clone cache: fetch, read every object,
  validate, store, settle) ÷ ``git clone file://…`` of the same repository.
- postgres: the same pull ÷ the same pull from a folder remote holding the same objects
  (the same validation and SQLite writes done locally; goal <= 1.5), and, for information,
  ÷ ``COPY (SELECT key, value FROM context_sync.kv) TO STDOUT`` of the same rows.
- verification: the same pull from a folder remote with every signature checked (heads and
  snapshot manifests of trusted machines) ÷ without checking them, interleaved round by
  round (at least 5 rounds; min, median and max of the ratio). A folder remote is the
  cheapest fetch, so the share of verification is the largest there.

The source store is pushed once first (not timed). Servers start as the tests start them.
Each restore is checked after the clock stops: every document, same revision.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg
from _common import figure

from agents.store.identity import verify
from agents.store.store import ContextStore
from agents.sync.engine import Syncer
from agents.sync.remote import Remote
from agents.sync.state import HEAD_FORMAT, SNAPSHOT_FORMAT, read_heads, read_manifest
from agents.sync.trust import decide, identity_of
from agents.sync.urls import open_remote
from tests.servers import bare_git_repo, find_pg_bindir, postgres_server

SOURCE: list[ContextStore] = []  # the machine restored from, trusted by each new store


def source_store(path: Path, n: int, size: int) -> ContextStore:
    """A store of ``n`` documents of about ``size`` bytes: markdown files, sessions, skills."""
    store = ContextStore(path, machine_id="laptop", synchronous="NORMAL")
    with store.transaction() as conn:
        for i in range(n):
            text = f"# Note {i}\n\n" + "\n".join(
                os.urandom(36).hex() for _ in range(max(1, size // 73))
            )
            if i % 10 == 0:
                body = {
                    "title": f"Session {i}",
                    "status": "paused",
                    "summary": text[:2000],
                    "current_tasks": [f"task {j}" for j in range(5)],
                }
                store.commit(conn, f"session:{i:06d}", "session", body)
            else:
                path_ = f"rules/note-{i}.md"
                body = {"path": path_, "format": "markdown", "text": text}
                store.commit(conn, f"claude_file:user/{path_}", "claude_file", body)
    return store


def restore(remote: Remote, tmp: Path, expected: dict[str, str], *, verify: bool = True) -> float:
    """Seconds to pull everything into an empty store that trusts the source machine
    (``verify``: checking signatures, as always outside this benchmark); checked afterwards."""
    with ContextStore(tmp, machine_id="newbox") as store:
        decide(store, "laptop", identity_of(SOURCE[0]).public_key, trusted=True)
        t0 = time.perf_counter()
        Syncer(store, remote, verify_signatures=verify).pull()
        seconds = time.perf_counter() - t0
        heads = store.heads()
    missing = [d for d, h in expected.items() if heads.get(d) != h]
    assert not missing, f"{len(missing)} documents not restored, e.g. {missing[:3]}"
    return seconds


def bench_verify(tmp: Path, store: ContextStore, expected: dict[str, str], runs: int) -> None:
    remote = open_remote(f"dir://{tmp / 'dir-remote'}")
    Syncer(store, remote).push()
    ours, base, ratios = [], [], []
    for r in range(max(5, runs)):  # interleaved, so load on the box hits both alike
        first_verified = r % 2 == 0
        for verified in (first_verified, not first_verified):
            seconds = restore(remote, tmp / f"verify-{r}-{verified}", expected, verify=verified)
            (ours if verified else base).append(seconds)
        ratios.append(ours[-1] / base[-1])
    head = read_heads(remote)["laptop"]
    manifest = read_manifest(remote, head.snapshot, "laptop")
    key = identity_of(SOURCE[0]).public_key
    checks = []
    for _ in range(5):  # what verification adds, timed alone (the rounds above are noisy)
        t0 = time.perf_counter()
        assert verify(HEAD_FORMAT, head.raw, key) and verify(SNAPSHOT_FORMAT, manifest.raw, key)
        checks.append(time.perf_counter() - t0)
    remote.close()
    print(figure("restore verified/unverified", ours, base, "s", "<= 1.15"))
    print(
        f"  ratio per round: min {min(ratios):.3f}  median {statistics.median(ratios):.3f}  "
        f"max {max(ratios):.3f}"
    )
    cost = statistics.median(checks)
    print(
        f"  signature checks per restore (head + {len(manifest.docs)}-document manifest): "
        f"{cost * 1000:.1f} ms = {cost / min(base):.4f} of the fastest unverified restore"
    )


def bench_git(tmp: Path, store: ContextStore, expected: dict[str, str], runs: int) -> None:
    url = bare_git_repo(tmp / "ctx.git")
    Syncer(store, open_remote(url, cache_dir=tmp / "cache-src")).push()
    ours, base = [], []
    for r in range(runs):  # interleaved, so load on the box hits both alike
        t0 = time.perf_counter()
        subprocess.run(
            ["git", "clone", "-q", f"file://{tmp / 'ctx.git'}", str(tmp / f"clone-{r}")],
            check=True,
        )
        base.append(time.perf_counter() - t0)
        remote = open_remote(url, cache_dir=tmp / f"cache-{r}")
        ours.append(restore(remote, tmp / f"git-restore-{r}", expected))
        remote.close()
    print(figure("git restore / git clone", ours, base, "s", "<= 2"))


def bench_postgres(tmp: Path, store: ContextStore, expected: dict[str, str], runs: int) -> None:
    """PostgreSQL restore against the same work done locally: a pull of the same objects from
    a folder remote (the same validation and SQLite writes); the raw COPY for information."""
    bindir = find_pg_bindir()
    if bindir is None:
        print("postgres: skipped, no PostgreSQL server installed (apt-get install postgresql)")
        return
    local = open_remote(f"dir://{tmp / 'pg-local-twin'}")
    Syncer(store, local).push()
    with postgres_server(bindir) as server:
        remote = open_remote(server.url())
        Syncer(store, remote).push()
        ours, base, copies = [], [], []
        with psycopg.connect(server.url(), autocommit=True) as conn:
            for r in range(runs):
                base.append(restore(local, tmp / f"pg-local-{r}", expected))
                ours.append(restore(remote, tmp / f"pg-restore-{r}", expected))
                t0 = time.perf_counter()
                total = 0
                sql = "COPY (SELECT key, value FROM context_sync.kv) TO STDOUT (FORMAT BINARY)"
                with conn.cursor() as cur, cur.copy(sql) as cp:
                    for block in cp:
                        total += len(block)
                copies.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            fetched = sum(1 for _ in remote.scan("objects/"))
            scan = time.perf_counter() - t0
            assert fetched >= len(expected)
        remote.close()
    local.close()
    print(figure("postgres restore / local", ours, base, "s", "<= 1.5"))
    print(figure("  postgres restore / COPY", ours, copies, "s", "-"))
    print(figure("  of which the fetch / COPY", [scan], [min(copies)], "s", "-"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--docs", type=int, default=10_000)
    ap.add_argument("--size", type=int, default=5_000, help="bytes per document")
    ap.add_argument("--runs", type=int, default=3, help="restores per backend (best is kept)")
    ap.add_argument(
        "--realtime", action="store_true", help="instead: push-to-pull latency (see _realtime.py)"
    )
    ap.add_argument("--verify-only", action="store_true", help="only verified ÷ unverified restore")
    ap.add_argument("--pushes", type=int, default=20, help="with --realtime")
    ap.add_argument("--interval", type=float, default=300.0, help="with --realtime")
    args = ap.parse_args()
    if args.realtime:
        from _realtime import run

        run(args.pushes, args.interval)
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        store = source_store(root / "source", args.docs, args.size)
        SOURCE.append(store)
        expected = store.heads()
        with store.reading() as conn:
            mb = conn.execute("SELECT sum(length(envelope)) FROM revisions").fetchone()[0] / 1e6
        print(f"sync: restore {len(expected)} documents, {mb:.1f} MB of revisions")
        if args.verify_only:
            bench_verify(root, store, expected, args.runs)
            store.close()
            return
        bench_verify(root, store, expected, args.runs)
        bench_git(root, store, expected, args.runs)
        bench_postgres(root, store, expected, args.runs)
        store.close()


if __name__ == "__main__":
    main()
