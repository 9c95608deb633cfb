"""Crash recovery: agents killed with SIGKILL again and again while clients call them."""

from __future__ import annotations

import statistics
import time

import pytest

from agents.core.errors import NotFoundError
from agents.store.store import ContextStore
from tests.chaos.conftest import System
from tests.chaos.load import Caller, Killer, open_store, verify_audit

pytestmark = [pytest.mark.chaos, pytest.mark.integration]

ROUNDS = 3  # kill -9 of each agent, per test run


def test_no_acknowledged_write_is_lost_when_agents_are_killed_repeatedly(system: System) -> None:
    """Three clients write through the agents while each agent is SIGKILLed three times; every
    write that was acknowledged is in the store, and every agent answers again each time."""
    run = f"crash{time.time_ns()}"
    with open_store(system.root) as store:
        before = {a: _count(store, a) for a in ("notion", "fizzy", "lokka")}
    callers = [
        Caller(
            system,
            "context",
            "put_document",
            lambda n: {
                "id": f"preference:{run}-{n}",
                "kind": "preference",
                "body": {"key": f"{run}-{n}", "value": n},
            },
        ),
        Caller(system, "notion", "agent_info", lambda n: {}),
        Caller(system, "fizzy", "agent_info", lambda n: {}),
        Caller(system, "lokka", "agent_info", lambda n: {}),
    ]
    for caller in callers:
        caller.start()
    killer = Killer(system)
    try:
        time.sleep(1.0)  # let every caller get going
        for _ in range(ROUNDS):
            for agent in ("notion", "fizzy", "lokka", "context"):
                killer.kill_and_wait(agent)
                time.sleep(0.3)
    finally:
        for caller in callers:
            caller.stop()
    puts, *infos = callers
    assert puts.acked and all(c.acked for c in infos)
    with open_store(system.root) as store:
        for args in puts.acked:
            try:
                store.get(args["id"])
            except NotFoundError:
                pytest.fail(f"acknowledged write {args['id']} is missing after the crashes")
        for caller in infos:
            recorded = _count(store, caller.agent) - before[caller.agent]
            assert recorded >= len(caller.acked), (caller.agent, recorded, len(caller.acked))
        assert verify_audit(store).ok
    for agent, times in killer.recoveries.items():
        assert len(times) == ROUNDS, agent
        assert max(times) < 30, (agent, times)
    print(
        "recovery after kill -9 (s): "
        + ", ".join(
            f"{a} median {statistics.median(t):.2f} max {max(t):.2f}"
            for a, t in sorted(killer.recoveries.items())
        )
    )


def _count(store: ContextStore, agent: str) -> int:
    with store.reading() as conn:
        row = conn.execute(
            "SELECT count(*) FROM docs d JOIN revisions r ON r.hash = d.head "
            "WHERE d.kind = 'agent_output' AND json_extract(r.envelope, '$.body.agent') = ? "
            "AND json_extract(r.envelope, '$.body.handler') = 'agent_info'",
            (agent,),
        ).fetchone()
    return int(row[0])
