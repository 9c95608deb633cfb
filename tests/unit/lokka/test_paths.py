"""The guard's view of a Graph path (hypothesis): however a path is disguised (percent-encoding,
case, slashes, version prefix, key syntax, absolute URL), it normalises to the object it
names, or it is refused; never to something else."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agents.core.errors import InputError
from agents.lokka.guard import Target, protected_match
from agents.lokka.paths import batch_parts, object_refs, parse_path

ORIGIN = "https://graph.microsoft.com"
PROTECTED = ("breakglass*@contoso.com", "62e90394-69f5-4237-9190-012177145e10")
KEYS = (
    "breakglass1@contoso.com",
    "BreakGlass7@Contoso.com",
    "62e90394-69f5-4237-9190-012177145e10",
)
TAILS = ("", "/", "//", "/memberOf", "/members/$ref", "/revokeSignInSessions")


def encode_some(text: str, picks: list[bool], twice: bool) -> str:
    """``text`` with the characters ``picks`` marks percent-encoded (once, or twice)."""
    out = []
    for ch, pick in zip(text, picks + [False] * len(text), strict=False):
        if pick:
            enc = quote(ch, safe="")
            if enc == ch:
                enc = "%" + format(ord(ch), "02X")
            out.append(enc.replace("%", "%25") if twice else enc)
        else:
            out.append(ch)
    return "".join(out)


@st.composite
def disguised(draw: st.DrawFn) -> tuple[str, str]:
    """A path naming a protected key, disguised every way Graph would still read the same."""
    key = draw(st.sampled_from(KEYS))
    coll = draw(st.sampled_from(("users", "directoryObjects", "groups", "directoryRoles")))
    coll = "".join(c.upper() if draw(st.booleans()) else c for c in coll)
    picks = draw(st.lists(st.booleans(), max_size=len(key)))
    twice = draw(st.booleans())
    shown = encode_some(key, picks, twice)
    if draw(st.booleans()):
        shown = f"('{shown}')" if draw(st.booleans()) else f"(userPrincipalName='{shown}')"
        segment = coll + shown
    else:
        segment = f"{coll}/{shown}"
    version = draw(st.sampled_from(("", "/v1.0", "/beta", "/V1.0", "/BETA")))
    path = f"{version}/{segment}{draw(st.sampled_from(TAILS))}"
    if draw(st.booleans()):
        path = "/" + path
    if draw(st.booleans()):
        path = ORIGIN + path
    return key, path


@settings(max_examples=400, deadline=None)
@given(disguised())
def test_a_disguised_path_names_its_object_or_is_refused(case: tuple[str, str]) -> None:
    """Decoded once and normalised, the path names the protected key (case aside), or it is
    refused as ambiguous; no disguise makes the guard see another object or none."""
    key, raw = case
    try:
        path = parse_path(raw, origin=ORIGIN)
    except InputError as exc:
        assert "not a plain relative API path" in str(exc)
        return
    keys = [r.key.rpartition("=")[2].strip("'").casefold() for r in object_refs(path)]
    assert key.casefold() in keys, (raw, path, keys)
    target = Target("user", keys[0], tuple(keys))
    assert protected_match(PROTECTED, target) is not None


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_normalising_is_idempotent_and_never_leaves_a_dot_segment_or_slash(raw: str) -> None:
    """Any text parses to segments without '.', '..', '/', '\\' or control characters, and the
    encoded form it sends parses back to the same path (what is checked is what is sent)."""
    try:
        path = parse_path(raw, query=True)
    except InputError:
        return
    for seg in path.segments:
        assert seg not in (".", "..") and "/" not in seg and "\\" not in seg
        assert not any(ord(c) < 32 or ord(c) == 127 for c in seg)
    again = parse_path(path.encoded())
    assert again.segments == path.segments


@given(st.sampled_from(TAILS), st.sampled_from(("", "/v1.0", "/beta")))
def test_the_version_prefix_and_trailing_slashes_do_not_change_the_object(
    tail: str, version: str
) -> None:
    path = parse_path(f"{version}/users/ada@contoso.com{tail}")
    assert path.segments[:2] == ("users", "ada@contoso.com")
    assert path.version == (version.strip("/") or None)


@pytest.mark.parametrize(
    "raw",
    [
        "/users/..%2F..%2Fx",
        "/users/%2e%2e/groups",
        "/users/a%2Fb",
        "/users/a%5Cb",
        "/users/a%00b",
        "https://evil.example/v1.0/users/x",
        "//evil.example/users",
        "/users/x#frag",
        "/users/x?$select=id",
        "/users/%ff",
        "/v1.0/beta/users/x",
    ],
)
def test_paths_graph_would_read_another_way_are_refused(raw: str) -> None:
    """Encoded dots and slashes, control characters, other hosts, fragments, a query in the
    path, percent-encoding that is not UTF-8, two versions."""
    with pytest.raises(InputError, match="not a plain relative API path"):
        parse_path(raw, origin=ORIGIN)


def test_a_batch_is_rebuilt_from_its_normalised_urls() -> None:
    body: dict[str, Any] = {
        "requests": [
            {"id": "1", "method": "patch", "url": "/USERS/breakglass1%40contoso.com/", "body": {}},
            {"id": "2", "method": "GET", "url": f"{ORIGIN}/v1.0/me?$select=id"},
        ]
    }
    with pytest.raises(InputError, match="version"):
        batch_parts(body, ORIGIN)
    body["requests"][1]["url"] = f"{ORIGIN}/me?$select=id"
    sent, parts = batch_parts(body, ORIGIN)
    requests = sent["requests"]
    assert isinstance(requests, list)
    assert [r["url"] for r in requests] == [
        "/users/breakglass1@contoso.com",
        "/me?$select=id",
    ]
    assert [p.method for p in parts] == ["PATCH", "GET"]
    assert object_refs(parts[0].path)[0].key == "breakglass1@contoso.com"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"requests": []},
        {"requests": [{"id": str(i), "method": "GET", "url": "/me"} for i in range(21)]},
        {"requests": [{"id": "1", "method": "TRACE", "url": "/me"}]},
        {"requests": [{"id": "1", "method": "POST", "url": "/$batch"}]},
        {"requests": [{"id": "1", "method": "POST", "url": "https://evil.example/users"}]},
        {"requests": ["POST /users"]},
    ],
)
def test_a_batch_graph_would_not_run_as_checked_is_refused(body: dict[str, object]) -> None:
    with pytest.raises(InputError):
        batch_parts(body, ORIGIN)
