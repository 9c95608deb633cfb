"""The Notion agent's registry, settings and ``connect``; :mod:`agents.notion.tools` declares
its tools (pages in :mod:`agents.notion.page_tools`, databases and documents in
:mod:`agents.notion.data_tools`)."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator

from agents.core.errors import ConfigError
from agents.core.registry import ToolRegistry
from agents.core.settings import EnvLayers, SettingsModel
from agents.notion.client import Notion, build_client
from agents.notion.imports import ImportPolicy
from agents.store.config import store_dir

__all__ = ["NotionSettings", "connect", "registry"]

registry = ToolRegistry("notion")


class NotionSettings(SettingsModel):
    """Upstream settings of the Notion agent."""

    token: SecretStr = Field(alias="NOTION_TOKEN")
    base_url: str = Field(default="https://api.notion.com", alias="NOTION_BASE_URL")
    timeout_seconds: float = Field(default=30.0, alias="NOTION_TIMEOUT_SECONDS", gt=0, le=300)
    requests_per_second: float = Field(
        default=3.0, alias="NOTION_REQUESTS_PER_SECOND", gt=0, le=100
    )
    max_retries: int = Field(default=3, alias="NOTION_MAX_RETRIES", ge=0, le=10)
    max_wait_seconds: float = Field(default=30.0, alias="NOTION_MAX_WAIT_SECONDS", ge=0, le=600)
    import_roots: str = Field(default="", alias="NOTION_IMPORT_ROOTS")

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("use an http:// or https:// URL such as https://api.notion.com")
        return value.rstrip("/")


def connect(layers: EnvLayers) -> Notion:
    """Validate the Notion settings and build the SDK client (no network)."""
    s = layers.model(NotionSettings)
    never = [layers.root / "environments", layers.root / "context"]
    try:
        never.append(store_dir(layers))  # CONTEXT_DIR may put the store (and vault) elsewhere
    except ConfigError:
        pass  # the context agent reports a bad CONTEXT_* setting; context/ is refused anyway
    imports = ImportPolicy.from_setting(
        s.import_roots,
        never=tuple(never),
        home=layers.home_of(NotionSettings, "NOTION_IMPORT_ROOTS"),
    )
    return build_client(
        token=s.token.get_secret_value(),
        base_url=s.base_url,
        timeout=s.timeout_seconds,
        rate=s.requests_per_second,
        max_retries=s.max_retries,
        max_wait=s.max_wait_seconds,
        token_home=layers.home_of(NotionSettings, "NOTION_TOKEN"),
        imports=imports,
    )
