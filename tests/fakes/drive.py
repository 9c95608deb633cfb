"""A loopback Microsoft Graph drive (a OneDrive or SharePoint document library), driveItems
addressed by path, as Graph documents them:

- ``GET /v1.0/drives/{id}/root:/{path}:`` the item (``eTag``, ``size``,
  ``@microsoft.graph.downloadUrl``, a pre-authenticated URL that takes no Authorization
  header and answers only GET); a folder has a ``folder`` facet and no download URL;
  ``GET …:/content`` answers 302 to the download URL;
- ``PUT …:/content`` (simple upload, at most 4 MB): 201 for a new item, 200 for a replaced
  one; ``@microsoft.graph.conflictBehavior=fail`` on an existing item: 409
  ``nameAlreadyExists``; ``If-Match`` with another eTag: 412 ``preconditionFailed``; missing
  parent folders are created;
- ``POST …:/createUploadSession`` then ``PUT`` of byte ranges (multiples of 320 KiB, the last
  one excepted) to the session's ``uploadUrl``, without an Authorization header: 202 with
  ``nextExpectedRanges``, then the item;
- ``GET …:/children`` with ``$top`` and ``@odata.nextLink`` paging; ``DELETE`` 204, 404
  ``itemNotFound``; ``GET /v1.0/sites/{id}/drive`` the site's default library.

Every call but the pre-authenticated ones needs a bearer token the fake STS issued for
Graph. Faults (429 with Retry-After, 503) come from :class:`tests.fakes.base.FakeServer`.
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from tests.fakes.base import FakeServer, Recorded, Reply

DRIVE = "b!fake-drive-0001"
SITE = "contoso.sharepoint.com,11111111-2222-3333-4444-555555555555,66666666-7777-8888-9999-000000000000"
SIMPLE_MAX = 4 * 1024 * 1024
CHUNK = 320 * 1024


@dataclass
class Item:
    id: str
    data: bytes
    version: int

    @property
    def etag(self) -> str:
        return f'"{{{self.id.upper()}}},{self.version}"'


@dataclass
class Session:
    path: str
    total: int | None
    received: bytearray
    fail_if_exists: bool
    if_match: str | None


class FakeDrive(FakeServer):
    """One drive, files by path (folders are implied by the paths of their files)."""

    def __init__(
        self,
        tokens: dict[str, str] | None = None,
        *,
        page: int = 200,
        tls: tuple[Path, Path] | None = None,
    ) -> None:
        super().__init__(tls)
        self.tokens = tokens
        self.page = page
        self.files: dict[str, Item] = {}
        self.sessions: dict[str, Session] = {}
        self.downloads: dict[str, str] = {}  # token -> path
        self.store_lock = threading.Lock()

    # --- helpers ----------------------------------------------------------------------------

    def _error(self, status: int, code: str, message: str) -> Reply:
        return status, self.base_headers(), {"error": {"code": code, "message": message}}

    def _authorized(self, req: Recorded) -> bool:
        auth = req.headers.get("authorization", "")
        if not auth.startswith("Bearer "):
            return False
        if self.tokens is None:
            return True
        return self.tokens.get(auth.removeprefix("Bearer ")) == f"{self.url}/.default"

    def _item_json(self, path: str, item: Item) -> dict[str, Any]:
        token = uuid.uuid4().hex
        self.downloads[token] = path
        return {
            "id": item.id,
            "name": path.rsplit("/", 1)[-1],
            "eTag": item.etag,
            "cTag": f'"c:{{{item.id.upper()}}},{item.version}"',
            "size": len(item.data),
            "file": {"hashes": {"sha256Hash": hashlib.sha256(item.data).hexdigest().upper()}},
            "parentReference": {"driveId": DRIVE, "path": f"/drive/root:/{path.rsplit('/', 1)[0]}"},
            "@microsoft.graph.downloadUrl": f"{self.url}/download/{token}",
        }

    def _folder_json(self, path: str) -> dict[str, Any] | None:
        """A folder's driveItem (Graph gives its size as the total of what it holds), or
        ``None`` where no file lies under ``path``."""
        with self.store_lock:
            inside = [item for p, item in self.files.items() if p.startswith(f"{path}/")]
        if not inside:
            return None
        return {
            "id": f"folder-{path}",
            "name": path.rsplit("/", 1)[-1],
            "eTag": f'"{{FOLDER-{path.upper()}}},1"',
            "size": sum(len(item.data) for item in inside),
            "folder": {"childCount": len(inside)},
        }

    def _write(
        self, path: str, data: bytes, *, fail_if_exists: bool, if_match: str | None
    ) -> Reply:
        with self.store_lock:
            current = self.files.get(path)
            if path in {p.rsplit("/", 1)[0] for p in self.files if "/" in p}:
                return self._error(409, "nameAlreadyExists", "A folder with this name exists.")
            if if_match is not None and (current is None or current.etag != if_match):
                return self._error(
                    412, "preconditionFailed", "ETag does not match current item's value"
                )
            if current is not None and fail_if_exists:
                return self._error(
                    409, "nameAlreadyExists", "The specified item name already exists."
                )
            if current is None:
                item = Item(uuid.uuid4().hex[:16], data, 1)
                status = 201
            else:
                item = Item(current.id, data, current.version + 1)
                status = 200
            self.files[path] = item
            return status, self.base_headers(), self._item_json(path, item)

    def _children(self, req: Recorded, folder: str) -> Reply:
        prefix = f"{folder}/" if folder else ""
        names: dict[str, dict[str, Any]] = {}
        with self.store_lock:
            files = dict(self.files)
        for path, item in files.items():
            if not path.startswith(prefix):
                continue
            rest = path[len(prefix) :]
            name, _, deeper = rest.partition("/")
            if deeper:
                entry = names.setdefault(
                    name, {"id": f"folder-{name}", "name": name, "folder": {"childCount": 0}}
                )
                entry["folder"]["childCount"] += 1
            else:
                names[name] = {**self._item_json(path, item), "name": name}
        if not names and folder and not any(p.startswith(prefix) for p in files):
            return self._error(404, "itemNotFound", "The resource could not be found.")
        ordered = [names[n] for n in sorted(names)]
        top = min(int(req.query.get("$top", self.page)), self.page)
        skip = int(req.query.get("$skiptoken", "0"))
        body: dict[str, Any] = {"value": ordered[skip : skip + top]}
        if skip + top < len(ordered):
            q = urlencode({"$top": top, "$skiptoken": skip + top})
            body["@odata.nextLink"] = (
                f"{self.url}/v1.0/drives/{DRIVE}/root:/{quote(folder)}:/children?{q}"
            )
        return 200, self.base_headers(), body

    # --- routes ----------------------------------------------------------------------------

    def route(self, req: Recorded) -> Reply:
        path = req.path
        if path.startswith("/download/"):
            if req.method != "GET":
                return self._error(405, "methodNotAllowed", "a download URL answers only GET")
            if "authorization" in req.headers:
                return self._error(
                    401, "unauthenticated", "pre-authenticated URL: no Authorization"
                )
            target = self.downloads.get(path.removeprefix("/download/"))
            item = self.files.get(target or "")
            if item is None:
                return self._error(404, "itemNotFound", "The resource could not be found.")
            return 200, {}, item.data
        if path.startswith("/upload/"):
            return self._upload(req, path.removeprefix("/upload/"))
        if not self._authorized(req):
            return self._error(
                401, "InvalidAuthenticationToken", "Access token is empty or invalid."
            )
        if req.method == "GET" and path == f"/v1.0/sites/{SITE}/drive":
            return 200, self.base_headers(), {"id": DRIVE, "driveType": "documentLibrary"}
        root = f"/v1.0/drives/{DRIVE}/root:"
        if not path.startswith(root):
            return self._error(404, "itemNotFound", f"no such resource {path}")
        rest = path[len(root) :].strip("/")
        action = ""
        for suffix in (":/content", ":/children", ":/createUploadSession", ":"):
            if rest.endswith(suffix):
                rest, action = rest[: -len(suffix)], suffix
                break
        item_path = rest.strip("/")
        if action == ":/children" and req.method == "GET":
            return self._children(req, item_path)
        if action == ":/content" and req.method == "PUT":
            if len(req.raw) > SIMPLE_MAX:
                return self._error(
                    413, "requestTooLarge", "Use an upload session for files over 4 MB."
                )
            fail = req.query.get("@microsoft.graph.conflictBehavior") == "fail"
            return self._write(
                item_path, req.raw, fail_if_exists=fail, if_match=req.headers.get("if-match")
            )
        if action == ":/createUploadSession" and req.method == "POST":
            asked: dict[str, Any] = {}
            if isinstance(req.body, dict) and isinstance(req.body.get("item"), dict):
                asked = req.body["item"]
            fail = asked.get("@microsoft.graph.conflictBehavior") == "fail"
            if fail and item_path in self.files:
                return self._error(
                    409, "nameAlreadyExists", "The specified item name already exists."
                )
            sid = uuid.uuid4().hex
            self.sessions[sid] = Session(
                item_path, None, bytearray(), fail, req.headers.get("if-match")
            )
            return (
                200,
                self.base_headers(),
                {
                    "uploadUrl": f"{self.url}/upload/{sid}",
                    "expirationDateTime": "2030-01-01T00:00:00Z",
                },
            )
        item = self.files.get(item_path)
        if action == ":/content" and req.method == "GET":
            if item is None:
                return self._error(404, "itemNotFound", "The resource could not be found.")
            meta = self._item_json(item_path, item)
            return 302, {"Location": meta["@microsoft.graph.downloadUrl"]}, None
        if action == ":" and req.method == "GET":
            if item is None:
                folder = self._folder_json(item_path)
                if folder is None:
                    return self._error(404, "itemNotFound", "The resource could not be found.")
                return 200, self.base_headers(), folder
            return 200, self.base_headers(), self._item_json(item_path, item)
        if action == ":" and req.method == "DELETE":
            with self.store_lock:
                if self.files.pop(item_path, None) is None:
                    return self._error(404, "itemNotFound", "The resource could not be found.")
            return 204, self.base_headers(), None
        return self._error(400, "invalidRequest", f"unsupported {req.method} {path}")

    def _upload(self, req: Recorded, sid: str) -> Reply:
        if "authorization" in req.headers:
            return self._error(401, "unauthenticated", "upload URLs take no Authorization header")
        session = self.sessions.get(sid)
        if session is None or req.method != "PUT":
            return self._error(404, "itemNotFound", "The upload session was not found.")
        spec = req.headers.get("content-range", "")
        try:
            unit, _, rest = spec.partition(" ")
            span, _, total_text = rest.partition("/")
            start, end = (int(x) for x in span.split("-"))
            total = int(total_text)
        except ValueError:
            return self._error(400, "invalidRange", f"bad Content-Range {spec!r}")
        if unit != "bytes" or start != len(session.received) or end - start + 1 != len(req.raw):
            return self._error(
                416, "invalidRange", "The fragment does not start at the next expected byte."
            )
        if end + 1 < total and len(req.raw) % CHUNK:
            return self._error(400, "invalidRange", "Fragments must be multiples of 320 KiB.")
        session.received += req.raw
        if end + 1 < total:
            return 202, self.base_headers(), {"nextExpectedRanges": [f"{end + 1}-"]}
        del self.sessions[sid]
        return self._write(
            session.path,
            bytes(session.received),
            fail_if_exists=session.fail_if_exists,
            if_match=session.if_match,
        )
