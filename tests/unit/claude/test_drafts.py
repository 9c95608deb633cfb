"""Documents as the store keeps them: envelopes round-trip, tombstones keep what they
delete, and the guard's hashes stay the same across key order and across versions."""

from __future__ import annotations

import hashlib
from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from agents.claude.drafts import Draft, Scope, SecretRef
from agents.claude.targets import unit_hash

NAMES = st.text(st.sampled_from("abcXYZ_-/.é"), min_size=1, max_size=8)
# a secret's name may hold what its reference is written with: ``${``, ``}``, ``secret://``
REF_NAMES = st.text(st.sampled_from("aX_/.${}:"), min_size=1, max_size=8)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(NAMES, inner, max_size=3),
    max_leaves=8,
)
SCOPES = st.builds(
    Scope,
    st.sampled_from(["user", "project", "machine"]),
    st.none() | NAMES,
    st.none() | NAMES,
)
REFS = st.builds(SecretRef, NAMES.map("/".__add__), REF_NAMES, st.sampled_from(["uri", "env"]))
DRAFTS = st.builds(
    Draft,
    NAMES,
    st.sampled_from(["preference", "claude_file", "skill", "mcp_server", "project"]),
    st.dictionaries(NAMES, JSON, max_size=4),
    SCOPES,
    st.lists(REFS, max_size=3).map(tuple),
    st.booleans(),
)


@given(DRAFTS)
def test_a_document_read_back_from_its_envelope_is_the_same_document(draft: Draft) -> None:
    """Kind, scope, body, secret references (both styles) and deletion all survive."""
    again = Draft.from_json(draft.to_json())
    assert again == draft
    assert again.content_hash() == draft.content_hash()


def test_an_envelope_without_the_optional_fields_is_a_live_user_document() -> None:
    """Older envelopes carry only id and kind."""
    assert Draft.from_json({"id": "pref:x", "kind": "preference"}) == Draft(
        "pref:x", "preference", {}, Scope("user"), (), False
    )


@given(DRAFTS)
def test_a_tombstone_is_the_same_document_marked_deleted(draft: Draft) -> None:
    """Scope and secret references stay, so apply finds what the document wrote."""
    assert draft.tombstone() == replace(draft, deleted=True)


def test_a_members_guard_hash_ignores_key_order_and_is_the_one_earlier_versions_stored() -> None:
    """The applied records in a store were written by earlier runs: the same member must hash
    the same however Claude Code orders its keys, and as it always has (sorted keys, no
    spaces, UTF-8 as it is)."""
    canonical = '{"args":["-y","café"],"command":"npx","env":{"A":"1","B":"2"}}'
    expected = "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()
    member = {"env": {"B": "2", "A": "1"}, "command": "npx", "args": ["-y", "café"]}
    reordered = {"args": ["-y", "café"], "command": "npx", "env": {"A": "1", "B": "2"}}
    assert unit_hash(member, False) == unit_hash(reordered, False) == expected
