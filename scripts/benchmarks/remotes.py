"""`scripts/bench remotes`: bulk push and restore of N documents through the remote layer,
against the plain tool moving the same bytes in the same run.

- git: ``put_many`` + one ``cas`` (one commit, one push) ÷ files written to a work tree,
  ``git add -A``, ``git commit``, ``git push``; restore (``scan``) into a fresh cache ÷
  ``git clone file://…`` (with checkout) of the same files.
- postgres: ``put_many`` ÷ ``COPY … FROM STDIN`` of the same rows into a plain table; restore
  (``scan``: keyset pages of binary ``COPY``) ÷ ``COPY (SELECT key, value …) TO STDOUT`` of the
  same rows, read as raw blocks.
- dir: ``put_many`` (fsync'd) ÷ writing the files directly; restore (``scan``) ÷ reading the
  folder as a copy of it does: walking it and reading every file found (``scan`` walks too).

Servers are started as the tests start them (``tests.servers``). Goal for the later
``scripts/bench sync``: restore ratio <= 2. Each figure is ``--rounds`` rounds (default 5), the
baseline then ours in each, on fresh repositories, databases and folders.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from _common import figure

from agents.sync.keys import head_key, object_key
from agents.sync.remote import Remote
from agents.sync.urls import open_remote
from tests.servers import PostgresServer, bare_git_repo, find_pg_bindir, postgres_server


def documents(n: int, size: int) -> dict[str, bytes]:
    """``n`` distinct JSON-ish documents of about ``size`` bytes, keyed by their object key."""
    docs = {}
    for i in range(n):
        body = (f'{{"id":"doc-{i}","body":"' + os.urandom(size // 2).hex() + '"}').encode()
        docs[object_key(hashlib.sha256(body).hexdigest())] = body
    return docs


def timed(fn: Callable[[], object]) -> float:
    """Seconds ``fn`` takes."""
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def push(remote: Remote, docs: dict[str, bytes]) -> None:
    with remote.batch():
        remote.put_many(docs.items())
        remote.cas(head_key("bench"), b'{"snapshot":"x"}', None)


def restore(remote: Remote, docs: dict[str, bytes]) -> float:
    """Read every object; checked against ``docs`` after the clock stops."""
    got: dict[str, Any] = {}

    def run() -> None:
        got.update(remote.scan("objects/"))

    seconds = timed(run)
    assert len(got) == len(docs) and all(got[k].data == v for k, v in docs.items())
    return seconds


def git(*args: str, cwd: Path | None = None) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


Rounds = dict[str, list[float]]


def _rounds() -> Rounds:
    return {"ours push": [], "base push": [], "ours restore": [], "base restore": []}


def _print(name: str, rounds: Rounds, restore_goal: str) -> None:
    print(figure(f"{name} push", rounds["ours push"], rounds["base push"], "s", "-"))
    print(
        figure(f"{name} restore", rounds["ours restore"], rounds["base restore"], "s", restore_goal)
    )


def _git_round(here: Path, docs: dict[str, bytes], rounds: Rounds) -> None:
    """One round on fresh repositories under ``here``: the baseline first, then ours."""
    bare = here / "base.git"
    bare_git_repo(bare)
    work = here / "work"

    def base_push() -> None:
        git("init", "-q", "-b", "main", str(work))
        for key, data in docs.items():
            path = work / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        git("add", "-A", cwd=work)
        git("-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm", "x", cwd=work)
        git("push", "-q", str(bare), "main", cwd=work)

    rounds["base push"].append(timed(base_push))
    url = bare_git_repo(here / "ours.git")
    rounds["ours push"].append(timed(lambda: push(open_remote(url, cache_dir=here / "a"), docs)))
    # file:// makes git use its transport, as for a real remote (a plain path would hardlink)
    rounds["base restore"].append(
        timed(lambda: git("clone", "-q", f"file://{bare}", str(here / "clone")))
    )
    rounds["ours restore"].append(restore(open_remote(url, cache_dir=here / "b"), docs))


def bench_git(tmp: Path, docs: dict[str, bytes], n: int) -> None:
    rounds = _rounds()
    for r in range(n):
        _git_round(tmp / f"git{r}", docs, rounds)
        shutil.rmtree(tmp / f"git{r}")
    _print("git", rounds, "<= 2")


def _pg_round(
    server: PostgresServer,
    conn: psycopg.Connection[Any],
    r: int,
    docs: dict[str, bytes],
    rounds: Rounds,
) -> None:
    """One round on a fresh table (the baseline) and a fresh database (ours)."""
    plain = f"plain{r}"
    conn.execute(f"CREATE TABLE {plain} (key text PRIMARY KEY, value bytea NOT NULL)")
    conn.execute(f"CREATE DATABASE ours{r}")

    def base_push() -> None:
        with conn.cursor() as cur, cur.copy(f"COPY {plain} FROM STDIN (FORMAT BINARY)") as cp:
            cp.set_types(["text", "bytea"])
            for row in docs.items():
                cp.write_row(row)

    def base_restore() -> None:
        total = 0
        sql = f"COPY (SELECT key, value FROM {plain}) TO STDOUT (FORMAT BINARY)"
        with conn.cursor() as cur, cur.copy(sql) as cp:
            for block in cp:
                total += len(block)
        assert total > sum(map(len, docs.values()))

    rounds["base push"].append(timed(base_push))
    remote = open_remote(server.url(f"ours{r}"))
    try:
        rounds["ours push"].append(timed(lambda: push(remote, docs)))
        rounds["base restore"].append(timed(base_restore))
        rounds["ours restore"].append(restore(remote, docs))
    finally:
        remote.close()


def bench_postgres(docs: dict[str, bytes], n: int) -> None:
    bindir = find_pg_bindir()
    if bindir is None:
        print("postgres: skipped, no PostgreSQL server installed")
        return
    rounds = _rounds()
    with postgres_server(bindir) as server:
        with psycopg.connect(server.url(), autocommit=True) as conn:
            for r in range(n):
                _pg_round(server, conn, r, docs, rounds)
    _print("postgres", rounds, "<= 2")


def _dir_round(here: Path, docs: dict[str, bytes], rounds: Rounds) -> None:
    """One round on fresh folders under ``here``: the baseline first, then ours."""
    base = here / "base"

    def base_push() -> None:
        for key, data in docs.items():
            path = base / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)

    def base_restore() -> None:
        # as a copy of the folder reads it (cp -r, a sync tool): walk it, read each file found
        total = 0
        for folder, _, names in os.walk(base):
            for name in names:
                with open(os.path.join(folder, name), "rb") as fh:
                    total += len(fh.read())
        assert total == sum(map(len, docs.values()))

    rounds["base push"].append(timed(base_push))
    remote = open_remote(f"dir://{here}/ours")
    rounds["ours push"].append(timed(lambda: push(remote, docs)))
    rounds["base restore"].append(timed(base_restore))
    rounds["ours restore"].append(restore(remote, docs))


def bench_dir(tmp: Path, docs: dict[str, bytes], n: int) -> None:
    rounds = _rounds()
    for r in range(n):
        _dir_round(tmp / f"dir{r}", docs, rounds)
        shutil.rmtree(tmp / f"dir{r}")
    print(figure("dir push (fsync'd)", rounds["ours push"], rounds["base push"], "s", "-"))
    print(figure("dir restore", rounds["ours restore"], rounds["base restore"], "s", "<= 2"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--docs", type=int, default=10_000)
    ap.add_argument("--size", type=int, default=5_000, help="bytes per document")
    ap.add_argument("--rounds", type=int, default=5, help="interleaved rounds per figure")
    args = ap.parse_args()
    docs = documents(args.docs, args.size)
    mb = sum(map(len, docs.values())) / 1e6
    print(f"remotes: {len(docs)} documents, {mb:.1f} MB, {args.rounds} rounds")
    with tempfile.TemporaryDirectory() as tmp:
        bench_git(Path(tmp), docs, args.rounds)
        bench_postgres(docs, args.rounds)
        bench_dir(Path(tmp), docs, args.rounds)


if __name__ == "__main__":
    main()
