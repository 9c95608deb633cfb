"""A fresh store per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agents.store.store import ContextStore


@pytest.fixture(name="store")
def _store(tmp_path: Path) -> Iterator[ContextStore]:
    with ContextStore(tmp_path / "ctx", machine_id="m-test") as store:
        yield store


def pref(value: object, key: str = "theme") -> dict[str, object]:
    """A preference body."""
    return {"key": key, "value": value}


def moment_passed(store: ContextStore) -> str:
    """The time of the last audit row, once the clock has moved past it (timestamps have
    millisecond resolution, so a write in the same millisecond would count as before)."""
    from agents.store.canonical import now_iso

    with store.reading() as conn:
        moment: str = conn.execute("SELECT max(ts) FROM audit").fetchone()[0]
    while now_iso() <= moment:
        pass
    return moment
