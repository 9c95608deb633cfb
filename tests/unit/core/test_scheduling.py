"""supervisord's batch policy and the agents' way back to the normal one
(:mod:`agents.core.scheduling`). Policies belong to threads, so each case runs in its own."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

import pytest

from agents.core.scheduling import batch_scheduling, normal_scheduling

pytestmark = pytest.mark.skipif(not hasattr(os, "SCHED_BATCH"), reason="Linux scheduling policies")


def _in_a_thread(*steps: Callable[[], None]) -> int:
    """Run ``steps`` in a new thread; its policy afterwards."""
    seen: list[int] = []

    def run() -> None:
        for step in steps:
            step()
        seen.append(os.sched_getscheduler(0))

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return seen[0]


def test_batch_scheduling_makes_the_calling_thread_a_batch_one() -> None:
    assert _in_a_thread(batch_scheduling) == os.SCHED_BATCH
    assert os.sched_getscheduler(0) == os.SCHED_OTHER  # the test's own thread is untouched


def test_normal_scheduling_puts_a_batch_thread_back_to_the_normal_policy() -> None:
    assert _in_a_thread(batch_scheduling, normal_scheduling) == os.SCHED_OTHER


def test_normal_scheduling_leaves_a_normal_thread_as_it_is() -> None:
    assert _in_a_thread(normal_scheduling) == os.SCHED_OTHER


def test_normal_scheduling_leaves_an_idle_thread_as_it_is() -> None:
    """Only what supervisord gives is undone: a user who ran the agent as SCHED_IDLE keeps it."""

    def idle() -> None:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))

    assert _in_a_thread(idle, normal_scheduling) == os.SCHED_IDLE
