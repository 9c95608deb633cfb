"""Guards on data from other machines: JSON depth, timestamps, clock stamps (property tests)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agents.store import untrusted
from agents.store.canonical import iso_ms

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ab,:'),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=40,
)


def depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max((depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    return 0


@given(JSON)
def test_json_depth_is_never_below_the_real_depth(value: Any) -> None:
    data = json.dumps(value).encode()
    assert untrusted.json_depth(data) >= depth(value)
    if depth(value) <= untrusted.MAX_JSON_DEPTH:
        assert untrusted.loads(data, "x") == value


@given(st.integers(min_value=untrusted.MAX_JSON_DEPTH + 1, max_value=5000), st.sampled_from("[{"))
def test_json_nested_past_the_limit_is_refused_before_parsing(n: int, kind: str) -> None:
    inner = "[]" if kind == "[" else '{"a":1}'
    opened = "[" * n if kind == "[" else '{"a":' * n
    closed = "]" * n if kind == "[" else "}" * n
    with pytest.raises(ValueError, match="deeper than"):
        untrusted.loads((opened + inner + closed).encode(), "x")


def test_a_100000_deep_object_is_refused_not_a_crash() -> None:
    with pytest.raises(ValueError, match="deeper than"):
        untrusted.loads(b'{"a":' * 100_000 + b"1" + b"}" * 100_000, "head")


def test_brackets_inside_strings_do_not_count() -> None:
    data = json.dumps({"text": "[" * 500 + '\\"{' * 100}).encode()
    assert untrusted.json_depth(data) == 1


@given(st.text(max_size=50))
def test_check_timestamp_accepts_only_what_the_parser_reads(text: str) -> None:
    from datetime import datetime

    try:
        datetime.fromisoformat(text.replace("Z", "+00:00"))
        readable = len(text) <= 40
    except ValueError:
        readable = False
    if readable:
        assert untrusted.check_timestamp(text, "t") == text
    else:
        with pytest.raises(ValueError):
            untrusted.check_timestamp(text, "t")


@pytest.mark.parametrize(
    "text", ["2026-02-30T10:00:00Z", "2026-13-01T00:00:00Z", "9999-99-99T99:99:99Z"]
)
def test_timestamps_the_schema_accepts_but_no_calendar_has_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a readable timestamp"):
        untrusted.check_timestamp(text, "updated_at")


@given(st.text(max_size=80))
def test_check_hlc_never_raises_anything_but_value_error(text: str) -> None:
    try:
        untrusted.check_hlc(text, "hlc")
    except ValueError:
        pass


def test_clock_stamps_far_ahead_are_refused_and_near_ones_accepted() -> None:
    now = time.time_ns() // 1_000_000
    assert untrusted.check_hlc(f"{iso_ms(now + 60_000)}/0000/m", "hlc", 3600).ms == now + 60_000
    with pytest.raises(ValueError, match="ahead of this machine's clock"):
        untrusted.check_hlc(f"{iso_ms(now + 7_200_000)}/0000/m", "hlc", 3600)
    with pytest.raises(ValueError, match="ahead"):
        untrusted.check_hlc("9999-12-31T23:59:59.999Z/0000/m", "hlc")
    with pytest.raises(ValueError, match="not a clock stamp"):
        untrusted.check_hlc("2026-13-01T00:00:00.000Z/0000/m", "hlc")


def test_a_bad_setting_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    from agents.core.errors import ConfigError

    monkeypatch.setenv("SYNC_MAX_CLOCK_SKEW", "soon")
    with pytest.raises(ConfigError, match="SYNC_MAX_CLOCK_SKEW"):
        untrusted.max_clock_skew()


STAMPS = st.builds(
    lambda ms, counter, frac, machine: f"{iso_ms(ms)[:19]}.{frac}Z/{counter:04d}/{machine}",
    st.integers(min_value=0, max_value=time.time_ns() // 1_000_000),
    st.integers(min_value=0, max_value=99999),
    st.text(alphabet="0123456789", min_size=1, max_size=6),
    st.text(alphabet="abcXYZ09_-.", min_size=1, max_size=10),
)


@given(st.one_of(STAMPS, st.text(max_size=40)))
def test_a_stamp_check_hlc_accepts_is_one_the_clock_reads_the_same_way(text: str) -> None:
    from agents.store.clock import Hlc

    try:
        stamp = untrusted.check_hlc(text, "hlc", 10**9)
    except ValueError:
        return
    assert Hlc.parse(text) == stamp
