"""Settings: layered env files validated with pydantic.

Precedence, lowest to highest (the one place it is defined):

1. ``environments/.env.<env>``          committed, never secrets;
2. ``environments/.env.<env>.secrets``  gitignored, must be mode 0600;
3. the process environment.

Every error names the variable and the file it came from, or the file it belongs in.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from dotenv import dotenv_values
from pydantic import BaseModel, ConfigDict, Field

from agents.core.files import write_private
from agents.core.layers import (
    ENV_NAME,
    PROCESS_ENV,
    EnvLayers,
    check_secret_mode,
    find_root,
    load_layers,
)

__all__ = [
    "ENV_NAME",
    "PROCESS_ENV",
    "CoreSettings",
    "EnvLayers",
    "SettingsModel",
    "ensure_tokens",
    "find_root",
    "load_layers",
]


class SettingsModel(BaseModel):
    """Base for settings models: fields are aliased to their environment variable names."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore", frozen=True)


class CoreSettings(SettingsModel):
    """What every process of an environment shares."""

    port_base: int = Field(alias="AGENTS_PORT_BASE", ge=1024, le=65000)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", alias="LOG_LEVEL"
    )
    generate_tokens: bool = Field(default=False, alias="AGENTS_GENERATE_TOKENS")
    ready_timeout: float = Field(default=30.0, alias="AGENTS_READY_TIMEOUT", gt=0)
    health_misses: int = Field(default=2, alias="HEALTH_MISSES", ge=1)
    health_grace: float = Field(default=10.0, alias="HEALTH_GRACE_SECONDS", ge=0)
    crash_loop_exits: int = Field(default=5, alias="CRASH_LOOP_EXITS", ge=2)
    crash_loop_window: float = Field(default=300.0, alias="CRASH_LOOP_WINDOW_SECONDS", gt=0)


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    fd = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def ensure_tokens(layers: EnvLayers, names: list[str]) -> list[str]:
    """Generate the bearer tokens ``names`` that the secrets file lacks; return the new names.

    Safe when several processes start at once: the file is rewritten whole under a lock,
    through :func:`agents.core.files.write_private` (0600 from the start, O_EXCL|O_NOFOLLOW
    temp file, atomic rename).
    """
    path = layers.secrets_file
    with _locked(path.parent):
        existing = dotenv_values(path) if path.exists() else {}
        missing = [n for n in names if not existing.get(n) and not os.environ.get(n)]
        if not missing:
            return []
        if path.exists():
            check_secret_mode(path, layers.rel(path))
            text = path.read_text()
        else:
            text = "# Secrets of this environment. Gitignored; keep at mode 0600.\n"
        if text and not text.endswith("\n"):
            text += "\n"
        text += "".join(f"{n}={secrets.token_urlsafe(32)}\n" for n in missing)
        write_private(path, text)
    for name, value in (dotenv_values(path) or {}).items():
        if name in missing and value is not None:
            layers.values[name] = value
            layers.origins[name] = layers.rel(path)
    return missing
