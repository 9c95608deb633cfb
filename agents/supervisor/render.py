"""Render ``supervisor.d/<env>/supervisord.conf`` from the environment's env files."""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import shlex
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from string import Template

from agents.catalog import AGENTS, CatalogEntry, port_of
from agents.core.errors import ConfigError
from agents.core.settings import CoreSettings, EnvLayers
from agents.sync.config import SyncSettings

__all__ = [
    "STARTSECS",
    "STOPWAITSECS",
    "EnvPaths",
    "agent_ports",
    "render_conf",
    "write_conf",
]

# startsecs sits above the time an agent refusing a bad config takes to exit, so a
# misconfigured agent goes BACKOFF -> FATAL instead of being respawned forever (figures:
# docs/performance.md).
STARTSECS = 3
# uvicorn's graceful shutdown is capped at 5 s (timeout_graceful_shutdown); a clean stop
# measured 0.3-2 s. Past this, supervisord SIGKILLs the whole process group.
STOPWAITSECS = 10
_SOCKET_MAX = 100  # AF_UNIX paths are limited to 107 bytes

_TEMPLATES = Path(__file__).with_name("templates")


@dataclass(frozen=True)
class EnvPaths:
    """Where one environment's supervisord keeps its conf, socket, pidfile and logs."""

    root: Path
    env: str

    @property
    def dir(self) -> Path:
        """``supervisor.d/<env>``."""
        return self.root / "supervisor.d" / self.env

    @property
    def conf(self) -> Path:
        """The generated supervisord.conf."""
        return self.dir / "supervisord.conf"

    @property
    def logdir(self) -> Path:
        """Agent and supervisord logs."""
        return self.dir / "logs"

    @property
    def pidfile(self) -> Path:
        """supervisord's pidfile."""
        return self.dir / "supervisord.pid"

    @property
    def socket(self) -> Path:
        """The control socket; moved to the temp dir when the natural path is too long."""
        natural = self.dir / "supervisor.sock"
        if len(str(natural)) <= _SOCKET_MAX:
            return natural
        digest = hashlib.sha256(f"{self.root}\0{self.env}".encode()).hexdigest()[:16]
        return Path(tempfile.gettempdir()) / f"agents-{self.env}-{digest}.sock"

    @property
    def instance_file(self) -> Path:
        """The nonce of the current supervisord start (``/readyz`` answers with it)."""
        return self.dir / "instance"

    def instance(self, *, new: bool = False) -> str:
        """The nonce of this start: a fresh one when ``new`` (supervisord is about to start),
        else the one the running supervisord was started with."""
        if not new:
            with contextlib.suppress(FileNotFoundError):
                if text := self.instance_file.read_text().strip():
                    return text
        nonce = secrets.token_hex(8)
        self.dir.mkdir(parents=True, exist_ok=True)
        tmp = self.instance_file.with_suffix(".tmp")
        tmp.write_text(nonce + "\n")
        os.replace(tmp, self.instance_file)
        return nonce

    def log_of(self, name: str) -> Path:
        """The log file of program ``name`` (an agent, ``health`` or ``supervisord``)."""
        return self.logdir / f"{name}.log"


def _value(text: str, what: str) -> str:
    if "\n" in text or "\r" in text or '"' in text:
        raise ConfigError(
            f"{what} {text!r} cannot be written to supervisord.conf (quote or newline)"
        )
    return text.replace("%", "%%")


def _logfile(path: Path) -> str:
    # supervisord expands a program's *_logfile twice (once as an option, once as a path
    # template), so a literal % needs four.
    return _value(str(path), "log path").replace("%", "%%")


def _command(argv: list[str]) -> str:
    return _value(" ".join(shlex.quote(a) for a in argv), "command")


def agent_ports(layers: EnvLayers, core: CoreSettings) -> list[tuple[CatalogEntry, int]]:
    """Each agent with its port; refuses two agents on one port."""
    ports = [(entry, port_of(entry, layers, core)) for entry in AGENTS]
    seen: dict[int, str] = {}
    for entry, port in ports:
        if port in seen:
            raise ConfigError(
                f"{entry.name} and {seen[port]} both use port {port}: change AGENTS_PORT_BASE "
                f"or a <NAME>_PORT override in {layers.rel(layers.public_file)}"
            )
        seen[port] = entry.name
    return ports


def render_conf(
    paths: EnvPaths,
    layers: EnvLayers,
    core: CoreSettings,
    python: str | None = None,
    instance: str = "",
) -> str:
    """The text of ``supervisord.conf`` for ``paths.env``; every agent and the health listener
    get ``instance`` (the nonce of this supervisord start) as ``AGENT_INSTANCE``."""
    py = python or sys.executable
    root = _value(str(paths.root), "project path")
    logdir = _value(str(paths.logdir), "log path")
    ports = agent_ports(layers, core)
    program = Template((_TEMPLATES / "program.conf").read_text())
    sections = [
        program.substitute(
            name=entry.name,
            command=_command([py, "-m", entry.module, "--env", paths.env, "--port", str(port)]),
            root=root,
            logfile=_logfile(paths.log_of(entry.name)),
            priority=str(100 + entry.offset),
            startsecs=str(STARTSECS),
            stopwaitsecs=str(STOPWAITSECS),
            instance=_value(instance, "instance"),
        )
        for entry, port in ports
    ]
    health = [
        py,
        "-m",
        "agents.supervisor.health",
        "--env",
        paths.env,
        "--misses",
        str(core.health_misses),
        "--grace",
        str(core.health_grace),
        "--crash-exits",
        str(core.crash_loop_exits),
        "--crash-window",
        str(core.crash_loop_window),
    ]
    health += [f"--agent={entry.name}={port}" for entry, port in ports]
    sync = layers.model(SyncSettings)
    if sync.remote and sync.interval:
        # periodic sync of the context store: not an MCP agent, so outside the group the
        # health listener probes; it logs one JSON line per run
        sections.append(
            program.substitute(
                name="sync",
                command=_command([py, "-m", "agents.cli", "sync", "run", "--env", paths.env]),
                root=root,
                logfile=_logfile(paths.log_of("sync")),
                priority="200",
                startsecs=str(STARTSECS),
                stopwaitsecs=str(STOPWAITSECS),
                instance=_value(instance, "instance"),
            )
        )
    head = Template((_TEMPLATES / "supervisord.conf").read_text()).substitute(
        env=paths.env,
        root=root,
        logdir=logdir,
        socket=_value(str(paths.socket), "socket path"),
        pidfile=_value(str(paths.pidfile), "pidfile path"),
        programs=",".join(entry.name for entry, _ in ports),
        health_command=_command(health),
        health_log=_logfile(paths.log_of("health")),
        instance=_value(instance, "instance"),
    )
    return head + "".join(sections)


def write_conf(paths: EnvPaths, text: str) -> bool:
    """Write the conf atomically at 0600; return whether it changed."""
    paths.logdir.mkdir(parents=True, exist_ok=True)
    os.chmod(paths.dir, 0o700)
    if paths.conf.exists() and paths.conf.read_text() == text:
        return False
    tmp = paths.conf.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.replace(tmp, paths.conf)
    return True
