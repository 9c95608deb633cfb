"""Blobs read through one ``git cat-file --batch``, parsed by a thread that runs ahead.

A restore reads every object of the remote. One ``cat-file`` process answers all of them,
and a reader thread parses its output into a bounded buffer while the caller checks and
stores the objects it already has, so git inflates the next objects on the other core
instead of waiting for the caller to ask (docs/performance.md, "A git restore's reads").
"""

from __future__ import annotations

import contextlib
import fcntl
import queue
import subprocess
import tempfile
import threading
from collections.abc import Callable, Generator, Sequence
from typing import IO, NamedTuple

__all__ = ["AHEAD_BYTES", "PIPE_BYTES", "cat_blobs"]

AHEAD_BYTES = 16 * 1024 * 1024  # parsed but not yet taken by the caller, at most (about)
PIPE_BYTES = 1024 * 1024  # the pipe from git and the reader's buffer
_BATCH_BYTES = 1024 * 1024  # handed over in batches of about this much
_FEED = 1000  # names written to git's stdin at a time


class _Damaged(NamedTuple):
    """The answer for ``sha`` is not its blob: git says it is missing from the clone, or
    (``ended``) its output stopped or went wrong there."""

    sha: str
    ended: bool


def cat_blobs(
    start: Callable[[IO[bytes]], subprocess.Popen[bytes]],
    shas: Sequence[str],
    *,
    damaged: Callable[[str], Exception],
    failed: Callable[[str], Exception],
    timeout: float,
    ahead: int | None = None,
) -> Generator[tuple[str, bytes]]:
    """``(sha, bytes)`` of each of ``shas``, in order, from the ``cat-file --batch`` process
    that ``start(stderr_file)`` launches (stdin and stdout pipes).

    Closing the iterator early stops git. ``timeout``: seconds without a new object before
    giving up; ``ahead``: bytes parsed ahead of the caller, at most (default ``AHEAD_BYTES``).

    Raises:
        Exception: ``damaged(sha)`` when git has no blob for ``sha``; ``failed(reason)``
            when git fails or stalls (``reason`` holds git's stderr).
    """
    if not shas:
        return
    with tempfile.TemporaryFile() as errors:
        proc = start(errors)
        assert proc.stdin is not None and proc.stdout is not None
        with contextlib.suppress(OSError, AttributeError):  # Linux: fewer, larger reads
            fcntl.fcntl(proc.stdout.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)
        batches: queue.Queue[list[tuple[str, bytes]] | _Damaged | None] = queue.Queue(
            maxsize=max(1, (ahead or AHEAD_BYTES) // _BATCH_BYTES)
        )
        stop = threading.Event()
        threads = [
            threading.Thread(target=_feed, args=(proc.stdin, shas), daemon=True),
            threading.Thread(target=_read, args=(proc.stdout, shas, batches, stop), daemon=True),
        ]
        for thread in threads:
            thread.start()
        try:
            got = 0
            while got < len(shas):
                try:
                    item = batches.get(timeout=timeout)
                except queue.Empty:
                    raise failed(f"cat-file did not finish within {timeout:.0f}s") from None
                if isinstance(item, list):
                    got += len(item)
                    yield from item
                    continue
                if isinstance(item, _Damaged) and not item.ended:
                    raise damaged(item.sha)
                # git stopped answering: its own reason if it gave one
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout)
                if proc.returncode not in (0, None) and _text(errors):
                    raise failed(_text(errors))
                raise damaged(shas[got]) if item is None else damaged(item.sha)
            try:
                status = proc.wait(timeout)
            except subprocess.TimeoutExpired:
                raise failed(f"cat-file did not exit within {timeout:.0f}s") from None
            if status != 0:
                raise failed(_text(errors) or f"cat-file exited with status {status}")
        finally:
            stop.set()
            with contextlib.suppress(OSError):
                proc.kill()
            proc.wait()
            for thread in threads:  # git is gone and ``stop`` is set: each ends at once
                thread.join()
            for pipe in (proc.stdin, proc.stdout):
                with contextlib.suppress(OSError):
                    pipe.close()


def _feed(stdin: IO[bytes], shas: Sequence[str]) -> None:
    """Write the names to git (a thread: git's answers must be read meanwhile)."""
    with contextlib.suppress(OSError, ValueError):  # git stopped: the reader says why
        for i in range(0, len(shas), _FEED):
            stdin.write("".join(f"{sha}\n" for sha in shas[i : i + _FEED]).encode())
        stdin.close()


def _read(
    stdout: IO[bytes],
    shas: Sequence[str],
    batches: queue.Queue[list[tuple[str, bytes]] | _Damaged | None],
    stop: threading.Event,
) -> None:
    """Parse ``<sha> blob <size>\\n<bytes>\\n`` for each name, in batches, until ``stop``."""
    batch: list[tuple[str, bytes]] = []
    size = 0
    result: _Damaged | None = None
    for sha in shas:
        try:
            header = stdout.readline().split()
        except OSError:
            header = []
        if header == [sha.encode(), b"missing"]:
            result = _Damaged(sha, False)
            break
        if len(header) != 3 or header[0] != sha.encode() or not header[2].isdigit():
            result = _Damaged(sha, True)
            break
        try:
            data = stdout.read(int(header[2]))
            whole = len(data) == int(header[2]) and stdout.read(1) == b"\n"
        except OSError:
            whole = False
        if not whole:
            result = _Damaged(sha, True)
            break
        batch.append((sha, data))
        size += len(data)
        if size >= _BATCH_BYTES:
            if not _hand_over(batches, batch, stop):
                return
            batch, size = [], 0
    if batch and not _hand_over(batches, batch, stop):
        return
    _hand_over(batches, result, stop)


def _hand_over(
    batches: queue.Queue[list[tuple[str, bytes]] | _Damaged | None],
    item: list[tuple[str, bytes]] | _Damaged | None,
    stop: threading.Event,
) -> bool:
    """Put ``item`` in the buffer, waiting for room; False once the caller has stopped."""
    while not stop.is_set():
        with contextlib.suppress(queue.Full):
            batches.put(item, timeout=0.1)
            return True
    return False


def _text(errors: IO[bytes]) -> str:
    errors.seek(0)
    return errors.read().decode(errors="replace").strip()
