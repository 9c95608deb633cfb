"""The CPU scheduling policy of supervisord and of the agents it starts (Linux).

An agent writes one ``tool_call`` line per call to the pipe its supervisord reads. A process
woken by such a write may preempt the writer on its core, and supervisord's main loop takes
0.2-0.3 ms a wake-up: measured inside an agent, the line's ``write`` took a median of about
330 µs instead of 30 (docs/performance.md, "supervisord as a batch process"). Under
``SCHED_BATCH`` the kernel never lets a waking supervisord preempt a running process; it still
gets its fair share of the CPU and reads every line when it runs. Its children inherit the
policy, so each agent puts itself back to ``SCHED_OTHER`` when it starts, which needs no
privilege; the health listener and the periodic sync stay batch processes, as background work
should. Where the platform has no scheduling policies (macOS) both are no-ops.
"""

from __future__ import annotations

import contextlib
import os

__all__ = ["batch_scheduling", "normal_scheduling"]


def _set_policy(name: str, *, only_from: str | None = None) -> None:
    """Make the calling thread's policy ``name`` (with ``only_from``: only if it is that one
    now); a platform without it, or a refusal, leaves the thread as it was."""
    policy = getattr(os, name, None)
    source = getattr(os, only_from, None) if only_from is not None else None
    if policy is None or (only_from is not None and source is None):
        return
    with contextlib.suppress(OSError):
        current = os.sched_getscheduler(0)
        if current != policy and (source is None or current == source):
            os.sched_setscheduler(0, policy, os.sched_param(0))


def batch_scheduling() -> None:
    """Make the calling thread (and so the processes it starts) ``SCHED_BATCH``."""
    _set_policy("SCHED_BATCH")


def normal_scheduling() -> None:
    """Put the calling thread back to ``SCHED_OTHER`` if it inherited ``SCHED_BATCH`` from
    its supervisord. Call it before starting any thread: threads inherit it from their
    creator."""
    _set_policy("SCHED_OTHER", only_from="SCHED_BATCH")
