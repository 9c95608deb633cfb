"""The key layout and key validation shared by every backend."""

from __future__ import annotations

import hashlib
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agents.core.errors import InputError
from agents.sync.keys import (
    MAX_KEY_LENGTH,
    META_KEY,
    KeyKind,
    ParsedKey,
    audit_key,
    blob_key,
    head_key,
    is_conflict_copy,
    is_key,
    is_mutable,
    is_segment,
    object_key,
    parse_key,
    snapshot_key,
    validate_key,
    validate_prefix,
)

H = hashlib.sha256(b"doc").hexdigest()
U = "01JDQ8Z5X3M4N6P7Q8R9S0T1V2"


def test_layout_helpers_build_the_documented_keys() -> None:
    """Each helper gives its path of docs/sync-remotes.md's layout; sha256: prefixes are taken."""
    assert object_key(H) == f"objects/sha256/{H[:2]}/{H}"
    assert object_key(f"sha256:{H}") == object_key(H)
    assert blob_key(H) == f"blobs/sha256/{H[:2]}/{H}"
    assert snapshot_key("m-7f3a", U) == f"snapshots/m-7f3a/{U}.json"
    assert audit_key("laptop_1", U) == f"audit/laptop_1/{U}.jsonl"
    assert head_key("m-7f3a") == "heads/m-7f3a.json"
    assert META_KEY == "meta/store.json"


@pytest.mark.parametrize(
    ("helper", "args"),
    [
        (object_key, ("abc",)),
        (object_key, (H.upper(),)),
        (blob_key, ("sha1:" + H,)),
        (head_key, ("../etc",)),
        (head_key, ("",)),
        (head_key, ("-m",)),
        (head_key, ("a.b",)),
        (snapshot_key, ("m1", "not-a-ulid")),
        (snapshot_key, ("m1", U.lower())),
        (audit_key, ("m/1", U)),
    ],
)
def test_layout_helpers_refuse_malformed_parts(helper: object, args: tuple[str, ...]) -> None:
    """Hashes, machine ids and ULIDs are checked before they become part of a key."""
    with pytest.raises(InputError):
        helper(*args)  # type: ignore[operator]


@pytest.mark.parametrize(
    "key",
    [
        "",
        "/heads/m1.json",
        "../heads/m1.json",
        "heads/../m1.json",
        "heads//m1.json",
        "heads/./m1.json",
        "heads/.m1.json",
        "heads/m1.json/",
        "heads\\m1.json",
        "heads/m 1.json",
        "heads/m1.sync-conflict-20261125-101010-ABCDEFG.json",
        "heads/m1 (conflicted copy).json",
        "x" * 600,
    ],
)
def test_malformed_keys_are_refused(key: str) -> None:
    """No absolute paths, no '..', no empty or hidden segments, no conflict copies."""
    with pytest.raises(InputError, match="invalid remote key"):
        validate_key(key)


def test_prefixes_may_end_with_a_slash_or_be_empty() -> None:
    """list accepts '', a folder ('objects/') or a partial name ('heads/m1')."""
    assert validate_prefix("") == ""
    assert validate_prefix("objects/") == "objects/"
    assert validate_prefix("heads/m1") == "heads/m1"
    for bad in ("/", "../", "a//"):
        with pytest.raises(InputError):
            validate_prefix(bad)


def test_parse_key_splits_every_kind_and_refuses_foreign_keys() -> None:
    """parse_key gives kind, machine and id; keys outside the layout are refused."""
    assert parse_key(object_key(H)) == ParsedKey(KeyKind.OBJECT, None, H)
    assert parse_key(blob_key(H)) == ParsedKey(KeyKind.BLOB, None, H)
    assert parse_key(snapshot_key("m1", U)) == ParsedKey(KeyKind.SNAPSHOT, "m1", U)
    assert parse_key(audit_key("m1", U)) == ParsedKey(KeyKind.AUDIT, "m1", U)
    assert parse_key(head_key("m1")) == ParsedKey(KeyKind.HEAD, "m1", None)
    assert parse_key(META_KEY) == ParsedKey(KeyKind.META, None, None)
    for foreign in ("README.md", f"objects/sha256/zz/{H}", "heads/a/b.json", "snapshots/m1/x.json"):
        with pytest.raises(InputError, match="not part of the key layout"):
            parse_key(foreign)


def test_only_heads_and_meta_are_mutable() -> None:
    """Everything but heads/ and meta/ is write-once."""
    assert is_mutable(head_key("m1")) and is_mutable(META_KEY)
    assert not any(
        is_mutable(k) for k in (object_key(H), blob_key(H), snapshot_key("m", U), audit_key("m", U))
    )


@pytest.mark.parametrize(
    ("name", "conflict"),
    [
        ("m1.sync-conflict-20261125-101010-ABCDEFG.json", True),
        ("m1 (Alice's conflicted copy 2026-11-25).json", True),
        ("m1 (1).json", True),
        ("m1.json", False),
        ("conflicts.json", False),
    ],
)
def test_conflict_copies_of_common_sync_tools_are_recognised(name: str, conflict: bool) -> None:
    """Syncthing, Dropbox and Drive loser names are spotted; ordinary names are not."""
    assert is_conflict_copy(name) is conflict


@given(st.sampled_from([object_key(H), blob_key(H), snapshot_key("m1", U), head_key("m1")]))
def test_a_key_with_a_trailing_slash_is_not_a_key_though_a_prefix_may_end_with_one(
    key: str,
) -> None:
    assert is_key(key) and not is_key(f"{key}/")
    assert validate_prefix(f"{key}/") == f"{key}/"


@pytest.mark.parametrize("kind", ["snapshots", "audit"])
@pytest.mark.parametrize("machine", ["m.1", "-m1", "a" * 65])
def test_parse_key_refuses_a_per_machine_key_whose_machine_id_is_malformed(
    kind: str, machine: str
) -> None:
    suffix = ".json" if kind == "snapshots" else ".jsonl"
    with pytest.raises(InputError, match="not part of the key layout"):
        parse_key(f"{kind}/{machine}/{U}{suffix}")


def test_malformed_parts_and_prefixes_are_refused_saying_what_is_expected() -> None:
    with pytest.raises(
        InputError, match=re.escape("invalid machine id 'm.1': 1-64 letters, digits, '_' or")
    ):
        head_key("m.1")
    with pytest.raises(InputError, match="starting with a letter or digit"):
        head_key("-m1")
    with pytest.raises(InputError, match="invalid ULID 'x': expected 26 Crockford base32"):
        snapshot_key("m1", "x")
    with pytest.raises(
        InputError, match=re.escape("invalid remote key prefix '../': empty, '.' and '..'")
    ):
        validate_prefix("../")


def test_a_key_may_be_512_characters_long_and_no_longer() -> None:
    longest = "a/" * 255 + "bb"
    assert len(longest) == 512 and validate_key(longest) == longest
    with pytest.raises(InputError, match="longer than 512 characters"):
        validate_key(longest + "b")


def test_a_malformed_hash_is_refused_saying_what_is_expected() -> None:
    with pytest.raises(InputError, match="invalid sha256 'abc': expected 64 lowercase hex"):
        object_key("abc")


_NAME_PARTS = st.sampled_from(
    ["a", "Z", "0", "_", "-", ".", " ", "(1)", "\n", "é", "/", ".sync-conflict-", "conflicted copy"]
)
_LONG = st.just("x" * 130)


@given(st.lists(st.lists(_NAME_PARTS | _LONG, max_size=6).map("".join), min_size=1, max_size=6))
def test_a_key_is_exactly_segments_each_fit_for_a_key_joined_by_slashes_within_the_length(
    segments: list[str],
) -> None:
    """What a listing checks once per file or folder name (``is_segment``) decides what
    ``is_key`` decides of the whole key: it lists exactly the keys."""
    key = "/".join(segments)
    expected = 0 < len(key) <= MAX_KEY_LENGTH and all(map(is_segment, key.split("/")))
    assert is_key(key) is expected


@pytest.mark.parametrize(
    "make",
    [
        lambda: validate_key("heads/m1.json\n"),
        lambda: object_key(f"{H}\n"),
        lambda: head_key("m1\n"),
        lambda: snapshot_key("m1", f"{U}\n"),
        lambda: parse_key(f"objects/sha256/{H[:2]}/{H}\n"),
    ],
    ids=["key", "hash", "machine", "ULID", "layout"],
)
def test_a_trailing_newline_makes_no_key_hash_machine_id_or_ulid(make: Any) -> None:
    """A file name or digest ending in a newline (which ``$`` alone would let through) is
    refused: a key never carries a line break into a line-based protocol."""
    with pytest.raises(InputError):
        make()
