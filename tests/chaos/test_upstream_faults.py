"""Upstream faults, agent by agent: 429, 500, 503, timeouts, truncated and slow answers.

Each agent runs in memory behind its real SDK or client, against its loopback fake
(:mod:`tests.chaos.upstream_fixtures`), and is called through a real MCP client, so every
failure surfaces as the tool result a caller would see. For each fault, a read and a write:

- retries stay bounded: the fake counts the requests, exactly 1 + the documented retries
  while the fault persists, each retry after ``Retry-After``; a write is never applied twice;
- the caller gets a tool error that names what happened and what to do, recorded as an
  ``error`` (never a ``crash``), and the agent keeps serving: the next normal call succeeds;
- an answer slower than usual but within the timeout succeeds.

Lokka stands for two upstreams, Microsoft Graph and Azure Resource Manager; its ARM tools only
read, so ARM has no write row.
"""

from __future__ import annotations

import time
from itertools import pairwise

import pytest

from tests.chaos.upstream_fixtures import (  # noqa: F401  fixtures are found by name
    TIMEOUT,
    Upstream,
    _arm,
    _fizzy_fake,
    _fizzy_runtime,
    _fizzy_server,
    _graph,
    _notion_fake,
    _sts,
    _tls,
    open_upstream,
)
from tests.fakes.faults import Cut

pytestmark = [pytest.mark.chaos, pytest.mark.anyio]

READS = ["notion", "fizzy", "graph", "arm"]
WRITES = ["notion", "fizzy", "graph"]
PERSIST = 20  # a fault that outlasts any retry budget
RETRY_AFTER = 1  # seconds; the smallest Retry-After that proves it is waited for
HANG = TIMEOUT + 1.0  # an answer this late is a timeout
SLOW = TIMEOUT * 0.3  # an answer this late is slow but in time
SLACK = 0.05  # seconds of clock and scheduling jitter between two arrivals at a fake

# what an error must name, as groups of which one word must appear
STATUS_WORDS = {
    "429": (("429", "rate limit"), ("retry after",)),
    "500": (("500",),),
    "503": (("503",),),
}
ACTION_WORDS = ("retry", "try again", "check")
WRITE_DOUBT = "may or may not have been"
FAULT_WORDS = {"timeout": "did not answer within", "short": "incomplete", "cut": "not valid JSON"}


async def tool_error(up: Upstream, *, write: bool) -> str:
    """Run the read (or write); it must end in a tool error the agent meant, not a crash."""
    result = await (up.write if write else up.read)()
    assert result.is_error, result.structured_content
    text = " ".join(getattr(c, "text", "") for c in result.content)
    outcome = up.recorder.calls[-1].outcome
    assert outcome == "error", f"{up.name}: {outcome}: {text}"
    lowered = text.lower()
    assert any(w in lowered for w in ACTION_WORDS), f"no advice in {text!r}"
    return text


async def keeps_serving(up: Upstream) -> None:
    """With the faults gone, the next normal call succeeds."""
    up.fake.clear_faults()
    result = await up.read()
    assert not result.is_error, result.content
    assert up.recorder.calls[-1].outcome == "ok"


def retry_after(up: Upstream, status: str) -> int | None:
    """The Retry-After the vendor sends with ``status``: always on a 429, on a 503 for some."""
    return {"429": RETRY_AFTER, "503": up.retry_after_on_503}.get(status)


def names(text: str, *groups: tuple[str, ...] | str) -> bool:
    """Whether ``text`` holds a word of each group (a lone string is a group of one)."""
    low = text.lower()
    return all(any(w.lower() in low for w in ((g,) if isinstance(g, str) else g)) for g in groups)


# --- reads -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", READS)
async def test_a_rate_limited_read_waits_retry_after_between_a_bounded_number_of_tries(
    name: str, request: pytest.FixtureRequest
) -> None:
    """A 429 that persists: each retry waits Retry-After, retries stop at the documented count."""
    async with open_upstream(name, request) as up:
        up.fail(up.read_path, 429, PERSIST, RETRY_AFTER)
        text = await tool_error(up, write=False)
        arrivals = up.seen(up.read_path)
        await keeps_serving(up)
    assert len(arrivals) == up.read_attempts["429"], arrivals
    assert all(b - a >= RETRY_AFTER - SLACK for a, b in pairwise(arrivals)), arrivals
    assert names(text, *STATUS_WORDS["429"]), text


@pytest.mark.parametrize("status", ["500", "503"])
@pytest.mark.parametrize("name", READS)
async def test_a_server_error_on_a_read_is_retried_only_as_documented_then_reported(
    name: str, status: str, request: pytest.FixtureRequest
) -> None:
    """A 500 or 503 that persists: the documented retries, then an error naming the status."""
    async with open_upstream(name, request) as up:
        after = retry_after(up, status)
        up.fail(up.read_path, int(status), PERSIST, after)
        text = await tool_error(up, write=False)
        arrivals = up.seen(up.read_path)
        await keeps_serving(up)
    assert len(arrivals) == up.read_attempts[status], arrivals
    if after is not None:
        assert all(b - a >= after - SLACK for a, b in pairwise(arrivals)), arrivals
    assert names(text, *STATUS_WORDS[status]), text


@pytest.mark.parametrize("name", READS)
async def test_a_read_answered_after_the_timeout_fails_as_a_timeout(
    name: str, request: pytest.FixtureRequest
) -> None:
    """Answers later than the timeout: the documented tries, then "did not answer within"."""
    async with open_upstream(name, request) as up:
        up.slow(up.read_path, HANG, times=PERSIST)
        started = time.monotonic()
        text = await tool_error(up, write=False)
        took = time.monotonic() - started
        arrivals = up.seen(up.read_path)
        await keeps_serving(up)
    tries = up.read_attempts["timeout"]
    assert len(arrivals) == tries, arrivals
    assert took < tries * (TIMEOUT + 1.5), took  # each try gave up at the timeout, not later
    assert names(text, FAULT_WORDS["timeout"]), text


@pytest.mark.parametrize("how", ["short", "cut"])
@pytest.mark.parametrize("name", READS)
async def test_a_truncated_answer_to_a_read_is_an_upstream_error_not_a_crash(
    name: str, how: Cut, request: pytest.FixtureRequest
) -> None:
    """Content-Length larger than the bytes sent, or JSON cut mid-way: a clear error."""
    async with open_upstream(name, request) as up:
        up.truncate(up.read_path, how, times=PERSIST)
        text = await tool_error(up, write=False)
        arrivals = up.seen(up.read_path)
        await keeps_serving(up)
    assert len(arrivals) == up.read_attempts[how], arrivals
    assert names(text, FAULT_WORDS[how]), text


@pytest.mark.parametrize("name", READS)
async def test_a_slow_read_within_the_timeout_succeeds_in_one_request(
    name: str, request: pytest.FixtureRequest
) -> None:
    """An answer late by a third of the timeout is waited for, not retried."""
    async with open_upstream(name, request) as up:
        up.slow(up.read_path, SLOW)
        started = time.monotonic()
        result = await up.read()
        took = time.monotonic() - started
        arrivals = up.seen(up.read_path)
    assert not result.is_error, result.content
    assert len(arrivals) == 1 and took >= SLOW - SLACK, (arrivals, took)


# --- writes ------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["429", "500", "503"])
@pytest.mark.parametrize("name", WRITES)
async def test_an_error_status_on_a_write_never_duplicates_it(
    name: str, status: str, request: pytest.FixtureRequest
) -> None:
    """429/500/503 on a create: sent once (Notion resends a 429, which it never applied)."""
    async with open_upstream(name, request) as up:
        up.fail(up.write_path, int(status), PERSIST, retry_after(up, status))
        text = await tool_error(up, write=True)
        arrivals = up.seen(up.write_path)
        applied = up.applied()
        await keeps_serving(up)
    assert len(arrivals) == up.write_attempts[status], arrivals
    assert applied == 0
    assert names(text, *STATUS_WORDS[status]), text


@pytest.mark.parametrize("name", WRITES)
async def test_a_write_answered_after_the_timeout_is_sent_once_and_reported_as_uncertain(
    name: str, request: pytest.FixtureRequest
) -> None:
    """The upstream applied it but answered late: one request, and "check before repeating"."""
    async with open_upstream(name, request) as up:
        up.slow(up.write_path, HANG, times=PERSIST)
        text = await tool_error(up, write=True)
        arrivals = up.seen(up.write_path)
        applied = up.applied()
        await keeps_serving(up)
    assert len(arrivals) == up.write_attempts["timeout"] == 1, arrivals
    assert applied == 1
    assert names(text, FAULT_WORDS["timeout"], WRITE_DOUBT), text


@pytest.mark.parametrize("how", ["short", "cut"])
@pytest.mark.parametrize("name", WRITES)
async def test_a_truncated_answer_to_a_write_is_never_resent(
    name: str, how: Cut, request: pytest.FixtureRequest
) -> None:
    """The write was applied and its answer broke: one request, one object, a clear error."""
    async with open_upstream(name, request) as up:
        up.truncate(up.write_path, how, times=PERSIST)
        text = await tool_error(up, write=True)
        arrivals = up.seen(up.write_path)
        applied = up.applied()
        await keeps_serving(up)
    assert len(arrivals) == up.write_attempts[how] == 1, arrivals
    assert applied == 1
    assert names(text, FAULT_WORDS[how], WRITE_DOUBT), text


@pytest.mark.parametrize("name", WRITES)
async def test_a_slow_write_within_the_timeout_succeeds_once(
    name: str, request: pytest.FixtureRequest
) -> None:
    """An answer late by a third of the timeout: one request, one object, a result."""
    async with open_upstream(name, request) as up:
        up.slow(up.write_path, SLOW)
        result = await up.write()
        arrivals = up.seen(up.write_path)
    assert not result.is_error, result.content
    assert len(arrivals) == 1 and up.applied() == 1, arrivals
