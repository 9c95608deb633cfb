"""supervisord as a batch process: ``python -m agents.supervisor.daemon -c <conf>`` is
``supervisord -c <conf>`` under ``SCHED_BATCH``, so that its wake-up for an agent's log line
never preempts the agent (:mod:`agents.core.scheduling`)."""

from __future__ import annotations

from agents.core.scheduling import batch_scheduling

__all__ = ["main"]


def main(argv: list[str] | None = None) -> None:
    """Become a batch process, then run supervisord with ``argv`` (it daemonizes itself)."""
    batch_scheduling()
    from supervisor.supervisord import main as supervisord

    supervisord(argv)


if __name__ == "__main__":
    main()
