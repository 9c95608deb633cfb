"""The agents of this repository: one source for the supervisor, the CLI and client configs."""

from __future__ import annotations

from dataclasses import dataclass

from agents.core.errors import ConfigError
from agents.core.settings import CoreSettings, EnvLayers, ensure_tokens

__all__ = ["AGENTS", "CatalogEntry", "by_name", "port_of", "resolve_token", "resolve_tokens"]


@dataclass(frozen=True)
class CatalogEntry:
    """One supervised program: name, module, port offset and what it is for."""

    name: str
    offset: int
    summary: str

    @property
    def module(self) -> str:
        """The module run with ``python -m``."""
        return f"agents.{self.name}"

    @property
    def token_var(self) -> str:
        """The secrets-file variable holding this agent's bearer token."""
        return f"{self.name.upper()}_AGENT_TOKEN"

    @property
    def port_var(self) -> str:
        """The variable that overrides this agent's port."""
        return f"{self.name.upper()}_PORT"

    @property
    def server_name(self) -> str:
        """The MCP server name clients register (``mcp__<server>__<tool>``)."""
        return f"{self.name}-agent"


AGENTS: tuple[CatalogEntry, ...] = (
    CatalogEntry("notion", 1, "Notion pages, databases and document import"),
    CatalogEntry("fizzy", 2, "Fizzy boards, cards and collaboration"),
    CatalogEntry("lokka", 3, "Microsoft 365 and Azure administration"),
    CatalogEntry("context", 4, "Shared context store: documents, sessions, agent outputs"),
)


def by_name(name: str) -> CatalogEntry:
    """The catalog entry called ``name``.

    Raises:
        ConfigError: No agent has that name.
    """
    for entry in AGENTS:
        if entry.name == name:
            return entry
    raise ConfigError(f"unknown agent {name!r}: choose one of {', '.join(a.name for a in AGENTS)}")


def port_of(entry: CatalogEntry, layers: EnvLayers, core: CoreSettings) -> int:
    """The agent's port: ``<NAME>_PORT`` if set, else ``AGENTS_PORT_BASE`` + its offset."""
    raw = layers.get(entry.port_var)
    if not raw:
        return core.port_base + entry.offset
    if not raw.isdigit() or not 1024 <= int(raw) <= 65535:
        raise ConfigError(
            f"{entry.port_var}={raw!r} invalid in {layers.where(entry.port_var)}: "
            "use a port number between 1024 and 65535"
        )
    return int(raw)


def resolve_token(layers: EnvLayers, core: CoreSettings, agent: str) -> str:
    """The bearer token of ``agent``, generated first if the environment allows it.

    Raises:
        ConfigError: No token and the environment does not generate tokens.
    """
    var = by_name(agent).token_var
    token = layers.get(var)
    if not token and core.generate_tokens:
        ensure_tokens(layers, [a.token_var for a in AGENTS])
        token = layers.get(var)
    if not token:
        raise ConfigError(
            f"{var} missing: set it in {layers.rel(layers.secrets_file)} "
            f"(AGENTS_GENERATE_TOKENS is off for {layers.env!r}, so no token is generated)"
        )
    return token


def resolve_tokens(layers: EnvLayers, core: CoreSettings) -> dict[str, str]:
    """Every agent's bearer token by agent name (generated first where allowed).

    Raises:
        ConfigError: Names every missing token at once, not one per attempt.
    """
    tokens: dict[str, str] = {}
    missing = []
    for entry in AGENTS:
        try:
            tokens[entry.name] = resolve_token(layers, core, entry.name)
        except ConfigError:
            missing.append(entry.token_var)
    if missing:
        raise ConfigError(
            f"{', '.join(missing)} missing: set {'it' if len(missing) == 1 else 'them'} in "
            f"{layers.rel(layers.secrets_file)} (AGENTS_GENERATE_TOKENS is off for "
            f"{layers.env!r}, so no token is generated)"
        )
    return tokens
