"""Checks on data made by another machine, before anything parses or trusts it.

- JSON depth: at most :data:`MAX_JSON_DEPTH` nested arrays and objects, checked on the bytes
  before parsing (Python's parser recurses, so a 100 000-deep object would crash it).
- Timestamps: a timestamp the schema's pattern accepts (``2026-13-45T99:00:00Z``) must also
  be a real time; a hybrid logical clock stamp may not be more than ``SYNC_MAX_CLOCK_SKEW``
  seconds (default one day) ahead of this machine's clock, so nobody can push every
  machine's clock to the year 9999.

Each check raises ``ValueError`` saying what is wrong; callers quarantine the data.
"""

from __future__ import annotations

import json
import os
import re
import time
from datetime import datetime
from typing import Any

from agents.core.errors import ConfigError
from agents.store.clock import Hlc

__all__ = [
    "DEFAULT_MAX_CLOCK_SKEW",
    "MAX_JSON_DEPTH",
    "check_hlc",
    "check_timestamp",
    "json_depth",
    "loads",
    "max_clock_skew",
    "setting",
]

DEFAULT_MAX_CLOCK_SKEW = 86_400.0
MAX_JSON_DEPTH = 64
_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.S)
_HLC = re.compile(
    r"^([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{1,6})Z/([0-9]+)/(.+)$"
)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def setting(name: str, default: float, least: float) -> float:
    """A numeric setting from the environment (``agents`` loads the env files into it).

    Raises:
        ConfigError: Set, but not a number of at least ``least``.
    """
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value >= least:
        raise ConfigError(f"{name}={raw!r} is not a number of at least {least:g}; fix it")
    return value


def max_clock_skew() -> float:
    """``SYNC_MAX_CLOCK_SKEW``: seconds a received stamp may be ahead of this clock."""
    return setting("SYNC_MAX_CLOCK_SKEW", DEFAULT_MAX_CLOCK_SKEW, 1.0)


def json_depth(data: bytes) -> int:
    """How deeply arrays and objects nest in the JSON text ``data`` (strings skipped).

    Only meaningful for text that parses; it never recurses, so any input is safe.
    """
    opened = data.count(b"[") + data.count(b"{")
    if opened <= MAX_JSON_DEPTH:
        return opened  # an upper bound, and small: no need to look closer
    brackets = _STRINGS.sub(b"", data).translate(None, _NOT_BRACKETS)
    depth = deepest = 0
    for byte in brackets:
        if byte in b"[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def loads(data: bytes, what: str) -> Any:
    """Parse JSON read from a remote, refusing anything nested deeper than the limit.

    Raises:
        ValueError: Not JSON, or nested too deeply.
    """
    if json_depth(data) > MAX_JSON_DEPTH:
        raise ValueError(f"{what} nests JSON deeper than {MAX_JSON_DEPTH} levels")
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"{what} is not JSON ({type(exc).__name__})") from None


def check_timestamp(value: Any, what: str) -> str:
    """``value`` if it is an ISO 8601 time this software can read.

    Raises:
        ValueError: It is not.
    """
    if isinstance(value, str) and len(value) <= 40:
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
            return value
        except ValueError:
            pass
    raise ValueError(f"{what} {str(value)[:40]!r} is not a readable timestamp")


def check_hlc(value: Any, what: str, skew: float | None = None) -> Hlc:
    """``value`` as a clock stamp no more than ``skew`` seconds (default
    ``SYNC_MAX_CLOCK_SKEW``) ahead of now.

    Raises:
        ValueError: Not a stamp, or too far in the future.
    """
    match = _HLC.match(value) if isinstance(value, str) and len(value) <= 200 else None
    try:
        if match is None:
            raise ValueError
        # the exact form Hlc.parse reads, and a real time (fromisoformat: docs/performance.md)
        moment = datetime.fromisoformat(match.group(1) + "+00:00")
        stamp = Hlc(round(moment.timestamp() * 1000), int(match.group(2)), match.group(3))
    except (ValueError, OverflowError, OSError):
        raise ValueError(f"{what} {str(value)[:60]!r} is not a clock stamp") from None
    allowed = max_clock_skew() if skew is None else skew
    if stamp.ms > (time.time() + allowed) * 1000:
        raise ValueError(
            f"{what} {value[:60]!r} is more than {allowed:g}s ahead of this machine's clock "
            "(SYNC_MAX_CLOCK_SKEW)"
        )
    return stamp
