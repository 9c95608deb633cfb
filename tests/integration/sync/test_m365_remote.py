"""The Microsoft 365 remote against a loopback Graph document library and token service:
what the conformance suite does not show (upload sessions, throttling, paging, the forms of
the URL, credentials)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from types import SimpleNamespace

import httpx
import pytest
from azure.core.credentials import AccessToken
from azure.core.exceptions import ClientAuthenticationError
from pytest_mock import MockerFixture

from agents.core.errors import ConfigError
from agents.lokka.settings import LokkaSettings
from agents.sync.keys import head_key, object_key
from agents.sync.m365_remote import SIMPLE_MAX, M365Remote, parse_m365_url
from agents.sync.remote import CasConflict, ObjectConflict, Remote, RemoteError
from agents.sync.urls import open_remote
from tests.fakes.drive import DRIVE, SITE, Item
from tests.integration.sync.conftest import M365Fakes

pytestmark = pytest.mark.integration


def _url(kind: str = "drives", ident: str = DRIVE) -> str:
    # a fresh folder each time; its name ends in X: nothing may trim a folder name's end
    return f"m365://{kind}/{ident}/ctx/t{uuid.uuid4().hex[:12]}X"


def test_an_object_over_4_mb_goes_through_an_upload_session(m365: M365Fakes) -> None:
    """Ranges of 320 KiB multiples to the session's URL, which never gets the token."""
    data = bytes(range(256)) * (SIMPLE_MAX // 256 + 4096)
    key = object_key("ab" * 32)
    with open_remote(_url(), environ=m365.environ) as remote:
        before = len(m365.drive.sent("PUT", "/upload/"))
        remote.put_if_absent(key, data)
        remote.put_if_absent(key, data)  # the same bytes again: a no-op
        entry = remote.get(key)
    ranges = m365.drive.sent("PUT", "/upload/")[before:]
    assert entry is not None and entry.data == data
    assert len(ranges) >= 2 and all("authorization" not in r.headers for r in ranges)
    assert not m365.drive.sent("PUT", f"/v1.0/drives/{DRIVE}/root:/ctx") or all(
        len(r.raw) <= SIMPLE_MAX for r in m365.drive.sent("PUT", f"/v1.0/drives/{DRIVE}/root:/ctx")
    )


def test_throttling_is_retried_after_the_time_graph_asks(
    m365: M365Fakes, mocker: MockerFixture
) -> None:
    slept = mocker.patch("agents.core.retry.sync_sleep")
    with open_remote(_url(), environ=m365.environ) as remote:
        m365.drive.fail("PUT", f"/v1.0/drives/{DRIVE}/root:/ctx", 429, headers={"Retry-After": "7"})
        m365.drive.fail("PUT", f"/v1.0/drives/{DRIVE}/root:/ctx", 503, headers={"Retry-After": "2"})
        etag = remote.cas(head_key("m1"), b'{"seq": 1}', None)
    assert etag and [c.args[0] for c in slept.call_args_list] == [7.0, 2.0]


def test_listing_follows_next_links_across_pages(m365: M365Fakes) -> None:
    """The fake pages 50 items at a time; 120 objects in one folder come back whole."""
    keys = [object_key(f"{i:02x}" + "0" * 62) for i in range(120)]
    with open_remote(_url(), environ=m365.environ) as remote:
        remote.put_many((k, k.encode()) for k in keys)
        assert remote.list("objects/") == sorted(keys)
    assert any("skiptoken" in r.raw_query for r in m365.drive.sent("GET"))


def test_a_site_url_opens_the_sites_default_library(m365: M365Fakes) -> None:
    with open_remote(_url("sites", SITE), environ=m365.environ) as remote:
        remote.put_if_absent(object_key("cd" * 32), b"x")
        assert remote.list() == [object_key("cd" * 32)]


@pytest.mark.parametrize(
    "url",
    [
        "m365://drives/abc",  # no folder
        "m365://users/me/ctx",
        "m365://drives/abc/../etc",
        "m365://drives/abc/ctx?x=1",
    ],
)
def test_bad_urls_are_refused_naming_the_forms(url: str) -> None:
    with pytest.raises(ConfigError, match="m365://drives/<drive-id>/<folder>"):
        parse_m365_url(url)


FORMS = "m365://drives/<drive-id>/<folder> or m365://sites/<site-id>/<folder>"


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("m365://drives/abc", f"use {FORMS} (a folder is required)"),
        ("m365://users/me/ctx", f"use {FORMS} (a folder is required)"),
        ("m365://drives/abc/ctx#frag", f"use {FORMS}"),
        ("m365://drives/abc/ctx?x=1", f"use {FORMS}"),
        ("https://drives/abc/ctx", f"use {FORMS}"),
        ("m365://drives/abc/./ctx", f"no '.' or '..' in the folder; use {FORMS}"),
        ("m365://drives/abc/ctx/..", f"no '.' or '..' in the folder; use {FORMS}"),
    ],
)
def test_a_bad_url_is_refused_saying_what_is_wrong_and_showing_the_forms(
    url: str, why: str
) -> None:
    """The whole message: the variable, the URL as given, what is wrong, the two forms."""
    with pytest.raises(ConfigError) as refused:
        parse_m365_url(url)
    assert str(refused.value) == f"CONTEXT_REMOTE {url!r}: {why}"


@pytest.mark.parametrize(
    ("url", "parsed"),
    [
        ("m365://drives/b!x/ctx", ("drives", "b!x", "ctx")),
        ("m365://drives/b!x/ctx/", ("drives", "b!x", "ctx")),
        ("m365://sites/h,1,2/Shared%20Docs/ctx/X", ("sites", "h,1,2", "Shared Docs/ctx/X")),
    ],
)
def test_a_url_names_the_library_and_the_folder_under_its_root(
    url: str, parsed: tuple[str, str, str]
) -> None:
    """A drive or a site, its id, and the folder (one level or several, percent-decoded)."""
    assert parse_m365_url(url) == parsed


def test_settings_that_do_not_parse_are_named_and_empty_ones_left_to_their_defaults(
    m365: M365Fakes,
) -> None:
    """A value the Lokka settings refuse is named (never shown); an empty one, as a template's
    ``LOKKA_TIMEOUT=`` line gives, counts as unset."""
    url = _url()
    with pytest.raises(ConfigError) as refused:
        open_remote(url, environ={**m365.environ, "LOKKA_TIMEOUT": "soon", "LOKKA_MAX_ITEMS": "x"})
    assert str(refused.value) == (
        f"CONTEXT_REMOTE {url}: invalid Microsoft 365 settings: LOKKA_MAX_ITEMS, LOKKA_TIMEOUT"
    )
    with open_remote(url, environ={**m365.environ, "LOKKA_TIMEOUT": ""}) as remote:
        assert remote.list() == []


def test_no_credential_says_which_variables_to_set_and_where(m365: M365Fakes) -> None:
    """The whole message: the variables, the secrets file, the Lokka agent's settings."""
    url = _url()
    environ = {k: v for k, v in m365.environ.items() if not k.startswith("AZURE_CLIENT")}
    with pytest.raises(ConfigError) as refused:
        open_remote(url, environ=environ)
    assert str(refused.value) == (
        f"CONTEXT_REMOTE {url}: no Azure credential configured; set AZURE_TENANT_ID, "
        "AZURE_CLIENT_ID and AZURE_CLIENT_CERTIFICATE_PATH (or AZURE_CLIENT_SECRET in the "
        "environment's .secrets file), as for the Lokka agent"
    )


def test_a_wrong_secret_is_a_remote_error_that_never_shows_it(m365: M365Fakes) -> None:
    environ = {**m365.environ, "AZURE_CLIENT_SECRET": "not-the-secret-value"}
    with open_remote(_url(), environ=environ) as remote, pytest.raises(Exception) as failed:
        remote.get(head_key("m1"))
    assert "cannot sign in to Microsoft 365" in str(failed.value)
    assert "not-the-secret-value" not in str(failed.value)


ROOT = f"/v1.0/drives/{DRIVE}/root:/ctx"
DENIED = {"error": {"code": "accessDenied", "message": "Access denied"}}


def _denied(remote: Remote, what: str, status: int, request_id: str) -> str:
    """The error a call Graph answered with ``DENIED`` raises."""
    return (
        f"{remote.display_url}: cannot {what}: HTTP {status} accessDenied: Access denied "
        f"(request-id {request_id})"
    )


def _refused(
    m365: M365Fakes,
    remote: Remote,
    route: tuple[str, str],
    what: str,
    call: Callable[[], object],
    statuses: tuple[int, ...] = (400, 403),
) -> None:
    """Graph answers the next request to ``route`` (method, path) with each of ``statuses`` in
    turn (``DENIED``): ``call`` fails every time with Graph's reason, naming ``what``."""
    for status in statuses:
        m365.drive.fail(*route, status, body=DENIED, headers={"request-id": "req-9"})
        with pytest.raises(RemoteError) as failed:
            call()
        assert str(failed.value) == _denied(remote, what, status, "req-9")


def test_a_write_or_delete_graph_refuses_names_the_key_graphs_code_and_the_request_id(
    m365: M365Fakes,
) -> None:
    """Graph's refusal reaches the user whole: what was being done to which key, the status,
    Graph's error code and message, and the request-id support asks for."""
    key = object_key("ab" * 32)
    tail = ": HTTP 403 accessDenied: Access denied (request-id req-7)"
    headers = {"request-id": "req-7"}
    with open_remote(_url(), environ=m365.environ) as remote:
        m365.drive.fail("PUT", ROOT, 403, body=DENIED, headers=headers)
        with pytest.raises(RemoteError) as put:
            remote.put_if_absent(key, b"x")
        assert str(put.value) == f"{remote.display_url}: cannot write {key}{tail}"
        m365.drive.fail("PUT", ROOT, 403, body=DENIED, headers=headers)
        with pytest.raises(RemoteError) as cas:
            remote.cas(head_key("m1"), b"h", None)
        assert str(cas.value) == f"{remote.display_url}: cannot write {head_key('m1')}{tail}"
        remote.put_if_absent(key, b"x")
        m365.drive.fail("DELETE", ROOT, 403, body=DENIED, headers=headers)
        with pytest.raises(RemoteError) as delete:
            remote.delete(key)
        assert str(delete.value) == f"{remote.display_url}: cannot delete {key}{tail}"


def test_a_refusal_without_a_graph_error_body_shows_the_http_reason(m365: M365Fakes) -> None:
    """A gateway's HTML page instead of Graph's JSON error, and no request-id: the status and
    its reason phrase, nothing made up."""
    key = object_key("cd" * 32)
    with open_remote(_url(), environ=m365.environ) as remote:
        m365.drive.fail(
            "PUT", ROOT, 502, body=b"<html>bad gateway</html>", headers={"request-id": ""}
        )
        with pytest.raises(RemoteError) as failed:
            remote.put_if_absent(key, b"x")
        assert (
            str(failed.value) == f"{remote.display_url}: cannot write {key}: HTTP 502 Bad Gateway"
        )


def test_a_site_lookup_graph_refuses_or_answers_oddly_is_a_clear_error_leaving_nothing_open(
    m365: M365Fakes, mocker: MockerFixture
) -> None:
    """Opening a site's library: a 400 shows the request (without the Graph host) and Graph's
    error; an answer that is not a JSON object is refused as such; either way the remote's
    HTTP client is closed (a sync loop retrying the open leaks no connections)."""
    closed = mocker.spy(httpx.Client, "close")
    site = f"/v1.0/sites/{SITE}/drive"
    bad = {"error": {"code": "invalidRequest", "message": "Invalid hostname"}}
    m365.drive.fail("GET", site, 400, body=bad, headers={"request-id": "req-8"})
    with pytest.raises(RemoteError) as refused:
        open_remote(_url("sites", SITE), environ=m365.environ)
    assert f"cannot GET /sites/{SITE}/drive: HTTP 400 invalidRequest: Invalid hostname" in str(
        refused.value
    )
    m365.drive.fail("GET", site, 200, body=[{"id": DRIVE}])
    with pytest.raises(RemoteError, match="Graph answered something not an object"):
        open_remote(_url("sites", SITE), environ=m365.environ)
    assert closed.call_count == 2


def test_unavailability_without_retry_after_is_retried_after_a_backoff(
    m365: M365Fakes, mocker: MockerFixture
) -> None:
    """A 503 or 504 without Retry-After is retried after the policy's own jittered backoff."""
    slept = mocker.patch("agents.core.retry.sync_sleep")
    with open_remote(_url(), environ=m365.environ) as remote:
        m365.drive.fail("PUT", ROOT, 503)
        m365.drive.fail("PUT", ROOT, 504)
        assert remote.cas(head_key("m1"), b"h", None)
    waits = [c.args[0] for c in slept.call_args_list]
    assert len(waits) == 2 and all(0.5 <= w <= 3.5 for w in waits), waits


def test_a_head_write_graph_answers_without_an_etag_is_refused(m365: M365Fakes) -> None:
    """A successful write must give the head's new eTag (the next compare-and-swap needs it)."""
    with open_remote(_url(), environ=m365.environ) as remote:
        m365.drive.fail("PUT", ROOT, 201, body={"id": "01ABC", "name": "m1.json"})
        with pytest.raises(RemoteError) as failed:
            remote.cas(head_key("m1"), b"h", None)
    assert str(failed.value).endswith(f"the write of {head_key('m1')} returned no eTag")


def test_a_head_graph_says_is_gone_during_a_compare_and_swap_is_a_conflict(
    m365: M365Fakes,
) -> None:
    """404 to an If-Match write (the item went between our read and our write) is a lost
    compare-and-swap with the head's state now, never a plain failure."""
    with open_remote(_url(), environ=m365.environ) as remote:
        etag = remote.cas(head_key("m1"), b"h", None)
        m365.drive.fail("PUT", ROOT, 404)
        with pytest.raises(CasConflict) as lost:
            remote.cas(head_key("m1"), b"h2", etag)
    assert lost.value.expected == etag and lost.value.current_etag == etag


def test_listing_under_a_prefix_reads_only_the_folder_it_names(m365: M365Fakes) -> None:
    """``list`` walks from the prefix's own folder, not from the root: one request for the
    objects of one fan-out folder, however many others there are; a prefix that ends inside
    a name still finds its keys."""
    keys = [object_key(f"{i:02x}" + "0" * 62) for i in range(3)]
    with open_remote(_url(), environ=m365.environ) as remote:
        remote.put_many((k, k.encode()) for k in keys)
        remote.cas(head_key("m1"), b"h", None)
        before = len(m365.drive.sent("GET"))
        assert remote.list(keys[1].rsplit("/", 1)[0] + "/") == [keys[1]]
        listed = m365.drive.sent("GET")[before:]
        assert remote.list("hea") == [head_key("m1")]
    assert len(listed) == 1 and listed[0].path.endswith("/01:/children")


def test_a_listing_graph_refuses_is_an_error_never_an_empty_list(m365: M365Fakes) -> None:
    """A 400 or 403 on a folder's children fails the listing, naming the folder: read as an
    empty folder, it would hide every head from the pull."""
    with open_remote(_url(), environ=m365.environ) as remote:
        remote.cas(head_key("m1"), b"h", None)
        _refused(m365, remote, ("GET", ROOT), "list /", lambda: remote.list(""), (400,))
        _refused(m365, remote, ("GET", ROOT), "list heads", lambda: remote.list("heads/"), (403,))


def test_a_read_graph_refuses_is_an_error_naming_the_key_never_a_refused_object(
    m365: M365Fakes,
) -> None:
    """A 400 or 403 to an item's metadata fails the read with Graph's reason: taken as an item
    without a size, the object would be set aside as damaged. An answer that is no JSON
    object reads as no item."""
    key = object_key("ef" * 32)
    with open_remote(_url(), environ=m365.environ) as remote:
        remote.put_if_absent(key, b"x")
        _refused(m365, remote, ("GET", ROOT), f"read {key}", lambda: remote.get(key))
        m365.drive.fail("GET", ROOT, 200, body=[{"size": 1}])
        assert remote.get(key) is None
        assert remote.refused == {}
        entry = remote.get(key)
        assert entry is not None and entry.data == b"x"
        assert remote.get(object_key("fe" * 32)) is None


def _item(key: str, **fields: object) -> dict[str, object]:
    """A driveItem as Graph answers it for ``key``, with ``fields`` added."""
    return {"id": "01ITEM", "name": key.rsplit("/", 1)[-1], "eTag": '"{01ITEM},1"', **fields}


def test_a_folder_where_an_object_should_be_reads_as_no_object(m365: M365Fakes) -> None:
    """Another tool made a folder at an object's path: Graph answers a folder item (a size,
    no download URL), which reads as no object, not as an error failing every pull."""
    url = _url()
    key = object_key("a1" * 32)
    m365.drive.files[f"{parse_m365_url(url)[2]}/{key}/stray.txt"] = Item("01STRAY", b"s", 1)
    with open_remote(url, environ=m365.environ) as remote:
        assert remote.get(key) is None
        assert remote.get_many([key]) == {} and remote.refused == {}


def test_an_item_graph_gives_without_a_size_is_refused_under_its_key_saying_so(
    m365: M365Fakes,
) -> None:
    """No integer size: the object is left out unread, under its key, with what Graph said
    (cut to 40 characters), for the pull to set aside."""
    key = object_key("b2" * 32)
    odd = "not known yet: the client is still uploading this file"
    with open_remote(_url(), environ=m365.environ) as remote:
        remote.put_if_absent(key, b"x")
        m365.drive.fail("GET", ROOT, 200, body=_item(key, size=odd, file={}))
        assert remote.get(key) is None
        assert remote.refused == {key: f"its size is not given ({odd[:40]!r})"}


def test_an_object_over_the_limit_is_refused_unread_naming_its_size(m365: M365Fakes) -> None:
    """The item's size decides before any download: one byte over the limit is refused under
    its key and never fetched; at the limit it is read whole."""
    key = object_key("c3" * 32)
    with open_remote(_url(), environ=m365.environ) as remote:
        remote.put_if_absent(key, b"y" * 100)
        remote.max_bytes = 99
        before = len(m365.drive.sent("GET", "/download/"))
        assert remote.get(key) is None
        assert remote.refused == {key: "100 bytes, over the 99-byte limit (SYNC_MAX_OBJECT_BYTES)"}
        assert len(m365.drive.sent("GET", "/download/")) == before
        remote.max_bytes = 100
        entry = remote.get(key)
        assert entry is not None and entry.data == b"y" * 100


def test_a_download_longer_than_its_item_said_is_refused_under_its_key(m365: M365Fakes) -> None:
    """The item says one byte, the download brings more than the limit (a broken or hostile
    answer): left out under its key with the size received."""
    key = object_key("d4" * 32)
    with open_remote(_url(), environ=m365.environ) as remote:
        remote.put_if_absent(key, b"z")
        remote.max_bytes = 10
        m365.drive.fail("GET", "/download/", 200, body=b"z" * 11)
        assert remote.get(key) is None
        assert remote.refused == {key: "11 bytes, over the 10-byte limit (SYNC_MAX_OBJECT_BYTES)"}


@pytest.mark.parametrize(
    "link",
    [None, "http://127.0.0.1:9/download/cleartext", "file:///etc/passwd"],
    ids=["none", "http", "file"],
)
def test_an_item_without_an_https_download_url_is_an_error_naming_the_key_fetching_nothing(
    m365: M365Fakes, link: str | None
) -> None:
    """Graph's download URLs are https; anything else (missing, cleartext, a local file) is
    refused naming the key, and nothing more is requested."""
    key = object_key("e5" * 32)
    with open_remote(_url(), environ=m365.environ) as remote:
        remote.put_if_absent(key, b"x")
        item = _item(key, size=1, file={})
        if link is not None:
            item["@microsoft.graph.downloadUrl"] = link
        m365.drive.fail("GET", ROOT, 200, body=item)
        before = len(m365.drive.requests)
        with pytest.raises(RemoteError) as failed:
            remote.get(key)
        assert str(failed.value) == f"{remote.display_url}: {key} has no https download URL"
        assert len(m365.drive.requests) == before + 1  # the item, not the link


def test_a_download_refused_is_an_error_naming_the_key_never_data(m365: M365Fakes) -> None:
    """A 400 or 403 from the download URL fails the read with the reason: its error body is
    never taken for the object's bytes."""
    key = object_key("f6" * 32)
    with open_remote(_url(), environ=m365.environ) as remote:
        remote.put_if_absent(key, b"x")
        _refused(m365, remote, ("GET", "/download/"), f"download {key}", lambda: remote.get(key))


def test_an_upload_session_without_an_https_url_is_refused_sending_nothing(
    m365: M365Fakes,
) -> None:
    """Graph's upload session URLs are https: a session answered with a cleartext (or no)
    URL fails the write, and no byte goes anywhere."""
    key = object_key("07" * 32)
    data = b"u" * (SIMPLE_MAX + 1)
    with open_remote(_url(), environ=m365.environ) as remote:
        for session in ({"uploadUrl": "http://127.0.0.1:9/upload/x"}, {"expirationDateTime": ""}):
            m365.drive.fail("POST", ROOT, 200, body=session)
            before = len(m365.drive.requests)
            with pytest.raises(RemoteError) as failed:
                remote.put_if_absent(key, data)
            assert str(failed.value).endswith("the upload session has no https uploadUrl")
            assert len(m365.drive.requests) == before + 1


def test_an_object_over_4_mb_where_other_bytes_are_is_a_conflict_leaving_them(
    m365: M365Fakes,
) -> None:
    """The upload session of a write-once key asks Graph to fail on an existing item: other
    bytes already there are an ObjectConflict, and they stay."""
    key = object_key("08" * 32)
    first, other = b"a" * (SIMPLE_MAX + 1), b"b" * (SIMPLE_MAX + 1)
    with open_remote(_url(), environ=m365.environ) as remote:
        remote.put_if_absent(key, first)
        with pytest.raises(ObjectConflict):
            remote.put_if_absent(key, other)
        entry = remote.get(key)
    assert entry is not None and entry.data == first


def test_a_compare_and_swap_over_4_mb_still_checks_the_etag(m365: M365Fakes) -> None:
    """An upload session carries the If-Match of a compare-and-swap: a stale eTag loses, and
    the head keeps the winner's bytes."""
    key = head_key("m1")
    big = [bytes([n]) * (SIMPLE_MAX + 1) for n in range(3)]
    with open_remote(_url(), environ=m365.environ) as remote:
        stale = remote.cas(key, big[0], None)
        current = remote.cas(key, big[1], stale)
        with pytest.raises(CasConflict) as lost:
            remote.cas(key, big[2], stale)
        entry = remote.get(key)
    assert lost.value.current_etag == current
    assert entry is not None and entry.data == big[1]


def test_an_upload_session_graph_refuses_is_an_error_with_graphs_reason(m365: M365Fakes) -> None:
    """A 400 or 403 to createUploadSession fails the write with Graph's reason (never "the
    session has no URL")."""
    key = object_key("09" * 32)
    with open_remote(_url(), environ=m365.environ) as remote:
        big = b"s" * (SIMPLE_MAX + 1)
        write = f"write {key}"
        _refused(m365, remote, ("POST", ROOT), write, lambda: remote.put_if_absent(key, big))


class _Credential:
    """Hands the remote tokens the Graph fake accepts, each valid an hour from ``clock[0]``,
    counting them; or raises ``error``."""

    def __init__(self, m365: M365Fakes, clock: list[float], error: Exception | None = None) -> None:
        self.m365, self.clock, self.error = m365, clock, error
        self.issued: list[str] = []
        self.closed = 0

    def close(self) -> None:
        self.closed += 1

    def get_token(self, *scopes: str, **kwargs: object) -> AccessToken:
        if self.error is not None:
            raise self.error
        token = f"tok-test-{uuid.uuid4().hex}"
        self.m365.sts.issued[token] = scopes[0]
        self.issued.append(token)
        return AccessToken(token, int(self.clock[0]) + 3600)


def _remote(m365: M365Fakes, url: str, credential: _Credential) -> M365Remote:
    return M365Remote(url, LokkaSettings.model_validate(m365.environ), credential=credential)


def test_a_token_serves_until_five_minutes_before_it_expires_then_a_new_one_is_used(
    m365: M365Fakes, mocker: MockerFixture
) -> None:
    """One token for every call while it has five minutes or more left; under that, a new
    one before the next call, so Graph never sees a token about to expire."""
    clock = [1_000_000.0]
    mocker.patch("agents.sync.m365_remote.time", SimpleNamespace(time=lambda: clock[0]))
    credential = _Credential(m365, clock)
    key = object_key("1c" * 32)
    with _remote(m365, _url(), credential) as remote:
        remote.put_if_absent(key, b"x")
        clock[0] += 3600 - 300
        assert remote.get(key) is not None
        assert len(credential.issued) == 1
        clock[0] += 1
        assert remote.get(key) is not None
        assert len(credential.issued) == 2
    assert m365.drive.sent("GET", "/v1.0/")[-1].headers["authorization"] == (
        f"Bearer {credential.issued[1]}"
    )


@pytest.mark.parametrize(
    ("error", "shown"),
    [
        (
            ClientAuthenticationError("AADSTS7000215: Invalid client secret.\nTrace ID: 7"),
            "ClientAuthenticationError: AADSTS7000215: Invalid client secret.",
        ),
        (ConnectionError(), "ConnectionError: "),
    ],
    ids=["first-line", "no-message"],
)
def test_a_failed_sign_in_names_the_error_its_first_line_and_what_to_check(
    m365: M365Fakes, error: Exception, shown: str
) -> None:
    """The credential's error type and the first line of its message (the AADSTS code), and
    the settings to check; nothing more of it. The message starts with the remote's URL."""
    key, url = object_key("1d" * 32), _url()
    with _remote(m365, url, _Credential(m365, [0.0], error)) as remote:
        with pytest.raises(RemoteError) as failed:
            remote.get(key)
        assert str(failed.value) == (
            f"{url}: cannot sign in to Microsoft 365 ({shown}); check "
            "AZURE_TENANT_ID, AZURE_CLIENT_ID and the credential"
        )


EXPIRED = {
    "error": {
        "code": "InvalidAuthenticationToken",
        "message": "Lifetime validation failed, the token is expired.",
    }
}


def test_a_token_graph_rejects_is_renewed_and_the_call_repeated_at_once_but_once_only(
    m365: M365Fakes, mocker: MockerFixture
) -> None:
    """A 401 to a call made with a token (revoked, or expired early): a new token and the
    same call again without waiting; a second 401 fails the call with Graph's reason. A call
    Graph accepts is sent once."""
    slept = mocker.patch("agents.core.retry.sync_sleep")
    url = _url()
    mine = f"/v1.0/drives/{DRIVE}/root:/{parse_m365_url(url)[2]}"
    credential = _Credential(m365, [time.time()])
    key = object_key("1e" * 32)
    with _remote(m365, url, credential) as remote:
        remote.put_if_absent(key, b"x")
        before = len(m365.drive.sent("GET", mine))
        assert remote.get(key) is not None
        assert len(m365.drive.sent("GET", mine)) == before + 1
        m365.drive.fail("GET", mine, 401, body=EXPIRED)
        assert remote.get(key) is not None
        assert len(m365.drive.sent("GET", mine)) == before + 3
        assert len(credential.issued) == 2
        m365.drive.fail("GET", mine, 401, body=EXPIRED, times=2)
        with pytest.raises(RemoteError) as failed:
            remote.get(key)
        assert len(m365.drive.sent("GET", mine)) == before + 5
        assert str(failed.value).startswith(
            f"{remote.display_url}: cannot read {key}: HTTP 401 InvalidAuthenticationToken: "
            f"{EXPIRED['error']['message']} (request-id "
        )
    assert [c.args[0] for c in slept.call_args_list] == [0.0, 0.0]


def test_a_host_that_refuses_connections_is_retried_then_an_error_without_its_url(
    m365: M365Fakes, mocker: MockerFixture
) -> None:
    """A download host that refuses every connection: five attempts through the retry
    policy's backoff, then an error naming the method and the failure's type; the
    pre-authenticated URL (a credential of its own) is not shown."""
    slept = mocker.patch("agents.core.retry.sync_sleep")
    key = object_key("1f" * 32)
    link = "https://127.0.0.1:9/download/tempauth-secret-part"
    with open_remote(_url(), environ=m365.environ) as remote:
        remote.put_if_absent(key, b"x")
        item = _item(key, size=1, file={})
        item["@microsoft.graph.downloadUrl"] = link
        m365.drive.fail("GET", ROOT, 200, body=item)
        with pytest.raises(RemoteError) as failed:
            remote.get(key)
        assert str(failed.value) == f"{remote.display_url}: GET failed: ConnectError"
    assert len(slept.call_args_list) == 4


def test_a_site_graph_gives_no_document_library_is_an_error_at_once(m365: M365Fakes) -> None:
    """A site lookup answered without a drive id fails the open, saying so: a remote on no
    library would find nothing and write nowhere."""
    url = _url("sites", SITE)
    m365.drive.fail("GET", f"/v1.0/sites/{SITE}/drive", 200, body={"driveType": "x"})
    with pytest.raises(RemoteError) as failed:
        open_remote(url, environ=m365.environ)
    assert str(failed.value) == f"{url}: the site has no default document library"


NOT_JSON = b"<html><body>Service unavailable</body></html>"


def test_answers_that_are_no_json_object_are_clear_errors_never_a_crash(m365: M365Fakes) -> None:
    """A 2xx whose body is no JSON object (a proxy's page, an array, a listing without its
    items): each call fails with a RemoteError saying so (it crashed with ValueError); an
    item's metadata that is no object reads as no item."""
    key = object_key("0a" * 32)
    m365.drive.fail("GET", f"/v1.0/sites/{SITE}/drive", 200, body=NOT_JSON)
    with pytest.raises(RemoteError, match="Graph answered something not an object"):
        open_remote(_url("sites", SITE), environ=m365.environ)
    with open_remote(_url(), environ=m365.environ) as remote:
        remote.put_if_absent(key, b"x")
        for body in (NOT_JSON, {"value": "x"}, {"value": ["x"]}, {}):
            m365.drive.fail("GET", ROOT, 200, body=body)
            with pytest.raises(RemoteError) as listing:
                remote.list()
            assert str(listing.value) == (
                f"{remote.display_url}: cannot list /: Graph answered something not a list of items"
            )
        m365.drive.fail("PUT", ROOT, 201, body=NOT_JSON)
        with pytest.raises(RemoteError, match="returned no eTag"):
            remote.cas(head_key("m1"), b"h", None)
        m365.drive.fail("POST", ROOT, 200, body=NOT_JSON)
        with pytest.raises(RemoteError, match="the upload session has no https uploadUrl"):
            remote.put_if_absent(object_key("0b" * 32), b"s" * (SIMPLE_MAX + 1))
        m365.drive.fail("GET", ROOT, 200, body=NOT_JSON)
        assert remote.get(key) is None


def test_a_redirect_graph_answers_is_never_followed(m365: M365Fakes) -> None:
    """A 302 to an item read is not followed (the request, with its token, goes nowhere
    else): it reads as no item."""
    key = object_key("0c" * 32)
    elsewhere = f"{m365.sts.url}/v1.0/elsewhere"
    with open_remote(_url(), environ=m365.environ) as remote:
        remote.put_if_absent(key, b"x")
        m365.drive.fail("GET", ROOT, 302, headers={"Location": elsewhere})
        assert remote.get(key) is None
    assert not m365.sts.sent(path="/v1.0/elsewhere")


def test_a_next_page_link_off_graph_fails_the_listing_and_is_never_requested(
    m365: M365Fakes,
) -> None:
    """``@odata.nextLink`` pointing anywhere but Graph (a hostile or broken answer): the
    listing fails naming the folder, and the link, which would get the token, is not
    requested; a listing cut short would hide heads from the pull."""
    with open_remote(_url(), environ=m365.environ) as remote:
        remote.cas(head_key("m1"), b"h", None)
        for link in (f"{m365.sts.url}/v1.0/steal", m365.drive.url, 7):
            m365.drive.fail("GET", ROOT, 200, body={"value": [], "@odata.nextLink": link})
            with pytest.raises(RemoteError) as failed:
                remote.list()
            assert str(failed.value) == (
                f"{remote.display_url}: cannot list /: the next page is not on "
                f"{m365.drive.url}/v1.0"
            )
    assert not m365.sts.sent(path="/v1.0/steal")


def test_listing_a_prefix_that_ends_inside_a_name_leaves_out_the_folders_other_keys(
    m365: M365Fakes,
) -> None:
    """Keys of one folder not starting with the prefix are left out."""
    keys = [object_key("0d" + c * 62) for c in "ab"]
    with open_remote(_url(), environ=m365.environ) as remote:
        remote.put_many((k, b"x") for k in keys)
        assert remote.list(keys[0][:-40]) == [keys[0]]


def test_a_graph_that_does_not_answer_fails_after_the_timeout_set(
    m365: M365Fakes, mocker: MockerFixture
) -> None:
    """LOKKA_TIMEOUT bounds each request: a Graph that answers later than that fails the
    call after the retries, however late it would have answered."""
    mocker.patch("agents.core.retry.sync_sleep")
    environ = {**m365.environ, "LOKKA_TIMEOUT": "1"}
    with open_remote(_url(), environ=environ) as remote:
        m365.drive.slow(3, method="GET", path=f"/v1.0/drives/{DRIVE}/root:/ctx", times=5)
        with pytest.raises(RemoteError) as failed:
            remote.list()
        assert str(failed.value) == f"{remote.display_url}: GET failed: ReadTimeout"


def test_a_head_read_without_an_etag_is_never_overwritten_unconditionally(
    m365: M365Fakes,
) -> None:
    """An item Graph answers without an eTag reads with an empty one: a compare-and-swap
    expecting it is a conflict, never a write over whatever the head holds."""
    key = head_key("m1")
    with open_remote(_url(), environ=m365.environ) as remote:
        current = remote.cas(key, b"theirs", None)
        with pytest.raises(CasConflict) as lost:
            remote.cas(key, b"mine", "")
        entry = remote.get(key)
    assert lost.value.current_etag == current and entry is not None and entry.data == b"theirs"


def test_closing_the_remote_closes_its_credential(m365: M365Fakes) -> None:
    """The credential's own HTTP session goes with the remote (a sync loop opens one per
    round)."""
    credential = _Credential(m365, [time.time()])
    with _remote(m365, _url(), credential) as remote:
        remote.list()
    assert credential.closed == 1


def test_without_a_ca_bundle_graphs_certificate_is_checked_against_the_trusted_roots(
    m365: M365Fakes, mocker: MockerFixture
) -> None:
    """No ``LOKKA_CA_BUNDLE``: the certificate is still verified (the system's trusted roots),
    so a Graph answering with one no trusted root signed (here the fake's) is never sent a
    request, its token least of all."""
    mocker.patch("agents.core.retry.sync_sleep")
    settings = {k: v for k, v in m365.environ.items() if k != "LOKKA_CA_BUNDLE"}
    credential = _Credential(m365, [time.time()])
    before = len(m365.drive.requests)
    remote = M365Remote(_url(), LokkaSettings.model_validate(settings), credential=credential)
    with remote, pytest.raises(RemoteError) as failed:
        remote.get(object_key("2a" * 32))
    assert str(failed.value) == f"{remote.display_url}: GET failed: ConnectError"
    assert len(m365.drive.requests) == before
