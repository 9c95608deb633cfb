"""Which local files ``parse_document`` may read: only inside ``NOTION_IMPORT_ROOTS``, and there
never a dotfile, a dot-folder, ``/proc``, ``/sys``, ``/dev``, ``/etc``, or the project's
``environments/`` and ``context/`` (the store and its vault).

Claude reads untrusted text, so a prompt-injected call may ask for ``/proc/self/environ``,
``~/.ssh/id_rsa`` or the store's age key; what is read is uploaded to Notion and recorded.
So nothing is readable until the user names the folders, the resolved path (symlinks and
``..`` followed) must stay inside them, and the file is opened without following a final
symlink and checked again through its open descriptor, so a path swapped between the check
and the read is refused too.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from agents.core.errors import ConfigError, InputError

__all__ = ["MAX_BYTES", "SYSTEM_DIRS", "ImportPolicy"]

MAX_BYTES = 20 * 1024 * 1024
SYSTEM_DIRS = (Path("/proc"), Path("/sys"), Path("/dev"), Path("/etc"))


def _under(path: Path, dirs: tuple[Path, ...]) -> Path | None:
    return next((d for d in dirs if path == d or path.is_relative_to(d)), None)


@dataclass(frozen=True)
class ImportPolicy:
    """The folders ``parse_document`` may read, what it never reads, and where to set them."""

    roots: tuple[Path, ...] = ()
    never: tuple[Path, ...] = ()  # the project's environments/ and context/, the store
    home: str = "environments/.env.<env>"  # the file NOTION_IMPORT_ROOTS belongs in

    @classmethod
    def from_setting(cls, value: str, *, never: tuple[Path, ...], home: str) -> ImportPolicy:
        """The policy of ``NOTION_IMPORT_ROOTS`` (folders separated by ``os.pathsep``)."""
        roots = tuple(Path(p).expanduser().resolve() for p in value.split(os.pathsep) if p.strip())
        return cls(roots, tuple(p.resolve() for p in never), home)

    def _refuse(self, raw: str, why: str) -> InputError:
        return InputError(f"path: {raw!r} {why}; parse_document never imports it")

    def check(self, raw: str) -> Path:
        """The resolved path of ``raw`` if the policy lets it be read.

        Raises:
            ConfigError: ``NOTION_IMPORT_ROOTS`` is not set (the message names its file).
            InputError: The path is relative, outside the roots, a dotfile, in a system
                folder or the project's environments/context, not a file, or too large.
        """
        if not self.roots:
            raise ConfigError(
                "parse_document reads no local file until NOTION_IMPORT_ROOTS is set: set it "
                f"in {self.home} to the folders it may read, separated by ':' (for example "
                "NOTION_IMPORT_ROOTS=~/Documents/notes), then restart the agents"
            )
        given = Path(raw).expanduser()
        if not given.is_absolute():
            raise InputError(f"path: {raw!r} is relative; pass an absolute path")
        lexical = Path(os.path.normpath(given))
        path = given.resolve()
        for candidate in (lexical, path):
            if system := _under(candidate, SYSTEM_DIRS):
                raise self._refuse(raw, f"is in {system}")
        if kept := _under(path, self.never):
            raise self._refuse(raw, f"is in {kept}, the project's settings or context store")
        root = _under(path, self.roots)
        if root is None:
            allowed = ", ".join(str(r) for r in self.roots)
            raise InputError(
                f"path: {raw!r} is outside NOTION_IMPORT_ROOTS ({allowed}); symlinks and '..' "
                f"are followed first. Add its folder to NOTION_IMPORT_ROOTS in {self.home}"
            )
        parts = list(path.relative_to(root).parts)
        if (lex_root := _under(lexical, self.roots)) is not None:
            parts += lexical.relative_to(lex_root).parts
        if path.name.endswith(".secrets") or path.name.startswith(".env"):
            raise InputError(f"path: {raw!r} looks like a secrets file; it will not be imported")
        if any(p.startswith(".") for p in parts):
            raise self._refuse(raw, "is a dotfile or inside a dot-folder")
        return path

    def read(self, raw: str) -> tuple[Path, bytes]:
        """Check ``raw`` (:meth:`check`) and read the file it names, at most ``MAX_BYTES``.

        Raises:
            ConfigError, InputError: As :meth:`check`; also when the file changed into a
                symlink or a non-file between the check and the read.
        """
        path = self.check(raw)
        flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
        try:
            fd = os.open(path, flags)
        except FileNotFoundError:
            raise InputError(f"path: {raw!r} does not exist or is not a file") from None
        except OSError as exc:
            raise InputError(f"path: {raw!r} cannot be opened ({exc.strerror})") from None
        with os.fdopen(fd, "rb") as fh:
            st = os.fstat(fh.fileno())
            if not stat.S_ISREG(st.st_mode):
                raise InputError(f"path: {raw!r} does not exist or is not a file")
            if st.st_size > MAX_BYTES:
                raise InputError(f"path: {raw!r} is larger than {MAX_BYTES // 2**20} MiB")
            try:
                same = Path(os.readlink(f"/proc/self/fd/{fh.fileno()}")) == path
            except OSError:  # no /proc: the inode at the checked path must be the one opened
                now = os.stat(path, follow_symlinks=False)
                same = (now.st_dev, now.st_ino) == (st.st_dev, st.st_ino)
            if not same:
                raise InputError(f"path: {raw!r} changed while it was opened; try again")
            data = fh.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            raise InputError(f"path: {raw!r} is larger than {MAX_BYTES // 2**20} MiB")
        return path, data
