"""supervisord as a quiet neighbour: ``python -m agents.supervisor.daemon -c <conf>`` is
``supervisord -c <conf>`` with two changes to when it runs, none to what it does.

- It is a batch process (``SCHED_BATCH``), so that its wake-up for an agent's log line never
  preempts the agent (:mod:`agents.core.scheduling`).
- Its main loop wakes at most once every :data:`PACE` (10 ms). An agent writes one
  ``tool_call`` line per call to the pipe supervisord reads; unpaced, supervisord ran its whole
  loop (every process's state, every dispatcher, about 50-80 µs of CPU here) once per line,
  on the core the next call needed. Paced, it reads everything written in the last 10 ms in
  one pass: 33 against 76 µs of supervisord's CPU per call, 85 wake-ups a second against
  one per line (docs/performance.md, "The tenth round").

What pacing does not change: a line is in the pipe the moment the agent has written it, so it
reaches the log even if the agent is killed right after; supervisord reads at most 10 ms
later. A pipe holds 64 KiB, so an agent writing more than about 6 MB of log a second would
wait for supervisord; an agent writes a few hundred bytes a call. Signals, process exits and
``supervisorctl`` are handled at most 10 ms later than they were.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from agents.core.scheduling import batch_scheduling

__all__ = ["PACE", "main", "paced"]

PACE = 0.01  # seconds between two wake-ups of supervisord's main loop, at least


def paced(poller: type[Any], pace: float = PACE) -> type[Any]:
    """A subclass of supervisord's ``poller`` class whose ``poll`` returns at most once per
    ``pace`` seconds: a call that comes sooner after the last return first sleeps the rest."""

    class PacedPoller(poller):  # type: ignore[misc]  # supervisor has no type hints
        clock: Callable[[], float] = staticmethod(time.monotonic)
        sleep: Callable[[float], None] = staticmethod(time.sleep)
        _next = 0.0

        def poll(self, timeout: float) -> Any:
            wait = self._next - self.clock()
            if wait > 0:
                self.sleep(wait)
            ready = super().poll(timeout)
            self._next = self.clock() + pace
            return ready

    PacedPoller.__name__ = PacedPoller.__qualname__ = f"Paced{poller.__name__}"
    return PacedPoller


def main(argv: list[str] | None = None) -> None:
    """Become a batch process, pace supervisord's poller, then run supervisord with ``argv``
    (it daemonizes itself)."""
    batch_scheduling()
    from supervisor import poller
    from supervisor.supervisord import main as supervisord

    # supervisord builds its poller from this name when it reads its options
    poller.Poller = paced(poller.Poller)
    supervisord(argv)


if __name__ == "__main__":
    main()
