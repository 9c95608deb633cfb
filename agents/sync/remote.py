"""The remote interface every backend implements, its errors, and ``open_remote(url)``.

A remote is a flat key → bytes store with four operations (docs/sync-remotes.md):

- ``get(key) -> Entry(data, etag) | None``;
- ``put_if_absent(key, data)``: write-once keys; writing the same bytes again is a no-op,
  different bytes raise ``ObjectConflict``;
- ``cas(key, data, expected_etag | None) -> new etag``: ``None`` means create-only; a stale
  or unexpected state raises ``CasConflict`` carrying the current etag;
- ``list(prefix) -> sorted keys``.

Extras every backend honours: ``get_many``/``put_many``/``scan`` (bulk paths for restores of
many documents), ``delete`` (used only by gc, for orphans), and ``batch()``: writes inside a batch
may be grouped (one git commit, one PostgreSQL transaction) and become durable at the latest
when the batch exits. A ``cas`` is always a durability point: when it returns or raises
``CasConflict``, every earlier write is on the remote, so a head never points at missing data.
"""

from __future__ import annotations

import builtins
import contextlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol
from urllib.parse import quote

from agents.core.errors import UpstreamError
from agents.core.redact import mask_text, redact_url
from agents.sync.keys import validate_key, validate_prefix

__all__ = [
    "CasConflict",
    "Entry",
    "ObjectConflict",
    "Remote",
    "RemoteError",
    "Watch",
    "put_each",
    "redact_url",
]


class Watch(Protocol):
    """Notifications of other machines' pushes (see :meth:`Remote.watch`)."""

    def wait(self, timeout: float) -> bool:
        """Block up to ``timeout`` seconds; True as soon as another machine's head moved.
        Never raises: a lost connection is reopened on a later call, with backoff."""
        ...

    def close(self) -> None:
        """Close the feed's connection."""
        ...


class RemoteError(UpstreamError):
    """The remote refused or failed an operation; the message never carries a secret."""


class CasConflict(RemoteError):  # noqa: N818 - pairs with ObjectConflict
    """A compare-and-swap found another state than expected.

    ``current_etag`` is the etag the key has now (``None``: the key does not exist).
    """

    def __init__(self, key: str, current_etag: str | None, expected: str | None) -> None:
        want = "to be absent" if expected is None else f"etag {expected!r}"
        have = "absent" if current_etag is None else f"at etag {current_etag!r}"
        super().__init__(f"compare-and-swap of {key!r} failed: expected it {want}, it is {have}")
        self.key = key
        self.current_etag = current_etag
        self.expected = expected


class ObjectConflict(RemoteError):  # noqa: N818 (pairs with CasConflict)
    """A write-once key already holds different bytes (a corrupt or foreign remote)."""

    def __init__(self, key: str) -> None:
        super().__init__(
            f"write-once key {key!r} already holds different bytes; the remote is corrupt or "
            "shared with another store (run gc, or point CONTEXT_REMOTE at a fresh location)"
        )
        self.key = key


Keys = list[str]
SCAN_CHUNK = 2000
DEFAULT_MAX_BYTES = 32 * 1024 * 1024  # SYNC_MAX_OBJECT_BYTES (agents.sync.limits)


class Entry:
    """A value read from a remote and its etag (an opaque version token).

    A backend whose etag is a function of the bytes may pass that function as ``etag``: it runs
    when ``etag`` is first read, so a restore that reads every value and no etag computes none.
    It unpacks and compares as the pair ``(data, etag)``.
    """

    __slots__ = ("_etag", "data")

    def __init__(self, data: bytes, etag: str | Callable[[bytes], str]) -> None:
        self.data = data
        self._etag = etag

    @property
    def etag(self) -> str:
        """The etag, computed on first use where the backend gave a function of the bytes."""
        etag = self._etag
        if not isinstance(etag, str):
            etag = self._etag = etag(self.data)
        return etag

    def __iter__(self) -> Iterator[bytes | str]:
        return iter((self.data, self.etag))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Entry | tuple):
            return (self.data, self.etag) == tuple(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.data, self.etag))

    def __repr__(self) -> str:
        return f"Entry(data={self.data!r}, etag={self.etag!r})"


class Remote(ABC):
    """Base of every backend: validates keys, runs batches, keeps secrets out of its repr."""

    scheme: str = ""

    def __init__(self, display_url: str) -> None:
        self.display_url = display_url
        self._depth = 0
        self._broken = False
        # hostile-data limits (agents.sync.limits); open_configured_remote sets the env's
        self.max_bytes = DEFAULT_MAX_BYTES
        self.max_skew: float | None = None  # None: SYNC_MAX_CLOCK_SKEW or its default
        self.refused: dict[str, str] = {}  # key -> why a read left it out (too large, …)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.display_url}>"

    # --- the interface -------------------------------------------------------------------

    def get(self, key: str) -> Entry | None:
        """The value and etag at ``key``, or ``None`` if it does not exist."""
        return self._get(validate_key(key))

    def get_many(self, keys: Iterable[str]) -> dict[str, Entry]:
        """Values of many keys at once; missing keys are left out of the result."""
        return self._get_many([validate_key(k) for k in keys])

    def put_if_absent(self, key: str, data: bytes) -> None:
        """Write a write-once key; same bytes again is a no-op, other bytes ``ObjectConflict``."""
        self.put_many([(key, data)])

    def put_many(self, items: Iterable[tuple[str, bytes]]) -> None:
        """``put_if_absent`` for many keys, grouped by the backend's bulk path.

        If it raises outside a batch, some of the other keys may have been written.
        """
        checked = [(validate_key(k), _bytes(v)) for k, v in items]
        with self._write_guard():
            self._put_many(checked)
            self._autoflush()

    def cas(self, key: str, data: bytes, expected_etag: str | None) -> str:
        """Replace ``key`` if its etag is ``expected_etag`` (``None``: create-only).

        Returns the new etag. Raises ``CasConflict`` with the current etag otherwise. Every
        write before this call is durable when it returns or raises ``CasConflict``.
        """
        checked = validate_key(key), _bytes(data)
        with self._write_guard():
            etag = self._cas(*checked, expected_etag)
            self.flush()
        return etag

    def list(self, prefix: str = "") -> Keys:
        """Every key starting with ``prefix``, sorted."""
        return sorted(self._list(validate_prefix(prefix)))

    def scan(self, prefix: str = "") -> Generator[tuple[str, Entry]]:
        """Every key starting with ``prefix`` with its value, in key order, read in chunks.

        The bulk read for restoring a whole store. Keys written while it runs may or may not
        appear.
        """
        yield from self._scan(validate_prefix(prefix))

    def delete(self, key: str) -> None:
        """Remove ``key`` if present. Used only by gc, for orphans nothing references."""
        checked = validate_key(key)
        with self._write_guard():
            self._delete(checked)
            self._autoflush()

    @contextlib.contextmanager
    def batch(self) -> Iterator[Remote]:
        """Group writes: they are flushed when the outermost batch exits without error.

        On an error the unflushed writes are dropped (as after a crash: at most orphans). After
        a failed write inside the batch, further writes in it raise ``RemoteError``.
        """
        self._depth += 1
        try:
            yield self
        except BaseException:
            self._depth -= 1
            if self._depth == 0:
                self._broken = False
                self._abort()
            raise
        self._depth -= 1
        if self._depth == 0:
            broken, self._broken = self._broken, False
            if not broken:
                self.flush()

    def flush(self) -> None:  # noqa: B027 (a no-op where every write is immediate)
        """Make every write so far durable on the remote."""

    def close(self) -> None:  # noqa: B027 (a no-op where nothing stays open)
        """Release connections and child processes."""

    def watch(self, machine_id: str) -> Watch | None:
        """A feed that wakes when another machine than ``machine_id`` moves its head
        (real-time sync), or None where the backend has none: callers then sync on their
        interval. The feed outlives this remote object and has its own connection."""
        return None

    def __enter__(self) -> Remote:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def refuse(self, key: str, reason: str) -> None:
        """Leave ``key`` out of a read and say why (the pull quarantines it)."""
        self.refused[key] = reason

    def fits(self, key: str, size: int) -> bool:
        """Whether a value of ``size`` bytes may be read; if not, :meth:`refuse` it."""
        if size <= self.max_bytes:
            return True
        self.refuse(
            key, f"{size} bytes, over the {self.max_bytes}-byte limit (SYNC_MAX_OBJECT_BYTES)"
        )
        return False

    # --- what a backend implements ----------------------------------------------------------

    @abstractmethod
    def _get(self, key: str) -> Entry | None: ...

    def _get_many(self, keys: Keys) -> dict[str, Entry]:
        found = {}
        for key in keys:
            entry = self._get(key)
            if entry is not None:
                found[key] = entry
        return found

    def _scan(self, prefix: str) -> Iterator[tuple[str, Entry]]:
        keys = self.list(prefix)
        for i in range(0, len(keys), SCAN_CHUNK):
            chunk = keys[i : i + SCAN_CHUNK]
            found = self._get_many(chunk)
            yield from ((k, found[k]) for k in chunk if k in found)

    @abstractmethod
    def _put_many(self, items: builtins.list[tuple[str, bytes]]) -> None: ...

    @abstractmethod
    def _cas(self, key: str, data: bytes, expected: str | None) -> str: ...

    @abstractmethod
    def _list(self, prefix: str) -> Iterable[str]: ...

    @abstractmethod
    def _delete(self, key: str) -> None: ...

    def _abort(self) -> None:  # noqa: B027 (a no-op where every write is immediate)
        """Drop the writes of a failed batch that are not durable yet."""

    def _autoflush(self) -> None:
        if self._depth == 0:
            self.flush()

    @contextlib.contextmanager
    def _write_guard(self) -> Iterator[None]:
        """A failed write drops what is not durable yet; inside a batch it breaks the batch.

        Without that, a caller catching the error could go on and move a head to data the
        failure dropped. A lost CAS is not a failure: the writes before it are durable.
        """
        if self._broken:
            raise RemoteError(
                f"{self.display_url}: an earlier write of this batch failed and its unflushed "
                "writes were dropped; leave the batch and start it again"
            )
        try:
            yield
        except CasConflict:
            raise
        except BaseException:
            self._abort()
            if self._depth > 0:
                self._broken = True
            raise


def _bytes(data: bytes) -> bytes:
    if isinstance(data, bytes):
        return data
    if isinstance(data, bytearray | memoryview):
        return bytes(data)
    raise TypeError(f"remote values are bytes, not {type(data).__name__}")


# --- secrets ---------------------------------------------------------------------------------


def put_each(
    items: Iterable[tuple[str, bytes]], put_one: Callable[[str, bytes], None], workers: int = 8
) -> None:
    """Write-once ``items`` through ``put_one``, several in flight (a backend's latency or
    fsync dominates, so they overlap); a key listed twice with different bytes is refused.

    Raises:
        ObjectConflict: The same key with different bytes, here or on the remote.
    """
    unique: dict[str, bytes] = {}
    for key, data in items:
        if unique.setdefault(key, data) != data:
            raise ObjectConflict(key)
    if len(unique) < 2:
        for key, data in unique.items():
            put_one(key, data)
        return
    with ThreadPoolExecutor(min(workers, len(unique))) as pool:
        list(pool.map(put_one, unique, unique.values()))


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret (and its URL-quoted form) replaced by ``***``, and any other
    credential shape masked (:func:`agents.core.redact.mask_text`)."""
    for secret in secrets:
        if secret and len(secret) >= 3:
            text = text.replace(secret, "***").replace(quote(secret, safe=""), "***")
    return mask_text(text)


# --- open_remote ----------------------------------------------------------------------------
