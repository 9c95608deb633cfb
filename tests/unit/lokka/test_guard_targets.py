"""How the write guard reads a Graph object into a target a protection pattern can match."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agents.lokka.guard import NAME_FIELDS, _body_refs, _readable, protected_match, target_of


def test_a_target_carries_every_name_graph_returned_so_any_pattern_can_match_it() -> None:
    """A protection pattern on a UPN, mail, nickname or app id protects the object."""
    data = {f: f"{f}-value" for f in NAME_FIELDS} | {"@odata.type": "#microsoft.graph.user"}
    target = target_of("directoryObject", data, "alias")
    assert target.kind == "user" and target.id == "id-value"
    assert set(target.names) == {*data.values()} - {"#microsoft.graph.user"} | {"alias"}
    assert target.label == "user:userPrincipalName-value"
    for field in NAME_FIELDS:
        assert protected_match((f"{field}-value",), target) is not None


@pytest.mark.parametrize(
    "answer",
    [None, [], "text", {}, {"id": ""}, {"id": 7}, {"displayName": "Alice"}],
    ids=["null", "list", "string", "empty", "blank-id", "number-id", "no-id"],
)
def test_an_answer_naming_no_object_id_is_unresolved_so_the_write_is_refused(answer: Any) -> None:
    """Without an id there is nothing to check the protections against."""
    target = _readable("user", answer, "alice@contoso.com")
    assert target.unresolved == "Graph's answer names no object id"
    assert target.names == ("alice@contoso.com",) and target.label == "user:alice@contoso.com"
    assert target.id == "alice@contoso.com"  # the refusal names the reference it could not read


def test_an_answer_with_an_id_resolves_to_that_object() -> None:
    """The id Graph returned, not the reference used, identifies the object."""
    target = _readable("user", {"id": "u1", "userPrincipalName": "a@contoso.com"}, "a")
    assert target.unresolved is None and target.id == "u1" and target.kind == "user"
    assert target.names == ("a@contoso.com", "u1", "a")


def test_an_object_without_an_id_gets_no_made_up_id_a_pattern_could_match() -> None:
    """A missing id stays empty: no placeholder name joins the ones protections match."""
    target = target_of("group", {"displayName": "Admins"})
    assert target.id == "" and target.names == ("Admins", "")
    assert protected_match(("None",), target) is None


PLAIN_KEYS = st.text(st.characters(codec="ascii", exclude_characters="@"), max_size=12)
REF_KEYS = st.sampled_from(["@odata.id", "members@odata.bind", "owners@odata.bind", "x@odata.bind"])


@st.composite
def nested_reference(draw: st.DrawFn) -> tuple[object, str]:
    """A body with one reference, under its reference key, wrapped in dicts and lists."""
    oid = str(draw(st.uuids()))
    url = f"https://graph.microsoft.com/v1.0/directoryObjects/{oid}"
    body: object = {draw(REF_KEYS): draw(st.sampled_from([url, [url]]))}
    for _ in range(draw(st.integers(0, 4))):
        if draw(st.booleans()):
            body = [body]
        else:
            body = {draw(PLAIN_KEYS): body, "note": draw(PLAIN_KEYS)}
    return body, oid


@settings(max_examples=200, deadline=None)
@given(nested_reference())
def test_a_reference_anywhere_in_a_body_is_checked_strictly_never_as_a_loose_value(
    drawn: tuple[object, str],
) -> None:
    """An `@odata.id` or `...@odata.bind` value names an object the write must find: at any
    depth, inside lists or not, it is a strict reference and never a value checked as given."""
    body, oid = drawn
    strict, loose = _body_refs(body)
    assert [r.key for r in strict] == [oid]
    assert oid not in loose


def test_a_reference_with_a_query_string_still_names_its_object() -> None:
    """``@odata.id`` is a URL and may carry ``?$select=…``: the object it names is still read
    back strictly, not refused as a malformed path."""
    oid = "0f6b2c1e-1111-4222-8333-944455566677"
    url = f"https://graph.microsoft.com/v1.0/directoryObjects/{oid}?$select=id"
    strict, loose = _body_refs({"@odata.id": url, "members@odata.bind": [url]})
    assert [r.key for r in strict] == [oid, oid] and loose == []


def test_a_body_that_is_a_bare_value_or_a_list_of_values_names_the_objects_it_holds() -> None:
    """A ``$batch`` sub-request's body may be any JSON: a bare UPN or a list of GUIDs is
    looked up like the same values inside an object, never a crash."""
    oid = "0f6b2c1e-1111-4222-8333-944455566677"
    assert _body_refs("ada@contoso.com") == ([], ["ada@contoso.com"])
    assert _body_refs([oid, "plain words", 7]) == ([], [oid])
