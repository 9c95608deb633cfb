"""Private files (secrets, tokens, approvals) written so that no one else can read or redirect
them, and no reader ever sees half of one."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

__all__ = ["write_private"]

_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


def write_private(path: Path, data: str | bytes) -> None:
    """Replace ``path`` with ``data``, mode 0600 from the first byte.

    The data goes to a temp file with a unique random name in the same folder, created with
    ``O_EXCL|O_NOFOLLOW`` (a planted file or symlink makes it fail instead of being written
    through), fsynced, then renamed over ``path`` (atomic: the old file or the new one, never
    half), and the folder fsynced so the rename survives a crash.
    """
    raw = data.encode() if isinstance(data, str) else data
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, _FLAGS, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    folder = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
