"""`scripts/bench chaos`: the fault and load figures of the running system, each against a
baseline measured in the same run (the suite that proves the behaviour is tests/chaos/).

- recovery: seconds from `kill -9` of an agent until its new process answers /readyz
  (supervisord respawns it) ÷ a clean start of the same agent (stopped, then started).
- write storm: writes/s of 10 000+ writes at once through MCP, the CLI and sync
  ÷ one writer alone putting documents through the store API (the CLI's path).
- fuzz: malformed (and hostile) tool calls/s per agent ÷ valid `agent_info` calls/s one
  after another on one connection, and the agent's RSS after the calls ÷ after warm-up.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from _common import ratio_line  # noqa: E402

from agents.supervisor.control import Supervisor  # noqa: E402
from agents.supervisor.probe import probe_ready  # noqa: E402
from agents.supervisor.render import EnvPaths  # noqa: E402
from tests.chaos.conftest import System, start_system  # noqa: E402
from tests.chaos.load import Killer, open_store, write_storm  # noqa: E402

AGENTS = ("notion", "fizzy", "lokka", "context")


def clean_start(system: System, agent: str) -> float:
    """Seconds from starting a stopped agent (not waiting for startsecs) until it answers
    /readyz."""
    sup = Supervisor(EnvPaths(system.root, "local"))
    sup.stop_agents([agent])
    port = system.status()[agent]["port"]
    t0 = time.monotonic()
    sup.start_agents([agent])
    while not probe_ready(port, 0.5)[0]:
        time.sleep(0.02)
    return time.monotonic() - t0


def bench_recovery(system: System, rounds: int) -> None:
    killer = Killer(system)
    for _ in range(rounds):  # interleaved, so load on the box hits both alike
        for agent in AGENTS:
            killer.kill_and_wait(agent)
            base = clean_start(system, agent)
            killer.recoveries.setdefault(f"{agent}:clean", []).append(base)
    for agent in AGENTS:
        ours = statistics.median(killer.recoveries[agent])
        base = statistics.median(killer.recoveries[f"{agent}:clean"])
        print(ratio_line(f"recovery {agent} (median)", ours, base, "s", "-"))
        worst = max(killer.recoveries[agent])
        print(f"{'':<28} worst {worst:.2f} s over {rounds} kills")


def bench_storm(system: System, tmp: Path) -> None:
    storm = write_storm(system, tmp)
    with open_store(system.root) as store:
        outputs = store.counts().get("agent_output", 0) - storm.outputs_before
        total = len(storm.expected) + outputs
        n = 2000
        t0 = time.monotonic()
        for i in range(n):
            store.put(
                f"preference:alone-{time.time_ns()}-{i}", "preference", {"key": "k", "value": i}
            )
        alone = n / (time.monotonic() - t0)
    rate = total / storm.seconds
    print(ratio_line("write storm (writes/s)", rate, alone, "/s", "-"))
    print(f"{'':<28} {total} writes in {storm.seconds:.1f} s; none lost (tests/chaos)")


def valid_rate(system: System, agent: str, n: int = 300) -> float:
    """Valid ``agent_info`` calls/s, one after another on one connection (the baseline)."""
    import anyio

    from agents.core.testing import mcp_client

    async def go() -> float:
        url = system.status()[agent]["url"]
        async with mcp_client(url, system.token(agent)) as client:
            for _ in range(20):
                await client.call_tool("agent_info", {})
            t0 = time.perf_counter()
            for _ in range(n):
                await client.call_tool("agent_info", {})
            return n / (time.perf_counter() - t0)

    return anyio.run(go)


def bench_fuzz(system: System, calls: int) -> None:
    from tests.chaos.fuzzing import fuzz_agent

    for agent in AGENTS:
        got = fuzz_agent(system, agent, calls)
        rate = got["calls"] / got["seconds"]
        print(ratio_line(f"fuzz {agent} (calls/s)", rate, valid_rate(system, agent), "/s", "-"))
        before, after = got["rss_before_kb"] / 1024, got["rss_after_kb"] / 1024
        print(
            f"{'':<28} RSS {before:.1f} -> {after:.1f} MiB (ratio {after / before:.3f}); "
            f"{got['errors']} tool errors of {got['calls']} calls, {got['malformed']} malformed"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rounds", type=int, default=3, help="kill -9 per agent")
    ap.add_argument("--fuzz-calls", type=int, default=1000, help="malformed calls per agent")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        system = start_system(Path(tmp) / "system")
        try:
            print("chaos: one supervised system, 4 agents, fake upstream credentials")
            bench_recovery(system, args.rounds)
            bench_storm(system, Path(tmp))
            bench_fuzz(system, args.fuzz_calls)
        finally:
            system.project.run("stop-all-agents", "local", check=False)


if __name__ == "__main__":
    main()
