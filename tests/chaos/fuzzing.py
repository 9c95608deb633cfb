"""Schema-driven fuzzing of running agents over MCP (the chaos suite, ``scripts/bench chaos``).

:func:`fuzz_agent` lists an agent's tools through one authenticated MCP client, sends it tool
calls that hypothesis draws from each tool's input schema (``tests.chaos.fuzz_calls``) and checks
every answer (``tests.chaos.fuzz_oracle.judge``): a malformed call gets an ``is_error`` result
naming each offending parameter, a call that fits the schema succeeds or fails with a clear
error, and no answer is a traceback or the bare "Error executing tool X" of a crash. It reads
the agent's pid from ``agents status --json`` and its memory from ``/proc/<pid>/status``.

A benchmark reuses it as is::

    figures = fuzz_agent(system, "notion", 1000)
    print(figures["calls"] / figures["seconds"], figures["rss_after_kb"] - figures["rss_before_kb"])
"""

from __future__ import annotations

import time
import zlib
from collections import Counter
from collections.abc import Callable
from typing import Any, TypeVar

import anyio
from anyio.from_thread import start_blocking_portal
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from agents.core.testing import mcp_client
from tests.chaos.conftest import System
from tests.chaos.fuzz_calls import hostile_calls, malformed_calls
from tests.chaos.fuzz_oracle import Call, judge

__all__ = ["fuzz_agent", "rss_kb"]


def rss_kb(pid: int) -> int:
    """The resident set size of process ``pid`` in KiB (``VmRSS`` in ``/proc/<pid>/status``)."""
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError(f"process {pid} has no VmRSS (gone?)")


async def _send(client: Any, call: Call, timeout: float) -> tuple[bool, str]:
    try:
        with anyio.fail_after(timeout):
            result = await client.call_tool(call.tool, call.arguments)
    except Exception as exc:
        raise AssertionError(f"no tool result for {call!r}: {exc!r}") from exc
    text = "\n".join(getattr(c, "text", f"<{c.type}>") for c in result.content)
    return bool(result.is_error), text


async def _send_all(
    client: Any, calls: list[Call], timeout: float, concurrency: int
) -> list[tuple[bool, str] | AssertionError]:
    """Send ``calls`` with at most ``concurrency`` in flight; an answer or the failure per call."""
    out: list[tuple[bool, str] | AssertionError] = [AssertionError("not sent")] * len(calls)
    limiter = anyio.CapacityLimiter(concurrency)

    async def one(i: int, call: Call) -> None:
        async with limiter:
            try:
                out[i] = await _send(client, call, timeout)
            except AssertionError as exc:
                out[i] = exc

    async with anyio.create_task_group() as tasks:
        for i, call in enumerate(calls):
            tasks.start_soon(one, i, call)
    return out


D = TypeVar("D")  # what a strategy draws: a call, a mutation


def _explore(check: Callable[[D], None], calls: st.SearchStrategy[D], n: int, salt: str) -> None:
    """Run ``check`` on ``n`` calls drawn from ``calls``, reproducibly (seeded by ``salt``)."""
    if n <= 0:
        return

    @settings(
        max_examples=n,
        deadline=None,
        derandomize=True,
        database=None,
        phases=(Phase.generate, Phase.shrink),
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @seed(zlib.crc32(salt.encode()))
    @given(calls)
    def explore(call: D) -> None:
        check(call)

    explore()


def _draw(calls: st.SearchStrategy[D], n: int, salt: str) -> list[D]:
    """``n`` values drawn from ``calls``, reproducibly (seeded by ``salt``)."""
    drawn: list[D] = []
    _explore(drawn.append, calls, n, salt)
    return drawn


def fuzz_agent(
    system: System,
    agent: str,
    n: int = 1000,
    *,
    hostile: int | None = None,
    warmup: int = 100,
    concurrency: int = 8,
    timeout: float = 60.0,
) -> dict[str, Any]:
    """Fuzz the running ``agent`` of ``system`` through one MCP client and check every answer.

    Sends ``n`` malformed calls one by one (one hard fault each, see
    :func:`tests.chaos.fuzz_calls.malformed_calls`), then about ``hostile`` calls with soft
    faults only (default ``n // 10``, as many for every tool), ``concurrency`` at a time: many
    of those fit the schema and reach the handlers and the upstream, which may answer slowly.
    A warm-up comes first and is not counted: ``warmup`` malformed calls and the very hostile
    batch measured afterwards, so that the allocator has seen the same concurrency and sizes
    before the memory is read. Then the agent must still answer ``agent_info`` under the
    pid it had at the start.

    Returns the figures of the measured calls: ``calls``, ``errors`` (``is_error`` answers),
    ``malformed`` (calls with an offending parameter, each answered with an error naming it),
    ``valid_ok`` and ``valid_error`` (calls fitting the schema, which succeeded or failed with a
    clear error), ``rss_before_kb`` (after the warm-up), ``rss_after_kb``, ``seconds`` (of the
    measured calls), and ``agent``, ``pid``, ``tools``.

    Raises:
        AssertionError: an answer failed a check (a malformed call is shrunk first, so the
            message shows a small one), no answer came within ``timeout`` seconds, or the agent
            died or was restarted.
    """
    row = system.status()[agent]
    pid = row["pid"]
    counts: Counter[str] = Counter()
    with (
        start_blocking_portal() as portal,
        portal.wrap_async_context_manager(mcp_client(row["url"], system.token(agent))) as client,
    ):
        tools = portal.call(client.list_tools).tools
        schemas = {t.name: t.input_schema for t in tools}

        def judged(call: Call, answer: tuple[bool, str]) -> None:
            is_error, text = answer
            counts["calls"] += 1
            counts["errors"] += is_error
            counts[judge(call, schemas.get(call.tool), is_error, text)] += 1

        def malformed(count: int, salt: str, calls: st.SearchStrategy[Call]) -> None:
            _explore(
                lambda call: judged(call, portal.call(_send, client, call, timeout)),
                calls,
                count,
                salt,
            )

        def hostile_batch(count: int, salt: str) -> None:
            each = -(-count // len(schemas))  # every tool gets as many
            calls = [
                call
                for name in sorted(schemas)
                for call in _draw(hostile_calls({name: schemas[name]}), each, f"{salt} {name}")
            ]
            answers = portal.call(_send_all, client, calls, timeout, concurrency)
            failures = []
            for call, answer in zip(calls, answers, strict=True):
                try:
                    if isinstance(answer, AssertionError):
                        raise answer
                    judged(call, answer)
                except AssertionError as exc:
                    failures.append(str(exc))
            assert not failures, f"{len(failures)} hostile calls failed, first: {failures[:3]}"

        hostile = n // 10 if hostile is None else hostile
        malformed(warmup, f"{agent} warm-up", malformed_calls(schemas))
        hostile_batch(hostile, f"{agent} hostile")  # the very calls measured below
        rss_before = rss_kb(pid)
        counts.clear()
        started = time.perf_counter()
        malformed(n, f"{agent} malformed", malformed_calls(schemas))
        hostile_batch(hostile, f"{agent} hostile")
        seconds = time.perf_counter() - started
        rss_after = rss_kb(pid)
        is_error, text = portal.call(_send, client, Call("agent_info", {}, ()), timeout)
        assert not is_error, f"{agent} no longer answers agent_info: {text[:400]}"
    after = system.status()[agent]
    assert after["pid"] == pid, f"{agent} was restarted while fuzzed: pid {pid}, now {after}"
    assert after["answering"], f"{agent} does not answer after the fuzz: {after}"
    return {
        "agent": agent,
        "pid": pid,
        "tools": len(tools),
        "calls": counts["calls"],
        "errors": counts["errors"],
        "malformed": counts["malformed"],
        "valid_ok": counts["valid_ok"],
        "valid_error": counts["valid_error"],
        "rss_before_kb": rss_before,
        "rss_after_kb": rss_after,
        "seconds": round(seconds, 2),
    }
