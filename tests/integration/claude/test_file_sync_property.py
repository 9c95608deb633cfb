"""Any interleaving of edits, deletions, imports, applies, pulls, pushes and restores on three
machines loses no imported edit: it ends up in the file on every machine, or in a conflict
some machine lists. CI runs fixed seeds; `scripts/bench accuracy --runs N` runs more."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.claude.accuracy import OPS, World

pytestmark = pytest.mark.integration

EXAMPLES = int(os.environ.get("SYNC_PROPERTY_EXAMPLES", "12"))

steps = st.lists(
    st.tuples(st.sampled_from(OPS), st.sampled_from("abc"), st.integers(0, 9)),
    min_size=4,
    max_size=24,
)


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AGENT_ENV", "CONTEXT_REMOTE", "AGENTS_HOME", "CLAUDE_CONFIG_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", "/nonexistent-xdg")


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(steps=steps)
def test_no_imported_edit_is_ever_silently_lost(steps: list[tuple[str, str, int]]) -> None:
    scratch = Path(tempfile.mkdtemp(prefix="accuracy-"))
    try:
        world = World(scratch)
        for op, machine, arg in steps:
            world.step(op, machine, arg)
        world.settle()
        tally = world.check()
        assert tally.lost == 0, "\n".join(tally.failures)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
