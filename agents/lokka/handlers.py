"""Lokka agent tools."""

from __future__ import annotations

from pydantic import Field, SecretStr

from agents import __version__
from agents.core.registry import HandlerRegistry
from agents.core.runtime import AgentSpec
from agents.core.settings import EnvLayers, SettingsModel

registry = HandlerRegistry("lokka")


class LokkaSettings(SettingsModel):
    """Upstream settings of the Lokka agent."""

    tenant_id: str = Field(alias="AZURE_TENANT_ID")
    client_id: str = Field(alias="AZURE_CLIENT_ID")
    client_secret: SecretStr | None = Field(default=None, alias="AZURE_CLIENT_SECRET")
    certificate_path: str | None = Field(default=None, alias="AZURE_CLIENT_CERTIFICATE_PATH")


def connect(layers: EnvLayers) -> LokkaSettings:
    """Validate the Lokka settings (the Graph client comes with the Lokka handlers)."""
    return layers.model(LokkaSettings)


SPEC = AgentSpec(name="lokka", registry=registry, connect=connect, version=__version__)
