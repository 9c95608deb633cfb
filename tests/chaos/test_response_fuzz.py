"""Vendor answers are input too: every tool of the Notion, Fizzy and Lokka agents, called
validly, gets one of its upstream answers spoiled (hypothesis draws how and which one: a key
such as ``id`` dropped, a value of the wrong type or null, a huge string, an extra field, an
empty list, another JSON document, a body that is not JSON) by a proxy in front of the
vendor's fake (:mod:`tests.fakes.mangle`). Each answer is judged by the chaos suite's
oracle (:func:`tests.chaos.fuzz_oracle.judge`): a result or a clear tool error, never a
traceback, a bare crash or a generic error, and the call is recorded as ``ok`` or ``error``,
never ``crash``. The context agent has no vendor, so it is not in here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from agents.core.settings import EnvLayers
from agents.core.testing import Recording, recording
from agents.fizzy.app import connect as connect_fizzy
from agents.notion.app import connect as connect_notion
from agents.notion.tools import SPEC as NOTION
from tests.chaos.fuzz_answers import Args, fizzy_calls, lokka_calls, mutations, notion_calls
from tests.chaos.fuzz_oracle import Call, judge
from tests.chaos.fuzzing import _draw
from tests.chaos.upstream_fixtures import (  # noqa: F401  fixtures are found by name
    _fizzy_fake,
    _fizzy_runtime,
    _fizzy_server,
    _notion_fake,
    _sts,
    _tls,
    lokka_agent,
    lokka_values,
)
from tests.contract.fizzy.conftest import layers_for as fizzy_layers
from tests.contract.notion.conftest import layers_for as notion_layers
from tests.fakes.arm import FakeArm
from tests.fakes.fizzy import SLUG, WRITE_TOKEN, FakeFizzy
from tests.fakes.graph import FakeGraph
from tests.fakes.mangle import ManglingProxy
from tests.fakes.notion import FakeNotion
from tests.unit.core.util import server_for

pytestmark = [pytest.mark.chaos, pytest.mark.anyio]

SPOILED = 6  # spoiled answers per tool (hypothesis, seeded by agent and tool)


@dataclass
class Target:
    """An agent behind mangling proxies: its MCP client, recorder, proxies and valid calls."""

    client: Any
    recorder: Recording
    proxies: list[ManglingProxy]
    calls: dict[str, Args]


@pytest.fixture(name="proxies")
def _proxies() -> Iterator[list[ManglingProxy]]:
    made: list[ManglingProxy] = []
    yield made
    for p in made:
        p.stop()


def proxy(made: list[ManglingProxy], target: str) -> ManglingProxy:
    p = ManglingProxy(target).start()
    made.append(p)
    return p


@asynccontextmanager
async def notion_target(
    fake: FakeNotion, made: list[ManglingProxy], tmp: Path
) -> AsyncIterator[Target]:
    p = proxy(made, fake.url)
    text = [{"type": "text", "text": {"content": "Some text"}}]
    blocks = [
        {"type": "heading_2", "heading_2": {"rich_text": text}},
        {"type": "paragraph", "paragraph": {"rich_text": text}},
        {"type": "to_do", "to_do": {"rich_text": text, "checked": True}},
    ]
    root = fake.add_root_page("Fuzz root", blocks)
    other = fake.add_root_page("Fuzz other", blocks)
    _, ds = fake.add_database(root, "Stock", {"Name": {"title": {}}, "Qty": {"number": {}}})
    doc = tmp / "note.md"
    doc.write_text("# Note\n\n- one\n- two\n")
    layers = notion_layers(
        fake,
        NOTION_BASE_URL=p.url,
        NOTION_TIMEOUT_SECONDS="10",
        NOTION_MAX_RETRIES="0",
        NOTION_IMPORT_ROOTS=str(tmp),
    )
    notion = connect_notion(layers)
    rec = recording()
    try:
        async with Client(server_for(NOTION.registry, client=notion, recorder=rec)) as client:
            yield Target(client, rec, [p], notion_calls(root, other, ds, doc))
    finally:
        await notion.aclose()


@asynccontextmanager
async def fizzy_target(
    server: Any, fake: FakeFizzy, made: list[ManglingProxy]
) -> AsyncIterator[Target]:
    p = proxy(made, fake.url)
    base = fizzy_layers(p.url, WRITE_TOKEN, SLUG)
    layers = EnvLayers(
        root=Path("/nonexistent"),
        env="test",
        values={**base.values, "FIZZY_TIMEOUT_SECONDS": "10"},
        origins=base.origins,
    )
    runtime = server.runtime
    fizzy = connect_fizzy(layers)
    rec = recording()
    runtime.client, runtime.reason, runtime.recorder = fizzy, None, rec
    try:
        async with Client(server) as client:
            yield Target(client, rec, [p], fizzy_calls(fake))
    finally:
        await fizzy.aclose()
        runtime.client = None


@asynccontextmanager
async def lokka_target(
    tls: tuple[Path, Path], sts: Any, made: list[ManglingProxy]
) -> AsyncIterator[Target]:
    graph, arm = FakeGraph(tokens=None).start(), FakeArm(tokens=None).start()
    try:
        g, a = proxy(made, graph.url), proxy(made, arm.url)
        values = {
            **lokka_values(tls, sts, graph, arm),
            "LOKKA_GRAPH_URL": g.url,
            "LOKKA_ARM_URL": a.url,
            "LOKKA_TIMEOUT": "10",
            "LOKKA_MAX_RETRIES": "0",
        }
        async with lokka_agent(values) as agent:
            yield Target(agent.client, agent.recorder, [g, a], lokka_calls())
    finally:
        graph.stop()
        arm.stop()


async def answer(target: Target, tool: str, args: dict[str, Any]) -> tuple[bool, str]:
    result = await target.client.call_tool(tool, args)
    text = "\n".join(getattr(c, "text", f"<{c.type}>") for c in result.content)
    return bool(result.is_error), text


async def fuzz(target: Target, agent: str) -> dict[str, int]:
    """Every tool: one call as is, then ``SPOILED`` calls with one answer spoiled each."""
    tools = {t.name: t.input_schema for t in (await target.client.list_tools()).tools}
    assert set(tools) == set(target.calls), (
        f"tools without a valid call: {set(tools) ^ set(target.calls)}"
    )
    figures = {"tools": len(tools), "calls": 0, "baseline_ok": 0, "spoiled": 0, "errors": 0}
    failures: list[str] = []
    baseline_errors: list[str] = []
    for tool in sorted(tools):
        for p in target.proxies:
            p.arm(None)
        args = target.calls[tool]()
        is_error, text = await answer(target, tool, args)
        figures["baseline_ok"] += not is_error
        if is_error:
            baseline_errors.append(f"{tool}: {text[:200]}")
        seen = sum(p.answers for p in target.proxies)
        judge(Call(tool, args, ()), tools[tool], is_error, text)
        if seen == 0:
            continue  # the tool asks no vendor (agent_info)
        for m in _draw(mutations(seen), SPOILED, f"{agent} {tool}"):
            for p in target.proxies:
                p.arm(None)
            # the index counts answers across proxies in order: find which proxy gets it
            index, chosen = m.index, target.proxies[0]
            args = target.calls[tool]()
            chosen.arm(m)
            if len(target.proxies) > 1 and tool in ARM_TOOLS:
                target.proxies[0].arm(None)
                target.proxies[1].arm(m)
            before = len(target.recorder.calls)
            is_error, text = await answer(target, tool, args)
            figures["calls"] += 1
            figures["errors"] += is_error
            figures["spoiled"] += any(p.spoiled for p in target.proxies)
            for p in target.proxies:
                p.spoiled.clear()
            outcome = [c.outcome for c in target.recorder.calls[before:]]
            try:
                judge(Call(tool, args, (f"{m.op}@{index}",)), tools[tool], is_error, text)
                assert "crash" not in outcome, (
                    f"recorded as a crash: {tool} {m!r:.300}: {text[:300]}"
                )
            except AssertionError as exc:
                failures.append(f"{tool} {m.op}@{m.index} pick={m.pick}: {str(exc)[:600]}")
    assert not failures, f"{len(failures)} spoiled answers not handled:\n" + "\n".join(
        failures[:40]
    )
    assert not baseline_errors, f"valid calls that failed unspoiled: {baseline_errors}"
    return figures


ARM_TOOLS = {"list_subscriptions", "list_resource_groups", "list_resources", "query_costs"}


async def test_every_notion_tool_turns_a_spoiled_answer_into_a_clear_error(
    notion_fake: FakeNotion, proxies: list[ManglingProxy], tmp_path: Path
) -> None:
    async with notion_target(notion_fake, proxies, tmp_path) as target:
        figures = await fuzz(target, "notion")
    assert figures["spoiled"] >= figures["tools"] * 3, figures
    assert figures["baseline_ok"] == figures["tools"], figures


async def test_every_fizzy_tool_turns_a_spoiled_answer_into_a_clear_error(
    server: Any, fizzy_fake: FakeFizzy, proxies: list[ManglingProxy]
) -> None:
    async with fizzy_target(server, fizzy_fake, proxies) as target:
        figures = await fuzz(target, "fizzy")
    assert figures["spoiled"] >= figures["tools"] * 3, figures


async def test_every_lokka_tool_turns_a_spoiled_answer_into_a_clear_error(
    tls: tuple[Path, Path], sts: Any, proxies: list[ManglingProxy]
) -> None:
    async with lokka_target(tls, sts, proxies) as target:
        figures = await fuzz(target, "lokka")
    assert figures["spoiled"] >= figures["tools"] * 3, figures
