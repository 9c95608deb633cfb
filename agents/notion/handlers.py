"""Notion agent tools."""

from __future__ import annotations

from pydantic import Field, SecretStr

from agents import __version__
from agents.core.registry import HandlerRegistry
from agents.core.runtime import AgentSpec
from agents.core.settings import EnvLayers, SettingsModel

registry = HandlerRegistry("notion")


class NotionSettings(SettingsModel):
    """Upstream settings of the Notion agent."""

    token: SecretStr = Field(alias="NOTION_TOKEN")
    base_url: str | None = Field(default=None, alias="NOTION_BASE_URL")


def connect(layers: EnvLayers) -> NotionSettings:
    """Validate the Notion settings (the upstream client comes with the Notion handlers)."""
    return layers.model(NotionSettings)


SPEC = AgentSpec(name="notion", registry=registry, connect=connect, version=__version__)
