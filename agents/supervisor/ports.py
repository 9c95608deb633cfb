"""Who holds a TCP port on this machine: /proc/net/tcp{,6} and /proc/<pid>/fd, else ``ss -ltnp``.

Used to say *what* took an agent's port instead of only "address already in use".
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

__all__ = ["PortHolder", "describe_holder", "holder_of", "port_in_use"]

_LISTEN = "0A"
_PROC = Path("/proc")


@dataclass(frozen=True)
class PortHolder:
    """A listening socket on the port and, when visible to us, the process holding it."""

    port: int
    pid: int | None = None
    command: str | None = None

    def __str__(self) -> str:
        if self.pid is None:
            return f"port {self.port} is taken by a process this user cannot see"
        return f"port {self.port} is taken by pid {self.pid} ({self.command or '?'})"


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """Whether binding ``host:port`` would fail right now (what the agent is about to do)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def _listening_inodes(port: int, proc: Path) -> set[str]:
    inodes: set[str] = set()
    for table in ("tcp", "tcp6"):
        try:
            lines = (proc / "net" / table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) < 10 or fields[3] != _LISTEN:
                continue
            if int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    return inodes


def _command_of(pid: int, proc: Path) -> str | None:
    try:
        raw = (proc / str(pid) / "cmdline").read_bytes()
    except OSError:
        return None
    text = " ".join(part.decode(errors="replace") for part in raw.split(b"\0") if part)
    return text if len(text) <= 200 else f"{text[:200]}…"


def _from_proc(port: int, proc: Path) -> PortHolder | None:
    inodes = _listening_inodes(port, proc)
    if not inodes:
        return None
    wanted = {f"socket:[{inode}]" for inode in inodes}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fds = list((entry / "fd").iterdir())
        except OSError:  # another user's process, or gone
            continue
        for fd in fds:
            try:
                if os.readlink(fd) in wanted:
                    pid = int(entry.name)
                    return PortHolder(port, pid, _command_of(pid, proc))
            except OSError:
                continue
    return PortHolder(port)


def _from_ss(port: int) -> PortHolder | None:
    ss = shutil.which("ss")
    if ss is None:
        return None
    try:
        out = subprocess.run(
            [ss, "-Hltnp", f"sport = :{port}"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    if not out.strip():
        return None
    # users:(("python3",pid=1234,fd=3))
    marker = out.find("pid=")
    if marker < 0:
        return PortHolder(port)
    digits = out[marker + 4 :].split(",", 1)[0]
    if not digits.isdigit():
        return PortHolder(port)
    pid = int(digits)
    return PortHolder(port, pid, _command_of(pid, _PROC))


def holder_of(port: int, proc: Path = _PROC) -> PortHolder | None:
    """The listener on ``port`` (None when nothing listens), with its pid and command line
    when this user may see them."""
    found = _from_proc(port, proc) if (proc / "net" / "tcp").exists() else None
    if found is None or found.pid is None:
        found = _from_ss(port) or found
    return found


def describe_holder(port: int) -> str:
    """A sentence naming what holds ``port``, for an error message."""
    holder = holder_of(port)
    if holder is None:
        return f"port {port} is taken (its holder has gone or cannot be seen)"
    return str(holder)
