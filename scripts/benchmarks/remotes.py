"""`scripts/bench remotes`: bulk push and restore of N documents through the remote layer,
against the plain tool moving the same bytes in the same run.

- git: ``put_many`` + one ``cas`` (one commit, one push) ÷ files written to a work tree,
  ``git add -A``, ``git commit``, ``git push``; restore (``scan``) into a fresh cache ÷
  ``git clone file://…`` (with checkout) of the same files.
- postgres: ``put_many`` ÷ ``COPY … FROM STDIN`` of the same rows into a plain table; restore
  (``scan``: keyset pages of binary ``COPY``) ÷ ``COPY (SELECT key, value …) TO STDOUT`` of the
  same rows, read as raw blocks.
- dir: ``put_many`` (fsync'd) ÷ writing the files directly; restore (``scan``) ÷ reading them.

Servers are started as the tests start them (``tests.servers``). Goal for the later
``scripts/bench sync``: restore ratio <= 2.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
from _common import ratio_line

from agents.sync.keys import head_key, object_key
from agents.sync.remote import Remote
from agents.sync.urls import open_remote
from tests.servers import bare_git_repo, find_pg_bindir, postgres_server


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
    got = {}

    def run() -> None:
        got.update(remote.scan("objects/"))

    seconds = timed(run)
    assert len(got) == len(docs) and all(got[k].data == v for k, v in docs.items())
    return seconds


def git(*args: str, cwd: Path | None = None) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def bench_git(tmp: Path, docs: dict[str, bytes]) -> None:
    url = bare_git_repo(tmp / "ours.git")
    ours_push = timed(lambda: push(open_remote(url, cache_dir=tmp / "cache-a"), docs))
    bare = tmp / "base.git"
    bare_git_repo(bare)
    work = tmp / "work"

    def base_push() -> None:
        git("init", "-q", "-b", "main", str(work))
        for key, data in docs.items():
            path = work / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        git("add", "-A", cwd=work)
        git("-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm", "x", cwd=work)
        git("push", "-q", str(bare), "main", cwd=work)

    base_push_s = timed(base_push)
    ours_restore = restore(open_remote(url, cache_dir=tmp / "cache-b"), docs)
    # file:// makes git use its transport, as for a real remote (a plain path would hardlink)
    base_restore = timed(lambda: git("clone", "-q", f"file://{bare}", str(tmp / "clone")))
    print(ratio_line("git push", ours_push, base_push_s, "s", "-"))
    print(ratio_line("git restore", ours_restore, base_restore, "s", "<= 2"))


def bench_postgres(docs: dict[str, bytes]) -> None:
    bindir = find_pg_bindir()
    if bindir is None:
        print("postgres: skipped, no PostgreSQL server installed")
        return
    with postgres_server(bindir) as server:
        remote = open_remote(server.url())
        ours_push = timed(lambda: push(remote, docs))
        ours_restore = restore(remote, docs)
        remote.close()
        with psycopg.connect(server.url(), autocommit=True) as conn:
            conn.execute("CREATE TABLE plain (key text PRIMARY KEY, value bytea NOT NULL)")

            def base_push() -> None:
                with conn.cursor() as cur, cur.copy("COPY plain FROM STDIN (FORMAT BINARY)") as cp:
                    cp.set_types(["text", "bytea"])
                    for row in docs.items():
                        cp.write_row(row)

            def base_restore() -> None:
                total = 0
                with conn.cursor() as cur:
                    sql = "COPY (SELECT key, value FROM plain) TO STDOUT (FORMAT BINARY)"
                    with cur.copy(sql) as cp:
                        for block in cp:
                            total += len(block)
                assert total > sum(map(len, docs.values()))

            base_push_s = timed(base_push)
            base_restore_s = timed(base_restore)
    print(ratio_line("postgres push", ours_push, base_push_s, "s", "-"))
    print(ratio_line("postgres restore", ours_restore, base_restore_s, "s", "<= 2"))


def bench_dir(tmp: Path, docs: dict[str, bytes]) -> None:
    remote = open_remote(f"dir://{tmp}/ours")
    ours_push = timed(lambda: push(remote, docs))
    ours_restore = restore(remote, docs)
    base = tmp / "base"

    def base_push() -> None:
        for key, data in docs.items():
            path = base / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)

    def base_restore() -> None:
        assert sum(len((base / k).read_bytes()) for k in docs) > 0

    print(ratio_line("dir push (fsync'd)", ours_push, timed(base_push), "s", "-"))
    print(ratio_line("dir restore", ours_restore, timed(base_restore), "s", "<= 2"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--docs", type=int, default=10_000)
    ap.add_argument("--size", type=int, default=5_000, help="bytes per document")
    args = ap.parse_args()
    docs = documents(args.docs, args.size)
    mb = sum(map(len, docs.values())) / 1e6
    print(f"remotes: {len(docs)} documents, {mb:.1f} MB")
    with tempfile.TemporaryDirectory() as tmp:
        bench_git(Path(tmp), docs)
        bench_postgres(docs)
        bench_dir(Path(tmp), docs)


if __name__ == "__main__":
    main()
