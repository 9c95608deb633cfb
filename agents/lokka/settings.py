"""Lokka settings: the standard AZURE_* names for identity, LOKKA_* for the agent's own knobs."""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator

from agents.core.errors import ConfigError
from agents.core.settings import EnvLayers, SettingsModel

__all__ = ["DEFAULT_PROTECTED", "AuthMode", "LokkaSettings", "load_settings"]

AuthMode = Literal[
    "auto", "certificate", "client_secret", "managed_identity", "workload_identity", "device_code"
]

# Role template ids of Global Administrator and Privileged Role Administrator.
DEFAULT_PROTECTED = "62e90394-69f5-4237-9190-012177145e10,e8611ab8-c189-46e8-94e1-60213ab1f814"
LOOPBACK = {"localhost", "127.0.0.1", "::1"}


def _split(value: object) -> object:
    if isinstance(value, str):
        return tuple(p.strip() for p in value.split(",") if p.strip())
    return value


class LokkaSettings(SettingsModel):
    """Upstream settings of the Lokka agent (documented in environments/.env.template)."""

    tenant_id: str | None = Field(default=None, alias="AZURE_TENANT_ID")
    client_id: str | None = Field(default=None, alias="AZURE_CLIENT_ID")
    client_secret: SecretStr | None = Field(default=None, alias="AZURE_CLIENT_SECRET")
    certificate_path: str | None = Field(default=None, alias="AZURE_CLIENT_CERTIFICATE_PATH")
    certificate_password: SecretStr | None = Field(
        default=None, alias="AZURE_CLIENT_CERTIFICATE_PASSWORD"
    )
    federated_token_file: str | None = Field(default=None, alias="AZURE_FEDERATED_TOKEN_FILE")
    authority_host: str = Field(
        default="https://login.microsoftonline.com", alias="AZURE_AUTHORITY_HOST"
    )
    auth_mode: AuthMode = Field(default="auto", alias="LOKKA_AUTH_MODE")
    token_cache: str = Field(default="lokka-agent", alias="LOKKA_TOKEN_CACHE")
    token_cache_unencrypted: bool = Field(default=False, alias="LOKKA_TOKEN_CACHE_UNENCRYPTED")
    graph_url: str = Field(default="https://graph.microsoft.com", alias="LOKKA_GRAPH_URL")
    arm_url: str = Field(default="https://management.azure.com", alias="LOKKA_ARM_URL")
    graph_version: Literal["v1.0", "beta"] = Field(default="v1.0", alias="LOKKA_GRAPH_VERSION")
    read_only: bool = Field(default=False, alias="LOKKA_READ_ONLY")
    protected: tuple[str, ...] = Field(
        default=tuple(DEFAULT_PROTECTED.split(",")), alias="LOKKA_PROTECTED"
    )
    max_items: int = Field(default=500, ge=1, le=5000, alias="LOKKA_MAX_ITEMS")
    max_retries: int = Field(default=3, ge=0, le=10, alias="LOKKA_MAX_RETRIES")
    timeout: float = Field(default=30.0, gt=0, alias="LOKKA_TIMEOUT")
    ca_bundle: str | None = Field(default=None, alias="LOKKA_CA_BUNDLE")

    _split_protected = field_validator("protected", mode="before")(_split)

    @field_validator("graph_url", "arm_url", "authority_host")
    @classmethod
    def _base_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an absolute http(s) URL such as https://graph.microsoft.com")
        if parts.scheme == "http" and parts.hostname not in LOOPBACK:
            raise ValueError("plain http is allowed only for a loopback test server; use https")
        if parts.path.strip("/") or parts.query:
            raise ValueError("give the origin only (no path such as /v1.0, no query)")
        return value.rstrip("/")

    @property
    def mode(self) -> AuthMode:
        """The auth mode in force: LOKKA_AUTH_MODE, or the one the credentials set imply."""
        if self.auth_mode != "auto":
            return self.auth_mode
        if self.certificate_path:
            return "certificate"
        if self.client_secret:
            return "client_secret"
        if self.federated_token_file:
            return "workload_identity"
        return "auto"

    @property
    def actor(self) -> str:
        """Who the agent acts as, for the audit record."""
        return f"{self.mode}:{self.client_id or 'system-assigned'}@{self.tenant_id or 'home'}"


def _require(layers: EnvLayers, s: LokkaSettings, mode: str, *names: str) -> None:
    values = {
        "AZURE_TENANT_ID": s.tenant_id,
        "AZURE_CLIENT_ID": s.client_id,
        "AZURE_CLIENT_SECRET": s.client_secret,
        "AZURE_CLIENT_CERTIFICATE_PATH": s.certificate_path,
        "AZURE_FEDERATED_TOKEN_FILE": s.federated_token_file,
    }
    missing = [n for n in names if not values[n]]
    if missing:
        raise ConfigError(
            "; ".join(
                f"{n} missing for LOKKA_AUTH_MODE={mode}: "
                f"set it in {layers.home_of(LokkaSettings, n)}"
                for n in missing
            )
        )


def load_settings(layers: EnvLayers) -> LokkaSettings:
    """Validate the settings and check that the chosen auth mode has what it needs.

    Raises:
        ConfigError: A variable is invalid, or the auth mode lacks one (named, with its file).
    """
    s = layers.model(LokkaSettings)
    mode = s.mode
    if mode == "auto":
        raise ConfigError(
            "no Azure credential configured: set AZURE_TENANT_ID and AZURE_CLIENT_ID in "
            f"{layers.rel(layers.public_file)} plus AZURE_CLIENT_CERTIFICATE_PATH (or "
            f"AZURE_CLIENT_SECRET in {layers.rel(layers.secrets_file)}), or choose "
            "LOKKA_AUTH_MODE=managed_identity, workload_identity or device_code"
        )
    if mode == "certificate":
        _require(
            layers, s, mode, "AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_CERTIFICATE_PATH"
        )
    elif mode == "client_secret":
        _require(layers, s, mode, "AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET")
    elif mode == "workload_identity":
        _require(
            layers, s, mode, "AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_FEDERATED_TOKEN_FILE"
        )
    elif mode == "device_code":
        _require(layers, s, mode, "AZURE_TENANT_ID", "AZURE_CLIENT_ID")
    if mode != "managed_identity" and s.tenant_id in ("common", "organizations", "consumers"):
        raise ConfigError(
            f"AZURE_TENANT_ID={s.tenant_id!r} in {layers.where('AZURE_TENANT_ID')}: pin one tenant "
            "(its id or domain); the agent never lets a call choose the tenant"
        )
    return s
