"""``dir`` backend: a local folder, or one a sync tool (Syncthing, Dropbox, OneDrive) mirrors.

Every key is a file at ``<root>/<key>``. Nothing half-written is ever visible: a value is
written to a hidden temp file in the target folder, fsynced, then linked (write-once keys:
``os.link`` fails if the name exists, so two writers cannot both win) or renamed over the old
value (``cas``, under a per-key ``fcntl`` lock in ``<root>/.locks/``, re-read afterwards so a
sync tool swapping the file in between is noticed). Names starting with a dot and sync tools'
conflict copies are never keys, so listings skip them. The etag is the SHA-256 of the bytes
(computed when a read's etag is first asked for).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import stat
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from agents.core.errors import ConfigError
from agents.sync.keys import MAX_KEY_LENGTH, is_segment
from agents.sync.remote import CasConflict, Entry, ObjectConflict, Remote, RemoteError, put_each

__all__ = ["DirRemote"]

# errnos of filesystems without hard links (FAT, some FUSE mounts): fall back to lock + rename
WORKERS = 8
_NO_LINK = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK, errno.ENOSYS}
_NOT_REGULAR = "not a regular file (a FIFO, device, socket or folder)"
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


def etag_of(data: bytes) -> str:
    """The etag of a value in a ``dir`` remote."""
    return hashlib.sha256(data).hexdigest()


_LEADS_OUT = "its folder is a symlink leading out of the dir remote"


class DirRemote(Remote):
    """A remote in a local or synced folder."""

    scheme = "dir"

    def __init__(self, root: Path) -> None:
        super().__init__(f"dir://{root}")
        if not root.parent.is_dir():
            raise ConfigError(
                f"CONTEXT_REMOTE dir://{root}: the parent folder {str(root.parent)!r} does not "
                "exist; create it (or fix the path)"
            )
        try:
            root.mkdir(mode=0o700, exist_ok=True)
        except OSError as e:
            raise RemoteError(f"cannot create the dir remote {str(root)!r}: {e.strerror}") from e
        if not root.is_dir():
            raise ConfigError(f"CONTEXT_REMOTE dir://{root} is not a folder")
        self.root = root
        self._root = str(root)
        self._real_root = os.path.realpath(root)

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*key.split("/"))

    def _file(self, key: str) -> str:
        return os.path.join(self._root, *key.split("/"))

    def _read(self, key: str, path: str, inside: set[str] | None = None) -> bytes | None:
        """The bytes of the regular file ``path`` (``key``'s) inside the root, at most
        ``max_bytes`` of them.

        Never through a symlink (``O_NOFOLLOW``, and the folder must resolve inside the
        root), never blocking on a FIFO (``O_NONBLOCK``), never a device: anything else is
        left out and named in ``refused``. ``inside`` holds the folders one bulk read has
        already found inside the root; a single read resolves its folder afresh.
        """
        folder = os.path.dirname(path)
        if inside is None or folder not in inside:
            if not self._inside(folder):
                self.refuse(key, _LEADS_OUT)
                return None
            if inside is not None:
                inside.add(folder)
        try:
            fd = os.open(path, _READ_FLAGS)
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None
        except OSError as e:
            if e.errno in (errno.ELOOP, errno.EMLINK):
                self.refuse(key, "a symlink, not a regular file")
                return None
            if e.errno == errno.ENXIO:  # a socket, or a device with no driver behind it
                self.refuse(key, _NOT_REGULAR)
                return None
            raise RemoteError(f"cannot read {path!r}: {e.strerror}") from e
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                self.refuse(key, _NOT_REGULAR)
                return None
            if not self.fits(key, info.st_size):
                return None
            chunks, left = [], info.st_size + 1
            while left > 0:
                chunk = os.read(fd, min(left, 1 << 20))
                if not chunk:
                    break
                chunks.append(chunk)
                left -= len(chunk)
            data = b"".join(chunks)
            return data if self.fits(key, len(data)) else None
        except OSError as e:
            raise RemoteError(f"cannot read {path!r}: {e.strerror}") from e
        finally:
            os.close(fd)

    def _inside(self, folder: str) -> bool:
        """Whether ``folder`` resolves inside the root (a symlinked folder may lead out)."""
        real = os.path.realpath(folder)
        return real == self._real_root or real.startswith(self._real_root + os.sep)

    def _inside_or_refuse(
        self, key: str, path: Path, what: str = "write", done: str = "written"
    ) -> None:
        """Refuse to ``what`` ``key`` (at ``path``) when its folder leads out of the root.

        Raises:
            RemoteError: The folder resolves outside the remote; nothing was ``done``.
        """
        if not self._inside(str(path.parent)):
            self.refuse(key, _LEADS_OUT)
            raise _leads_out(key, self._root, what, done)

    def _get(self, key: str) -> Entry | None:
        data = self._read(key, self._file(key))
        return None if data is None else Entry(data, etag_of)

    def _get_many(self, keys: list[str]) -> dict[str, Entry]:
        return dict(self._entries((key, self._file(key)) for key in keys))

    def _scan(self, prefix: str) -> Iterator[tuple[str, Entry]]:
        # one walk gives every file's path with its key: each read then takes the path as is
        return self._entries(sorted(self._files(prefix)))

    def _entries(self, files: Iterable[tuple[str, str]]) -> Iterator[tuple[str, Entry]]:
        """``(key, entry)`` of each ``(key, path)`` read, each folder resolved once."""
        inside: set[str] = set()
        for key, path in files:
            data = self._read(key, path, inside)
            if data is not None:
                yield key, Entry(data, etag_of)

    def _put_many(self, items: list[tuple[str, bytes]]) -> None:
        inside: set[str] = set()  # as in a bulk read: each folder resolved once per call
        put_each(items, lambda key, data: self._put_one(key, data, inside), WORKERS)

    def _put_one(self, key: str, data: bytes, inside: set[str]) -> None:
        path = self._path(key)
        existing = self._read(key, str(path), inside)
        if existing is not None:
            if existing != data:
                raise ObjectConflict(key)
            return
        if str(path.parent) not in inside:  # the read found its folder leading out
            raise _leads_out(key, self._root)
        tmp = self._write_temp(path.parent, data)
        try:
            try:
                os.link(tmp, path)
            except FileExistsError:
                if self._read(key, str(path)) != data:
                    raise ObjectConflict(key) from None
                return
            except OSError as e:
                if e.errno not in _NO_LINK:
                    raise RemoteError(f"cannot write {key!r}: {e.strerror}") from e
                with self._lock(key):
                    current = self._read(key, str(path))
                    if current is not None:
                        if current != data:
                            raise ObjectConflict(key) from None
                        return
                    os.replace(tmp, path)
            _fsync_dir(path.parent)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()

    def _cas(self, key: str, data: bytes, expected: str | None) -> str:
        path = self._path(key)
        self._inside_or_refuse(key, path)
        with self._lock(key):
            current = self._read(key, str(path))
            current_etag = None if current is None else etag_of(current)
            if current_etag != expected:
                raise CasConflict(key, current_etag, expected)
            tmp = self._write_temp(path.parent, data)
            try:
                os.replace(tmp, path)
            except OSError as e:
                tmp.unlink(missing_ok=True)
                raise RemoteError(f"cannot write {key!r}: {e.strerror}") from e
            _fsync_dir(path.parent)
            after = self._read(key, str(path))
        if after != data:
            # a sync tool replaced the file between our rename and the re-read
            raise CasConflict(key, None if after is None else etag_of(after), expected)
        return etag_of(data)

    def _list(self, prefix: str) -> Iterator[str]:
        return (key for key, _ in self._files(prefix))

    def _files(self, prefix: str) -> Iterator[tuple[str, str]]:
        """``(key, path)`` of every file whose key starts with ``prefix``."""
        base = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
        start = self._file(base) if base else self._root
        return ((k, p) for k, p in self._walk(start, base) if k.startswith(prefix))

    def _walk(self, folder: str, rel: str) -> Iterator[tuple[str, str]]:
        # names that cannot be a key's segment (dot files, conflict copies, foreign names)
        # are skipped, folders with them unopened: no key is below them
        try:
            entries = list(os.scandir(folder))
        except (FileNotFoundError, NotADirectoryError):
            return
        for entry in entries:
            if not is_segment(entry.name):
                continue
            key = f"{rel}/{entry.name}" if rel else entry.name
            if entry.is_dir(follow_symlinks=False):
                yield from self._walk(entry.path, key)
            elif entry.is_file(follow_symlinks=False) and len(key) <= MAX_KEY_LENGTH:
                yield key, entry.path

    def _delete(self, key: str) -> None:
        path = self._path(key)
        self._inside_or_refuse(key, path, "delete", "deleted")
        with contextlib.suppress(FileNotFoundError, NotADirectoryError):
            path.unlink()

    def _write_temp(self, folder: Path, data: bytes) -> Path:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(prefix=".tmp-", dir=folder)
        except OSError as e:
            raise RemoteError(f"cannot write in {str(folder)!r}: {e.strerror}") from e
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as e:
            Path(name).unlink(missing_ok=True)
            raise RemoteError(f"cannot write in {str(folder)!r}: {e.strerror}") from e
        return Path(name)

    @contextlib.contextmanager
    def _lock(self, key: str) -> Iterator[None]:
        locks = self.root / ".locks"
        locks.mkdir(mode=0o700, exist_ok=True)
        fd = os.open(locks / (key.replace("/", "%") + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)


def _leads_out(key: str, root: str, what: str = "write", done: str = "written") -> RemoteError:
    """The error of a write or delete whose folder is a symlink leading out of the remote:
    nothing is written there (not even a temporary file) or deleted."""
    return RemoteError(
        f"cannot {what} {key!r}: its folder in the dir remote {root!r} is a symlink leading out "
        f"of it; nothing was {done}. Someone with write access to the "
        "remote put the link there: remove it, then sync again"
    )


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
