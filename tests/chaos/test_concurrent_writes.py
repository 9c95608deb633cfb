"""10 000 writes at once through every door of the store: the agents over MCP (and their
records of every call), the CLI, and sync pulling another machine's documents."""

from __future__ import annotations

import pytest

from tests.chaos.conftest import System
from tests.chaos.load import open_store, verify_audit, write_storm

pytestmark = [pytest.mark.chaos, pytest.mark.integration]


def test_ten_thousand_concurrent_writes_lose_nothing_and_the_audit_chain_verifies(
    system: System, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Every write is present afterwards and the hash chain is intact."""
    storm = write_storm(system, tmp_path_factory.mktemp("storm"))
    for caller in storm.callers:
        assert len(caller.acked) == caller.limit and caller.failures == 0
    with open_store(system.root) as store:
        heads = store.heads()
        missing = [d for d in storm.expected if d not in heads]
        assert not missing, f"{len(missing)} writes lost, e.g. {missing[:3]}"
        outputs = store.counts().get("agent_output", 0) - storm.outputs_before
        assert outputs >= sum(len(c.acked) for c in storm.callers)
        assert len(storm.expected) + outputs >= 10_000
        report = verify_audit(store)
        assert report.ok, report.problems
