"""The Fizzy agent's tools, in the order ``tools/list`` shows them, and its ``SPEC``."""

from __future__ import annotations

from agents import __version__
from agents.core.runtime import AgentSpec
from agents.fizzy import collaboration, projects, tasks
from agents.fizzy.app import connect, registry

__all__ = ["SPEC"]


SPEC = AgentSpec(
    name="fizzy",
    registry=registry.declare(projects, tasks, collaboration),
    connect=connect,
    version=__version__,
    instructions=(
        "Fizzy (37signals' kanban tool): projects are Fizzy boards, tasks are cards, addressed "
        "by their number (#42). A task is in a column of its project, in 'Maybe?' (awaiting "
        "triage), 'Not Now' (postponed) or 'Done' (closed)."
    ),
)
