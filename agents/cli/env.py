"""What every CLI verb about an environment needs: its settings, paths and agent ports."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from agents.catalog import CatalogEntry
from agents.core.settings import CoreSettings, EnvLayers, find_root, load_layers
from agents.supervisor.control import Supervisor
from agents.supervisor.render import EnvPaths, agent_ports

__all__ = ["EnvContext", "load_env"]


@dataclass
class EnvContext:
    """One environment, loaded and validated."""

    root: Path
    layers: EnvLayers
    core: CoreSettings
    paths: EnvPaths
    ports: list[tuple[CatalogEntry, int]] = field(default_factory=list)

    @property
    def env(self) -> str:
        """The environment name."""
        return self.layers.env

    @property
    def supervisor(self) -> Supervisor:
        """This environment's supervisord."""
        return Supervisor(self.paths)

    def select(self, names: list[str] | None) -> list[tuple[CatalogEntry, int]]:
        """The (entry, port) pairs of ``names``, or all agents."""
        if not names:
            return self.ports
        from agents.catalog import by_name

        wanted = [by_name(n).name for n in names]
        return [(e, p) for e, p in self.ports if e.name in wanted]


def load_env(env: str) -> EnvContext:
    """Load ``env`` from the project root.

    Raises:
        ConfigError: Unknown environment or invalid settings.
    """
    root = find_root()
    layers = load_layers(root, env)
    core = layers.model(CoreSettings)
    return EnvContext(root, layers, core, EnvPaths(root, env), agent_ports(layers, core))
