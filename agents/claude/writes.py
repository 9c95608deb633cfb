"""How an apply puts bytes on disk so that a half-written file never has its final name.

A file in a folder that exists is written to a temp file beside it (same filesystem) and
renamed over its target. Files in a folder that does not exist yet (a new machine, a new
skill) are written into a copy of that folder built aside, ``.<name>.<random>.tmp`` next to
it, which is renamed into place once: one rename for the whole subtree, and it is refused
if the folder appeared meanwhile (then each file is moved in on its own, never over a file
someone else wrote); a copy left by an apply that crashed is removed by the next apply that builds
the same folder. Every name we create is new (``O_EXCL``, ``mkdir``), so nothing is
written through a file or symlink already there.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import re
import shutil
import stat
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any

from agents.claude.targets import Confinement

__all__ = [
    "Stage",
    "Stages",
    "flush",
    "process_umask",
    "rename_new",
    "sync_folders",
    "temp_file",
]

_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
# O_EXCL: a new file, never one (or a symlink) already at that name
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _CLOEXEC
_RENAME_NOREPLACE = 1
_AT_FDCWD = -100


def _random_name(path: str) -> str:
    folder, name = os.path.split(path)
    return os.path.join(folder, f".{name}.{os.urandom(6).hex()}.tmp")


# a folder built aside by an apply that died before renaming it is removed by the next apply
# that builds the same folder, once it is this old (a younger one may be another apply's)
STALE_SECONDS = 600


def _sweep(final: str) -> None:
    """Remove folders left beside ``final`` by an apply that crashed while building it, so
    that no half-built copy (say ``skills/.tools.<random>.tmp/SKILL.md``) stays where
    Claude Code looks for skills."""
    folder, name = os.path.split(final)
    left = re.compile(rf"\.{re.escape(name)}\.[0-9a-f]{{12}}\.tmp")
    cutoff = time.time() - STALE_SECONDS
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        if not left.fullmatch(entry.name):
            continue
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if stat.S_ISDIR(info.st_mode) and info.st_mtime < cutoff:
            shutil.rmtree(entry.path, ignore_errors=True)  # never follows a symlink inside


def process_umask() -> int | None:
    """This process's umask, read without changing it (``os.umask`` sets it, which races
    other threads' file creation): ``Umask:`` of ``/proc/self/status`` (Linux 4.7+), or
    ``None`` where that is not available."""
    try:
        with open("/proc/self/status", "rb") as f:
            for line in f:
                if line.startswith(b"Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return None


def _write_new(path: str, data: bytes, mode: int, sync: bool, umask: int | None = None) -> None:
    """A new file at ``path`` holding ``data`` with ``mode``. ``umask``: the process's, if
    known; when it keeps every bit of ``mode`` the file is created with ``mode`` (as ``cp``
    does), otherwise 0600 and given ``mode`` once written (one ``fchmod`` more). The umask
    can only take bits away, so the mode is never looser than ``mode``."""
    direct = umask is not None and not mode & umask
    fd = os.open(path, _NEW_FILE, mode if direct else 0o600)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        if not direct:
            os.fchmod(fd, mode)
        if sync:
            os.fsync(fd)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(path)
        raise
    finally:
        os.close(fd)


def temp_file(
    target: str, data: bytes, mode: int, sync: bool, folders: set[str], umask: int | None = None
) -> str:
    """``data`` in a new temp file beside ``target``, named ``.<name>.<random>.tmp``.

    Args:
        folders: The folders known to exist, so each is made (or found) once per apply.
        umask: The process's umask (:func:`process_umask`), if known.
    """
    folder = os.path.dirname(target)
    if folder not in folders:
        os.makedirs(folder, exist_ok=True)
        folders.add(folder)
    for _ in range(100):
        tmp = _random_name(target)
        try:
            _write_new(tmp, data, mode, sync, umask)
        except FileExistsError:
            continue
        return tmp
    raise FileExistsError(errno.EEXIST, "no free temporary file name", target)


def sync_folders(folders: Iterable[str]) -> None:
    """Make the names renamed into or removed from ``folders`` durable: one ``fsync`` of each
    folder. :func:`flush` makes the new contents durable before the renames; without this a
    crash soon after an apply could bring an old file back at a name the store already
    records as written. A folder removed since (emptied and pruned) is replaced by the
    nearest one that exists.

    Raises:
        OSError: The filesystem could not write a folder back.
    """
    done: set[str] = set()
    for folder in folders:
        while not os.path.isdir(folder) and os.path.dirname(folder) != folder:
            folder = os.path.dirname(folder)
        if folder in done:
            continue
        done.add(folder)
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _CLOEXEC)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _linux_call(name: str, *argtypes: Any) -> Callable[..., int] | None:
    """libc's ``name`` (Linux), wrapped to return 0 or the errno it set; ``None`` if absent."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes  # here: an apply that only replaces files in place never loads it

    try:
        fn: Any = getattr(ctypes.CDLL(None, use_errno=True), name)
    except (OSError, AttributeError):
        return None
    fn.argtypes, fn.restype = argtypes, ctypes.c_int

    def call(*args: Any) -> int:
        return 0 if fn(*args) == 0 else int(ctypes.get_errno())

    return call


@functools.cache
def _renameat2() -> Callable[[bytes, bytes], int] | None:
    """``renameat2(..., RENAME_NOREPLACE)``, returning 0 or an errno."""
    from ctypes import c_char_p, c_int, c_uint

    call = _linux_call("renameat2", c_int, c_char_p, c_int, c_char_p, c_uint)
    if call is None:
        return None
    return lambda src, dst: call(_AT_FDCWD, src, _AT_FDCWD, dst, _RENAME_NOREPLACE)


@functools.cache
def _syncfs() -> Callable[[int], int] | None:
    """``syncfs(fd)``, returning 0 or an errno."""
    from ctypes import c_int

    return _linux_call("syncfs", c_int)


def flush(folders: Iterable[str]) -> None:
    """Make everything written in ``folders`` durable: ``syncfs`` once per filesystem they
    are on (Linux; it also reports a write-back error, which ``sync`` cannot), else
    ``sync()``, which flushes every filesystem, with other programs' writes.

    Raises:
        OSError: The filesystem could not write the data back.
    """
    syncfs = _syncfs()
    if syncfs is None:
        os.sync()
        return
    devices: dict[int, str] = {}
    for folder in folders:
        devices.setdefault(os.stat(folder).st_dev, folder)
    for folder in devices.values():
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _CLOEXEC)
        try:
            err = syncfs(fd)
        finally:
            os.close(fd)
        if err:
            raise OSError(err, os.strerror(err), folder)


def rename_new(src: str, dst: str) -> bool:
    """Rename ``src`` to ``dst`` only if nothing is at ``dst``: ``False`` if something is
    (a folder, even an empty one, a file or a symlink), which is left as it is."""
    fn = _renameat2()
    if fn is not None:
        err = fn(os.fsencode(src), os.fsencode(dst))
        if err == 0:
            return True
        if err == errno.EEXIST:
            return False
        if err not in (errno.EINVAL, errno.ENOSYS):  # EINVAL: not supported by this filesystem
            raise OSError(err, os.strerror(err), src, None, dst)
    if os.path.lexists(dst):
        return False
    try:  # a non-empty folder, a file or a symlink at dst makes rename fail
        os.rename(src, dst)
    except OSError as exc:
        if exc.errno in (errno.EEXIST, errno.ENOTEMPTY, errno.ENOTDIR):
            return False
        raise
    return True


class Stage:
    """A folder that does not exist yet, built as ``.<name>.<random>.tmp`` beside it."""

    def __init__(self, final: str) -> None:
        self.final = final
        _sweep(final)
        for _ in range(100):
            tmp = _random_name(final)
            try:
                os.mkdir(tmp)
            except FileExistsError:
                continue
            self.tmp = tmp
            break
        else:
            raise FileExistsError(errno.EEXIST, "no free temporary folder name", final)
        self._made = {tmp}
        self.placed = False

    def path(self, target: str) -> str:
        """Where ``target`` (a path under :attr:`final`) is while the folder is built."""
        return self.tmp + target[len(self.final) :]

    def write(
        self, target: str, data: bytes, mode: int, sync: bool, umask: int | None = None
    ) -> str:
        """``data`` at ``target``'s place in the folder being built; returns that path."""
        staged = self.path(target)
        self._folder(os.path.dirname(staged))
        _write_new(staged, data, mode, sync, umask)
        return staged

    def _folder(self, folder: str) -> None:
        if folder not in self._made:
            self._folder(os.path.dirname(folder))
            os.mkdir(folder)
            self._made.add(folder)

    def place(self) -> bool:
        """Rename the built folder into place; ``False`` if the folder appeared meanwhile."""
        self.placed = rename_new(self.tmp, self.final)
        return self.placed

    def discard(self) -> None:
        """Remove what is left of the built folder (nothing, once placed)."""
        if not self.placed:
            shutil.rmtree(self.tmp, ignore_errors=True)


class Stages:
    """The folders one apply builds aside, keyed by the folder they become."""

    def __init__(self, confinement: Confinement) -> None:
        self.confinement = confinement
        self.built: dict[str, Stage] = {}
        self._of: dict[str, Stage | None] = {}  # folder -> the stage it is built in

    def for_file(self, target: str) -> Stage | None:
        """The stage a new file at ``target`` is written into, or ``None`` if its folder
        exists. The stage is the topmost missing folder whose parent lies inside the
        confinement roots; missing folders above it (the home itself, on a new machine)
        are made here, as a temp file's folders would be."""
        return self._for_folder(os.path.dirname(target))

    def _for_folder(self, folder: str) -> Stage | None:
        if folder in self._of:
            return self._of[folder]
        parent = os.path.dirname(folder)
        stage = None if parent == folder else self._for_folder(parent)
        if stage is None and not os.path.lexists(folder):
            if self.confinement.holds(parent):
                stage = self.built[folder] = Stage(folder)
            else:  # at or above a root: building it aside would write outside the roots
                os.mkdir(folder)
        self._of[folder] = stage
        return stage

    def discard(self) -> None:
        """Remove every stage not renamed into place."""
        for stage in self.built.values():
            stage.discard()
