"""Canonical JSON, hashes, version vectors and the hybrid logical clock."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from unittest import mock

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agents.store.canonical import canonical, canonical_text, is_hash, iso_of, sha256_of, ulid
from agents.store.clock import Hlc, HlcClock, vv_bump, vv_compare, vv_merge
from agents.store.envelope import (
    DEFAULT_LEVEL,
    Envelope,
    content_hash_of,
    scope_for,
    serialize_first,
)


def envelope(**changes: object) -> Envelope:
    base: dict[str, object] = {
        "id": "preference:theme",
        "kind": "preference",
        "scope": scope_for("preference", "m-a"),
        "body": {"key": "theme", "value": "dark"},
        "vv": {"m-a": 1},
        "parents": [],
        "origin_machine": "m-a",
        "updated_at": "2026-01-01T00:00:00.000Z",
        "hlc": "2026-01-01T00:00:00.000Z/0000/m-a",
    }
    return Envelope(**{**base, **changes})  # type: ignore[arg-type]


def test_canonical_json_sorts_keys_drops_whitespace_and_keeps_utf8() -> None:
    """Key order and formatting never change a hash."""
    assert canonical({"b": 1, "a": [1, {"d": "é", "c": None}]}) == (
        '{"a":[1,{"c":null,"d":"é"}],"b":1}'.encode()
    )
    assert sha256_of({"a": 1, "b": 2}) == sha256_of({"b": 2, "a": 1})


def test_canonical_json_refuses_nan_and_non_json_values() -> None:
    """NaN is not JSON; neither is an arbitrary object."""
    with pytest.raises(ValueError):
        canonical({"x": float("nan")})
    with pytest.raises(ValueError):
        canonical({"x": object()})


HOUR = timedelta(hours=1)
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
    max_leaves=20,
)


@given(JSON)
def test_canonical_json_is_json_dumps_with_sorted_keys_and_no_whitespace(value: Any) -> None:
    """Whatever the value, the canonical text is what json.dumps gives with those options."""
    assert canonical_text(value) == json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


_KINDS = st.sampled_from(sorted(DEFAULT_LEVEL)) | st.text(max_size=12)


@given(
    body=JSON,
    doc_id=st.text(max_size=20),
    kind=_KINDS,
    machine=st.text(max_size=12),
    hlc=st.text(max_size=40),
    now=st.text(max_size=30),
)
def test_a_first_revision_written_from_its_parts_is_the_canonical_envelope(
    body: Any, doc_id: str, kind: str, machine: str, hlc: str, now: str
) -> None:
    """The text a new document is stored as, written without serializing its envelope dict,
    is byte for byte the canonical JSON of that dict, with the same content hash (what sync
    and every hash read), for any strings and any body."""
    envelope = {
        "schema": "ctx/1",
        "id": doc_id,
        "kind": kind,
        "scope": scope_for(kind, machine),
        "rev": {"vv": {machine: 1}, "parents": []},
        "origin_machine": machine,
        "updated_at": now,
        "hlc": hlc,
        "deleted": False,
        "body": body,
        "secret_refs": [],
    }
    digest = content_hash_of(kind, envelope["scope"], False, body, [])
    got = serialize_first(
        canonical_text(body), doc_id=doc_id, kind=kind, machine=machine, hlc=hlc, updated_at=now
    )
    assert (got[0].encode(), got[1]) == (canonical({**envelope, "content_hash": digest}), digest)


def test_a_value_refused_midway_leaves_no_trace_in_the_next_one() -> None:
    """A value refused halfway (a non-JSON leaf) serializes once fixed; a circular one is
    still refused as such."""
    value: list[Any] = [{"x": object()}]
    with pytest.raises(ValueError, match="not JSON"):
        canonical_text(value)
    value[0]["x"] = 1
    assert canonical_text(value) == '[{"x":1}]'
    loop: list[Any] = [value]
    loop.append(loop)
    with pytest.raises(ValueError, match="Circular"):
        canonical_text(loop)


@given(st.integers(0, 2**48 - 1), st.binary(min_size=10, max_size=10))
def test_a_ulid_is_its_time_then_its_entropy_in_crockford_base32(ms: int, entropy: bytes) -> None:
    """26 digits of 5 bits: the 48-bit time (2 zero bits first), then the 80 random bits."""
    with mock.patch("agents.store.canonical.os.urandom", return_value=entropy):
        text = ulid(ms)
    digits = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    number = 0
    for char in text:
        number = number * 32 + digits.index(char)
    assert len(text) == 26 and number == (ms << 80) | int.from_bytes(entropy, "big")


@given(
    st.datetimes(
        min_value=datetime(1900, 1, 2),
        max_value=datetime(9999, 12, 30),
        timezones=st.sampled_from(
            [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=8))]
        ),
    )
)
def test_a_moment_is_stored_as_utc_with_milliseconds_cut_not_rounded(moment: datetime) -> None:
    """Any aware time, any zone: the UTC wall time, then milliseconds (truncated), then Z."""
    utc = moment.astimezone(UTC)
    expected = utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
    assert iso_of(moment) == expected


def test_content_hash_covers_what_the_document_says_not_its_lineage() -> None:
    """The same content on two machines has one content hash but two revision hashes."""
    a = envelope()
    b = envelope(vv={"m-b": 1}, origin_machine="m-b", hlc="2026-01-01T00:00:01.000Z/0000/m-b")
    assert a.content_hash == b.content_hash
    assert a.hash != b.hash and is_hash(a.hash)
    assert envelope(body={"key": "theme", "value": "light"}).content_hash != a.content_hash
    assert envelope(deleted=True).content_hash != a.content_hash
    assert a.content_hash == content_hash_of(a.kind, a.scope, False, a.body, [])


def test_an_envelope_round_trips_through_its_canonical_bytes() -> None:
    """from_dict(to_dict()) is the same revision."""
    a = envelope(parents=["sha256:" + "1" * 64], secret_refs=[{"path": "/x", "ref": "secret://x"}])
    again = Envelope.from_dict(a.to_dict())
    assert again == a and again.hash == a.hash
    assert a.to_bytes() == canonical(a.to_dict())


@pytest.mark.parametrize(
    ("a", "b", "order"),
    [
        ({"m1": 1}, {"m1": 1}, "equal"),
        ({"m1": 1}, {"m1": 2}, "before"),
        ({"m1": 2, "m2": 1}, {"m1": 2}, "after"),
        ({"m1": 2}, {"m1": 1, "m2": 1}, "concurrent"),
        ({}, {"m1": 1}, "before"),
    ],
)
def test_version_vectors_tell_descendants_from_concurrent_edits(
    a: dict[str, int], b: dict[str, int], order: str
) -> None:
    """The four relations sync decides on."""
    assert vv_compare(a, b) == order


def test_merging_and_bumping_version_vectors() -> None:
    """Merge is the pointwise max; a local write bumps only this machine."""
    assert vv_merge({"m1": 2, "m2": 1}, {"m1": 1, "m3": 4}) == {"m1": 2, "m2": 1, "m3": 4}
    assert vv_bump({"m1": 2}, "m2") == {"m1": 2, "m2": 1}
    assert vv_compare(vv_merge({"m1": 2}, {"m2": 1}), {"m1": 2}) == "after"


def test_the_hlc_never_goes_backwards_even_when_the_wall_clock_does() -> None:
    """Later stamps sort later; a stalled or rewound clock bumps the counter."""
    wall = [1_000]
    clock = HlcClock("m-a", lambda: wall[0])
    first = clock.now()
    wall[0] = 900
    second = clock.now()
    wall[0] = 2_000
    third = clock.now()
    assert first < second < third
    assert (second.ms, second.counter) == (1_000, 1)
    assert Hlc.parse(str(third)) == third


def test_the_hlc_moves_past_an_observed_stamp_from_another_process() -> None:
    """Causality across processes: replacing a revision stamps later than it."""
    seen = Hlc(5_000, 7, "m-a")
    stamp = HlcClock("m-a", lambda: 1_000).now(str(seen))
    assert stamp > seen and stamp.ms == 5_000 and stamp.counter == 8


def test_ulids_sort_by_time() -> None:
    """Agent output ids list in the order the calls happened."""
    assert ulid(1000) < ulid(2000) and len(ulid()) == 26
