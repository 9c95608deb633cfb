"""This repository's own test helpers: a copy of the project driven through its real
commands, blocks of free ports for a supervised set of agents, the Claude Code CLI."""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from agents.core.errors import AgentError

__all__ = ["CLAUDE_INSTALL", "Project", "claude_cli", "free_port_block"]

CLAUDE_INSTALL = (
    "npm install -g @anthropic-ai/claude-code, or run .ci/run (it installs it into .ci/node)"
)


def claude_cli(root: Path) -> str | None:
    """The real Claude Code CLI: the copy `.ci/run` installs into ``<root>/.ci/node``, else
    ``claude`` on PATH; None when neither exists (tests then skip, naming
    :data:`CLAUDE_INSTALL`)."""
    local = root / ".ci" / "node" / "node_modules" / ".bin" / "claude"
    return str(local) if local.exists() else shutil.which("claude")


_SKIP = {".git", ".venv", ".mypy_cache", ".ruff_cache", ".pytest_cache", "__pycache__", ".bench"}


def free_port_block(size: int, *, start: int = 20000, stop: int = 32000) -> int:
    """A base port such that base+1 .. base+size are all free on 127.0.0.1.

    The default range stays below Linux's ephemeral ports (32768-60999), so an outgoing
    connection cannot take a port between the check and the agent binding it.
    """
    # each pytest-xdist worker draws from its own slice, so two workers never hand out the
    # same block between the check and the agents binding it
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1)
    if worker.startswith("gw") and worker[2:].isdigit() and count > 1:
        span = (stop - start) // count
        start += int(worker[2:]) % count * span
        stop = start + span
    for _ in range(200):
        base = random.randrange(start, stop - size)
        socks = []
        try:
            for off in range(1, size + 1):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", base + off))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise AgentError(f"no block of {size} free ports found")


@dataclass
class Project:
    """A copy of the repository in a temp dir, driven through its real commands."""

    root: Path
    venv: Path

    @classmethod
    def copy(cls, source: Path, dest: Path) -> Project:
        """Copy the source tree (no runtime data, no secrets) and link its virtualenv."""

        def ignore(directory: str, names: list[str]) -> set[str]:
            rel = Path(directory).relative_to(source)
            skip = {n for n in names if n in _SKIP or n.endswith(".secrets")}
            if rel.parts in (("supervisor.d",), ("context",)):
                skip |= {n for n in names if n != "README.md"}
            return skip

        shutil.copytree(source, dest, ignore=ignore, symlinks=True)
        venv = Path(sys.prefix)
        (dest / ".venv").symlink_to(venv)
        return cls(root=dest, venv=venv)

    def set_env(self, env: str, **values: str) -> None:
        """Add or replace variables in ``environments/.env.<env>``."""
        path = self.root / "environments" / f".env.{env}"
        lines = [
            line
            for line in (path.read_text().splitlines() if path.exists() else [])
            if line.split("=", 1)[0] not in values
        ]
        lines += [f"{k}={v}" for k, v in values.items()]
        path.write_text("\n".join(lines) + "\n")

    def set_secrets(self, env: str, **values: str) -> Path:
        """Write ``environments/.env.<env>.secrets`` at 0600, keeping what is there."""
        path = self.root / "environments" / f".env.{env}.secrets"
        old = path.read_text().splitlines() if path.exists() else []
        lines = [line for line in old if line.split("=", 1)[0] not in values]
        lines += [f"{k}={v}" for k, v in values.items()]
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write("\n".join(lines) + "\n")
        return path

    def secret(self, env: str, name: str) -> str:
        """A value from the environment's secrets file."""
        from dotenv import dotenv_values

        value = dotenv_values(self.root / "environments" / f".env.{env}.secrets").get(name)
        if not value:
            raise AgentError(f"{name} not in the {env} secrets file")
        return value

    def environ(self) -> dict[str, str]:
        """The environment the project's commands run with."""
        env = {k: v for k, v in os.environ.items() if not k.endswith("_AGENT_TOKEN")}
        env["AGENTS_HOME"] = str(self.root)
        env["AGENTS_SKIP_INSTALL"] = "1"  # the copy shares the venv: never repoint it
        # the venv's console scripts (`agents`, `start-all-agents`) import the package through
        # its editable install, which points at the checkout the venv was made for, not at
        # this copy: the copy's own code goes first
        env["PYTHONPATH"] = str(self.root)
        return env

    def run(
        self, *argv: str, check: bool = True, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        """Run a command of the project (``scripts/...`` or a venv console script)."""
        exe = argv[0]
        path = self.root / exe if exe.startswith("scripts/") else self.venv / "bin" / exe
        proc = subprocess.run(
            [str(path), *argv[1:]],
            cwd=self.root,
            env=self.environ(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"{' '.join(argv)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
            )
        return proc

    @contextlib.contextmanager
    def started(self, env: str) -> Iterator[subprocess.CompletedProcess[str]]:
        """``start-all-agents <env>`` on entry, ``stop-all-agents <env>`` on exit."""
        try:
            yield self.run("scripts/start-all-agents", env)
        finally:
            self.run("scripts/stop-all-agents", env, check=False)
