"""``m365`` backend: one file per key in a OneDrive or SharePoint document library, through
Microsoft Graph driveItems addressed by path.

URL: ``m365://drives/<drive-id>/<folder>`` or ``m365://sites/<site-id>/<folder>`` (the
site's default document library). It signs in with the azure-identity settings the Lokka
agent uses (``AZURE_TENANT_ID``, ``AZURE_CLIENT_ID`` and a certificate, secret, managed or
workload identity; ``AZURE_AUTHORITY_HOST``, ``LOKKA_GRAPH_URL``, ``LOKKA_CA_BUNDLE``), for
the scope ``<graph>/.default``.

- write-once keys: an upload with ``@microsoft.graph.conflictBehavior=fail``; 409
  ``nameAlreadyExists`` is a no-op when the bytes are the same, ``ObjectConflict`` otherwise;
- heads: an upload with ``If-Match: <eTag>`` (412: ``CasConflict``), or
  ``conflictBehavior=fail`` for create-only;
- over 4 MB an upload session (``createUploadSession``, then 320 KiB-multiple ranges to its
  pre-authenticated https URL, which never gets the Authorization header);
- reads: the item (``eTag``, ``size``, download URL), then its pre-authenticated https
  download URL (never sent the token); an item over ``SYNC_MAX_OBJECT_BYTES`` is refused
  unread;
- lists: ``children`` of each folder, following ``@odata.nextLink``;
- 429, 503 and 504 are retried after ``Retry-After`` (capped), at most 5 attempts.
"""

from __future__ import annotations

import builtins
import ssl
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeGuard
from urllib.parse import quote, unquote, urlsplit

import httpx

from agents.core.errors import ConfigError
from agents.core.retry import RetryPolicy, retry_after
from agents.sync.keys import is_key
from agents.sync.remote import CasConflict, Entry, ObjectConflict, Remote, RemoteError, put_each

__all__ = ["SIMPLE_MAX", "M365Remote", "open_m365", "parse_m365_url"]

SIMPLE_MAX = 4 * 1024 * 1024  # Graph's limit for a simple upload
CHUNK = 10 * 320 * 1024  # upload session ranges: a multiple of 320 KiB
ATTEMPTS = 5
RETRY_CAP = 60.0
# Graph's guidance: honour Retry-After (waits are capped at a minute), else back off.
M365_POLICY = RetryPolicy(
    attempts=ATTEMPTS, first=1.0, cap=RETRY_CAP, jitter=0.5, max_wait=RETRY_CAP
)
WORKERS = 8
RETRIED = {429, 503, 504}


def parse_m365_url(url: str) -> tuple[str, str, str]:
    """``(kind, id, folder)`` of ``m365://drives|sites/<id>/<folder>``.

    Raises:
        ConfigError: Another form; the message shows the forms.
    """
    parts = urlsplit(url)
    forms = "m365://drives/<drive-id>/<folder> or m365://sites/<site-id>/<folder>"
    if parts.scheme != "m365" or parts.query or parts.fragment:
        raise ConfigError(f"CONTEXT_REMOTE {url!r}: use {forms}")
    segments = [unquote(s) for s in f"{parts.netloc}{parts.path}".split("/") if s]
    if len(segments) < 3 or segments[0] not in ("drives", "sites"):
        raise ConfigError(f"CONTEXT_REMOTE {url!r}: use {forms} (a folder is required)")
    folder = "/".join(segments[2:])
    if any(s in (".", "..") for s in segments[2:]):
        raise ConfigError(f"CONTEXT_REMOTE {url!r}: no '.' or '..' in the folder; use {forms}")
    return segments[0], segments[1], folder


def _https(url: object) -> TypeGuard[str]:
    """Whether Graph's pre-authenticated URL is one to use: Graph gives only https ones, and
    the bytes sent or read there carry no other protection in transit."""
    return isinstance(url, str) and urlsplit(url).scheme == "https"


def _object(response: httpx.Response) -> dict[str, Any] | None:
    """The JSON object Graph answered, or ``None`` for any other body (none, HTML, an array)."""
    try:
        data = response.json()
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _retry_after(response: httpx.Response) -> float | None:
    """The wait Graph asks for (the shared parser: seconds or an HTTP-date), capped."""
    seconds = retry_after(response.headers.get("Retry-After"))
    return None if seconds is None else min(seconds, RETRY_CAP)


class M365Remote(Remote):
    """A remote in a folder of a Microsoft 365 document library."""

    scheme = "m365"

    def __init__(
        self,
        url: str,
        settings: Any,
        *,
        credential: Any = None,
    ) -> None:
        super().__init__(url)
        kind, ident, folder = parse_m365_url(url)
        self._root = folder.strip("/")
        self._graph = f"{settings.graph_url}/v1.0"
        self._scope = f"{settings.graph_url}/.default"
        verify: Any = (
            ssl.create_default_context(cafile=settings.ca_bundle) if settings.ca_bundle else True
        )
        self._http = httpx.Client(timeout=settings.timeout, verify=verify, follow_redirects=False)
        if credential is None:
            from agents.lokka.auth import build_sync_credential

            credential = build_sync_credential(settings)
        self._cred = credential
        self._token: Any = None
        if kind == "sites":
            try:
                site = self._json("GET", f"{self._graph}/sites/{quote(ident, safe=',')}/drive")
                ident = str(site.get("id") or "")
                if not ident:
                    raise RemoteError(f"{url}: the site has no default document library")
            except BaseException:
                self.close()  # a failed open keeps no connection (a sync loop retries it)
                raise
        self._drive = f"{self._graph}/drives/{quote(ident, safe='!')}"

    # --- HTTP --------------------------------------------------------------------------------

    def _bearer(self) -> str:
        now = time.time()
        if self._token is None or self._token.expires_on - 300 < now:
            try:
                self._token = self._cred.get_token(self._scope)
            except Exception as exc:  # azure-identity raises its own and azure-core errors
                raise RemoteError(
                    f"{self.display_url}: cannot sign in to Microsoft 365 "
                    f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}); "
                    "check AZURE_TENANT_ID, AZURE_CLIENT_ID and the credential"
                ) from None
        return f"Bearer {self._token.token}"

    def _send(self, method: str, url: str, *, auth: bool = True, **kwargs: Any) -> httpx.Response:
        """One request through the shared retry policy: retried on throttling and
        unavailability (honouring Retry-After) and on connection errors, and once at once with
        a fresh token after a 401; the token goes only to Graph, never to pre-authenticated
        upload and download URLs."""
        headers = dict(kwargs.pop("headers", {}) or {})
        stale = [False]  # a 401 answered with the token just used: refresh it, once

        def attempt() -> httpx.Response:
            if auth:
                headers["Authorization"] = self._bearer()
            response = self._http.request(method, url, headers=headers, **kwargs)
            stale[0] = response.status_code == 401 and auth and self._token is not None
            if stale[0]:
                self._token = None  # expired early or revoked: one fresh token
            return response

        refreshed = [False]

        def again(response: httpx.Response) -> bool:
            if response.status_code in RETRIED:
                return True
            if stale[0] and not refreshed[0]:
                refreshed[0] = True
                return True
            return False

        try:
            response, _ = M365_POLICY.call_sync(
                attempt,
                retry_on=again,
                errors=(httpx.HTTPError,),
                retry_after=lambda r: 0.0 if r.status_code == 401 else _retry_after(r),
            )
        except httpx.HTTPError as exc:
            raise RemoteError(
                f"{self.display_url}: {method} failed: {type(exc).__name__}"
            ) from None
        return response

    def _fail(self, what: str, response: httpx.Response) -> RemoteError:
        try:
            error = response.json().get("error") or {}
            detail = f"{error.get('code')}: {error.get('message')}"
        except (ValueError, AttributeError):
            detail = response.reason_phrase
        request_id = response.headers.get("request-id", "")
        tail = f" (request-id {request_id})" if request_id else ""
        return RemoteError(
            f"{self.display_url}: cannot {what}: HTTP {response.status_code} {detail}{tail}"
        )

    def _json(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        response = self._send(method, url, **kwargs)
        if response.status_code >= 400:
            raise self._fail(f"{method} {url.removeprefix(self._graph)}", response)
        data = _object(response)
        if data is None:
            raise RemoteError(f"{self.display_url}: Graph answered something not an object")
        return data

    def _item(self, key: str, suffix: str = "") -> str:
        return f"{self._drive}/root:/{quote(f'{self._root}/{key}')}:{suffix}"

    # --- reads -------------------------------------------------------------------------------

    def _meta(self, key: str) -> dict[str, Any] | None:
        response = self._send("GET", self._item(key))
        if response.status_code == 404:
            return None
        if response.status_code >= 400:
            raise self._fail(f"read {key}", response)
        return _object(response)

    def _get(self, key: str) -> Entry | None:
        meta = self._meta(key)
        if meta is None or "folder" in meta:
            return None
        size = meta.get("size")
        if not isinstance(size, int):
            self.refuse(key, f"its size is not given ({str(size)[:40]!r})")
            return None
        if not self.fits(key, size):  # refused unread; the pull quarantines it
            return None
        link = meta.get("@microsoft.graph.downloadUrl")
        if not _https(link):
            raise RemoteError(f"{self.display_url}: {key} has no https download URL")
        response = self._send("GET", link, auth=False)
        if response.status_code >= 400:
            raise self._fail(f"download {key}", response)
        data = response.content
        if not self.fits(key, len(data)):
            return None
        return Entry(data, str(meta.get("eTag") or ""))

    def _get_many(self, keys: builtins.list[str]) -> dict[str, Entry]:
        with ThreadPoolExecutor(WORKERS) as pool:
            found = dict(zip(keys, pool.map(self._get, keys), strict=True))
        return {k: v for k, v in found.items() if v is not None}

    def _list(self, prefix: str) -> Iterable[str]:
        folder = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
        out: builtins.list[str] = []
        todo = [folder]
        while todo:
            current = todo.pop()
            path = f"{self._root}/{current}".rstrip("/")
            url: str | None = f"{self._drive}/root:/{quote(path)}:/children?$top=200"
            while url:
                response = self._send("GET", url)
                if response.status_code == 404:
                    break
                if response.status_code >= 400:
                    raise self._fail(f"list {current or '/'}", response)
                page = _object(response) or {}
                entries = page.get("value")
                if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
                    raise RemoteError(
                        f"{self.display_url}: cannot list {current or '/'}: Graph answered "
                        "something not a list of items"
                    )
                for entry in entries:
                    name = str(entry.get("name") or "")
                    key = f"{current}/{name}" if current else name
                    if "folder" in entry:
                        if prefix.startswith(f"{key}/") or key.startswith(prefix):
                            todo.append(key)
                    elif key.startswith(prefix) and is_key(key):
                        out.append(key)
                url = page.get("@odata.nextLink")
                if url is not None and not (
                    isinstance(url, str) and url.startswith(f"{self._graph}/")
                ):  # the token goes to Graph only
                    raise RemoteError(
                        f"{self.display_url}: cannot list {current or '/'}: the next page is "
                        f"not on {self._graph}"
                    )
        return sorted(out)

    # --- writes ------------------------------------------------------------------------------

    def _upload(
        self, key: str, data: bytes, *, create_only: bool, if_match: str | None = None
    ) -> httpx.Response:
        # an empty eTag (an item Graph gave none) matches nothing: never an unconditional write
        headers = {"If-Match": if_match} if if_match is not None else {}
        if len(data) <= SIMPLE_MAX:
            query = "?@microsoft.graph.conflictBehavior=fail" if create_only else ""
            return self._send(
                "PUT", self._item(key, "/content") + query, content=data, headers=headers
            )
        behavior = "fail" if create_only else "replace"
        session = self._send(
            "POST",
            self._item(key, "/createUploadSession"),
            json={"item": {"@microsoft.graph.conflictBehavior": behavior}},
            headers=headers,
        )
        if session.status_code >= 400:
            return session
        upload = (_object(session) or {}).get("uploadUrl")
        if not _https(upload):
            raise RemoteError(f"{self.display_url}: the upload session has no https uploadUrl")
        response = session
        for start in range(0, len(data), CHUNK):
            part = data[start : start + CHUNK]
            end = start + len(part) - 1
            response = self._send(
                "PUT",
                upload,
                auth=False,
                content=part,
                headers={"Content-Range": f"bytes {start}-{end}/{len(data)}"},
            )
            if response.status_code not in (200, 201, 202):
                return response
        return response

    def _put_one(self, key: str, data: bytes) -> None:
        response = self._upload(key, data, create_only=True)
        if response.status_code in (200, 201):
            return
        if response.status_code == 409:
            existing = self._get(key)
            if existing is not None and existing.data == data:
                return
            raise ObjectConflict(key)
        raise self._fail(f"write {key}", response)

    def _put_many(self, items: builtins.list[tuple[str, bytes]]) -> None:
        put_each(items, self._put_one, WORKERS)

    def _cas(self, key: str, data: bytes, expected: str | None) -> str:
        response = self._upload(key, data, create_only=expected is None, if_match=expected)
        if response.status_code in (200, 201):
            etag = (_object(response) or {}).get("eTag")
            if not isinstance(etag, str):
                raise RemoteError(f"{self.display_url}: the write of {key} returned no eTag")
            return etag
        if response.status_code in (409, 412, 404):
            meta = self._meta(key)
            current = str(meta.get("eTag")) if meta else None
            raise CasConflict(key, current, expected)
        raise self._fail(f"write {key}", response)

    def _delete(self, key: str) -> None:
        response = self._send("DELETE", self._item(key))
        if response.status_code not in (204, 404):
            raise self._fail(f"delete {key}", response)

    def close(self) -> None:
        """Close the HTTP client and the credential."""
        self._http.close()
        close = getattr(self._cred, "close", None)
        if callable(close):
            close()


def open_m365(url: str, environ: Mapping[str, str]) -> M365Remote:
    """Open ``url`` signing in with the Lokka settings found in ``environ``.

    Raises:
        ConfigError: The settings are invalid or name no credential.
    """
    from pydantic import ValidationError

    from agents.lokka.settings import LokkaSettings

    try:
        settings = LokkaSettings.model_validate({k: v for k, v in environ.items() if v != ""})
    except ValidationError as exc:
        names = ", ".join(str(e["loc"][0]) for e in exc.errors())
        raise ConfigError(
            f"CONTEXT_REMOTE {url}: invalid Microsoft 365 settings: {names}"
        ) from None
    if settings.mode == "auto":
        raise ConfigError(
            f"CONTEXT_REMOTE {url}: no Azure credential configured; set AZURE_TENANT_ID, "
            "AZURE_CLIENT_ID and AZURE_CLIENT_CERTIFICATE_PATH (or AZURE_CLIENT_SECRET in the "
            "environment's .secrets file), as for the Lokka agent"
        )
    return M365Remote(url, settings)
