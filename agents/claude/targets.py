"""Where each document lands on a machine: one draft becomes one or more *units*.

A unit is a whole file (``CLAUDE.md``, one file of a skill) or one member of a JSON file
(``mcpServers.notion`` inside ``~/.claude.json``, ``env`` inside ``settings.json``). Units are
what the changed-since-applied guard tracks: their key is the file path, plus ``#`` and a JSON
pointer for members, and their hash is taken of the bytes (files) or of canonical JSON (members),
so Claude Code reformatting a file it shares with us does not count as a change.

Capture uses the same mapping to hash what it read, so the store can record those hashes as
"applied" right after an import.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path, PurePosixPath
from typing import Any

from agents.claude import jsontext
from agents.claude.bodies import server_config
from agents.claude.drafts import Draft, canonical_json, sha256_hex
from agents.claude.machine import Machine, Placeholders, UnknownProjectError
from agents.claude.projects import slug
from agents.claude.secrets import pointer

__all__ = [
    "DELETE",
    "Blob",
    "BlockedError",
    "Confinement",
    "Disk",
    "Unit",
    "current_hashes",
    "file_entry_mode",
    "is_missing",
    "safe_relpath",
    "unit_hash",
    "units",
]


class _Delete:
    def __repr__(self) -> str:
        return "DELETE"


DELETE: Any = _Delete()
_MISSING = object()


class BlockedError(Exception):
    """A draft cannot be placed on this machine; the message says why and what to do."""


@dataclass(frozen=True)
class Blob:
    """File content kept as a content-addressed blob (binary, or encrypted transcript)."""

    id: str
    encrypted: bool = False
    templated: bool = False  # render placeholders in the decrypted text


@dataclass(frozen=True)
class Unit:
    """One place one draft writes: a whole file (``pointer == ()``) or one JSON member.

    ``where`` is the file's absolute path as ``str(Path(...))`` spells it: planning and
    applying work on strings, and :attr:`path` builds the ``Path`` only when asked (one
    costs several microseconds on Python 3.11, and a plan has hundreds of files).
    """

    where: str
    pointer: tuple[str, ...] = ()
    value: Any = None  # JSON value, str (text file), Blob, or DELETE
    mode: int | None = None

    @cached_property
    def path(self) -> Path:
        """The file, as a ``Path``."""
        return Path(self.where)

    @property
    def key(self) -> str:
        """The applied-record key: ``/abs/path`` or ``/abs/path#/json/pointer``."""
        return f"{self.where}#{pointer(*self.pointer)}" if self.pointer else self.where


def safe_relpath(rel: str) -> tuple[str, ...]:
    """The parts of a relative path that stays inside its root (documents come from other
    machines): no empty, ``.`` or ``..`` part, no NUL.

    Raises:
        BlockedError: The path is empty, absolute, climbs out with ``..`` or holds a NUL.
    """
    text = rel.replace("\\", "/")
    parts = [p for p in text.split("/") if p and p != "."]
    if not parts or text.startswith("/") or ".." in parts or ":" in parts[0] or "\0" in text:
        raise BlockedError(
            f"unsafe path {rel!r} in the document; refusing to write outside its root"
        )
    return tuple(parts)


def _safe_name(name: str) -> str:
    if not name or "/" in name or "\\" in name or name in (".", ".."):
        raise BlockedError(f"unsafe name {name!r} in the document")
    return name


def file_entry_mode(entry: Mapping[str, Any]) -> int | None:
    """The permission bits of a file entry, or ``None``."""
    mode = entry.get("mode")
    return mode & 0o777 if isinstance(mode, int) else None


def _file_value(entry: Mapping[str, Any], ph: Placeholders) -> Any:
    if "text" in entry:
        return ph.render(entry["text"])
    if "blob" in entry:
        return Blob(entry["blob"]["blob"])
    if "json" in entry:
        return jsontext.dumps_new(ph.render_json(entry["json"]))
    raise BlockedError("a file entry has neither text, json nor blob")


def _unmapped(pid: str | None) -> str:
    return (
        f"project {pid!r} has no path on this machine; clone it (or open it once in Claude Code) "
        "so it can be mapped, then apply again"
    )


def _project_path(machine: Machine, pid: str | None, real: Callable[[Path], str]) -> Path:
    if not pid or pid not in machine.project_paths:
        raise BlockedError(_unmapped(pid))
    path = machine.project_paths[pid]
    path = path if isinstance(path, Path) else Path(path)
    if not path.is_absolute() or not _under(real(path), real(machine.home)):
        raise BlockedError(
            f"project {pid!r} maps to {str(path)!r}, which is not under the home "
            f"{str(machine.home)!r}; only projects under the home are written"
        )
    return path


def _real(path: str | Path) -> str:
    return os.path.realpath(path)


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


class Confinement:
    """Refuses a target that resolves (symlinks followed) outside this machine's home, its
    Claude folder, ``~/.claude.json``'s folder and Desktop's config folder."""

    def __init__(self, machine: Machine, disk: Disk) -> None:
        roots = {machine.home, machine.claude_dir, machine.claude_json.parent}
        roots.add(machine.desktop_config.parent)
        self._roots = {_real(r) for r in roots}
        self._prefixes = tuple(r.rstrip(os.sep) + os.sep for r in self._roots)
        self._disk = disk

    def holds(self, path: Path | str) -> bool:
        """Whether ``path`` resolves inside one of the roots."""
        real = self._disk.real(path)
        return real in self._roots or real.startswith(self._prefixes)

    def check(self, path: Path | str) -> None:
        """Refuse ``path`` if it resolves outside the roots.

        Raises:
            BlockedError: It does; nothing is written there.
        """
        if not self.holds(path):
            real = self._disk.real(path)
            raise BlockedError(
                f"{str(path)!r} resolves to {real!r}, outside the home; refusing to write there "
                "(a symlink or a path in a document leads out)"
            )


def _child(root: Path, parts: tuple[str, ...]) -> str:
    """``str(root.joinpath(*parts))`` for the parts :func:`safe_relpath` gives, by joining
    strings (no ``Path`` is built)."""
    if os.sep != "/":  # Windows: let pathlib spell it
        return str(root.joinpath(*parts))
    base = str(root)
    return (base if base == "/" else base + "/") + "/".join(parts)


def _tree(draft: Draft, root: Path, files: list[Mapping[str, Any]], ph: Placeholders) -> list[Unit]:
    out = []
    for entry in files:
        where = _child(root, safe_relpath(entry["path"]))
        value = DELETE if draft.deleted else _file_value(entry, ph)
        out.append(Unit(where, (), value, file_entry_mode(entry)))
    return out


def units(draft: Draft, machine: Machine, disk: Disk | None = None) -> list[Unit]:
    """The units of ``draft`` on ``machine``, placeholders rendered, secrets still references;
    ``disk``: resolve project folders and the home through it (once per plan) rather than each
    time.

    Raises:
        BlockedError: A project is not mapped here, a path is unsafe, or the body is malformed.
    """
    try:
        return _units(draft, machine, disk.real_folder if disk else _real)
    except UnknownProjectError as exc:
        raise BlockedError(_unmapped(exc.args[0])) from exc
    except (KeyError, TypeError, AttributeError) as exc:
        raise BlockedError(f"document {draft.id!r} is malformed ({exc!r})") from exc


def _units(draft: Draft, machine: Machine, real: Callable[[Path], str]) -> list[Unit]:
    ph = machine.placeholders()
    body, kind = draft.body, draft.kind
    claude = machine.claude_dir
    if kind == "preference":
        value = DELETE if draft.deleted else ph.render_json(body["value"])
        return [Unit(str(machine.settings_json), (body["key"],), value)]
    if kind == "claude_file":
        root = claude
        if draft.scope.level == "project":  # auto-memory: ~/.claude/projects/<slug>/
            project = _project_path(machine, draft.scope.project_id, real)
            root = claude / "projects" / slug(str(project))
        return _tree(draft, root, [body], ph)
    if kind == "skill":
        return _tree(draft, claude / "skills" / _safe_name(body["name"]), body["files"], ph)
    if kind == "mcp_server":
        return _server_units(draft, machine, ph, real)
    if kind == "transcript_archive":
        path = _project_path(machine, body["project_id"], real)
        for part in PurePosixPath(body.get("subdir") or "").parts:
            path = path / _safe_name(part)  # the same path inside the repository
        file = claude / "projects" / slug(str(path)) / f"{_safe_name(body['session'])}.jsonl"
        value = DELETE if draft.deleted else Blob(body["blob"]["blob"], True, True)
        return [Unit(str(file), (), value, 0o600)]
    return []  # project, session, …: nothing to write into Claude's files


def _server_units(
    draft: Draft, machine: Machine, ph: Placeholders, real: Callable[[Path], str]
) -> list[Unit]:
    body = draft.body
    name, source = body["name"], body.get("source")
    value = DELETE if draft.deleted else ph.render_json(server_config(body))
    if source == "claude_code_user":
        return [Unit(str(machine.claude_json), ("mcpServers", name), value)]
    if source == "claude_desktop":
        return [Unit(str(machine.desktop_config), ("mcpServers", name), value)]
    if source == "claude_code_local":
        path = _project_path(machine, body.get("project_id"), real)
        ptr = ("projects", str(path), "mcpServers", name)
        return [Unit(str(machine.claude_json), ptr, value)]
    if source == "claude_code_project":
        path = _project_path(machine, body.get("project_id"), real)
        return [Unit(str(path / ".mcp.json"), ("mcpServers", name), value)]
    return []  # "agents": registered through `agents mcp-config`, not a Claude file


def unit_hash(value: Any, whole_file: bool) -> str | None:
    """The guard hash of a unit's content (``None`` for absent)."""
    if value is _MISSING or value is DELETE:
        return None
    if whole_file:
        return sha256_hex(value if isinstance(value, bytes) else str(value).encode())
    return sha256_hex(canonical_json(value))


def _read(path: str) -> tuple[bytes, int] | None:
    """(content, permission bits) of the file at ``path``, or ``None`` if there is none."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except (FileNotFoundError, NotADirectoryError):
        return None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), path)
        chunks = [os.read(fd, st.st_size + 1)]
        while chunks[-1]:  # it may have grown since fstat
            chunks.append(os.read(fd, 1 << 16))
        return b"".join(chunks), st.st_mode & 0o777
    finally:
        os.close(fd)


def _split(path: str) -> tuple[str, str]:
    """``os.path.split(path)``, without its general case for the usual path (a folder and
    a name, one ``/`` between them)."""
    if os.altsep is None:
        folder, _, name = path.rpartition("/")
        if folder and folder[-1] != "/":
            return folder, name
    return os.path.split(path)


def _join(folder: str, name: str) -> str:
    """``os.path.join(folder, name)`` for a name without a separator."""
    if os.altsep is None and folder and not name.startswith("/"):
        return folder + name if folder.endswith("/") else folder + "/" + name
    return os.path.join(folder, name)


class Disk:
    """The files one plan looks at, each read once (one open, fstat and read) and each JSON
    file parsed once, so what the plan decides and the content it builds come from the same
    bytes. Paths are resolved folder by folder, each folder once; a folder found absent is
    remembered, so nothing below it is looked up again (a new machine's empty home)."""

    def __init__(self) -> None:
        self._files: dict[str, tuple[bytes, int] | None] = {}  # by path, as a string
        self._docs: dict[str, Any] = {}
        self._folders: dict[str, str] = {}  # folder -> its real path
        self._absent: set[str] = set()  # folders (as named) that do not exist

    def real(self, path: Path | str) -> str:
        """``os.path.realpath(path)``: the last component is checked for a symlink every
        time, the folders above it once per plan."""
        folder, name = _split(os.fspath(path))
        if not folder or name in ("", ".", ".."):
            return _real(path)
        joined = _join(self._folder(folder), name)
        if folder in self._absent:
            return joined
        return _real(joined) if os.path.islink(joined) else joined

    def real_folder(self, path: Path | str) -> str:
        """``os.path.realpath(path)`` of a folder (a project's, the home), resolved once per
        plan however many documents name it."""
        return self._folder(os.fspath(path))

    def _folder(self, folder: str) -> str:
        real = self._folders.get(folder)
        if real is None:
            real = self._folders[folder] = self._resolve_folder(folder)
        return real

    def _resolve_folder(self, folder: str) -> str:
        parent, name = os.path.split(folder)
        if not parent or name in ("", ".", "..") or parent == folder:
            real = _real(folder)
            if not os.path.isdir(real):
                self._absent.add(folder)
            return real
        joined = os.path.join(self._folder(parent), name)
        if parent in self._absent:
            self._absent.add(folder)
            return joined
        try:
            st = os.lstat(joined)
        except (FileNotFoundError, NotADirectoryError):
            self._absent.add(folder)
            return joined
        except OSError:  # a symlink loop, no permission: as realpath, not a link
            return joined
        return _real(joined) if stat.S_ISLNK(st.st_mode) else joined

    def _file(self, path: Path | str) -> tuple[bytes, int] | None:
        key = os.fspath(path)
        if key not in self._files:
            absent = os.path.dirname(key) in self._absent
            self._files[key] = None if absent else _read(key)
        return self._files[key]

    def read(self, path: Path | str) -> bytes | None:
        """The file's bytes as first read, or ``None`` if there was none."""
        found = self._file(path)
        return None if found is None else found[0]

    def mode(self, path: Path | str) -> int | None:
        """The file's permission bits as first read, or ``None`` if there was none."""
        found = self._file(path)
        return None if found is None else found[1]

    def current(self, unit: Unit) -> Any:
        """The unit's current content: bytes for files, the JSON value for members, or
        :data:`_MISSING`. A JSON file that does not parse raises :class:`BlockedError`."""
        data = self.read(unit.where)
        if not unit.pointer:
            return _MISSING if data is None else data
        key = unit.where
        if key not in self._docs:
            try:
                self._docs[key] = {} if data is None else jsontext.parse(data.decode())
            except (jsontext.JsonTextError, UnicodeDecodeError) as exc:
                self._docs[key] = BlockedError(
                    f"{key} is not valid JSON ({exc}); fix it or move it away, then run again"
                )
        doc = self._docs[key]
        if isinstance(doc, BlockedError):
            raise doc
        return jsontext.get_member(doc, unit.pointer, _MISSING)


def is_missing(value: Any) -> bool:
    """Whether :func:`read_current` found nothing."""
    return value is _MISSING


def current_hashes(
    drafts: list[Draft], machine: Machine, disk: Disk | None = None
) -> dict[str, str]:
    """key -> hash of every unit of ``drafts`` as it is on disk now (absent units omitted);
    ``disk``: the reads already made (a capture's), so the hashes are of those bytes."""
    disk = disk or Disk()
    out: dict[str, str] = {}
    for d in drafts:
        try:
            for u in units(d, machine, disk):
                h = unit_hash(disk.current(u), not u.pointer)
                if h:
                    out[u.key] = h
        except BlockedError:
            continue
    return out
