"""Limits on what is read from a remote: every byte there may come from a hostile writer.

- Size: no head, snapshot, revision or blob larger than ``SYNC_MAX_OBJECT_BYTES`` (default
  32 MiB) is read into memory. Each backend learns the size before reading: a file's
  ``fstat`` (regular files only, never through a symlink, never blocking on a FIFO), git's
  tree entry, PostgreSQL's ``octet_length``, Azure's content range. A value over the limit is
  left out of the answer and named in :attr:`agents.sync.remote.Remote.refused`.
- JSON depth, timestamps and clock skew: :mod:`agents.store.untrusted`.

Breaking one is :class:`DamagedError` (the data, not the connection): the pull quarantines
what broke it and goes on with the rest.
"""

from __future__ import annotations

from typing import Any

from agents.store import untrusted
from agents.sync.remote import RemoteError

__all__ = ["DEFAULT_MAX_OBJECT_BYTES", "DamagedError", "max_object_bytes", "parse"]

DEFAULT_MAX_OBJECT_BYTES = 32 * 1024 * 1024


class DamagedError(RemoteError):
    """A value read from the remote is missing, too large, malformed or implausible: the pull
    quarantines it and goes on."""


def max_object_bytes() -> int:
    """``SYNC_MAX_OBJECT_BYTES``: the largest value read from a remote (at least 64 KiB)."""
    return int(untrusted.setting("SYNC_MAX_OBJECT_BYTES", DEFAULT_MAX_OBJECT_BYTES, 65_536))


def parse(data: bytes, what: str) -> Any:
    """JSON read from a remote, depth-limited.

    Raises:
        DamagedError: Not JSON, or nested too deeply.
    """
    try:
        return untrusted.loads(data, what)
    except ValueError as exc:
        raise DamagedError(str(exc)) from None
