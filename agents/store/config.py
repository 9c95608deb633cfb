"""Where an environment's store lives and how it is opened: the ``CONTEXT_*`` settings."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from agents.core.settings import EnvLayers, SettingsModel
from agents.store.location import store_dir
from agents.store.store import ContextStore

__all__ = ["StoreSettings", "open_store", "store_dir"]


class StoreSettings(SettingsModel):
    """The context store's settings (``environments/.env.<env>``)."""

    dir: str | None = Field(default=None, alias="CONTEXT_DIR")
    synchronous: Literal["FULL", "NORMAL"] = Field(default="FULL", alias="CONTEXT_SYNCHRONOUS")
    record_synchronous: Literal["FULL", "NORMAL"] = Field(
        default="NORMAL", alias="CONTEXT_RECORD_SYNCHRONOUS"
    )
    busy_timeout: float = Field(default=10.0, alias="CONTEXT_BUSY_TIMEOUT", gt=0, le=600)
    blob_threshold: int = Field(default=16384, alias="CONTEXT_BLOB_THRESHOLD", ge=256)
    record: bool = Field(default=True, alias="CONTEXT_RECORD")
    state_interval: float = Field(default=60.0, alias="CONTEXT_STATE_INTERVAL", gt=0)


def open_store(layers: EnvLayers, actor: str = "cli", *, recorder: bool = False) -> ContextStore:
    """Open the store of ``layers``' environment as ``actor``; an agent's ``recorder``
    connection uses ``CONTEXT_RECORD_SYNCHRONOUS``, every other ``CONTEXT_SYNCHRONOUS``.

    Raises:
        ConfigError: A ``CONTEXT_*`` variable is invalid.
        StoreError: The store cannot be opened (corrupt, locked, newer format…).
    """
    cfg = layers.model(StoreSettings)
    return ContextStore(
        store_dir(layers),
        actor=actor,
        synchronous=cfg.record_synchronous if recorder else cfg.synchronous,
        busy_timeout=cfg.busy_timeout,
    )
