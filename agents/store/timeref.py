"""Reading the points in time users name: ISO timestamps, dates, and ``30m``/``2h``/``7d`` ago."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from agents.core.errors import InputError
from agents.store.canonical import iso_of

__all__ = ["parse_time", "require_time"]

_AGO = re.compile(r"^(\d+)\s*([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_time(text: str, now: datetime | None = None) -> str | None:
    """``text`` as a store timestamp (UTC, ms), or None if it is not a time.

    Accepts ``2026-05-01``, ``2026-05-01T12:00``, ``2026-05-01T12:00:00+02:00``, ``…Z``, and
    durations ago such as ``90m``, ``2h``, ``7d``. A time without zone is UTC.
    """
    text = text.strip()
    match = _AGO.match(text)
    if match:
        delta = timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
        moment = (now or datetime.now(UTC)) - delta
    else:
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
    return iso_of(moment)


def require_time(text: str) -> str:
    """Like :func:`parse_time`, but a non-time is an error.

    Raises:
        InputError: ``text`` is not a time.
    """
    value = parse_time(text)
    if value is None:
        raise InputError(
            f"{text!r} is not a time: use an ISO time (2026-05-01T12:00Z), a date, or 30m/2h/7d"
        )
    return value
