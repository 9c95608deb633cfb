"""Fixtures shared by every test layer."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from hypothesis import settings
from structlog._config import BoundLoggerLazyProxy

# No deadline per example: the machines that run these tests are shared and noisy, and a slow
# example is not a failing one (speed is measured by scripts/bench, never by a test).
settings.register_profile("agents", deadline=None)
settings.load_profile("agents")

REPO = Path(__file__).resolve().parents[1]

# The slow suites: off in the default `scripts/test`, on in CI (.ci/run sets AGENTS_TEST_ALL=1)
# and whenever they are asked for by path (`scripts/test tests/chaos`) or marker (`-m chaos`).
SLOW = {"chaos": "tests/chaos/", "backend": "tests/integration/sync/"}
RUN_ALL = "AGENTS_TEST_ALL"


def _runs_everything(config: pytest.Config) -> bool:
    return (
        os.environ.get(RUN_ALL) == "1"
        or bool(config.option.markexpr)
        or config.args_source != pytest.Config.ArgsSource.TESTPATHS
    )


def _slow(item: pytest.Item) -> str | None:
    rel = item.path.relative_to(REPO).as_posix()
    return next((mark for mark, prefix in SLOW.items() if rel.startswith(prefix)), None)


def pytest_itemcollected(item: pytest.Item) -> None:
    """Mark the slow suites (``-m chaos``, ``-m backend``, ``-m "not chaos"`` select by it)."""
    slow = _slow(item)
    if slow is not None:
        item.add_marker(getattr(pytest.mark, slow))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave the slow suites out of the default run."""
    if _runs_everything(config):
        return
    skipped = [item for item in items if _slow(item)]
    if skipped:
        config.hook.pytest_deselected(items=skipped)
        items[:] = [item for item in items if not _slow(item)]


def pytest_report_header(config: pytest.Config) -> str | None:
    """Say up front what the default run leaves out and how to run it (shown with xdist too,
    where collection happens in the workers)."""
    if _runs_everything(config):
        return None
    return (
        "the chaos and backend suites are left out (the default run); "
        f"{RUN_ALL}=1 scripts/test or .ci/run runs everything"
    )


def _forget_cached_loggers() -> None:
    """Make every module-level structlog logger of ``agents`` assemble itself again from the
    configuration in force: ``configure_logging`` caches a logger on its first use, which
    would otherwise keep writing where a test configured it (and out of the reach of a later
    test's ``capture_logs``)."""
    for name, module in list(sys.modules.items()):
        if name == "agents" or name.startswith("agents."):
            for value in list(vars(module).values()):
                if isinstance(value, BoundLoggerLazyProxy):
                    vars(value).pop("bind", None)


@pytest.fixture(autouse=True)
def _reset_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    if structlog.is_configured():  # only a test that called configure_logging cached any
        _forget_cached_loggers()
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture(autouse=True)
def _no_os_keyring() -> Iterator[None]:
    """No test touches the developer's real keyring: secrets go to the vault's 0600 file."""
    import keyring

    from tests.keyrings import failing_keyring

    before = keyring.get_keyring()
    keyring.set_keyring(failing_keyring())
    yield
    keyring.set_keyring(before)


@pytest.fixture(name="repo")
def _repo() -> Path:
    return REPO


@pytest.fixture(name="anyio_backend")
def _anyio_backend() -> str:
    return "asyncio"
