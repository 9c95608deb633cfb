"""Graph paths as the write guard sees them: percent-decoded, normalised, with the objects named.

Graph decodes a path before it acts on it, is case-insensitive in its segment names, and
ignores a trailing slash; a guard that compares the raw text is bypassed by
``/users/breakglass1%40contoso.com``, ``/USERS/...`` or ``/v1.0/users/.../``. So every path a
write carries (the tool's ``path``, each ``$batch`` sub-request's ``url``, each ``@odata.id``
in a body) goes through :func:`parse_path` first: one decoding, refused when a second one
would change it again, no ``.``/``..``, no encoded ``/``, ``\\`` or control characters, the
version prefix taken off, and absolute URLs only where the caller allows them. The request
then sent is built from the decoded segments (:meth:`GraphPath.encoded`), so what the guard
checked is what Graph receives. :func:`object_refs` lists the directory objects a path names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote, urlencode, urlsplit

from agents.core.errors import InputError

__all__ = [
    "GUID",
    "MEMBER_NAVIGATIONS",
    "GraphPath",
    "Ref",
    "SubRequest",
    "batch_parts",
    "bounded",
    "normal_name",
    "object_refs",
    "parse_path",
    "query_string",
    "seg",
    "validate_path",
]

GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
VERSIONS = {"v1.0": "v1.0", "beta": "beta"}
SAFE = "@:'()=,$!*+;"  # kept readable in a segment, as Graph's own links show them
CONTROL = re.compile(r"[\x00-\x1f\x7f\\/]")
SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)
# Object collections: the next segment (or the key in parentheses) is an object of them,
# read back as addressed, e.g. GET /users/{key} or /deviceManagement/managedDevices/{key}.
COLLECTIONS = {
    c.casefold(): c
    for c in (
        "users",
        "groups",
        "teams",
        "directoryRoles",
        "directoryObjects",
        "servicePrincipals",
        "applications",
        "devices",
        "contacts",
        "administrativeUnits",
        "managedDevices",
        "roleDefinitions",
        "roleAssignments",
        "deletedItems",
    )
}
# Navigations whose key is a directory object of any type: read as /directoryObjects/{key}.
MEMBER_NAVIGATIONS = {
    c.casefold(): c
    for c in (
        "members",
        "owners",
        "memberOf",
        "transitiveMembers",
        "transitiveMemberOf",
        "registeredOwners",
        "registeredUsers",
    )
}
KEY = re.compile(r"^(?P<name>[^()]+)\((?P<key>.*)\)$")


BAD_PATH = re.compile(r"//|\\|\.\.|[\x00-\x20]|^/*[a-z][a-z0-9+.-]*:", re.I)
# Longer URLs come only from pasted or generated junk; refused before any library parses
# (urllib keeps the last 128 split URLs) or sends them.
MAX_URL = 8192


def validate_path(path: str, name: str = "path") -> str:
    """A relative API path such as ``/users/{id}``: no scheme, host, ``..`` or ``//``.

    Raises:
        InputError: The path could send the request (and its token) anywhere else.
    """
    path = path.strip()
    if not path.startswith("/"):
        path = "/" + path
    if BAD_PATH.search(path) or "?" in path or "#" in path:
        raise InputError(
            f"{name} {path!r} is not a plain relative API path: use one like /users/{{id}} "
            "(no host, '..', '//', '?' or '#'; pass query options separately)"
        )
    return path


def seg(value: str, name: str) -> str:
    """One path segment from a caller's value (an id, UPN or name), percent-encoded.

    Raises:
        InputError: The value is empty or holds a ``/``.
    """
    value = value.strip()
    if not value or "/" in value or "\\" in value:
        raise InputError(f"{name} {value!r} must be a single id or name (no '/')")
    return quote(value, safe="@:'()=,$")


def bounded(url: str, what: str = "request URL") -> str:
    """``url``, if it is at most ``MAX_URL`` characters long.

    Raises:
        InputError: Longer: the message says which arguments make it long.
    """
    if len(url) > MAX_URL:
        raise InputError(
            f"the {what} would be {len(url)} characters long, more than the {MAX_URL} this agent "
            "sends: shorten the ids, path, filter, search or select of this call"
        )
    return url


def query_string(query: dict[str, Any] | None) -> str:
    """``$select=a,b&$top=5`` with OData's ``$`` and ``,`` left readable."""
    clean = {k: v for k, v in (query or {}).items() if v is not None and v != ""}
    return urlencode(clean, quote_via=quote, safe="$,:'()/ ").replace(" ", "%20")


@dataclass(frozen=True)
class GraphPath:
    """A decoded, normalised Graph path: segments (without the version), version, raw query."""

    segments: tuple[str, ...]
    version: str | None = None
    query: str = ""

    @property
    def text(self) -> str:
        """``/users/alice@contoso.com/memberOf``: decoded, for messages and matching."""
        return "/" + "/".join(self.segments)

    def encoded(self) -> str:
        """The path as sent: each segment percent-encoded once (no query, no version)."""
        return "/" + "/".join(quote(s, safe=SAFE) for s in self.segments)

    def is_batch(self) -> bool:
        """Whether this is Graph's ``$batch`` endpoint."""
        return self.segments == ("$batch",)


@dataclass(frozen=True)
class Ref:
    """An object a path names: the segments that address it and its key as given."""

    lookup: tuple[str, ...]
    key: str
    collection: str  # canonical name, e.g. ``users``; ``object`` for a bare GUID segment
    member: bool = False  # a member/owner navigation key: read as /directoryObjects/{key}


def _bad(raw: str, what: str, name: str) -> InputError:
    shown = raw if len(raw) <= 200 else raw[:200] + "…"
    return InputError(
        f"{name} {shown!r} is not a plain relative API path ({what}): use one like "
        "/users/{id} (no host, '..', '//', '?' or '#'; pass query options separately)"
    )


def _decode(segment: str, raw: str, name: str) -> str:
    once = unquote(segment, errors="strict")
    if unquote(once) != once:
        raise _bad(raw, "percent-encoded more than once; encode it once", name)
    if CONTROL.search(once):
        raise _bad(raw, "an encoded '/', '\\' or control character inside a segment", name)
    if once in (".", ".."):
        raise _bad(raw, "a '.' or '..' segment", name)
    return once


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.casefold(), (parts.netloc or "").casefold()


def parse_path(
    raw: str,
    *,
    name: str = "path",
    query: bool = False,
    origin: str | None = None,
    any_origin: bool = False,
) -> GraphPath:
    """Decode and normalise a Graph path (see the module docstring).

    ``query``: a ``?query`` part is allowed and kept raw. ``origin``: an absolute URL on this
    origin is accepted (its path is used); ``any_origin``: any absolute URL is (for a body's
    ``@odata.id``, which names an object and is never fetched).

    Raises:
        InputError: The path cannot be read one way only, or leaves Graph; the message says why.
    """
    text = raw.strip()
    if SCHEME.match(text) or text.startswith(("//", "\\\\")):
        if not (origin or any_origin) or text.startswith(("//", "\\\\")):
            raise _bad(raw, "an absolute URL", name)
        if not any_origin and _origin(text) != _origin(origin or ""):
            raise _bad(raw, f"an absolute URL outside {origin}", name)
        parts = urlsplit(text)
        if parts.scheme.casefold() not in ("http", "https") or parts.fragment:
            raise _bad(raw, "not an http(s) URL of Graph", name)
        text = parts.path + (f"?{parts.query}" if parts.query else "")
    if "#" in text:
        raise _bad(raw, "a '#' fragment", name)
    path, sep, qs = text.partition("?")
    if sep and not query:
        raise _bad(raw, "a '?' query", name)
    if "\\" in path:
        raise _bad(raw, "a backslash", name)
    try:
        segments = [_decode(s, raw, name) for s in path.split("/") if s]
    except UnicodeDecodeError:
        raise _bad(raw, "percent-encoding that is not UTF-8", name) from None
    # Graph reads segment names case-insensitively: known ones are sent in their own case
    segments = [
        COLLECTIONS.get(s.casefold()) or MEMBER_NAVIGATIONS.get(s.casefold()) or s for s in segments
    ]
    version = None
    if segments and segments[0].casefold() in VERSIONS:
        version = VERSIONS[segments.pop(0).casefold()]
    if any(s.casefold() in VERSIONS for s in segments[:1]):
        raise _bad(raw, "two version prefixes", name)
    return GraphPath(tuple(segments), version, qs)


def object_refs(path: GraphPath) -> list[Ref]:
    """The objects ``path`` names: the key after (or in parentheses of) each collection or
    member navigation, ``me``, and any other GUID segment (read back as addressed)."""
    segs = path.segments
    refs: list[Ref] = []
    covered: set[int] = set()
    for i, seg in enumerate(segs):
        m = KEY.match(seg)
        low = (m["name"] if m else seg).casefold()
        member = low in MEMBER_NAVIGATIONS
        if i == 0 and low == "me" and not m:
            refs.append(Ref(("me",), "me", "users"))
        elif low in COLLECTIONS or member:
            coll = COLLECTIONS.get(low) or MEMBER_NAVIGATIONS[low]
            if m:
                refs.append(Ref(segs[: i + 1], m["key"], coll, member))
                covered.add(i)
            elif i + 1 < len(segs) and not segs[i + 1].startswith("$"):
                refs.append(Ref(segs[: i + 2], segs[i + 1], coll, member))
                covered.add(i + 1)
        elif i not in covered and GUID.match(seg):
            refs.append(Ref(segs[: i + 1], seg, "object"))
    return refs


def normal_name(value: str) -> str:
    """A name as protection patterns match it: percent-decoded, trimmed, casefolded."""
    text = value
    for _ in range(3):
        decoded = unquote(text)
        if decoded == text:
            break
        text = decoded
    return text.strip().rstrip("/").casefold()


BATCH_METHODS = ("GET", "POST", "PATCH", "PUT", "DELETE")
MAX_BATCH = 20


@dataclass(frozen=True)
class SubRequest:
    """One ``$batch`` sub-request as the guard checks it."""

    id: str
    method: str
    path: GraphPath
    body: object = None


def batch_parts(body: object, origin: str) -> tuple[dict[str, object], list[SubRequest]]:
    """A ``$batch`` body rebuilt from its checked parts, and the parts.

    Every sub-request's ``url`` goes through :func:`parse_path` (relative, or absolute on
    ``origin``) and is sent in its normalised form, so the guard checks what Graph runs.

    Raises:
        InputError: Not a batch Graph accepts (at most 20 requests, each with an id, a method
            and a url), a nested ``$batch``, or a url :func:`parse_path` refuses.
    """
    requests = body.get("requests") if isinstance(body, dict) else None
    if not isinstance(body, dict) or not isinstance(requests, list) or not requests:
        requests = []
    if not isinstance(body, dict) or not 1 <= len(requests) <= MAX_BATCH:
        raise InputError(
            'body of a $batch must be {"requests": [...]} with 1 to 20 requests, each '
            'with "id", "method" and "url"'
        )
    out: list[dict[str, object]] = []
    parts: list[SubRequest] = []
    for n, r in enumerate(requests, 1):
        where = f"$batch request {n}"
        if not isinstance(r, dict) or not isinstance(r.get("url"), str):
            raise InputError(f'{where}: needs a string "url", an "id" and a "method"')
        method = str(r.get("method", "")).upper()
        if method not in BATCH_METHODS:
            raise InputError(f"{where}: method must be one of {', '.join(BATCH_METHODS)}")
        path = parse_path(str(r["url"]), name=f"{where} url", query=True, origin=origin)
        if path.is_batch():
            raise InputError(f"{where}: a $batch inside a $batch is not allowed")
        if path.version is not None:
            raise InputError(f"{where}: url must not carry a version; the batch's applies")
        url = path.encoded() + (f"?{path.query}" if path.query else "")
        out.append({**r, "method": method, "url": url})
        parts.append(SubRequest(str(r.get("id", n)), method, path, r.get("body")))
    return {**body, "requests": out}, parts
