"""The Microsoft 365 remote against a loopback Graph document library and token service:
what the conformance suite does not show (upload sessions, throttling, paging, the forms of
the URL, credentials)."""

from __future__ import annotations

import uuid

import pytest
from pytest_mock import MockerFixture

from agents.core.errors import ConfigError
from agents.sync.keys import head_key, object_key
from agents.sync.m365_remote import SIMPLE_MAX, parse_m365_url
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
