"""10 000 writes at once through every door of the store: the agents over MCP (and their
records of every call), the CLI, and sync pulling another machine's documents."""

from __future__ import annotations

import threading
import time

import pytest

from agents.store.store import ContextStore
from agents.sync import open_remote
from agents.sync.engine import Syncer
from tests.chaos.conftest import System
from tests.chaos.load import Caller, open_store, verify_audit

pytestmark = [pytest.mark.chaos, pytest.mark.integration]

MCP_CALLERS, MCP_EACH = 3, 1000  # put_document calls, each also recorded as an agent_output
CLI_WRITES, CLI_PROCESSES = 2000, 10  # the store API as the CLI uses it, plus real CLI runs
SYNCED = 2200  # documents another machine pushed, pulled while everything else writes


def test_ten_thousand_concurrent_writes_lose_nothing_and_the_audit_chain_verifies(
    system: System, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Every write is present afterwards and the hash chain is intact."""
    run = f"load{time.time_ns()}"
    remote = f"dir://{tmp_path_factory.mktemp('chaos-remote') / 'remote'}"
    with ContextStore(tmp_path_factory.mktemp("laptop") / "ctx", machine_id="laptop") as laptop:
        with laptop.transaction() as conn:
            for i in range(SYNCED):
                body = {"key": f"{run}-sync-{i}", "value": i}
                laptop.commit(conn, f"preference:{run}-sync-{i}", "preference", body)
        Syncer(laptop, open_remote(remote)).push()
    with open_store(system.root) as store:
        outputs_before = store.counts().get("agent_output", 0)

    callers = [
        Caller(
            system,
            "context",
            "put_document",
            lambda n, c=c: {
                "id": f"preference:{run}-mcp{c}-{n}",
                "kind": "preference",
                "body": {"key": f"{run}-mcp{c}-{n}", "value": n},
            },
            limit=MCP_EACH,
        )
        for c in range(MCP_CALLERS)
    ]

    def cli_writer() -> None:
        with open_store(system.root) as store:
            for i in range(CLI_WRITES):
                store.put(f"preference:{run}-cli-{i}", "preference", {"key": "k", "value": i})

    def cli_processes() -> None:
        for i in range(CLI_PROCESSES):
            body = f'{{"key": "k", "value": {i}}}'
            system.project.run(
                "agents",
                "context",
                "put",
                f"preference:{run}-proc-{i}",
                "--kind",
                "preference",
                "--body",
                body,
            )

    def sync_pull() -> None:
        out = system.project.run("agents", "sync", "pull", "--remote", remote, "--json")
        assert '"fast_forwarded"' in out.stdout

    t0 = time.monotonic()
    threads = [threading.Thread(target=f) for f in (cli_writer, cli_processes, sync_pull)]
    for caller in callers:
        caller.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join(600)
    for caller in callers:
        caller.join(600)
    seconds = time.monotonic() - t0

    expected = [f"preference:{run}-cli-{i}" for i in range(CLI_WRITES)]
    expected += [f"preference:{run}-proc-{i}" for i in range(CLI_PROCESSES)]
    expected += [f"preference:{run}-sync-{i}" for i in range(SYNCED)]
    for caller in callers:
        assert len(caller.acked) == MCP_EACH and caller.failures == 0
        expected += [args["id"] for args in caller.acked]
    with open_store(system.root) as store:
        heads = store.heads()
        missing = [d for d in expected if d not in heads]
        assert not missing, f"{len(missing)} writes lost, e.g. {missing[:3]}"
        outputs = store.counts().get("agent_output", 0) - outputs_before
        assert outputs >= MCP_CALLERS * MCP_EACH
        total = len(expected) + outputs
        assert total >= 10_000
        report = verify_audit(store)
        assert report.ok, report.problems
    print(f"{total} writes in {seconds:.1f}s ({total / seconds:.0f}/s), audit chain intact")
