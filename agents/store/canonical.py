"""Canonical JSON, content hashes, ULIDs and timestamps: what every stored byte is named by."""

from __future__ import annotations

import hashlib
import json
import os
import time
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "HASH_PREFIX",
    "canonical",
    "canonical_text",
    "is_hash",
    "iso_ms",
    "iso_of",
    "now_iso",
    "sha256_of",
    "ulid",
]

HASH_PREFIX = "sha256:"
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def canonical(value: Any) -> bytes:
    """``value`` as canonical JSON: sorted keys, no insignificant whitespace, UTF-8.

    Raises:
        ValueError: NaN or infinity (not JSON), or a non-JSON type.
    """
    return canonical_text(value).encode("utf-8")


def canonical_text(value: Any) -> str:
    """:func:`canonical` as text.

    Raises:
        ValueError: NaN or infinity (not JSON), or a non-JSON type.
    """
    try:
        return json.dumps(
            value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )
    except TypeError as exc:
        raise ValueError(f"not JSON: {exc}") from None


def sha256_of(data: bytes | Any) -> str:
    """``sha256:<hex>`` of ``data``'s bytes, or of its canonical JSON."""
    raw = data if isinstance(data, bytes) else canonical(data)
    return HASH_PREFIX + hashlib.sha256(raw).hexdigest()


def is_hash(text: str) -> bool:
    """True for a ``sha256:<64 hex>`` name."""
    hexpart = text.removeprefix(HASH_PREFIX)
    return (
        text.startswith(HASH_PREFIX)
        and len(hexpart) == 64
        and all(c in "0123456789abcdef" for c in hexpart)
    )


_second: tuple[int, str] = (-1, "")


def iso_ms(ms: int) -> str:
    """Milliseconds since the epoch as ``YYYY-MM-DDTHH:MM:SS.mmmZ`` (sorts as text)."""
    global _second
    sec, text = _second
    if ms // 1000 != sec:
        sec, text = ms // 1000, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000))
        _second = (sec, text)
    return f"{text}.{ms % 1000:03d}Z"


def iso_of(moment: datetime) -> str:
    """An aware datetime in the store's timestamp form (UTC, milliseconds, ``Z``)."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def now_iso() -> str:
    """The current UTC time with milliseconds."""
    return iso_ms(time.time_ns() // 1_000_000)


def ulid(ms: int | None = None) -> str:
    """A ULID: 48 bits of milliseconds then 80 random bits, Crockford base32 (sorts by time)."""
    stamp = time.time_ns() // 1_000_000 if ms is None else ms
    number = (stamp << 80) | int.from_bytes(os.urandom(10), "big")
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[number & 31])
        number >>= 5
    return "".join(reversed(chars))
