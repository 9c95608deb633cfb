"""Canonical JSON, content hashes, ULIDs and timestamps: what every stored byte is named by."""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from json.encoder import encode_basestring
from typing import Any, Self

__all__ = [
    "HASH_PREFIX",
    "Serialized",
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
# the C encoder json.dumps builds per call (not in typeshed; None without the _json module)
_make_encoder: Any = getattr(json.encoder, "c_make_encoder", None)
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_DIGIT_PAIRS = [a + b for a in _CROCKFORD for b in _CROCKFORD]  # 10 bits -> two digits
_PAIR_SHIFTS = tuple(range(120, -1, -10))
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


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
        if _make_encoder is None:  # pragma: no cover - CPython always has _json
            return json.dumps(
                value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
            )
        # json.dumps with these arguments, without building a JSONEncoder per call (a
        # fresh ``markers`` dict each time: the circular-reference check stays per call)
        encode = _make_encoder({}, _not_json, encode_basestring, None, ":", ",", True, False, False)
        return "".join(encode(value, 0))
    except TypeError as exc:
        raise ValueError(f"not JSON: {exc}") from None


@dataclass(frozen=True, slots=True)
class Serialized:
    """A JSON value with its canonical text, serialized once for every use of it."""

    value: Any
    text: str

    @classmethod
    def of(cls, value: Any) -> Self:
        """``value`` with :func:`canonical_text` of it.

        Raises:
            ValueError: ``value`` is not JSON.
        """
        return cls(value, canonical_text(value))


def _not_json(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


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
_MS = timedelta(milliseconds=1)


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
    return iso_ms((moment - _EPOCH) // _MS)


def now_iso() -> str:
    """The current UTC time with milliseconds."""
    return iso_ms(time.time_ns() // 1_000_000)


def ulid(ms: int | None = None) -> str:
    """A ULID: 48 bits of milliseconds then 80 random bits, Crockford base32 (sorts by time)."""
    stamp = time.time_ns() // 1_000_000 if ms is None else ms
    return _ulid(stamp, os.urandom(10))


def _ulid(stamp: int, entropy: bytes) -> str:
    """The ULID of ``stamp`` (ms) and 10 bytes of ``entropy``: 130 bits (2 zero, 48 of time,
    80 of entropy) as 26 base32 digits, two digits (10 bits) at a time."""
    number = (stamp << 80) | int.from_bytes(entropy, "big")
    return "".join([_DIGIT_PAIRS[(number >> shift) & 1023] for shift in _PAIR_SHIFTS])
