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
