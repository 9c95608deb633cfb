"""The supervised sync loop outlives any error and backs off while the remote fails."""

from __future__ import annotations

import threading

from pytest_mock import MockerFixture

from agents.sync.engine import SyncReport
from agents.sync.loop import run_loop


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
