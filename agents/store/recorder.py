"""The durable recorder: one ``agent_output`` document per tool call, written before the call's
result goes back to the client. Outputs larger than ``CONTEXT_BLOB_THRESHOLD`` go to a blob."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import anyio
import anyio.to_thread

from agents.core.errors import AgentError
from agents.core.logs import get_logger
from agents.core.recorder import ToolCall
from agents.core.redact import mask
from agents.core.settings import EnvLayers
from agents.store.canonical import canonical, iso_of, ulid
from agents.store.config import StoreSettings, open_store
from agents.store.envelope import Envelope
from agents.store.group import GroupWriter
from agents.store.machine import record_agents
from agents.store.store import ContextStore, StoreBusy

__all__ = ["StoreRecorder", "open_store_recorder", "output_body"]

log = get_logger(__name__)

PREVIEW = 200


def output_body(call: ToolCall, store: ContextStore, threshold: int) -> dict[str, Any]:
    """The ``agent_output`` body of ``call``; a large output is written to a blob first."""
    body: dict[str, Any] = {
        "agent": call.agent,
        "handler": call.tool,
        "env": call.env,
        "status": call.status,
        "outcome": call.outcome,
        "started_at": iso_of(call.started_at),
        "duration_ms": call.duration_ms,
        "input": call.arguments,
        "error": call.error,
        "meta": call.meta,
    }
    if call.output is not None:
        output = mask(call.output)
        data = canonical(output)
        if len(data) > threshold:
            ref = store.blobs.put(data)
            body["output_ref"] = {"blob": ref, "bytes": len(data), "media_type": "application/json"}
            body["output_preview"] = data[:PREVIEW].decode("utf-8", errors="ignore")
        else:
            body["output"] = json.loads(data)  # plain JSON, as the store takes it
    return body


class StoreRecorder:
    """Writes each call of ``agent`` to ``store``; also keeps the agent's machine-state entry."""

    def __init__(
        self,
        store: ContextStore,
        agent: str,
        *,
        blob_threshold: int,
        state_interval: float,
        env: str | None = None,
        on_loop: bool = True,
    ) -> None:
        self.store = store
        self.on_loop = on_loop
        self.env = env
        self.agent = agent
        self.blob_threshold = blob_threshold
        self.state_interval = state_interval
        self._actor = f"agent:{agent}"
        self._group = GroupWriter(store, actor=self._actor)

    def write(self, call: ToolCall, *, wait: bool = True) -> Envelope:
        """Record ``call`` (blocking); return the stored revision.

        Raises:
            StoreBusy: ``wait`` is False and the write lock is held elsewhere.
        """
        body = output_body(call, self.store, self.blob_threshold)
        return self.store.add(
            f"agent_output:{ulid()}", "agent_output", body, actor=self._actor, wait=wait
        )

    async def record(self, call: ToolCall) -> None:
        """Record ``call``; returns once it is committed.

        Alone, a short write without fsync runs on the event loop when the lock is free at
        once (a hop to a worker thread costs about as much as the write). Concurrent calls
        (another record in flight), a blob, an fsync (``CONTEXT_RECORD_SYNCHRONOUS=FULL``) or
        a wait for the lock go to the group writer: one thread that commits everything
        waiting in one transaction, so N concurrent calls cost one commit, and each call
        returns only after its own record is durable.
        """
        large = self._large(call.output)
        if large:
            body = await anyio.to_thread.run_sync(
                output_body, call, self.store, self.blob_threshold
            )
        else:
            body = output_body(call, self.store, self.blob_threshold)
        doc_id = f"agent_output:{ulid()}"
        if self.on_loop and self._group.idle and not large:
            try:  # the body is built once, whichever way it is written
                self.store.add(doc_id, "agent_output", body, actor=self._actor, wait=False)
                return
            except StoreBusy:
                pass
        await self._group.submit((doc_id, "agent_output", body))

    def _large(self, output: Any) -> bool:
        if output is None or isinstance(output, bool | int | float):
            return False
        return len(repr(output)) > self.blob_threshold // 2

    async def run(self, status: Callable[[], dict[str, Any]]) -> None:
        """Every ``CONTEXT_STATE_INTERVAL`` seconds, write this agent's machine-state entry."""
        while True:
            try:
                await anyio.to_thread.run_sync(self._write_state, status())
            except AgentError as exc:  # the agent keeps serving; the log says why
                log.warning("machine_state_not_written", reason=str(exc))
            await anyio.sleep(self.state_interval)

    def _write_state(self, entry: dict[str, Any]) -> None:
        record_agents(
            self.store,
            {self.agent: entry},
            actor=f"agent:{self.agent}",
            heartbeat=self.state_interval,
            env=self.env,
        )

    async def aclose(self) -> None:
        """Stop the group writer and close the store connection."""
        self._group.close()
        self.store.close()


def open_store_recorder(layers: EnvLayers, agent: str) -> StoreRecorder | None:
    """The recorder for ``agent`` in ``layers``' environment, or None with CONTEXT_RECORD=false.

    Raises:
        ConfigError: A ``CONTEXT_*`` variable is invalid.
        StoreError: The store cannot be opened.
    """
    cfg = layers.model(StoreSettings)
    if not cfg.record:
        return None
    return StoreRecorder(
        open_store(layers, actor=f"agent:{agent}", recorder=True),
        agent,
        blob_threshold=cfg.blob_threshold,
        state_interval=cfg.state_interval,
        env=layers.env,
        on_loop=cfg.record_synchronous == "NORMAL",
    )
