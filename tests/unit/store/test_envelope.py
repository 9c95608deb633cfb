"""Canonical JSON, hashes, version vectors and the hybrid logical clock."""

from __future__ import annotations

import pytest

from agents.store.canonical import canonical, is_hash, sha256_of, ulid
from agents.store.clock import Hlc, HlcClock, vv_bump, vv_compare, vv_merge
from agents.store.envelope import Envelope, content_hash_of, scope_for


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
