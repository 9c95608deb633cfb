"""The supervised ``sync`` program's loop: sync, then wait for the next reason to sync.

It syncs every interval. Where the remote has a feed of other machines' pushes
(PostgreSQL's ``LISTEN``/``NOTIFY``), it also syncs as soon as one arrives, so a change made
on another machine is here within about a second; the interval stays as the fallback. A
failed run backs off (doubling, up to an hour) and any error is logged, never fatal: the
program only ends on a stop request.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from agents.core.logs import get_logger
from agents.sync.engine import SyncReport
from agents.sync.remote import Watch

__all__ = ["MAX_BACKOFF", "run_loop"]

MAX_BACKOFF = 3600.0
SLICE = 1.0  # the longest a wait blocks before checking for a stop request

log = get_logger("agents.sync")


def _done(report: SyncReport, reason: str) -> None:
    p, s = report.pull, report.push
    log.info(
        "sync_done",
        reason=reason,
        pulled=p.changed if p else 0,
        conflicts=len(p.conflicts) if p else 0,
        pushed=s.changed if s and s.pushed else 0,
        duration_ms=round(report.duration_ms, 1),
    )


def _wait(stop: threading.Event, watch: Watch | None, seconds: float) -> bool:
    """Wait up to ``seconds``; True when ``watch`` reported another machine's push."""
    deadline = time.monotonic() + seconds
    while not stop.is_set():
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        if watch is None:
            stop.wait(min(left, SLICE))
        elif watch.wait(min(left, SLICE)):
            return True
    return False


def run_loop(
    sync_once: Callable[[], SyncReport],
    *,
    interval: float,
    stop: threading.Event,
    watch: Callable[[], Watch | None] = lambda: None,
) -> None:
    """Call ``sync_once`` now, then whenever ``watch()``'s feed wakes or ``interval`` seconds
    pass, until ``stop`` is set. ``watch`` is called once, after the first successful run,
    and again after a failure made it unusable."""
    failures = 0
    feed: Watch | None = None
    reason = "start"
    log.info("sync_loop_started", interval=interval)
    try:
        while not stop.is_set():
            try:
                _done(sync_once(), reason)
                failures = 0
                if feed is None:
                    feed = watch()
                    if feed is not None:
                        log.info("sync_watch_started")
            except Exception as exc:
                failures += 1
                log.warning(
                    "sync_failed",
                    reason=str(exc) or type(exc).__name__,
                    error=type(exc).__name__,
                    failures=failures,
                )
            if failures:
                _wait(stop, None, min(interval * 2 ** min(failures, 4), MAX_BACKOFF))
                reason = "retry"
            else:
                reason = "push elsewhere" if _wait(stop, feed, interval) else "interval"
    finally:
        if feed is not None:
            feed.close()
        log.info("sync_loop_stopped")
