"""The three agents in memory, each behind its loopback fake, as one ``Upstream`` interface.

The contract suites' fixtures live in their own conftest.py files, which tests/chaos cannot
see. This module reuses their building blocks (settings layers, the session-wide Fizzy
server, the Lokka fakes and environment) and adds what the fault tests need on top: short
timeouts and retry budgets through the agents' own settings, real waits (so ``Retry-After``
is honoured in wall-clock time at the fake), and per vendor the read, the write, the way to
inject each fault and the way to count what reached the fake.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.types import CallToolResult

from agents.core.runtime import AgentRuntime
from agents.core.server import AgentServer, build_server
from agents.core.settings import CoreSettings, EnvLayers
from agents.core.testing import Recording, recording
from agents.fizzy.app import connect as connect_fizzy
from agents.lokka.tools import SPEC as LOKKA
from agents.notion.app import connect as connect_notion
from agents.notion.tools import SPEC as NOTION
from tests.contract.fizzy.conftest import _runtime as _fizzy_runtime
from tests.contract.fizzy.conftest import _server as _fizzy_server
from tests.contract.fizzy.conftest import layers_for as fizzy_layers
from tests.contract.lokka.conftest import Agent as LokkaAgent
from tests.contract.lokka.conftest import _arm, _graph, _sts, _tls, lokka_env
from tests.contract.notion.conftest import layers_for as notion_layers
from tests.fakes.arm import FakeArm
from tests.fakes.faults import Cut
from tests.fakes.fizzy import SLUG, WRITE_TOKEN, FakeFizzy
from tests.fakes.graph import FakeGraph
from tests.fakes.notion import FakeNotion, running
from tests.fakes.notion.workspace import title_of
from tests.unit.core.util import server_for

__all__ = [
    "FAULTS",
    "RETRIES",
    "TIMEOUT",
    "Upstream",
    "_arm",
    "_fizzy_fake",
    "_fizzy_runtime",
    "_fizzy_server",
    "_graph",
    "_notion_fake",
    "_sts",
    "_tls",
    "open_upstream",
]

TIMEOUT = 1.0  # seconds every agent waits for one answer in these tests
RETRIES = 2  # retries after the first attempt, where the agent has a setting for it

Call = Callable[[], Awaitable[CallToolResult]]


@dataclass
class Upstream:
    """One vendor as the fault tests see it: the agent's read and write, the fake behind it."""

    name: str
    read: Call
    write: Call  # creates one object named MARKER (a create: never safe to resend blindly)
    recorder: Recording
    fake: Any
    read_path: str  # the request the read makes, as ``METHOD path`` the fake can match
    write_path: str
    applied: Callable[[], int]  # how many objects the writes created at the fake
    seen: Callable[[str], list[float]]  # arrival times of requests matching ``METHOD path``
    # inject: status (429/500/503), times, Retry-After (None: the vendor sends none)
    fail: Callable[[str, int, int, int | None], None]
    # fault ("429", "500", "503", "timeout", "short", "cut") -> the requests one call makes
    # while the fault persists: 1 + the documented retries
    read_attempts: dict[str, int]
    write_attempts: dict[str, int]
    retry_after_on_503: int | None = None  # Graph and ARM say when to come back; others don't

    def slow(self, target: str, seconds: float, times: int = 1) -> None:
        """Answer ``target`` requests ``seconds`` late."""
        method, path = target.split(" ", 1)
        self.fake.slow(seconds, method=method, path=path, times=times)

    def truncate(self, target: str, how: Cut, times: int = 1) -> None:
        """Cut ``target`` answers short."""
        method, path = target.split(" ", 1)
        self.fake.truncate(how, method=method, path=path, times=times)


MARKER = "Chaos marker"
FAULTS = ("429", "500", "503", "timeout", "short", "cut")


def attempts(*counts: int) -> dict[str, int]:
    """Requests per call for each of :data:`FAULTS`, in that order."""
    return dict(zip(FAULTS, counts, strict=True))


@asynccontextmanager
async def open_notion(fake: FakeNotion) -> AsyncIterator[Upstream]:
    """The Notion agent with a 1 s timeout and two retries, and one page to read."""
    root = fake.add_root_page("Chaos root")
    notion = connect_notion(
        notion_layers(fake, NOTION_TIMEOUT_SECONDS=str(TIMEOUT), NOTION_MAX_RETRIES=str(RETRIES))
    )
    rec = recording()

    def fail(target: str, status: int, times: int, retry_after: int | None) -> None:
        method, path = target.split(" ", 1)
        code = {429: "rate_limited", 500: "internal_server_error", 503: "service_unavailable"}
        fake.fail_next(
            status, code[status], times=times, method=method, path=path, retry_after=retry_after
        )

    def seen(target: str) -> list[float]:
        method, path = target.split(" ", 1)
        return [s.at for s in fake.calls(method, path)]

    def applied() -> int:
        with fake.api.lock:
            return sum(title_of(p) == MARKER for p in fake.ws.pages.values())

    try:
        async with Client(server_for(NOTION.registry, client=notion, recorder=rec)) as client:
            yield Upstream(
                name="notion",
                read=lambda: client.call_tool("get_page", {"page_id": root}),
                write=lambda: client.call_tool(
                    "create_page", {"title": MARKER, "parent_page_id": root}
                ),
                recorder=rec,
                fake=fake,
                read_path=f"GET /v1/pages/{root}",
                write_path="POST /v1/pages",
                applied=applied,
                seen=seen,
                fail=fail,
                # the SDK retries 429 on every method (Notion applied none of them), 500 and
                # 503 on GET and DELETE only, and never a timeout or a broken answer
                read_attempts=attempts(1 + RETRIES, 1 + RETRIES, 1 + RETRIES, 1, 1, 1),
                write_attempts=attempts(1 + RETRIES, 1, 1, 1, 1, 1),
            )
    finally:
        await notion.aclose()


@asynccontextmanager
async def open_fizzy(server: AgentServer, fake: FakeFizzy) -> AsyncIterator[Upstream]:
    """The Fizzy agent with a 1 s timeout and its fixed three attempts, waiting for real."""
    base = fizzy_layers(fake.url, WRITE_TOKEN, SLUG)
    layers = EnvLayers(
        root=Path("/nonexistent"),
        env="test",
        values={**base.values, "FIZZY_TIMEOUT_SECONDS": str(TIMEOUT)},
        origins=base.origins,
    )
    runtime = server.runtime
    fizzy = connect_fizzy(layers)
    rec = recording()
    runtime.client, runtime.reason, runtime.recorder = fizzy, None, rec

    def fail(target: str, status: int, times: int, retry_after: int | None) -> None:
        method, path = target.split(" ", 1)
        after = None if retry_after is None else str(retry_after)
        fake.fail(status, times=times, retry_after=after, method=method, path=path)

    def seen(target: str) -> list[float]:
        method, path = target.split(" ", 1)
        return [s.at for s in fake.requests(method, path)]

    def applied() -> int:
        with fake.lock:
            return sum(b.name == MARKER for b in fake.account.boards.values())

    tries = fizzy.policy.attempts
    try:
        async with Client(server) as client:
            yield Upstream(
                name="fizzy",
                read=lambda: client.call_tool("list_projects", {"limit": 5}),
                write=lambda: client.call_tool("create_project", {"name": MARKER}),
                recorder=rec,
                fake=fake,
                read_path=f"GET /{SLUG}/boards",
                write_path=f"POST /{SLUG}/boards",
                applied=applied,
                seen=seen,
                fail=fail,
                # a GET is retried on 429, 5xx and network errors (a timeout, a connection
                # closed mid-answer); a create is never repeated
                read_attempts=attempts(tries, tries, tries, tries, tries, 1),
                write_attempts=attempts(1, 1, 1, 1, 1, 1),
            )
    finally:
        await fizzy.aclose()
        runtime.client = None


def _base_fake_hooks(
    fake: FakeGraph | FakeArm,
) -> tuple[Callable[[str, int, int, int | None], None], Callable[[str], list[float]]]:
    def fail(target: str, status: int, times: int, retry_after: int | None) -> None:
        method, path = target.split(" ", 1)
        headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
        fake.fail(method, path, status, times=times, headers=headers)

    def seen(target: str) -> list[float]:
        method, path = target.split(" ", 1)
        return [r.at for r in fake.sent(method, path)]

    return fail, seen


def lokka_values(
    tls: tuple[Path, Path], sts: Any, graph: FakeGraph, arm: FakeArm
) -> dict[str, str]:
    """The Lokka environment of the contract tests, with a 1 s timeout and two retries."""
    return {
        **lokka_env(tls, sts, graph, arm),
        "LOKKA_TIMEOUT": str(TIMEOUT),
        "LOKKA_MAX_RETRIES": str(RETRIES),
    }


@asynccontextmanager
async def lokka_agent(values: dict[str, str]) -> AsyncIterator[LokkaAgent]:
    """The Lokka agent as the contract tests' ``start_agent`` builds it, as a context manager."""
    layers = EnvLayers(
        root=Path("/nonexistent"), env="test", values={"LOKKA_TOOLSETS": "all", **values}
    )
    rec = recording()
    runtime = AgentRuntime.start(LOKKA, layers, CoreSettings(port_base=9000), None, rec)
    try:
        async with Client(build_server(runtime, token=None, port=None)) as client:
            yield LokkaAgent(client, rec, runtime)
    finally:
        await runtime.aclose()


@asynccontextmanager
async def open_graph(values: dict[str, str], graph: FakeGraph) -> AsyncIterator[Upstream]:
    """Lokka on Microsoft Graph: list_users, and create_user confirmed."""
    fail, seen = _base_fake_hooks(graph)
    upn = "chaos.marker@contoso.com"

    def applied() -> int:
        return sum(u.get("userPrincipalName") == upn for u in graph.data["users"])

    async with lokka_agent(values) as agent:
        yield Upstream(
            name="graph",
            read=lambda: agent.call("list_users", limit=1),
            write=lambda: agent.call(
                "create_user",
                display_name=MARKER,
                user_principal_name=upn,
                password="Chaos-Passw0rd!x",
                confirm=True,
            ),
            recorder=agent.recorder,
            fake=graph,
            read_path="GET /v1.0/users",
            write_path="POST /v1.0/users",
            applied=applied,
            seen=seen,
            fail=fail,
            # msgraph's retry middleware: 429, 503 and 504 on reads; writes have it switched off
            read_attempts=attempts(1 + RETRIES, 1, 1 + RETRIES, 1, 1, 1),
            write_attempts=attempts(1, 1, 1, 1, 1, 1),
            retry_after_on_503=1,
        )


@asynccontextmanager
async def open_arm(values: dict[str, str], arm: FakeArm) -> AsyncIterator[Upstream]:
    """Lokka on Azure Resource Manager: list_subscriptions (ARM tools only read)."""
    fail, seen = _base_fake_hooks(arm)

    async def no_write() -> CallToolResult:
        raise AssertionError("Lokka has no ARM write")

    async with lokka_agent(values) as agent:
        yield Upstream(
            name="arm",
            read=lambda: agent.call("list_subscriptions", limit=1),
            write=no_write,
            recorder=agent.recorder,
            fake=arm,
            read_path="GET /subscriptions",
            write_path="",
            applied=lambda: 0,
            seen=seen,
            fail=fail,
            # the agent's ARM loop: 429 and 503 as Retry-After says
            read_attempts=attempts(1 + RETRIES, 1, 1 + RETRIES, 1, 1, 1),
            write_attempts={},
            retry_after_on_503=1,
        )


@pytest.fixture(name="notion_fake")
def _notion_fake() -> Iterator[FakeNotion]:
    with running() as fake:
        yield fake


@pytest.fixture(name="fizzy_fake")
def _fizzy_fake() -> Iterator[FakeFizzy]:
    with FakeFizzy() as fake:
        yield fake


@asynccontextmanager
async def open_upstream(name: str, request: pytest.FixtureRequest) -> AsyncIterator[Upstream]:
    """The upstream ``name`` (notion, fizzy, graph, arm), with only the fakes it needs."""
    if name == "notion":
        async with open_notion(request.getfixturevalue("notion_fake")) as up:
            yield up
    elif name == "fizzy":
        server = request.getfixturevalue("server")
        async with open_fizzy(server, request.getfixturevalue("fizzy_fake")) as up:
            yield up
    else:
        tls, sts = request.getfixturevalue("tls"), request.getfixturevalue("sts")
        graph, arm = request.getfixturevalue("graph"), request.getfixturevalue("arm")
        values = lokka_values(tls, sts, graph, arm)
        opener = open_graph(values, graph) if name == "graph" else open_arm(values, arm)
        async with opener as up:
            yield up
