"""The recorder seam: every tool call passes through one ``Recorder``.

The context store provides the durable recorder (one ``agent_output`` document per call,
``agents.store.recorder``); :class:`NullRecorder` records nothing (``CONTEXT_RECORD=false``,
and in-memory unit tests).
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

__all__ = [
    "NullRecorder",
    "Outcome",
    "Recorder",
    "ToolCall",
    "annotate_call",
    "call_annotations",
]

Outcome = Literal["ok", "error", "invalid_arguments", "crash"]


@dataclass
class ToolCall:
    """What the recorder receives for one tool call, after it finished."""

    agent: str
    env: str
    tool: str
    arguments: dict[str, Any]
    outcome: Outcome
    duration_ms: float
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    output: Any = None
    error: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> str:
        """``ok`` or ``error`` (invalid arguments and crashes are errors too)."""
        return "ok" if self.outcome == "ok" else "error"


_CALL_META: ContextVar[dict[str, Any] | None] = ContextVar("agents_call_meta", default=None)


def call_annotations() -> ContextVar[dict[str, Any] | None]:
    """The context variable holding the current call's annotations (set by the server)."""
    return _CALL_META


def annotate_call(**fields: Any) -> None:
    """Attach fields to the record of the tool call being handled, e.g.
    ``annotate_call(write=True, target="user:alice@contoso.com")``. Values must be safe to
    store (no secrets); outside a tool call this does nothing."""
    meta = _CALL_META.get()
    if meta is not None:
        meta.update(fields)


class Recorder(Protocol):
    """Receives every tool call; ``record`` returns once the call is durable."""

    async def record(self, call: ToolCall) -> None:
        """Persist ``call``."""

    async def run(self, status: Callable[[], dict[str, Any]]) -> None:
        """Background duty while the agent serves (the store writes this agent's entry of the
        machine state from ``status()`` periodically); cancelled at shutdown."""

    async def aclose(self) -> None:
        """Release resources."""


class NullRecorder:
    """Records nothing: the seam's default when no context store is wired."""

    async def record(self, call: ToolCall) -> None:
        """Drop ``call``."""

    async def run(self, status: Callable[[], dict[str, Any]]) -> None:
        """Nothing to do."""

    async def aclose(self) -> None:
        """Nothing to release."""
