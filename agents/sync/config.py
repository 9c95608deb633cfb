"""The sync settings of an environment (``CONTEXT_REMOTE``, ``SYNC_INTERVAL`` …) and opening
its store and remote from them."""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import Field

from agents.core.errors import ConfigError
from agents.core.settings import EnvLayers, SettingsModel
from agents.store.untrusted import DEFAULT_MAX_CLOCK_SKEW
from agents.sync.limits import DEFAULT_MAX_OBJECT_BYTES
from agents.sync.remote import Remote, redact_url
from agents.sync.urls import URL_FORMS, open_remote

__all__ = ["SyncSettings", "open_configured_remote", "remote_url"]


class SyncSettings(SettingsModel):
    """Where and how often the context store syncs (``environments/.env.<env>``)."""

    remote: str | None = Field(default=None, alias="CONTEXT_REMOTE")
    interval: float | None = Field(default=None, alias="SYNC_INTERVAL", ge=10)
    keep_snapshots: int = Field(default=10, alias="SYNC_KEEP_SNAPSHOTS", ge=1)
    max_object_bytes: int = Field(
        default=DEFAULT_MAX_OBJECT_BYTES, alias="SYNC_MAX_OBJECT_BYTES", ge=65_536
    )
    max_clock_skew: float = Field(default=DEFAULT_MAX_CLOCK_SKEW, alias="SYNC_MAX_CLOCK_SKEW", ge=1)


def remote_url(layers: EnvLayers, override: str | None = None) -> str:
    """The remote URL: ``override`` (``--remote``), else ``CONTEXT_REMOTE``.

    Raises:
        ConfigError: None is set, or a URL with a password sits in the committed file.
    """
    if override:
        return override
    url = layers.model(SyncSettings).remote
    if not url:
        raise ConfigError(
            f"CONTEXT_REMOTE is not set: add it to {layers.rel(layers.public_file)} "
            f"(or, with a password in it, {layers.rel(layers.secrets_file)}), or pass "
            f"--remote URL; forms: {URL_FORMS}"
        )
    try:
        has_password = bool(urlsplit(url).password)
    except ValueError:
        has_password = False
    if has_password and layers.where("CONTEXT_REMOTE") == layers.rel(layers.public_file):
        raise ConfigError(
            f"CONTEXT_REMOTE ({redact_url(url)}) holds a password but is set in "
            f"{layers.rel(layers.public_file)}, which is committed: move that line to "
            f"{layers.rel(layers.secrets_file)}"
        )
    return url


def open_configured_remote(layers: EnvLayers, override: str | None = None) -> Remote:
    """Open the environment's remote (secrets such as the Azure connection string are read
    from its layers, the secrets file included).

    Raises:
        ConfigError: No remote configured, or an invalid URL.
        RemoteError: The remote cannot be reached.
    """
    settings = layers.model(SyncSettings)
    remote = open_remote(remote_url(layers, override), environ=layers.values)
    remote.max_bytes = settings.max_object_bytes
    remote.max_skew = settings.max_clock_skew
    return remote
