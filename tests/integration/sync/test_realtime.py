"""Real-time sync through PostgreSQL: a push NOTIFYs, the other machine's supervised loop
LISTENs and pulls at once; a dropped connection never stops the loop."""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from agents.store.store import ContextStore
from agents.sync.engine import Syncer, SyncReport
from agents.sync.loop import run_loop
from agents.sync.remote import Watch
from agents.sync.urls import open_remote
from tests.integration.sync.conftest import fresh_database
from tests.servers import PostgresServer, trust_each_other

pytestmark = pytest.mark.integration

INTERVAL = 600.0  # far longer than any wait below: only a notification can explain a pull


def _until(check: Callable[[], bool], seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return False


class Loop:
    """Machine B's supervised sync loop, in a thread."""

    def __init__(self, url: str, store: ContextStore) -> None:
        self.url, self.store = url, store
        self.stop = threading.Event()
        self.runs = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _once(self) -> SyncReport:
        self.runs += 1
        with open_remote(self.url) as remote:
            return Syncer(self.store, remote).sync()

    def _watch(self) -> Watch | None:
        with open_remote(self.url) as remote:
            return remote.watch(self.store.machine_id)

    def _run(self) -> None:
        run_loop(self._once, interval=INTERVAL, stop=self.stop, watch=self._watch)

    def has(self, doc: str, value: str) -> bool:
        head = self.store.head_info(doc)
        return head is not None and self.store.get(doc).body.get("value") == value


@pytest.fixture
def pair(pg_server: PostgresServer, tmp_path: Path) -> Iterator[tuple[str, ContextStore, Loop]]:
    url = fresh_database(pg_server)
    a = ContextStore(tmp_path / "a", machine_id="machine-a", actor="cli")
    b = ContextStore(tmp_path / "b", machine_id="machine-b", actor="sync")
    trust_each_other(a, b)
    loop = Loop(url, b)
    loop.thread.start()
    assert _until(lambda: loop.runs >= 1)
    yield url, a, loop
    loop.stop.set()
    loop.thread.join(timeout=10)
    assert not loop.thread.is_alive()


def _push(url: str, store: ContextStore, value: str) -> None:
    store.put("preference:theme", "preference", {"key": "theme", "value": value})
    with open_remote(url) as remote:
        Syncer(store, remote).push()


def test_a_push_on_one_machine_wakes_the_other_machines_sync(
    pair: tuple[str, ContextStore, Loop],
) -> None:
    url, a, loop = pair
    time.sleep(0.5)  # the loop is listening
    for value in ("dark", "light", "solarized"):
        _push(url, a, value)
        assert _until(functools.partial(loop.has, "preference:theme", value)), value


def test_a_dropped_listen_connection_is_reopened_and_nothing_pushed_meanwhile_is_missed(
    pg_server: PostgresServer, pair: tuple[str, ContextStore, Loop]
) -> None:
    url, a, loop = pair
    time.sleep(0.5)
    with psycopg.connect(url, autocommit=True) as admin:
        killed = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()"
        ).fetchone()
    assert killed is not None and killed[0] >= 1
    _push(url, a, "pushed while the listener was down")
    assert _until(lambda: loop.has("preference:theme", "pushed while the listener was down"))
    _push(url, a, "after")
    assert _until(lambda: loop.has("preference:theme", "after"))
    assert loop.thread.is_alive()
