"""The health listener's decisions: hung agents are killed, crash loops are stopped."""

from __future__ import annotations

from typing import Any

from structlog.testing import capture_logs

from agents.supervisor.health import HealthMonitor, _parse_payload


class FakeSupervisor:
    """The two XML-RPC calls the monitor makes, recorded."""

    def __init__(self) -> None:
        self.infos: list[dict[str, Any]] = []
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def getAllProcessInfo(self) -> list[dict[str, Any]]:  # noqa: N802 - XML-RPC name
        return self.infos

    def signalProcess(self, *args: Any) -> None:  # noqa: N802
        self.calls.append(("signalProcess", args))

    def stopProcess(self, *args: Any) -> None:  # noqa: N802
        self.calls.append(("stopProcess", args))


class FakeRPC:
    def __init__(self) -> None:
        self.supervisor = FakeSupervisor()


def monitor(alive: dict[int, bool], now: list[float], **kw: Any) -> tuple[HealthMonitor, FakeRPC]:
    rpc = FakeRPC()
    rpc.supervisor.infos = [
        {"name": "notion", "group": "agents", "statename": "RUNNING", "start": 0, "pid": 11},
        {"name": "fizzy", "group": "agents", "statename": "RUNNING", "start": 0, "pid": 12},
    ]
    settings = {"misses": 2, "grace": 10.0, "crash_exits": 3, "crash_window": 60.0} | kw
    mon = HealthMonitor(
        rpc,
        {"notion": 1, "fizzy": 2},
        probe=lambda port: alive[port],
        clock=lambda: now[0],
        **settings,
    )
    return mon, rpc


def test_an_agent_that_stops_answering_is_killed_after_n_missed_probes() -> None:
    """One miss is tolerated; the second in a row SIGKILLs only the hung agent."""
    now = [100.0]
    mon, rpc = monitor({1: False, 2: True}, now)
    mon.tick()
    assert rpc.supervisor.calls == []
    mon.tick()
    assert rpc.supervisor.calls == [("signalProcess", ("agents:notion", "KILL"))]


def test_an_answer_resets_the_miss_count() -> None:
    """Misses must be consecutive."""
    alive = {1: False, 2: True}
    now = [100.0]
    mon, rpc = monitor(alive, now)
    mon.tick()
    alive[1] = True
    mon.tick()
    alive[1] = False
    mon.tick()
    assert rpc.supervisor.calls == []


def test_agents_inside_their_start_grace_are_not_probed() -> None:
    """A just-started agent importing its SDK is not a hung agent."""
    now = [5.0]
    mon, rpc = monitor({1: False, 2: False}, now)
    mon.tick()
    mon.tick()
    assert rpc.supervisor.calls == []


def test_the_kill_the_monitor_caused_does_not_count_towards_a_crash_loop() -> None:
    """Exits of pids the listener killed are its own doing, not the agent's."""
    now = [100.0]
    mon, rpc = monitor({1: False, 2: True}, now, crash_exits=2)
    mon.tick()
    mon.tick()
    with capture_logs() as logs:
        mon.exited("notion", 11, expected=False)
        mon.exited("notion", 99, expected=False)
        mon.running("notion")
        mon.tick()
    assert [e for e in logs if e["event"] == "crash_loop"] == []
    assert all(call[0] != "stopProcess" for call in rpc.supervisor.calls)
    # its own kill is forgotten once seen: a second exit of an unrelated pid now completes a loop
    mon.exited("notion", 98, expected=False)
    mon.running("notion")
    assert ("stopProcess", ("agents:notion", False)) in rpc.supervisor.calls


def test_n_exits_within_the_window_stop_the_agent_once_it_is_running_again() -> None:
    """The stop waits for RUNNING: a TERM between supervisord's fork and exec is lost."""
    now = [100.0]
    mon, rpc = monitor({1: True, 2: True}, now)
    for pid in (21, 22, 23):
        mon.exited("notion", pid, expected=False)
        now[0] += 5
    assert rpc.supervisor.calls == []
    mon.running("notion")
    assert rpc.supervisor.calls == [("stopProcess", ("agents:notion", False))]


def test_exits_spread_wider_than_the_window_are_not_a_loop() -> None:
    """An agent crashing once an hour keeps being restarted."""
    now = [0.0]
    mon, rpc = monitor({1: True, 2: True}, now)
    for pid in (21, 22, 23, 24):
        mon.exited("notion", pid, expected=False)
        mon.running("notion")
        now[0] += 61
    assert rpc.supervisor.calls == []


def test_event_payload_fields_are_parsed() -> None:
    """PROCESS_STATE payloads are space-separated key:value tokens."""
    payload = "processname:notion groupname:agents from_state:RUNNING expected:0 pid:4242"
    assert _parse_payload(payload) == {
        "processname": "notion",
        "groupname": "agents",
        "from_state": "RUNNING",
        "expected": "0",
        "pid": "4242",
    }


def test_each_tick_hands_the_agents_process_facts_to_the_machine_state_writer() -> None:
    """pid, port, state, start time, and whether the probe was answered."""
    written: list[dict[str, Any]] = []
    now = [100.0]
    rpc = FakeRPC()
    rpc.supervisor.infos = [
        {"name": "notion", "group": "agents", "statename": "RUNNING", "start": 40, "pid": 11},
        {"name": "fizzy", "group": "agents", "statename": "FATAL", "start": 0, "pid": 0},
    ]
    mon = HealthMonitor(
        rpc,
        {"notion": 1, "fizzy": 2},
        probe=lambda port: True,
        clock=lambda: now[0],
        state=written.append,
        misses=2,
        grace=10.0,
        crash_exits=3,
        crash_window=60.0,
    )
    mon.tick()
    (entries,) = written
    assert entries["notion"] == {
        "port": 1,
        "state": "RUNNING",
        "pid": 11,
        "started_at": "1970-01-01T00:00:40Z",
        "answering": True,
    }
    assert entries["fizzy"] == {
        "port": 2,
        "state": "FATAL",
        "pid": None,
        "started_at": None,
        "ready": None,
    }
