"""JSON read from a remote (agents.sync.limits.parse): damaged data is a DamagedError whose
message says which object and what is wrong, since that message is the quarantine reason a
user reads in `agents sync quarantine`."""

from __future__ import annotations

import pytest

from agents.store.untrusted import MAX_JSON_DEPTH
from agents.sync.limits import DamagedError, parse


def test_well_formed_json_is_parsed() -> None:
    assert parse(b'{"a": [1, 2]}', "head of m1") == {"a": [1, 2]}


def test_text_that_is_not_json_is_damaged_naming_the_object() -> None:
    with pytest.raises(DamagedError, match=r"^head of m1 is not JSON \(JSONDecodeError\)$"):
        parse(b'{"a": ', "head of m1")


def test_json_nested_too_deeply_is_damaged_naming_the_object_and_the_limit() -> None:
    deep = b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1)
    with pytest.raises(DamagedError, match=f"^snapshot s nests JSON deeper than {MAX_JSON_DEPTH}"):
        parse(deep, "snapshot s")
