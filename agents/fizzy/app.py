"""The Fizzy agent's registry, settings, ``connect`` and the parameter types its tools share.

The tools live in :mod:`agents.fizzy.projects`, :mod:`agents.fizzy.tasks` and
:mod:`agents.fizzy.collaboration`; :mod:`agents.fizzy.tools` declares them.
"""

from __future__ import annotations

from typing import Annotated, Any, cast
from urllib.parse import urlsplit

from mcp.server.mcpserver import Context
from pydantic import Field, SecretStr, field_validator

from agents.core.errors import InputError
from agents.core.net import is_loopback
from agents.core.registry import ToolRegistry
from agents.core.runtime import runtime_of
from agents.core.settings import EnvLayers, SettingsModel
from agents.fizzy.client import FizzyClient, normalize_slug

registry = ToolRegistry("fizzy")

Ctx = Context[Any, Any]
ID_PATTERN = r"^[A-Za-z0-9_-]+$"
ProjectId = Annotated[
    str, Field(pattern=ID_PATTERN, description="Project (Fizzy board) id, as list_projects shows")
]
IdList = list[Annotated[str, Field(pattern=ID_PATTERN)]] | None
UserId = Annotated[str, Field(pattern=ID_PATTERN, description="User id, as list_members shows")]
TaskNumber = Annotated[
    int, Field(ge=1, description="Task number, as Fizzy shows it (#42); not the task's id")
]
Limit = Annotated[
    int,
    Field(ge=1, le=500, description="Return at most this many items; more pages are fetched"),
]
PageToken = Annotated[
    str | None,
    Field(description="next_page_token from a previous call of this tool, to continue the list"),
]
AccountSlug = Annotated[
    str | None,
    Field(description="Fizzy account slug (digits); default: FIZZY_ACCOUNT or your first account"),
]


class FizzySettings(SettingsModel):
    """Upstream settings of the Fizzy agent."""

    token: SecretStr = Field(alias="FIZZY_TOKEN")
    url: str = Field(default="https://app.fizzy.do", alias="FIZZY_URL")
    account: str | None = Field(default=None, alias="FIZZY_ACCOUNT")
    timeout_seconds: float = Field(default=30.0, gt=0, le=300, alias="FIZZY_TIMEOUT_SECONDS")

    @field_validator("token")
    @classmethod
    def _printable(cls, value: SecretStr) -> SecretStr:
        token = value.get_secret_value()
        if not (token.isascii() and token.isprintable()) or " " in token:
            raise ValueError(
                "the token holds spaces or other characters no token has; paste it again"
            )
        return value

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.startswith(("https://", "http://")) or "?" in value or "#" in value:
            raise ValueError("use the Fizzy origin, e.g. https://app.fizzy.do")
        if value.startswith("http://") and not is_loopback(urlsplit(value).hostname or ""):
            raise ValueError(
                "http:// would send FIZZY_TOKEN in cleartext: use https:// (plain http is "
                "accepted only for a loopback host: localhost, 127.0.0.1, ::1)"
            )
        return value

    @field_validator("account")
    @classmethod
    def _slug(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return normalize_slug(value, name="the slug")
        except InputError as exc:
            raise ValueError(str(exc)) from None


def connect(layers: EnvLayers) -> FizzyClient:
    """Validate the Fizzy settings and build the client (no network: the account slug is
    looked up on first use when FIZZY_ACCOUNT is empty)."""
    settings = layers.model(FizzySettings)
    return FizzyClient(
        settings.token.get_secret_value(),
        settings.url,
        settings.account,
        token_home=layers.home_of(FizzySettings, "FIZZY_TOKEN"),
        timeout=settings.timeout_seconds,
    )


def fizzy(ctx: Ctx) -> FizzyClient:
    """The Fizzy client of the agent answering ``ctx``."""
    return cast(FizzyClient, runtime_of(ctx).require_client())
