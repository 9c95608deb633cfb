"""Real servers for the remote backends, on loopback, for tests and benchmarks.

- ``postgres_server()``: Debian's PostgreSQL (``initdb`` + ``pg_ctl``) in a temp dir on a free
  port; as root it runs them as the ``postgres`` user, since ``initdb`` refuses root.
- ``azurite_server()``: Azurite's blob service (npm ``azurite@3.35.0``, installed by ``.ci/run``
  into ``.ci/node``) with ``--disableTelemetry``.
- ``bare_git_repo()``: ``git init --bare``.

``find_*`` return ``None`` when the program is missing, so callers can skip or fail.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from agents.core.errors import AgentError
from agents.core.testing import free_port
from agents.store.store import ContextStore

__all__ = [
    "AZURITE_ACCOUNT_KEY",
    "AzuriteServer",
    "PostgresServer",
    "azurite_server",
    "bare_git_repo",
    "find_azurite",
    "find_pg_bindir",
    "git_out",
    "postgres_server",
]

REPO = Path(__file__).resolve().parents[1]  # tests/servers.py: the checkout is its parent's parent
AZURITE_LOCAL = Path(".ci", "node", "node_modules", ".bin", "azurite-blob")
# Azurite's documented development account: public, identical on every install
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_ACCOUNT_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
START_TIMEOUT = 60.0


def find_pg_bindir() -> Path | None:
    """The bin dir of a PostgreSQL server install (``$PG_BINDIR``, Debian's, or ``PATH``)."""
    candidates: list[Path] = []
    if os.environ.get("PG_BINDIR"):
        candidates.append(Path(os.environ["PG_BINDIR"]))
    debian = Path("/usr/lib/postgresql")
    if debian.is_dir():
        versions = [p for p in debian.iterdir() if p.name.isdigit()]
        candidates += [p / "bin" for p in sorted(versions, key=lambda p: -int(p.name))]
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).parent)
    for bindir in candidates:
        if (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file():
            return bindir
    return None


def find_azurite() -> Path | None:
    """``azurite-blob``: ``$AZURITE_BLOB``, the project's ``.ci/node`` install, or ``PATH``."""
    candidates = [os.environ.get("AZURITE_BLOB", ""), str(REPO / AZURITE_LOCAL)]
    if os.environ.get("AGENTS_HOME"):
        candidates.append(str(Path(os.environ["AGENTS_HOME"]) / AZURITE_LOCAL))
    candidates.append(shutil.which("azurite-blob") or "")
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return Path(candidate)
    return None


@dataclass(frozen=True)
class PostgresServer:
    """A running PostgreSQL server; ``url`` connects to its ``postgres`` database."""

    host: str
    port: int
    user: str
    password: str

    def url(self, database: str = "postgres") -> str:
        """A ``postgresql://`` URL for ``database`` (with the password)."""
        return f"postgresql://{self.user}:{self.password}@{self.host}:{self.port}/{database}"


@contextlib.contextmanager
def postgres_server(bindir: Path) -> Iterator[PostgresServer]:
    """Start a throwaway PostgreSQL server on 127.0.0.1 and stop it on exit."""
    as_root = os.geteuid() == 0
    base = Path(tempfile.mkdtemp(prefix="agents-pg-"))
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    password = secrets.token_urlsafe(18)
    data = base / "data"
    try:
        (base / "pwfile").write_text(password + "\n")
        if as_root:
            for path in (base, base / "pwfile"):
                shutil.chown(path, "postgres", "postgres")
        _run(
            [*prefix, str(bindir / "initdb"), "-D", str(data), "-U", "agents",
             f"--pwfile={base / 'pwfile'}", "--auth-local=trust", "--auth-host=scram-sha-256",
             "-E", "UTF8", "--no-sync"],
            "initdb",
        )  # fmt: skip
        port = 0
        for attempt in range(3):
            port = free_port()
            options = (
                f"-h 127.0.0.1 -p {port} -k {base} -c fsync=off -c synchronous_commit=off "
                "-c full_page_writes=off"
            )
            proc = subprocess.run(
                [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(base / "log"),
                 "-w", "-t", str(int(START_TIMEOUT)), "-o", options, "start"],
                capture_output=True, text=True, check=False, timeout=START_TIMEOUT + 10,
            )  # fmt: skip
            if proc.returncode == 0:
                break
            if attempt == 2:
                log = (base / "log").read_text() if (base / "log").exists() else ""
                raise AgentError(f"pg_ctl start failed: {proc.stderr}\n{log[-2000:]}")
        try:
            yield PostgresServer("127.0.0.1", port, "agents", password)
        finally:
            subprocess.run(
                [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                capture_output=True, check=False, timeout=60,
            )  # fmt: skip
    finally:
        shutil.rmtree(base, ignore_errors=True)


@dataclass(frozen=True)
class AzuriteServer:
    """A running Azurite blob service."""

    port: int

    @property
    def connection_string(self) -> str:
        """The development account's connection string for this server."""
        return (
            f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};"
            f"AccountKey={AZURITE_ACCOUNT_KEY};"
            f"BlobEndpoint=http://127.0.0.1:{self.port}/{AZURITE_ACCOUNT};"
        )


@contextlib.contextmanager
def azurite_server(binary: Path) -> Iterator[AzuriteServer]:
    """Start Azurite's blob service on 127.0.0.1 (telemetry off) and stop it on exit."""
    location = Path(tempfile.mkdtemp(prefix="agents-azurite-"))
    port = free_port()
    log = (location / "azurite.log").open("wb")
    proc = subprocess.Popen(
        [str(binary), "--blobHost", "127.0.0.1", "--blobPort", str(port),
         "--location", str(location / "data"), "--disableTelemetry", "--skipApiVersionCheck"],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if proc.poll() is not None:
                raise AgentError(
                    f"azurite exited with {proc.returncode}: "
                    f"{(location / 'azurite.log').read_text(errors='replace')[-2000:]}"
                )
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            if time.monotonic() > deadline:
                raise AgentError(f"azurite did not listen on port {port} within {START_TIMEOUT}s")
            time.sleep(0.05)
        yield AzuriteServer(port)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        log.close()
        shutil.rmtree(location, ignore_errors=True)


def bare_git_repo(path: Path, branch: str = "main") -> str:
    """Create a bare repository at ``path``; returns its ``git+file://`` remote URL."""
    _run(["git", "init", "--quiet", "--bare", f"--initial-branch={branch}", str(path)], "git init")
    return f"git+file://{path}"


def git_out(repo: Path, *args: str) -> str:
    """The output of ``git --git-dir repo args…`` (what a test reads of a bare repository)."""
    return subprocess.run(
        ["git", "--git-dir", str(repo), *args], capture_output=True, text=True, check=True
    ).stdout


def _run(argv: list[str], what: str) -> None:
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=120)
    if proc.returncode != 0:
        raise AgentError(f"{what} failed ({proc.returncode}): {proc.stderr.strip()}")


def trust_each_other(*stores: ContextStore) -> None:
    """Make every store trust every other one (as ``agents machines trust`` on each side would
    after comparing fingerprints): what tests and benchmarks of several machines start with."""
    from agents.sync.trust import decide, identity_of, trusted_set

    for store in stores:
        trust = trusted_set(store)
        for other in stores:
            key = identity_of(other).public_key
            if other.machine_id != store.machine_id and not trust.trusts(other.machine_id, key):
                decide(store, other.machine_id, key, trusted=True)
