"""supervisord's paced poller (:mod:`agents.supervisor.daemon`): its main loop wakes at most
once per pace, and reads everything that arrived meanwhile in that one wake-up."""

from __future__ import annotations

import os
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from pytest_mock import MockerFixture
from supervisor import poller as supervisor_poller

from agents.supervisor import daemon
from agents.supervisor.daemon import PACE, paced

Ready = tuple[list[int], list[int]]


class _Clock:
    """A monotonic clock that moves only when slept on or told to."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class _Poller:
    """A stand-in for supervisord's poller: ``poll`` is counted, and answers after
    ``options.idle`` seconds of the clock (at once by default) with fd 3 ready, or with nothing
    when it idled."""

    def __init__(self, options: Any) -> None:
        self.options = options
        self.polls: list[float] = []

    def poll(self, timeout: float) -> Ready:
        self.polls.append(timeout)
        if self.options.idle:
            self.options.clock.now += self.options.idle
            return [], []
        return [3], []


@pytest.fixture
def clock() -> _Clock:
    return _Clock()


def _paced(clock: _Clock, pace: float = PACE) -> Any:
    cls = paced(_Poller, pace)
    cls.clock = staticmethod(clock)
    cls.sleep = staticmethod(clock.sleep)
    return cls(SimpleNamespace(clock=clock, idle=0.0))


def test_the_first_poll_does_not_wait(clock: _Clock) -> None:
    poller = _paced(clock)
    assert poller.poll(1.0) == ([3], [])
    assert clock.slept == [] and poller.polls == [1.0]


def test_a_poll_sooner_than_the_pace_after_the_last_one_first_sleeps_the_rest(
    clock: _Clock,
) -> None:
    poller = _paced(clock, pace=0.01)
    poller.poll(1.0)
    clock.now += 0.004  # supervisord handled the events in 4 ms
    assert poller.poll(1.0) == ([3], [])
    assert clock.slept == [pytest.approx(0.006)] and len(poller.polls) == 2


def test_a_poll_after_the_pace_has_passed_does_not_sleep(clock: _Clock) -> None:
    poller = _paced(clock, pace=0.01)
    poller.poll(1.0)
    clock.now += 0.5  # a long pass through the loop (a process started)
    poller.poll(1.0)
    assert clock.slept == []


def test_the_pace_counts_from_when_poll_returned_not_from_when_it_was_called(
    clock: _Clock,
) -> None:
    """An idle second's poll (nothing ready until the timeout) is followed by a full pace,
    so a burst of lines right after it is still read in one wake-up."""
    poller = _paced(clock, pace=0.01)
    poller.options.idle = 1.0
    assert poller.poll(1.0) == ([], [])
    poller.options.idle = 0.0
    assert poller.poll(1.0) == ([3], [])
    assert clock.slept == [pytest.approx(0.01)]


@pytest.fixture
def pipe() -> Iterator[tuple[int, int]]:
    read, write = os.pipe()
    yield read, write
    os.close(read)
    os.close(write)


def test_one_wake_up_returns_every_line_written_since_the_last(pipe: tuple[int, int]) -> None:
    """On supervisord's own poller for this platform: lines written while supervisord slept
    are all in the pipe at its next wake-up, for one read."""
    read, write = pipe
    poller = paced(supervisor_poller.Poller)(SimpleNamespace(logger=None))
    poller.register_readable(read)
    assert poller.poll(0) == ([], [])
    lines = [b'{"event": "tool_call", "n": %d}\n' % n for n in range(5)]
    for line in lines:
        os.write(write, line)
    assert poller.poll(1.0) == ([read], [])
    assert os.read(read, 1 << 16) == b"".join(lines)
    poller.close()


def test_main_paces_supervisords_poller_before_supervisord_reads_its_options(
    mocker: MockerFixture,
) -> None:
    seen: list[type[Any]] = []
    mocker.patch.object(daemon, "batch_scheduling")  # keep the test process's policy
    mocker.patch.object(supervisor_poller, "Poller", supervisor_poller.Poller)  # restored after
    original = supervisor_poller.Poller
    run = mocker.patch(
        "supervisor.supervisord.main",
        side_effect=lambda argv: seen.append(supervisor_poller.Poller),
    )
    daemon.main(["-c", "supervisord.conf"])
    run.assert_called_once_with(["-c", "supervisord.conf"])
    daemon.batch_scheduling.assert_called_once_with()  # type: ignore[attr-defined]
    (used,) = seen
    assert issubclass(used, original) and used is not original
    assert used.__name__ == f"Paced{original.__name__}"
