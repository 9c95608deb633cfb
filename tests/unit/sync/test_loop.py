"""The supervised sync loop outlives any error and backs off while the remote fails."""

from __future__ import annotations

import threading

from pytest_mock import MockerFixture
from structlog.testing import capture_logs

from agents.sync.engine import SyncReport
from agents.sync.loop import MAX_BACKOFF, _wait, run_loop
from agents.sync.pull import PullReport
from agents.sync.push import PushReport


def test_any_exception_is_logged_and_the_loop_goes_on_with_backoff(mocker: MockerFixture) -> None:
    stop = threading.Event()
    waits: list[float] = []
    calls = iter([RuntimeError("boom"), KeyError("seq"), None, None])

    def once() -> SyncReport:
        outcome = next(calls)
        if outcome is not None:
            raise outcome
        if len(waits) >= 3:
            stop.set()
        return SyncReport("sync", "dir:///nowhere")

    def fake_wait(stop_event: threading.Event, watch: object, seconds: float) -> bool:
        waits.append(seconds)
        return False

    mocker.patch("agents.sync.loop._wait", side_effect=fake_wait)
    run_loop(once, interval=10.0, stop=stop)
    assert waits == [20.0, 40.0, 10.0, 10.0]  # doubling while failing, then the interval


class FakeClock:
    """time.monotonic for the loop, moved only by the waits below."""

    def __init__(self) -> None:
        self.now = 100.0
        self.waits: list[tuple[str, float]] = []

    def monotonic(self) -> float:
        return self.now

    def waited(self, who: str, timeout: float) -> None:
        self.waits.append((who, timeout))
        self.now += timeout


class FakeWatch:
    """A feed that wakes after ``wake_after`` seconds of waiting (never, with None)."""

    def __init__(self, clock: FakeClock, wake_after: float | None) -> None:
        self.clock, self.wake_after, self.closed = clock, wake_after, False

    def wait(self, timeout: float) -> bool:
        if self.wake_after is not None and self.wake_after <= timeout:
            self.clock.waited("watch", self.wake_after)
            return True
        self.clock.waited("watch", timeout)
        if self.wake_after is not None:
            self.wake_after -= timeout
        return False

    def close(self) -> None:
        self.closed = True


class FakeStop(threading.Event):
    """A stop request whose wait moves the fake clock instead of sleeping."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__()
        self.clock = clock

    def wait(self, timeout: float | None = None) -> bool:
        assert timeout is not None
        self.clock.waited("stop", timeout)
        return self.is_set()


def test_a_wait_blocks_in_slices_of_a_second_until_the_deadline(mocker: MockerFixture) -> None:
    clock = FakeClock()
    mocker.patch("agents.sync.loop.time", clock)
    stop = FakeStop(clock)
    assert _wait(stop, None, 2.5) is False
    assert clock.waits == [("stop", 1.0), ("stop", 1.0), ("stop", 0.5)]
    clock.waits.clear()
    assert _wait(stop, FakeWatch(clock, None), 1.5) is False
    assert clock.waits == [("watch", 1.0), ("watch", 0.5)]


def test_a_wait_ends_early_when_another_machine_pushes_or_a_stop_is_requested(
    mocker: MockerFixture,
) -> None:
    clock = FakeClock()
    mocker.patch("agents.sync.loop.time", clock)
    stop = FakeStop(clock)
    assert _wait(stop, FakeWatch(clock, 1.5), 10.0) is True
    assert clock.waits == [("watch", 1.0), ("watch", 0.5)]
    stop.set()
    clock.waits.clear()
    assert _wait(stop, FakeWatch(clock, 0.5), 10.0) is False and clock.waits == []


def test_the_loop_watches_for_pushes_after_its_first_sync_and_logs_each_run(
    mocker: MockerFixture,
) -> None:
    """Start, a failure (logged with its reason, then a retry after the backoff), a sync
    woken by another machine's push, one by the interval; the feed is opened once and closed
    at the stop; each run's counts are logged."""
    stop = threading.Event()
    feeds: list[FakeWatch] = []
    clock = FakeClock()
    wakes = iter([False, True, False, False])
    runs = iter(["ok", "fail", "ok", "ok", "last"])

    def once() -> SyncReport:
        run = next(runs)
        if run == "fail":
            raise KeyError("seq")
        if run == "last":
            stop.set()
        pull = PullReport(fast_forwarded=2, merged=1, conflicts=[{}])
        return SyncReport(
            "sync", "r", pull=pull, push=PushReport(True, changed=3), duration_ms=1.26
        )

    def watch() -> FakeWatch:
        feeds.append(FakeWatch(clock, None))
        return feeds[-1]

    waits: list[tuple[object, float]] = []

    def fake_wait(stop_event: threading.Event, feed: object, seconds: float) -> bool:
        assert stop_event is stop
        waits.append((feed, seconds))
        return next(wakes) if feed is not None else False

    mocker.patch("agents.sync.loop._wait", side_effect=fake_wait)
    with capture_logs() as logs:
        run_loop(once, interval=10.0, stop=stop, watch=watch)
    [feed] = feeds
    assert waits == [(feed, 10.0), (None, 20.0), *[(feed, 10.0)] * 3] and feed.closed
    done = {"pulled": 3, "conflicts": 1, "pushed": 3, "duration_ms": 1.3, "log_level": "info"}
    assert logs == [
        {"event": "sync_loop_started", "interval": 10.0, "log_level": "info"},
        {"event": "sync_done", "reason": "start", **done},
        {"event": "sync_watch_started", "log_level": "info"},
        {
            "event": "sync_failed",
            "reason": "'seq'",
            "error": "KeyError",
            "failures": 1,
            "log_level": "warning",
        },
        {"event": "sync_done", "reason": "retry", **done},
        {"event": "sync_done", "reason": "push elsewhere", **done},
        {"event": "sync_done", "reason": "interval", **done},
        {"event": "sync_loop_stopped", "log_level": "info"},
    ]


def test_a_run_that_did_nothing_logs_zero_counts_and_an_error_without_text_its_type(
    mocker: MockerFixture,
) -> None:
    stop = threading.Event()
    runs = iter([None, RuntimeError(), None])

    def once() -> SyncReport:
        run = next(runs, "stop")
        if isinstance(run, Exception):
            raise run
        stop.set() if run == "stop" else None
        return SyncReport("pull", "r", push=PushReport(pushed=False, changed=4))

    mocker.patch("agents.sync.loop._wait", return_value=False)
    with capture_logs() as logs:
        run_loop(once, interval=1.0, stop=stop)
    assert [(e["event"], e.get("pulled"), e.get("pushed"), e.get("reason")) for e in logs] == [
        ("sync_loop_started", None, None, None),
        ("sync_done", 0, 0, "start"),
        ("sync_failed", None, None, "RuntimeError"),
        ("sync_done", 0, 0, "retry"),
        ("sync_done", 0, 0, "interval"),
        ("sync_loop_stopped", None, None, None),
    ]
    assert [e.get("conflicts") for e in logs if e["event"] == "sync_done"] == [0, 0, 0]


def test_the_backoff_doubles_up_to_sixteen_intervals_and_at_most_an_hour(
    mocker: MockerFixture,
) -> None:
    stop = threading.Event()
    waits: list[float] = []

    def once() -> SyncReport:
        if len(waits) >= 6:
            stop.set()
        raise RuntimeError("down")

    mocker.patch("agents.sync.loop._wait", side_effect=lambda s, f, t: waits.append(t))
    run_loop(once, interval=10.0, stop=stop)
    assert waits == [20.0, 40.0, 80.0, 160.0, 160.0, 160.0, 160.0]
    waits.clear()
    stop.clear()
    run_loop(once, interval=1000.0, stop=stop)
    assert waits == [
        2000.0,
        MAX_BACKOFF,
        MAX_BACKOFF,
        MAX_BACKOFF,
        MAX_BACKOFF,
        MAX_BACKOFF,
        MAX_BACKOFF,
    ]
