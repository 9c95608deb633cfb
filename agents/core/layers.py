"""The environment's variable layers, without pydantic: what a process that must start fast
(a Claude Code hook) needs to find the project root and read ``environments/.env.<env>``.

Precedence, lowest to highest (the one place it is defined):

1. ``environments/.env.<env>``          committed, never secrets;
2. ``environments/.env.<env>.secrets``  gitignored, must be mode 0600;
3. the process environment.

:mod:`agents.core.settings` validates them with pydantic (imported only when a model is).
"""

from __future__ import annotations

import os
import re
import stat
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from agents.core.envfile import committed_secrets, read_env_file
from agents.core.errors import ConfigError

if TYPE_CHECKING:
    from pydantic import ValidationError

    from agents.core.settings import SettingsModel

__all__ = ["ENV_NAME", "PROCESS_ENV", "EnvLayers", "check_secret_mode", "find_root", "load_layers"]

PROCESS_ENV = "the process environment"
ENV_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
M = TypeVar("M", bound="SettingsModel")


def find_root(start: Path | None = None) -> Path:
    """Return the project root: ``$AGENTS_HOME``, else the nearest ancestor holding
    ``environments/``, else the checkout this package was loaded from."""
    home = os.environ.get("AGENTS_HOME")
    if home:
        return Path(home).resolve()
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / "environments").is_dir() and (candidate / "pyproject.toml").is_file():
            return candidate
    return Path(__file__).resolve().parents[2]


def _is_secret(annotation: object) -> bool:
    from pydantic import SecretStr

    if annotation is SecretStr:
        return True
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return any(_is_secret(arg) for arg in typing.get_args(annotation))
    return False


@dataclass
class EnvLayers:
    """The merged variables of one environment, remembering where each came from."""

    root: Path
    env: str
    values: dict[str, str] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)
    committed_secrets: list[str] = field(default_factory=list)

    @property
    def public_file(self) -> Path:
        """``environments/.env.<env>``: committed, no secrets."""
        return self.root / "environments" / f".env.{self.env}"

    @property
    def secrets_file(self) -> Path:
        """``environments/.env.<env>.secrets``: gitignored, mode 0600."""
        return self.root / "environments" / f".env.{self.env}.secrets"

    def rel(self, path: Path) -> str:
        """``path`` relative to the project root, as messages show it."""
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)

    def refuse_committed_secrets(self) -> None:
        """Refuse to run with a secret in the committed file, whatever reads it.

        Raises:
            ConfigError: Names each such variable and the file to move it to.
        """
        if self.committed_secrets:
            names = ", ".join(self.committed_secrets)
            raise ConfigError(
                f"{names} {'is a secret' if len(self.committed_secrets) == 1 else 'are secrets'}"
                f" but set in {self.rel(self.public_file)}, which is committed: move "
                f"{'it' if len(self.committed_secrets) == 1 else 'them'} to "
                f"{self.rel(self.secrets_file)} (mode 0600), and rotate any that were pushed"
            )

    def where(self, name: str) -> str:
        """The file (or process environment) that set ``name``."""
        return self.origins.get(name, "nowhere")

    def home_of(self, model: type[SettingsModel], name: str) -> str:
        """The file where variable ``name`` of ``model`` belongs."""
        for fld in model.model_fields.values():
            if fld.alias == name:
                return self.rel(
                    self.secrets_file if _is_secret(fld.annotation) else self.public_file
                )
        return self.rel(self.public_file)

    def get(self, name: str, default: str | None = None) -> str | None:
        """The merged value of ``name``."""
        return self.values.get(name, default)

    def model(self, model: type[M]) -> M:
        """Validate ``model`` against the merged values.

        Raises:
            ConfigError: One line per bad variable, naming it and its file.
        """
        data = {
            fld.alias: self.values[fld.alias]
            for fld in model.model_fields.values()
            if fld.alias and fld.alias in self.values and self.values[fld.alias] != ""
        }
        for fld in model.model_fields.values():
            if (
                fld.alias
                and _is_secret(fld.annotation)
                and self.origins.get(fld.alias) == self.rel(self.public_file)
            ):
                raise ConfigError(
                    f"{fld.alias} is a secret but is set in {self.rel(self.public_file)}, which is "
                    f"committed: move it to {self.rel(self.secrets_file)}"
                )
        from pydantic import ValidationError

        try:
            return model.model_validate(data)
        except ValidationError as exc:
            raise ConfigError(self._explain(model, exc)) from None

    def _explain(self, model: type[SettingsModel], exc: ValidationError) -> str:
        lines = []
        for err in exc.errors(include_url=False, include_input=False):
            name = str(err["loc"][0]) if err["loc"] else model.__name__
            if err["type"] == "missing":
                lines.append(f"{name} missing: set it in {self.home_of(model, name)}")
            else:
                lines.append(f"{name} invalid in {self.where(name)}: {err['msg']}")
        return "; ".join(lines)


def check_secret_mode(path: Path, shown: str) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ConfigError(
            f"{shown} has mode {mode:04o} and holds secrets: run `chmod 600 {shown}` "
            "(the agents refuse to read a secrets file others can read)"
        )


def load_layers(root: Path, env: str, environ: Mapping[str, str] | None = None) -> EnvLayers:
    """Read the layers of ``env`` under ``root`` in precedence order.

    Raises:
        ConfigError: Unknown environment, a line of an env file that does not parse (every
            one, as ``file:line``), or a secrets file not at 0600.
    """
    if not ENV_NAME.match(env):
        raise ConfigError(
            f"environment name {env!r} is invalid: use lower-case letters, digits, - or _"
        )
    layers = EnvLayers(root=root, env=env)
    if not layers.public_file.is_file():
        known = sorted(
            p.name.removeprefix(".env.")
            for p in (root / "environments").glob(".env.*")
            if not p.name.endswith((".secrets", ".template"))
        )
        raise ConfigError(
            f"{layers.rel(layers.public_file)} not found: known environments are "
            f"{', '.join(known) or 'none'}; copy environments/.env.template to create {env!r}"
        )
    public = read_env_file(layers.public_file, layers.rel(layers.public_file))
    layers.committed_secrets = committed_secrets(public)
    sources: list[tuple[str, Mapping[str, str | None]]] = [(layers.rel(layers.public_file), public)]
    if layers.secrets_file.exists():
        shown = layers.rel(layers.secrets_file)
        check_secret_mode(layers.secrets_file, shown)
        sources.append((shown, read_env_file(layers.secrets_file, shown, secret=True)))
    sources.append((PROCESS_ENV, os.environ if environ is None else environ))
    for origin, values in sources:
        for key, value in values.items():
            if value is not None:
                layers.values[key] = value
                layers.origins[key] = origin
    return layers
