"""Integration fixtures: a copy of the repository driven through its real commands."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.project import Project, free_port_block


def alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


def wait_for(predicate: Callable[[], object], timeout: float, what: str) -> object:
    """Poll ``predicate`` until truthy; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def make_project(tmp: Path, repo: Path) -> Project:
    project = Project.copy(repo, tmp / "repo copy")
    for env in ("local", "staging"):
        project.set_env(
            env,
            AGENTS_PORT_BASE=str(free_port_block(6)),
            # Long enough for four agents to import their SDKs on a loaded 2-core box before
            # the listener starts probing them (a hang test SIGSTOPs a long-running agent).
            HEALTH_GRACE_SECONDS="15",
            HEALTH_MISSES="3",
            CRASH_LOOP_EXITS="3",
            CRASH_LOOP_WINDOW_SECONDS="120",
            AGENTS_READY_TIMEOUT="120",
        )
    return project


@pytest.fixture(name="project", scope="module")
def _project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    repo = Path(__file__).resolve().parents[2]
    project = make_project(tmp_path_factory.mktemp("integration"), repo)
    yield project
    for env in ("local", "staging"):
        project.run("stop-all-agents", env, check=False)
