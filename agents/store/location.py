"""Where an environment's store lives (``CONTEXT_DIR``), without importing the store itself."""

from __future__ import annotations

from pathlib import Path

from agents.core.layers import EnvLayers

__all__ = ["store_dir"]


def store_dir(layers: EnvLayers) -> Path:
    """``CONTEXT_DIR`` (relative to the project root; ``{env}`` is replaced), else
    ``context/<env>``."""
    raw = layers.get("CONTEXT_DIR") or ""
    if not raw:
        return layers.root / "context" / layers.env
    path = Path(raw.replace("{env}", layers.env)).expanduser()
    return path if path.is_absolute() else layers.root / path
