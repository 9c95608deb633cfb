"""The PostgreSQL remote's real-time feed on its own: which head moves wake it, how a burst
is swallowed, how a dropped or unreachable server is retried (``PgWatch``); the loop that
uses it is in ``test_realtime.py``."""

from __future__ import annotations

import hashlib
import time

import psycopg
import pytest
from pytest_mock import MockerFixture
from structlog.testing import capture_logs

from agents.sync.keys import head_key, object_key
from agents.sync.pg_remote import PgWatch
from agents.sync.urls import open_remote
from tests.integration.sync.conftest import fresh_database
from tests.servers import PostgresServer

pytestmark = pytest.mark.integration


def _end_listen_sessions(url: str) -> None:
    """End the watch's session, checking it carries the remote's connection settings."""
    with psycopg.connect(url, autocommit=True) as admin:
        ended = admin.execute(
            "SELECT application_name, pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()"
        ).fetchall()
    assert ended and all(row == ("agents-sync", True) for row in ended), ended


def test_postgres_watch_wakes_at_once_for_other_machines_heads_only(
    pg_server: PostgresServer,
) -> None:
    """Its own head moving, or an object written, leaves the watch asleep; another machine's
    head wakes it as soon as it moves, and a burst of heads wakes it once."""
    with open_remote(fresh_database(pg_server)) as remote:
        watch = remote.watch("m1")
        assert isinstance(watch, PgWatch)
        try:
            assert watch.wait(0.2) is False  # listening from here on
            remote.cas(head_key("m1"), b"mine", None)
            remote.put_many([(object_key(hashlib.sha256(b"o").hexdigest()), b"o")])
            assert watch.wait(0.5) is False
            remote.cas(head_key("m2"), b"theirs", None)
            assert watch.wait(0.8) is True
            for machine in ("m3", "m4", "m5", "m6"):
                remote.cas(head_key(machine), b"burst", None)
            started = time.monotonic()
            assert watch.wait(30) is True
            assert time.monotonic() - started < 10
            assert watch.wait(0.3) is False  # the rest of the burst was swallowed
            remote.cas(head_key("m7"), b"alone", None)
            started = time.monotonic()
            assert watch.wait(30) is True
            assert time.monotonic() - started < 10
        finally:
            watch.close()
        watch.close()


def test_postgres_watch_waits_at_most_50_ms_for_a_straggler_after_waking(
    pg_server: PostgresServer, mocker: MockerFixture
) -> None:
    """Woken by a head move, the watch looks for the rest of a burst waiting 50 ms at most,
    and stops at the first look that finds none: the pull that follows is not held up.
    (The notification source is spied on: on a loaded machine, a second's delay cannot be
    told from load by the clock.)"""
    with open_remote(fresh_database(pg_server)) as remote:
        watch = remote.watch("m1")
        assert isinstance(watch, PgWatch)
        try:
            assert watch.wait(0.2) is False  # listening from here on
            notifies = mocker.spy(psycopg.Connection, "notifies")
            remote.cas(head_key("m2"), b"theirs", None)
            assert watch.wait(30) is True
        finally:
            watch.close()
    waits = [c.kwargs["timeout"] for c in notifies.call_args_list]
    assert len(waits) == 2 and waits[0] > 20 and waits[1] <= 0.05, waits


def test_postgres_watch_reopens_a_dropped_connection_and_wakes_once_for_what_it_missed(
    pg_server: PostgresServer,
) -> None:
    """The server ends the LISTEN session: the watch says so, waits a second, listens again and
    wakes its caller once (pushes made meanwhile notified nobody); each loss starts the
    backoff afresh."""
    url = fresh_database(pg_server)
    with open_remote(url) as remote:
        watch = remote.watch("m1")
        assert watch is not None
        try:
            assert watch.wait(0.2) is False
            for _ in range(2):
                _end_listen_sessions(url)
                with capture_logs() as logs:
                    started = time.monotonic()
                    assert watch.wait(30) is True
                    took = time.monotonic() - started
                assert 0.9 <= took < 20
                assert [e["event"] for e in logs] == ["sync_watch_lost", "sync_watch_reconnected"]
                lost, back = logs
                assert lost["retry_in_s"] == 1.0 and lost["log_level"] == "warning"
                assert "terminat" in lost["reason"]
                assert lost["remote"] == back["remote"] == remote.display_url
                assert watch.wait(0.3) is False  # woken once, not again
        finally:
            watch.close()


class _Clock:
    """``time.monotonic`` and ``time.sleep`` for the watch, without waiting."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_postgres_watch_backs_off_doubling_to_a_minute_while_the_server_is_unreachable(
    mocker: MockerFixture,
) -> None:
    """Each failed reconnection doubles the wait (1 s to 60 s at most), says why without the
    password, and the caller's wait still ends on time, saying nothing moved."""
    clock = _Clock()
    mocker.patch("agents.sync.pg_remote.time", clock)
    password = "Unreachable-Pw-77"
    shown = "postgresql://agent:***@127.0.0.1:1/ctx"
    watch = PgWatch(
        f"postgresql://agent:{password}@127.0.0.1:1/ctx",
        {"connect_timeout": 5},
        (password,),
        shown,
        head_key("m1"),
    )
    with capture_logs() as logs:
        assert watch.wait(0) is False and watch.wait(-5) is False
        assert logs == [] and clock.now == 1000.0
        assert watch.wait(100) is False
        assert clock.now == 1100.0 and clock.slept == [1, 2, 4, 8, 16, 32, 37]
        assert [e["retry_in_s"] for e in logs] == [1, 2, 4, 8, 16, 32, 60]
        assert all(e["event"] == "sync_watch_lost" and e["remote"] == shown for e in logs)
        assert all("127.0.0.1" in e["reason"] and password not in e["reason"] for e in logs)
        assert watch.wait(10) is False  # still inside the minute: no new attempt
        assert len(logs) == 7 and clock.now == 1110.0
    watch.close()
