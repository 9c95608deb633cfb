"""The Microsoft 365 remote against a loopback Graph document library and token service:
what the conformance suite does not show (upload sessions, throttling, paging, the forms of
the URL, credentials)."""

from __future__ import annotations

import uuid

import httpx
import pytest
from pytest_mock import MockerFixture

from agents.core.errors import ConfigError
from agents.sync.keys import head_key, object_key
from agents.sync.m365_remote import SIMPLE_MAX, parse_m365_url
from agents.sync.remote import CasConflict, RemoteError
from agents.sync.urls import open_remote
from tests.fakes.drive import DRIVE, SITE
from tests.integration.sync.conftest import M365Fakes

pytestmark = pytest.mark.integration


def _url(kind: str = "drives", ident: str = DRIVE) -> str:
    return f"m365://{kind}/{ident}/ctx/t{uuid.uuid4().hex[:12]}"


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


def test_no_credential_is_a_clear_error_naming_the_variables(m365: M365Fakes) -> None:
    environ = {k: v for k, v in m365.environ.items() if not k.startswith("AZURE_CLIENT")}
    with pytest.raises(ConfigError, match=r"AZURE_CLIENT_ID.*AZURE_CLIENT_SECRET"):
        open_remote(_url(), environ=environ)


def test_a_wrong_secret_is_a_remote_error_that_never_shows_it(m365: M365Fakes) -> None:
    environ = {**m365.environ, "AZURE_CLIENT_SECRET": "not-the-secret-value"}
    with open_remote(_url(), environ=environ) as remote, pytest.raises(Exception) as failed:
        remote.get(head_key("m1"))
    assert "cannot sign in to Microsoft 365" in str(failed.value)
    assert "not-the-secret-value" not in str(failed.value)


ROOT = f"/v1.0/drives/{DRIVE}/root:/ctx"
DENIED = {"error": {"code": "accessDenied", "message": "Access denied"}}


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
        for status, prefix, folder in ((400, "", "/"), (403, "heads/", "heads")):
            m365.drive.fail("GET", ROOT, status, body=DENIED, headers={"request-id": "req-9"})
            with pytest.raises(RemoteError) as failed:
                remote.list(prefix)
            assert str(failed.value) == (
                f"{remote.display_url}: cannot list {folder}: HTTP {status} accessDenied: "
                "Access denied (request-id req-9)"
            )


def test_a_read_graph_refuses_is_an_error_naming_the_key_never_a_refused_object(
    m365: M365Fakes,
) -> None:
    """A 400 or 403 to an item's metadata fails the read with Graph's reason: taken as an item
    without a size, the object would be set aside as damaged. An answer that is no JSON
    object reads as no item."""
    key = object_key("ef" * 32)
    with open_remote(_url(), environ=m365.environ) as remote:
        remote.put_if_absent(key, b"x")
        for status in (400, 403):
            m365.drive.fail("GET", ROOT, status, body=DENIED, headers={"request-id": "req-5"})
            with pytest.raises(RemoteError) as failed:
                remote.get(key)
            assert str(failed.value) == (
                f"{remote.display_url}: cannot read {key}: HTTP {status} accessDenied: "
                "Access denied (request-id req-5)"
            )
        m365.drive.fail("GET", ROOT, 200, body=[{"size": 1}])
        assert remote.get(key) is None
        assert remote.refused == {}
        entry = remote.get(key)
        assert entry is not None and entry.data == b"x"
        assert remote.get(object_key("fe" * 32)) is None
