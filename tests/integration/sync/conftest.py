"""Servers for the remote conformance suite: started once per package, a fresh location per test.

A missing server program skips its backend with the reason, except under CI=true, where it
fails: CI installs every server (``.ci/run``), so a skip there would hide a broken install.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest

from agents.sync.azure_remote import DEFAULT_ENV
from tests.fakes.drive import DRIVE, FakeDrive
from tests.fakes.sts import CLIENT_ID, SECRET, TENANT, FakeSts, make_cert
from tests.integration.sync.workers import Target
from tests.servers import (
    AzuriteServer,
    PostgresServer,
    azurite_server,
    bare_git_repo,
    find_azurite,
    find_pg_bindir,
    postgres_server,
)

BACKENDS = ["dir", "git", "postgres", "azure-blob", "m365"]


def require(found: object, what: str, install: str) -> None:
    """Skip (or, under CI=true, fail) when ``what`` is not installed."""
    if found:
        return
    message = f"{what} not found; install it with: {install}"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true and {message}", pytrace=False)
    pytest.skip(message)


@pytest.fixture(name="pg_server", scope="package")
def _pg_server() -> Iterator[PostgresServer]:
    bindir = find_pg_bindir()
    require(bindir, "the PostgreSQL server (initdb, pg_ctl)", "apt-get install postgresql")
    assert bindir is not None
    with postgres_server(bindir) as server:
        yield server


@pytest.fixture(name="azurite", scope="package")
def _azurite() -> Iterator[AzuriteServer]:
    binary = find_azurite()
    require(
        binary,
        "azurite-blob",
        "npm install --prefix .ci/node azurite@3.35.0 (what .ci/run does)",
    )
    assert binary is not None
    with azurite_server(binary) as server:
        yield server


@dataclass
class M365Fakes:
    """The token service and a Graph document library, and the variables that reach them."""

    sts: FakeSts
    drive: FakeDrive
    environ: dict[str, str]


@pytest.fixture(name="m365", scope="package")
def _m365(tmp_path_factory: pytest.TempPathFactory) -> Iterator[M365Fakes]:
    tls = make_cert(tmp_path_factory.mktemp("m365-tls"), "sts", server=True)
    sts = FakeSts(tls).start()
    drive = FakeDrive(tokens=sts.issued, page=50, tls=tls).start()  # Graph is https only
    environ = {
        "AZURE_TENANT_ID": TENANT,
        "AZURE_CLIENT_ID": CLIENT_ID,
        "AZURE_CLIENT_SECRET": SECRET,
        "AZURE_AUTHORITY_HOST": sts.url,
        "LOKKA_CA_BUNDLE": str(tls[0]),
        "LOKKA_GRAPH_URL": drive.url,
    }
    yield M365Fakes(sts, drive, environ)
    drive.stop()
    sts.stop()


def fresh_database(server: PostgresServer) -> str:
    """Create an empty database; returns its URL."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server.url(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return server.url(name)


@pytest.fixture(name="target", params=BACKENDS)
def _target(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Target:
    return make_target(request.param, request, tmp_path_factory)


def make_target(
    backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Target:
    """A fresh location on ``backend`` (its server started once per package)."""
    scratch = tmp_path_factory.mktemp(f"remote-{backend}")
    environ: dict[str, str] = {}
    if backend == "dir":
        url = f"dir://{scratch / 'remote'}"
    elif backend == "git":
        require(shutil.which("git"), "git", "apt-get install git")
        url = bare_git_repo(scratch / "remote.git")
    elif backend == "postgres":
        url = fresh_database(request.getfixturevalue("pg_server"))
    elif backend == "m365":
        graph: M365Fakes = request.getfixturevalue("m365")
        url = f"m365://drives/{DRIVE}/ctx/t{uuid.uuid4().hex[:12]}"
        environ.update(graph.environ)
    else:
        server: AzuriteServer = request.getfixturevalue("azurite")
        url = f"azure-blob://t{uuid.uuid4().hex[:12]}"
        environ[DEFAULT_ENV] = server.connection_string
    return Target(backend, url, environ, str(scratch))
