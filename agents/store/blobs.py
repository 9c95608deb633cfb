"""Content-addressed blob files: large contents written once under ``blobs/sha256/ab/<hex>``.

A blob is written to a temporary file in its final directory, fsynced, then renamed into
place (and the directory fsynced), so a reader sees either the whole blob or none; a failed
write (a full disk) removes its temporary file. The document that points at a blob is
committed only after the blob is durable.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

from agents.core.errors import NotFoundError, StoreError
from agents.store.canonical import HASH_PREFIX, is_hash

__all__ = ["BlobStore", "blob_refs"]

BLOB_REF = re.compile(r'"blob":"(sha256:[0-9a-f]{64})"')


def blob_refs(envelope_text: str) -> set[str]:
    """The blob references in a serialized envelope (``{"blob": "sha256:…", …}`` objects)."""
    return set(BLOB_REF.findall(envelope_text)) if '"blob":"sha256:' in envelope_text else set()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


class BlobStore:
    """The blobs of one store directory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.write_all = _write_all  # a seam: tests inject ENOSPC here

    def path_of(self, ref: str) -> Path:
        """Where blob ``ref`` lives.

        Raises:
            StoreError: ``ref`` is not a ``sha256:<hex>`` name.
        """
        if not is_hash(ref):
            raise StoreError(f"{ref!r} is not a blob reference (sha256:<64 hex digits>)")
        hexpart = ref.removeprefix(HASH_PREFIX)
        return self.root / "sha256" / hexpart[:2] / hexpart

    def put(self, data: bytes) -> str:
        """Store ``data``; return its reference. Idempotent.

        Raises:
            StoreError: The disk is full or the directory not writable; nothing is left behind.
        """
        ref = HASH_PREFIX + hashlib.sha256(data).hexdigest()
        final = self.path_of(ref)
        if final.exists():
            return ref
        tmp = final.with_name(f".{final.name}.{os.getpid()}.tmp")
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                self.write_all(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, final)
            dirfd = os.open(final.parent, os.O_RDONLY)
            try:
                os.fsync(dirfd)
            finally:
                os.close(dirfd)
        except OSError as exc:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            raise StoreError(
                f"cannot write blob {ref} under {self.root}: {exc.strerror or exc}; nothing was "
                "recorded"
            ) from exc
        return ref

    def get(self, ref: str) -> bytes:
        """The bytes of blob ``ref``, checked against its hash.

        Raises:
            NotFoundError: No such blob (compacted, or never synced here).
            StoreError: The file's content does not match its name (corrupt).
        """
        path = self.path_of(ref)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise NotFoundError(f"blob {ref} not found in {self.root}") from None
        if HASH_PREFIX + hashlib.sha256(data).hexdigest() != ref:
            raise StoreError(f"blob {path} is corrupt: its content does not match its name")
        return data

    def __iter__(self) -> Iterator[tuple[str, Path]]:
        base = self.root / "sha256"
        if not base.is_dir():
            return
        for sub in sorted(base.iterdir()):
            for path in sorted(sub.iterdir()) if sub.is_dir() else []:
                if not path.name.startswith("."):
                    yield HASH_PREFIX + path.name, path

    def remove_unreferenced(self, referenced: set[str], older_than: float) -> int:
        """Delete blobs not in ``referenced`` whose files are older than ``older_than`` seconds
        (younger ones may belong to a write still in progress); return how many."""
        now, removed = time.time(), 0
        for ref, path in list(self):
            if ref not in referenced and now - path.stat().st_mtime > older_than:
                path.unlink(missing_ok=True)
                removed += 1
        return removed
