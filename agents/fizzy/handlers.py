"""Fizzy agent tools."""

from __future__ import annotations

from pydantic import Field, SecretStr

from agents import __version__
from agents.core.registry import HandlerRegistry
from agents.core.runtime import AgentSpec
from agents.core.settings import EnvLayers, SettingsModel

registry = HandlerRegistry("fizzy")


class FizzySettings(SettingsModel):
    """Upstream settings of the Fizzy agent."""

    token: SecretStr = Field(alias="FIZZY_TOKEN")
    url: str = Field(default="https://app.fizzy.do", alias="FIZZY_URL")
    account: str | None = Field(default=None, alias="FIZZY_ACCOUNT")


def connect(layers: EnvLayers) -> FizzySettings:
    """Validate the Fizzy settings (the upstream client comes with the Fizzy handlers)."""
    return layers.model(FizzySettings)


SPEC = AgentSpec(name="fizzy", registry=registry, connect=connect, version=__version__)
