"""Toolsets: an agent's tools in named groups, so that a client lists only what it uses.

Every tool definition costs a client's model context on every turn. An agent declares its
toolsets in its ``tools`` module; ``<AGENT>_TOOLSETS`` in the env file picks the ones served
(default: those marked ``default``, the core operations plus search and read; ``all`` for
every one). The ``toolsets`` tool lists the others and enables them on demand.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from agents.core.errors import ConfigError
from agents.core.registry import ToolRegistry
from agents.core.settings import EnvLayers

__all__ = ["Toolset", "check_toolsets", "selected_toolsets", "toolsets_var"]


@dataclass(frozen=True)
class Toolset:
    """A named group of one agent's tools."""

    name: str
    description: str
    tools: tuple[str, ...]
    default: bool = False


def toolsets_var(agent: str) -> str:
    """The env variable choosing ``agent``'s toolsets."""
    return f"{agent.upper()}_TOOLSETS"


def check_toolsets(registry: ToolRegistry, toolsets: Iterable[Toolset]) -> None:
    """Every tool of ``registry`` is in exactly one toolset, and every named tool exists.

    Raises:
        TypeError: A tool is in no toolset or in two, or a toolset names an unknown tool.
    """
    seen: dict[str, str] = {}
    for ts in toolsets:
        for name in ts.tools:
            if name not in registry:
                raise TypeError(f"toolset {ts.name!r} of {registry.agent!r}: no tool {name!r}")
            if name in seen:
                raise TypeError(f"tool {name!r} is in toolsets {seen[name]!r} and {ts.name!r}")
            seen[name] = ts.name
    missing = [t.name for t in registry if t.name not in seen]
    if missing:
        raise TypeError(f"agent {registry.agent!r}: tools {missing} are in no toolset")


def selected_toolsets(agent: str, toolsets: tuple[Toolset, ...], layers: EnvLayers) -> set[str]:
    """The toolsets ``<AGENT>_TOOLSETS`` names (comma-separated; ``all``; ``default``), or the
    default ones when it is unset.

    Raises:
        ConfigError: It names a toolset the agent does not have; says which file and lists
            the valid names.
    """
    names = {ts.name for ts in toolsets}
    default = {ts.name for ts in toolsets if ts.default}
    var = toolsets_var(agent)
    raw = (layers.get(var) or "").strip()
    if not raw:
        return default
    chosen: set[str] = set()
    for item in (part.strip().lower() for part in raw.split(",")):
        if item == "all":
            chosen |= names
        elif item == "default":
            chosen |= default
        elif item in names:
            chosen.add(item)
        elif item:
            raise ConfigError(
                f"{var}={raw!r} in {layers.where(var)}: {agent} has no toolset {item!r}; "
                f"choose from {', '.join(sorted(names))}, 'default' or 'all'"
            )
    return chosen
