"""``cat_blobs``: the reader of one ``git cat-file --batch`` process, against processes that
answer, fail or hang the way a damaged or stuck git would."""

from __future__ import annotations

import contextlib
import itertools
import subprocess
import sys
import time
from typing import IO

import pytest
from pytest_mock import MockerFixture

from agents.sync.git_cat import cat_blobs


class FailedError(Exception):
    """What the caller's ``failed`` callback raises."""


class DamagedError(Exception):
    """What the caller's ``damaged`` callback raises."""


def _starter(script: str | list[str]) -> tuple[list[subprocess.Popen[bytes]], object]:
    """A ``start`` running ``script`` (a shell line, or an argv) in git's place."""
    started: list[subprocess.Popen[bytes]] = []
    argv = ["sh", "-c", script] if isinstance(script, str) else script

    def start(errors: IO[bytes]) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors)
        started.append(proc)
        return proc

    return started, start


def _read(start: object, shas: list[str], timeout: float = 30.0) -> list[tuple[str, bytes]]:
    return list(
        cat_blobs(
            start,  # type: ignore[arg-type]
            shas,
            damaged=DamagedError,
            failed=FailedError,
            timeout=timeout,
            ahead=1,
        )
    )


def test_answers_are_parsed_in_order_whatever_their_bytes() -> None:
    """Blobs holding newlines, spaces and NUL bytes come back whole, in the order asked,
    through a buffer of one batch (the reader waits for the caller)."""
    made = '{"a" * 40: b"line\\nnext \\x00", "b" * 40: b"", "c" * 40: b"x" * 3_000_000}'
    blobs = {"a" * 40: b"line\nnext \x00", "b" * 40: b"", "c" * 40: b"x" * 3_000_000}
    program = (
        f"import sys\nblobs = {made}\nout = sys.stdout.buffer\n"
        "for line in sys.stdin.buffer:\n"
        "    sha = line.strip().decode()\n"
        "    out.write(b'%s blob %d\\n' % (sha.encode(), len(blobs[sha])))\n"
        "    out.write(blobs[sha] + b'\\n')\n"
        "    out.flush()\n"
    )
    started, start = _starter([sys.executable, "-c", program])
    assert _read(start, list(blobs)) == list(blobs.items())
    assert started[0].returncode == 0


def test_a_name_git_says_is_missing_is_the_damaged_error_for_that_name() -> None:
    """``<sha> missing`` (an object gone from the clone) raises ``damaged(sha)`` at once: git
    is not waited for, as it is when its output stops (this one would then fail later, with
    another error)."""
    sha = "d" * 40
    _, start = _starter(f"read x; echo '{sha} missing'; sleep 2; echo 'fatal: later' >&2; exit 1")
    with pytest.raises(DamagedError, match=sha):
        _read(start, [sha])


def test_git_that_dies_with_a_message_is_the_failed_error_with_that_message() -> None:
    """A git that stops with an error (a broken repository) fails the read with what it said."""
    _, start = _starter("echo 'fatal: not a git repository' >&2; exit 128")
    with pytest.raises(FailedError, match="fatal: not a git repository"):
        _read(start, ["e" * 40])


def test_git_that_answers_garbage_is_the_damaged_error() -> None:
    """An answer that is not ``<sha> <type> <size>`` for the name asked is refused."""
    _, start = _starter("read x; echo 'ffff blob 3'; echo abc; exit 0")
    with pytest.raises(DamagedError, match="f" * 40):
        _read(start, ["f" * 40])


def test_git_that_hangs_fails_after_the_timeout_and_is_stopped() -> None:
    """A git that never answers fails the read after ``timeout`` seconds without a new
    object, and is killed."""
    started, start = _starter("exec sleep 60")
    t0 = time.monotonic()
    with pytest.raises(FailedError, match="did not finish within 1s"):
        _read(start, ["9" * 40], timeout=1.0)
    assert time.monotonic() - t0 < 30
    assert started[0].returncode is not None


def test_no_names_start_no_process() -> None:
    """Reading nothing starts nothing."""
    started, start = _starter("exit 1")
    assert _read(start, []) == []
    assert started == []


def test_git_whose_message_is_not_utf8_is_the_failed_error_with_the_rest_of_it() -> None:
    """A message in another encoding (a path name in Latin-1) still fails the read with what
    git said, the bytes UTF-8 cannot hold shown as replacement characters."""
    _, start = _starter("printf 'fatal: bad object in caf\\351\\n' >&2; exit 128")
    with pytest.raises(FailedError, match="fatal: bad object in caf\ufffd"):
        _read(start, ["e" * 40])


class _FailingPipe:
    """git's stdout whose ``fail`` method (``readline`` or ``read``) raises ``OSError``."""

    def __init__(self, pipe: IO[bytes], fail: str) -> None:
        self._pipe, self._fail = pipe, fail

    def _call(self, name: str, *args: int) -> bytes:
        if name == self._fail:
            raise OSError(5, "Input/output error")
        data: bytes = getattr(self._pipe, name)(*args)
        return data

    def readline(self) -> bytes:
        return self._call("readline")

    def read(self, size: int) -> bytes:
        return self._call("read", size)

    def fileno(self) -> int:
        return self._pipe.fileno()

    def close(self) -> None:
        self._pipe.close()


@pytest.mark.parametrize("fail", ["readline", "read"])
def test_a_read_of_gits_output_that_fails_is_the_damaged_error_at_once(fail: str) -> None:
    """An I/O error reading git's answer (its header or its bytes) ends the read as damaged
    at that name, at once: the reader does not die and leave the caller waiting out the
    timeout."""
    sha = "a" * 40
    _, real_start = _starter(f"read x; echo '{sha} blob 3'; echo abc")

    def start(errors: IO[bytes]) -> subprocess.Popen[bytes]:
        proc: subprocess.Popen[bytes] = real_start(errors)  # type: ignore[operator]
        assert proc.stdout is not None
        proc.stdout = _FailingPipe(proc.stdout, fail)  # type: ignore[assignment]
        return proc

    t0 = time.monotonic()
    with pytest.raises(DamagedError, match=sha):
        _read(start, [sha], timeout=10.0)
    assert time.monotonic() - t0 < 10


def _blob_writer(blobs: dict[str, bytes], then: str) -> list[str]:
    """An argv for a fake git that answers ``blobs`` whatever it is asked, then runs ``then``
    (Python statements) with ``out``, its stdout."""
    program = (
        f"import sys, time\nout = sys.stdout.buffer\nfor sha, data in {list(blobs.items())!r}:\n"
        "    out.write(b'%s blob %d\\n' % (sha.encode(), len(data)) + data + b'\\n')\n"
        f"out.flush()\n{then}\n"
    )
    return [sys.executable, "-c", program]


def test_objects_reach_the_caller_in_batches_while_git_is_still_writing(
    mocker: MockerFixture,
) -> None:
    """Parsed objects are handed over each time a batch reaches its size, not when git ends:
    here git writes two batches' worth exactly and then stalls, and the caller still gets
    every object of both before the timeout."""
    mocker.patch("agents.sync.git_cat._BATCH_BYTES", 4096)
    blobs = {f"{i:040x}": bytes([i]) * 1024 for i in range(8)}  # two batches of four
    _, start = _starter(_blob_writer(blobs, "time.sleep(30)"))
    scan = cat_blobs(
        start,  # type: ignore[arg-type]
        [*blobs, "f" * 40],
        damaged=DamagedError,
        failed=FailedError,
        timeout=10.0,
        ahead=1,
    )
    with contextlib.closing(scan):
        assert list(itertools.islice(scan, 8)) == list(blobs.items())


def test_git_that_dies_in_the_middle_of_a_blob_is_the_failed_error_with_its_message() -> None:
    """A blob cut short because git stopped (a corrupt pack: "fatal: … is corrupt") fails the
    read with git's own words, once git has said them, not as a blob merely damaged."""
    blobs = {"1" * 40: b"whole"}
    program = _blob_writer(
        blobs,
        "out.write(b'%s blob 100\\nonly part' % (b'2' * 40))\nout.flush()\ntime.sleep(0.5)\n"
        "sys.stderr.write('fatal: packed object is corrupt\\n')\nsys.exit(128)",
    )
    _, start = _starter(program)
    with pytest.raises(FailedError, match="fatal: packed object is corrupt"):
        _read(start, ["1" * 40, "2" * 40], timeout=10.0)


def test_a_caller_slower_than_git_still_gets_every_object(mocker: MockerFixture) -> None:
    """The reader waits for room in a full buffer as long as the caller needs (here 0.3 s
    per batch, the reader's own wait being 0.1 s a try), then goes on: nothing is lost."""
    mocker.patch("agents.sync.git_cat._BATCH_BYTES", 4096)
    blobs = {f"{i:040x}": bytes([i]) * 1024 for i in range(12)}  # three batches of four
    _, start = _starter(_blob_writer(blobs, ""))
    got: list[tuple[str, bytes]] = []
    for i, item in enumerate(
        cat_blobs(
            start,  # type: ignore[arg-type]
            list(blobs),
            damaged=DamagedError,
            failed=FailedError,
            timeout=10.0,
            ahead=1,
        )
    ):
        if i % 4 == 0:
            time.sleep(0.3)  # a slow caller: the reader meets a full buffer
        got.append(item)
    assert got == list(blobs.items())


@pytest.mark.parametrize("then", ["exec sleep 30", "exit 0"])
def test_git_that_answers_garbage_and_only_warns_is_the_damaged_error_once_its_wait_is_over(
    then: str,
) -> None:
    """After a bad answer git is given ``timeout`` seconds to exit and say why; one that only
    warned, and still runs then or exits 0, is the damaged error for that name (never a crash
    on the timed-out wait, nor its warning taken for a failure), and is stopped."""
    started, start = _starter(f"read x; echo 'warning: slow disk' >&2; echo 'ffff blob 3'; {then}")
    t0 = time.monotonic()
    with pytest.raises(DamagedError, match="f" * 40):
        _read(start, ["f" * 40], timeout=1.0)
    assert time.monotonic() - t0 < 20
    assert started[0].returncode is not None


@pytest.mark.parametrize(
    ("then", "reason"),
    [
        ("echo 'fatal: cannot close the object store' >&2; exit 128", "fatal: cannot close"),
        ("exit 3", "cat-file exited with status 3"),
        ("exec sleep 30", "cat-file did not exit within 1s"),
    ],
)
def test_git_that_answers_every_name_but_then_fails_is_the_failed_error_saying_why(
    then: str, reason: str
) -> None:
    """Every object read, git must still end well: its message, its status, or its not
    exiting within ``timeout`` (a RemoteError in the remote, never a crash) fails the read."""
    blobs = {"1" * 40: b"one"}
    started, start = _starter(
        ["sh", "-c", f"cat >/dev/null; printf '{'1' * 40} blob 3\none\n'; {then}"]
    )
    with pytest.raises(FailedError, match=reason):
        _read(start, list(blobs), timeout=1.0)
    assert started[0].returncode is not None
