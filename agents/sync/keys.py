"""The one key layout every remote uses, and the validation every key passes through.

```
objects/sha256/ab/<hash>          revision envelopes                  write-once
blobs/sha256/ab/<hash>            large contents                      write-once
snapshots/<machine>/<ulid>.json   snapshot manifests                  write-once
audit/<machine>/<ulid>.jsonl      audit chunks                        write-once
heads/<machine>.json              a machine's head, single writer     mutable, by CAS only
meta/store.json                   format version, recipients          mutable, by CAS only
```

A key is a relative POSIX path of segments made of ``[A-Za-z0-9._-]``; no segment is empty,
starts with a dot, or looks like a sync tool's conflict copy. That makes ``..``, absolute
paths, backslashes, temp and lock files (which the ``dir`` and ``git`` backends name with a
leading dot) impossible as keys.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from agents.core.errors import InputError

__all__ = [
    "MAX_KEY_LENGTH",
    "META_KEY",
    "KeyKind",
    "ParsedKey",
    "audit_key",
    "blob_key",
    "head_key",
    "is_conflict_copy",
    "is_key",
    "is_mutable",
    "is_segment",
    "object_key",
    "parse_key",
    "parse_keys",
    "snapshot_key",
    "validate_key",
    "validate_prefix",
]

META_KEY = "meta/store.json"
MAX_KEY_LENGTH = 512

_SEGMENT = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]*$")
_HASH = re.compile(r"^[0-9a-f]{64}$")
_MACHINE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_ULID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")
# Syncthing: name.sync-conflict-<date>-<time>-<device>.ext; Dropbox/Drive/OneDrive:
# "name (conflicted copy ...)", "name (1)"; Nextcloud: "name (conflicted copy ...)"
_CONFLICT = re.compile(r"\.sync-conflict-|conflicted copy|\(\d+\)", re.I)


class KeyKind(Enum):
    """What a key holds."""

    OBJECT = "objects"
    BLOB = "blobs"
    SNAPSHOT = "snapshots"
    AUDIT = "audit"
    HEAD = "heads"
    META = "meta"


@dataclass(frozen=True)
class ParsedKey:
    """A key split into its parts: ``machine`` for per-machine keys, ``ident`` the hash or ULID."""

    kind: KeyKind
    machine: str | None
    ident: str | None


def is_conflict_copy(name: str) -> bool:
    """True for a file name a sync tool gives the loser of a conflict (never a key)."""
    return bool(_CONFLICT.search(name))


def is_segment(name: str) -> bool:
    """True if ``name`` may be one segment of a key: a key is at most ``MAX_KEY_LENGTH``
    characters of such segments joined by ``/`` (a listing checks each file or folder name
    once, not every key again)."""
    return _SEGMENT.fullmatch(name) is not None and not is_conflict_copy(name)


def is_key(key: str) -> bool:
    """True if ``key`` is a well-formed key (files that are not are never listed)."""
    return _problem(key, allow_trailing_slash=False) is None


def validate_key(key: str) -> str:
    """Return ``key`` if it is a well-formed key, else raise ``InputError`` saying why."""
    why = _problem(key, allow_trailing_slash=False)
    if why:
        raise InputError(f"invalid remote key {key!r}: {why}")
    return key


def validate_prefix(prefix: str) -> str:
    """Return ``prefix`` if ``list`` accepts it: empty, or a key's beginning."""
    if prefix == "":
        return prefix
    why = _problem(prefix, allow_trailing_slash=True)
    if why:
        raise InputError(f"invalid remote key prefix {prefix!r}: {why}")
    return prefix


def _problem(key: str, *, allow_trailing_slash: bool) -> str | None:
    if not isinstance(key, str) or not key:
        return "a key is a non-empty string"
    if len(key) > MAX_KEY_LENGTH:
        return f"longer than {MAX_KEY_LENGTH} characters"
    if key.startswith("/"):
        return "absolute paths are not keys; use a relative path such as 'heads/m1.json'"
    body = key[:-1] if allow_trailing_slash and key.endswith("/") else key
    for segment in body.split("/"):
        if segment in ("", ".", ".."):
            return "empty, '.' and '..' segments are not allowed"
        if segment.startswith("."):
            return "a segment may not start with '.'"
        if not _SEGMENT.fullmatch(segment):
            return "only letters, digits, '.', '_', '-' and '/' are allowed"
    if is_conflict_copy(body):
        return "looks like a sync tool's conflict copy"
    return None


def _hash(value: str) -> str:
    digest = value.removeprefix("sha256:")
    if not _HASH.fullmatch(digest):
        raise InputError(f"invalid sha256 {value!r}: expected 64 lowercase hex digits")
    return digest


def _machine(value: str) -> str:
    if not _MACHINE.fullmatch(value):
        raise InputError(
            f"invalid machine id {value!r}: 1-64 letters, digits, '_' or '-', "
            "starting with a letter or digit"
        )
    return value


def _ulid(value: str) -> str:
    if not _ULID.fullmatch(value):
        raise InputError(f"invalid ULID {value!r}: expected 26 Crockford base32 characters")
    return value


def object_key(digest: str) -> str:
    """``objects/sha256/ab/<hash>`` for a revision envelope (``sha256:`` prefix accepted)."""
    h = _hash(digest)
    return f"objects/sha256/{h[:2]}/{h}"


def blob_key(digest: str) -> str:
    """``blobs/sha256/ab/<hash>`` for a large content (``sha256:`` prefix accepted)."""
    h = _hash(digest)
    return f"blobs/sha256/{h[:2]}/{h}"


def snapshot_key(machine: str, ulid: str) -> str:
    """``snapshots/<machine>/<ulid>.json``: one snapshot manifest of ``machine``."""
    return f"snapshots/{_machine(machine)}/{_ulid(ulid)}.json"


def audit_key(machine: str, ulid: str) -> str:
    """``audit/<machine>/<ulid>.jsonl``: one append-only audit chunk of ``machine``."""
    return f"audit/{_machine(machine)}/{_ulid(ulid)}.jsonl"


def head_key(machine: str) -> str:
    """``heads/<machine>.json``: the only key a machine rewrites, always by CAS."""
    return f"heads/{_machine(machine)}.json"


def is_mutable(key: str) -> bool:
    """True for keys written by CAS (heads, meta); every other key is write-once."""
    return key.startswith(("heads/", "meta/"))


_PATTERNS: tuple[tuple[KeyKind, re.Pattern[str]], ...] = (
    (KeyKind.OBJECT, re.compile(r"^objects/sha256/([0-9a-f]{2})/([0-9a-f]{64})$")),
    (KeyKind.BLOB, re.compile(r"^blobs/sha256/([0-9a-f]{2})/([0-9a-f]{64})$")),
    (KeyKind.SNAPSHOT, re.compile(r"^snapshots/([^/]+)/([^/]+)\.json$")),
    (KeyKind.AUDIT, re.compile(r"^audit/([^/]+)/([^/]+)\.jsonl$")),
    (KeyKind.HEAD, re.compile(r"^heads/([^/]+)\.json$")),
)


def parse_key(key: str) -> ParsedKey:
    """Split a key of the layout into its parts; ``InputError`` for a key outside the layout."""
    validate_key(key)
    if key == META_KEY:
        return ParsedKey(KeyKind.META, None, None)
    for kind, pattern in _PATTERNS:
        m = pattern.fullmatch(key)
        if not m:
            continue
        if kind in (KeyKind.OBJECT, KeyKind.BLOB):
            fan, digest = m.groups()
            if fan == digest[:2]:
                return ParsedKey(kind, None, digest)
        elif kind is KeyKind.HEAD:
            if _MACHINE.fullmatch(m.group(1)):
                return ParsedKey(kind, m.group(1), None)
        elif _MACHINE.fullmatch(m.group(1)) and _ULID.fullmatch(m.group(2)):
            return ParsedKey(kind, m.group(1), m.group(2))
    raise InputError(f"remote key {key!r} is not part of the key layout")


def parse_keys(keys: Iterable[str]) -> tuple[dict[str, ParsedKey], list[str]]:
    """The keys of the layout among ``keys``, parsed, and the others in the order given
    (anyone who can write to a remote can put any file there)."""
    parsed: dict[str, ParsedKey] = {}
    foreign: list[str] = []
    for key in keys:
        try:
            parsed[key] = parse_key(key)
        except InputError:
            foreign.append(key)
    return parsed, foreign
