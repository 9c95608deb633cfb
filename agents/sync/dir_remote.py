"""``dir`` backend: a local folder, or one a sync tool (Syncthing, Dropbox, OneDrive) mirrors.

Every key is a file at ``<root>/<key>``. Nothing half-written is ever visible: a value is
written to a hidden temp file in the target folder, fsynced, then linked (write-once keys:
``os.link`` fails if the name exists, so two writers cannot both win) or renamed over the old
value (``cas``, under a per-key ``fcntl`` lock in ``<root>/.locks/``, re-read afterwards so a
sync tool swapping the file in between is noticed). Names starting with a dot and sync tools'
conflict copies are never keys, so listings skip them. The etag is the SHA-256 of the bytes.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from agents.core.errors import ConfigError
from agents.sync.keys import is_key
from agents.sync.remote import CasConflict, Entry, ObjectConflict, Remote, RemoteError, put_each

__all__ = ["DirRemote"]

# errnos of filesystems without hard links (FAT, some FUSE mounts): fall back to lock + rename
WORKERS = 8
_NO_LINK = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK, errno.ENOSYS}
_NOT_REGULAR = "not a regular file (a FIFO, device, socket or folder)"


def etag_of(data: bytes) -> str:
    """The etag of a value in a ``dir`` remote."""
    return hashlib.sha256(data).hexdigest()


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
        self._real_root = os.path.realpath(root)
        self._safe_dirs: set[str] = set()

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*key.split("/"))

    def _read(self, path: Path) -> bytes | None:
        """The bytes of a regular file inside the root, at most ``max_bytes`` of them.

        Never through a symlink (``O_NOFOLLOW``, and the folder must resolve inside the
        root), never blocking on a FIFO (``O_NONBLOCK``), never a device: anything else is
        left out and named in ``refused``.
        """
        key = path.relative_to(self.root).as_posix()
        if not self._inside(path.parent):
            self.refuse(key, "its folder is a symlink leading out of the dir remote")
            return None
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None
        except OSError as e:
            if e.errno in (errno.ELOOP, errno.EMLINK):
                self.refuse(key, "a symlink, not a regular file")
                return None
            if e.errno == errno.ENXIO:  # a socket, or a device with no driver behind it
                self.refuse(key, _NOT_REGULAR)
                return None
            raise RemoteError(f"cannot read {str(path)!r}: {e.strerror}") from e
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
            raise RemoteError(f"cannot read {str(path)!r}: {e.strerror}") from e
        finally:
            os.close(fd)

    def _inside(self, folder: Path) -> bool:
        """Whether ``folder`` resolves inside the root (a symlinked folder may lead out)."""
        text = str(folder)
        if text in self._safe_dirs:
            return True
        real = os.path.realpath(text)
        ok = real == self._real_root or real.startswith(self._real_root + os.sep)
        if ok and len(self._safe_dirs) < 100_000:
            self._safe_dirs.add(text)
        return ok

    def _get(self, key: str) -> Entry | None:
        data = self._read(self._path(key))
        return None if data is None else Entry(data, etag_of(data))

    def _put_many(self, items: list[tuple[str, bytes]]) -> None:
        put_each(items, self._put_one, WORKERS)

    def _put_one(self, key: str, data: bytes) -> None:
        path = self._path(key)
        existing = self._read(path)
        if existing is not None:
            if existing != data:
                raise ObjectConflict(key)
            return
        tmp = self._write_temp(path.parent, data)
        try:
            try:
                os.link(tmp, path)
            except FileExistsError:
                if self._read(path) != data:
                    raise ObjectConflict(key) from None
                return
            except OSError as e:
                if e.errno not in _NO_LINK:
                    raise RemoteError(f"cannot write {key!r}: {e.strerror}") from e
                with self._lock(key):
                    current = self._read(path)
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
        with self._lock(key):
            current = self._read(path)
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
            after = self._read(path)
        if after != data:
            # a sync tool replaced the file between our rename and the re-read
            raise CasConflict(key, None if after is None else etag_of(after), expected)
        return etag_of(data)

    def _list(self, prefix: str) -> Iterator[str]:
        base = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
        start = self._path(base) if base else self.root
        yield from (k for k in self._walk(start, base) if k.startswith(prefix))

    def _walk(self, folder: Path, rel: str) -> Iterator[str]:
        try:
            entries = list(os.scandir(folder))
        except (FileNotFoundError, NotADirectoryError):
            return
        for entry in entries:
            if entry.name.startswith("."):
                continue
            key = f"{rel}/{entry.name}" if rel else entry.name
            if entry.is_dir(follow_symlinks=False):
                yield from self._walk(Path(entry.path), key)
            elif entry.is_file(follow_symlinks=False) and is_key(key):
                yield key

    def _delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError, NotADirectoryError):
            self._path(key).unlink()

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
