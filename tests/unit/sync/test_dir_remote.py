"""The ``dir`` backend (agents.sync.dir_remote) as whoever else writes to the folder leaves
it: listings hold only keys (no symlinks, sync tools' conflict copies or foreign files), a
read takes only a regular file inside the folder and within the size limit, a key whose
folder is a file reads and deletes as missing, and the conflicts a write meets say what was
expected and what is there.

Where a filesystem's answer cannot be made for real (no hard links, a failing disk, a file
growing between its size check and its read), ``_FakeOs`` replaces one ``os`` call as the
module sees it: the narrow seam."""

from __future__ import annotations

import errno
import hashlib
import os
import socket
import stat
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_mock import MockerFixture

from agents.core.errors import ConfigError
from agents.sync.dir_remote import DirRemote, etag_of
from agents.sync.keys import head_key, object_key, snapshot_key
from agents.sync.remote import CasConflict, ObjectConflict, RemoteError

ULID = "01ARZ3NDEKTSV4RRFFQ69G5FAV"
NOT_REGULAR = "not a regular file (a FIFO, device, socket or folder)"
SYMLINK = "a symlink, not a regular file"
LEADS_OUT = "its folder is a symlink leading out of the dir remote"


class _FakeOs:
    """``os`` with the calls given replaced; everything else is the real module."""

    def __init__(self, **calls: Callable[..., Any]) -> None:
        self._calls = calls

    def __getattr__(self, name: str) -> Any:
        return self._calls.get(name) or getattr(os, name)


def _fake_os(mocker: MockerFixture, **calls: Callable[..., Any]) -> None:
    mocker.patch("agents.sync.dir_remote.os", _FakeOs(**calls))


def _failing(code: int) -> Callable[..., Any]:
    def fail(*_args: object, **_kwargs: object) -> Any:
        raise OSError(code, os.strerror(code))

    return fail


def _temp_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob(".tmp-*"))


@pytest.fixture(name="remote")
def _remote(tmp_path: Path) -> DirRemote:
    return DirRemote(tmp_path / "remote")


def test_a_listing_holds_only_keys_never_symlinks_conflict_copies_or_foreign_files(
    tmp_path: Path, remote: DirRemote
) -> None:
    """A symlinked head and a symlinked folder of snapshots (both leading out of the
    folder), a Syncthing conflict copy, a file that is no key and a dot file: none listed."""
    remote.cas(head_key("m1"), b"h1", None)
    outside = tmp_path / "outside"
    (outside / "m9").mkdir(parents=True)
    (outside / "m9" / f"{ULID}.json").write_text("{}")
    (outside / "m2.json").write_text("{}")
    (remote.root / "heads" / "m2.json").symlink_to(outside / "m2.json")
    (remote.root / "snapshots").mkdir()
    (remote.root / "snapshots" / "m9").symlink_to(outside / "m9")
    (remote.root / "heads" / "m1.sync-conflict-20261207-010101-ABCDEFG.json").write_text("{}")
    (remote.root / "heads" / "notes (1).txt").write_text("x")
    (remote.root / ".stfolder").mkdir()
    (remote.root / ".stfolder" / "m3.json").write_text("{}")
    assert remote.list() == [head_key("m1")]
    assert remote.list("heads/") == [head_key("m1")]
    assert remote.list("snapshots/") == []
    assert remote.get(snapshot_key("m9", ULID)) is None


def test_a_key_whose_folder_is_a_file_reads_and_deletes_as_missing(remote: DirRemote) -> None:
    """``heads`` made a file by someone else: the key below it is simply not there."""
    (remote.root / "heads").write_text("not a folder")
    assert remote.get(head_key("m1")) is None
    remote.delete(head_key("m1"))
    assert (remote.root / "heads").read_text() == "not a folder"


def test_a_compare_and_swap_conflict_says_what_was_expected_and_what_is_there(
    remote: DirRemote,
) -> None:
    key = head_key("m1")
    with pytest.raises(CasConflict) as missing:
        remote.cas(key, b"h", "e1")
    assert str(missing.value) == (
        "compare-and-swap of 'heads/m1.json' failed: expected it etag 'e1', it is absent"
    )
    remote.cas(key, b"h", None)
    with pytest.raises(CasConflict) as present:
        remote.cas(key, b"h2", None)
    assert str(present.value) == (
        "compare-and-swap of 'heads/m1.json' failed: expected it to be absent, it is at etag "
        f"{etag_of(b'h')!r}"
    )


def test_a_write_once_key_holding_other_bytes_says_the_remote_is_corrupt_or_shared(
    remote: DirRemote,
) -> None:
    key = snapshot_key("m1", ULID)
    remote.put_if_absent(key, b"a")
    with pytest.raises(ObjectConflict) as raised:
        remote.put_if_absent(key, b"b")
    assert str(raised.value) == (
        f"write-once key {key!r} already holds different bytes; the remote is corrupt or shared "
        "with another store (run gc, or point CONTEXT_REMOTE at a fresh location)"
    )


def test_a_head_that_is_a_folder_fails_the_write_naming_the_key_and_leaves_no_temp_file(
    remote: DirRemote,
) -> None:
    """Someone made ``heads/m1.json`` a folder: the CAS sees no head, and the rename over
    the folder fails as a RemoteError naming the key and the system's reason."""
    (remote.root / "heads" / "m1.json").mkdir(parents=True)
    with pytest.raises(RemoteError) as raised:
        remote.cas(head_key("m1"), b"h", None)
    assert str(raised.value) == "cannot write 'heads/m1.json': Is a directory"
    assert sorted(p.name for p in (remote.root / "heads").iterdir()) == ["m1.json"]


@pytest.mark.parametrize("theirs", [b"their head", None], ids=["replaced", "removed"])
def test_a_head_a_sync_tool_swaps_right_after_the_rename_is_a_conflict_with_what_is_there(
    remote: DirRemote, mocker: MockerFixture, theirs: bytes | None
) -> None:
    """A sync tool replaces (or removes) the file between the rename and the re-read (the
    seam: the folder's fsync in between): the CAS fails with the etag now there."""
    key = head_key("m1")
    old = remote.cas(key, b"h1", None)
    path = remote.root / key

    def sync_tool(folder: Path) -> None:
        if theirs is None:
            path.unlink()
        else:
            path.write_bytes(theirs)

    mocker.patch("agents.sync.dir_remote._fsync_dir", side_effect=sync_tool)
    with pytest.raises(CasConflict) as raised:
        remote.cas(key, b"h2", old)
    now = None if theirs is None else etag_of(theirs)
    assert (raised.value.key, raised.value.current_etag, raised.value.expected) == (key, now, old)


@pytest.fixture(name="sock")
def _sock() -> Iterator[socket.socket]:
    with socket.socket(socket.AF_UNIX) as sock:
        yield sock


def _read_within(remote: DirRemote, key: str, path: Path) -> bytes | None:
    """``remote.get(key)`` in a thread that must end within 30 s: a FIFO opened without
    ``O_NONBLOCK`` would block it forever (then a writer is opened to free it)."""
    got: list[bytes | None] = []
    raised: list[Exception] = []

    def read() -> None:
        try:
            entry = remote.get(key)
        except Exception as e:  # re-raised in the test's thread below
            raised.append(e)
        else:
            got.append(None if entry is None else entry.data)

    worker = threading.Thread(target=read, daemon=True)
    worker.start()
    worker.join(30)
    if worker.is_alive():
        os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
        worker.join(30)
        pytest.fail(f"the read of {key} blocked")
    if raised:
        raise raised[0]
    return got[0]


@pytest.mark.parametrize(
    "kind", ["symlink out", "symlink to dev zero", "symlink in", "fifo", "socket", "folder"]
)
def test_a_read_takes_only_a_regular_file_and_names_what_else_is_at_a_key(
    tmp_path: Path,
    remote: DirRemote,
    sock: socket.socket,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
) -> None:
    """Whatever someone else put at a key in place of a file is left out of the read and
    named with its key in ``refused`` (the pull quarantines it); a FIFO never blocks the
    read, a symlink is never followed, and the key beside it still reads."""
    secret = tmp_path / "secret"
    secret.write_bytes(b"AGE-SECRET-KEY-1OUTSIDE")
    good, bad = object_key("a" * 64), object_key("b" * 64)
    remote.put_if_absent(good, b"good")
    path = remote.root / bad
    make: dict[str, Callable[[], None]] = {
        "symlink out": lambda: path.symlink_to(secret),
        "symlink to dev zero": lambda: path.symlink_to("/dev/zero"),
        "symlink in": lambda: path.symlink_to(remote.root / good),
        "fifo": lambda: os.mkfifo(path),
        "socket": lambda: sock.bind(path.name),  # relative: AF_UNIX paths stop at 108 bytes
        "folder": lambda: path.mkdir(),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    monkeypatch.chdir(path.parent)
    make[kind]()
    reason = SYMLINK if kind.startswith("symlink") else NOT_REGULAR
    assert _read_within(remote, bad, path) is None
    assert remote.refused == {bad: reason}
    entry = remote.get(good)
    assert entry is not None and entry.data == b"good"
    assert remote.refused == {bad: reason}


def test_a_key_under_a_folder_symlinked_out_of_the_remote_is_never_read_not_even_twice(
    tmp_path: Path, remote: DirRemote
) -> None:
    """A machine's snapshot folder made a symlink to a folder outside (here one whose name
    only begins with the remote's own) is refused every time, with its key; a folder
    symlinked to another folder inside the remote reads as that folder."""
    outside = tmp_path / f"{remote.root.name}-evil"
    outside.mkdir()
    (outside / f"{ULID}.json").write_bytes(b"outside")
    (remote.root / "snapshots").mkdir()
    (remote.root / "snapshots" / "m9").symlink_to(outside)
    key = snapshot_key("m9", ULID)
    assert remote.get(key) is None
    assert remote.get(key) is None
    assert remote.refused == {key: LEADS_OUT}
    remote.put_if_absent(snapshot_key("m1", ULID), b"inside")
    (remote.root / "snapshots" / "m2").symlink_to(remote.root / "snapshots" / "m1")
    entry = remote.get(snapshot_key("m2", ULID))
    assert entry is not None and entry.data == b"inside"
    assert list(remote.refused) == [key]


@pytest.mark.parametrize("how", ["put_many", "put_if_absent", "cas", "delete"])
def test_a_write_under_a_folder_symlinked_out_of_the_remote_writes_nothing_outside(
    tmp_path: Path, remote: DirRemote, how: str
) -> None:
    """Someone with write access to the remote makes a folder a symlink to a folder of the
    user's: a push (or a clean-up) refuses the key with an error saying so, and nothing (not
    even a temporary file) is written or deleted outside the remote; the keys beside it are
    written as usual."""
    outside = tmp_path / "users-own-folder"
    outside.mkdir()
    (remote.root / "snapshots").mkdir()
    (remote.root / "snapshots" / "m9").symlink_to(outside)
    (remote.root / "objects").symlink_to(outside)  # a missing folder below one leading out
    key = snapshot_key("m9", ULID) if how != "put_many" else object_key("d" * 64)
    if how == "delete":  # a file of the user's named as a key would be
        (outside / f"{ULID}.json").write_bytes(b"the user's")
    done = "deleted" if how == "delete" else "written"
    with pytest.raises(RemoteError, match=f"symlink leading out of it; nothing was {done}"):
        if how == "delete":
            remote.delete(key)
        elif how == "put_many":
            remote.put_many([(key, b"pushed")])
        elif how == "put_if_absent":
            remote.put_if_absent(key, b"pushed")
        else:
            remote.cas(key, b"pushed", None)
    left = [p.read_bytes() for p in outside.rglob("*")]
    assert left == ([b"the user's"] if how == "delete" else [])
    assert remote.refused == {key: LEADS_OUT}
    remote.put_if_absent(snapshot_key("m1", ULID), b"inside")
    assert (remote.root / "snapshots" / "m1" / f"{ULID}.json").read_bytes() == b"inside"


def test_a_value_at_the_limit_is_read_whole_and_one_byte_more_is_left_out_with_its_size(
    remote: DirRemote,
) -> None:
    """The limit counts what a read may take: a value of exactly ``max_bytes`` reads whole,
    one a byte longer is named with its size; a value of several MiB, under a limit above
    it, reads whole through the read's 1 MiB chunks."""
    at, over, big = object_key("a" * 64), object_key("b" * 64), object_key("c" * 64)
    large = bytes(range(256)) * (3 * 4096 + 1)
    remote.put_many([(at, b"x" * 1000), (over, b"y" * 1001), (big, large)])
    remote.max_bytes = 1000
    entry = remote.get(at)
    assert entry is not None and entry.data == b"x" * 1000
    assert remote.get(over) is None
    assert remote.refused == {over: "1001 bytes, over the 1000-byte limit (SYNC_MAX_OBJECT_BYTES)"}
    remote.max_bytes = 4 * 2**20
    entry = remote.get(big)
    assert entry is not None and entry.data == large and entry.etag == etag_of(large)


@pytest.mark.parametrize("limit", [1000, 2 * 2**20], ids=["small", "over two 1 MiB chunks"])
def test_a_file_that_grows_after_its_size_was_checked_is_left_out_by_what_the_read_found(
    remote: DirRemote, mocker: MockerFixture, limit: int
) -> None:
    """Someone appends to the file in place after ``fstat`` said it fits: the read stops a
    byte past the size checked (however many chunks it takes) and leaves the value out,
    naming that size."""
    key = object_key("a" * 64)
    remote.put_if_absent(key, b"z" * (limit + 10))
    remote.max_bytes = limit

    def fstat_before_the_append(fd: int) -> os.stat_result:
        real = list(os.fstat(fd))
        real[stat.ST_SIZE] = limit
        return os.stat_result(real)

    _fake_os(mocker, fstat=fstat_before_the_append)
    assert remote.get(key) is None
    reason = f"{limit + 1} bytes, over the {limit}-byte limit (SYNC_MAX_OBJECT_BYTES)"
    assert remote.refused == {key: reason}


@pytest.mark.parametrize("call", ["open", "read"])
def test_a_file_the_system_fails_to_open_or_read_fails_the_read_naming_it_and_why(
    remote: DirRemote, mocker: MockerFixture, call: str
) -> None:
    """Not a hostile value but a broken disk or permissions: an error with the file's path
    and the system's reason, not a value quietly missing."""
    key = head_key("m1")
    remote.cas(key, b"h1", None)
    code = errno.EACCES if call == "open" else errno.EIO
    _fake_os(mocker, **{call: _failing(code)})
    with pytest.raises(RemoteError) as raised:
        remote.get(key)
    assert str(raised.value) == f"cannot read {str(remote.root / key)!r}: {os.strerror(code)}"
    assert remote.refused == {}


@pytest.mark.parametrize("theirs", [None, b"same", b"other"], ids=["alone", "same", "other"])
def test_without_hard_links_a_write_once_key_is_renamed_into_place_under_its_lock(
    remote: DirRemote, mocker: MockerFixture, theirs: bytes | None
) -> None:
    """On a filesystem without hard links (FAT, some FUSE mounts: ``link`` fails with
    EPERM) the value goes in by a rename under the key's lock, from a hidden temp file in
    the key's folder; if another writer's value landed first, the same bytes are fine and
    others are an ``ObjectConflict`` naming the key. No temp file is left either way."""
    key = snapshot_key("m1", ULID)
    path = remote.root / key
    sources: list[Path] = []

    def no_link(src: str | Path, dst: str | Path) -> None:
        sources.append(Path(src))
        if theirs is not None:
            Path(dst).write_bytes(theirs)  # another machine's write lands first
        raise OSError(errno.EPERM, os.strerror(errno.EPERM))

    _fake_os(mocker, link=no_link)
    _put_same(remote, key, conflicts=theirs == b"other")
    assert path.read_bytes() == (theirs or b"same")
    assert [(p.parent, p.name[:5]) for p in sources] == [(path.parent, ".tmp-")]
    assert _temp_files(remote.root) == []


def _put_same(remote: DirRemote, key: str, *, conflicts: bool) -> None:
    """``put_if_absent`` of ``b"same"`` at ``key``: an ``ObjectConflict`` naming the key if
    ``conflicts``, else it succeeds."""
    if conflicts:
        with pytest.raises(ObjectConflict) as raised:
            remote.put_if_absent(key, b"same")
        assert raised.value.key == key
    else:
        remote.put_if_absent(key, b"same")


@pytest.mark.parametrize("theirs", [b"same", b"other"])
def test_a_write_once_key_another_writer_links_first_conflicts_only_if_its_bytes_differ(
    remote: DirRemote, mocker: MockerFixture, theirs: bytes
) -> None:
    """The key was absent when checked, but another writer's link won the race: ``link``
    fails with EEXIST, and the value there decides (the same bytes are the same object)."""
    key = snapshot_key("m1", ULID)

    def beaten(src: str | Path, dst: str | Path) -> None:
        Path(dst).write_bytes(theirs)
        os.link(src, dst)

    _fake_os(mocker, link=beaten)
    _put_same(remote, key, conflicts=theirs == b"other")
    assert (remote.root / key).read_bytes() == theirs
    assert _temp_files(remote.root) == []


@pytest.mark.parametrize("call", ["link", "fsync"])
def test_a_write_the_disk_refuses_fails_naming_the_key_or_folder_and_leaves_no_temp_file(
    remote: DirRemote, mocker: MockerFixture, call: str
) -> None:
    """A full disk at the link, or a failing fsync of the temp file: a ``RemoteError`` with
    the system's reason, nothing at the key, no temp file left behind."""
    key = snapshot_key("m1", ULID)
    _fake_os(mocker, **{call: _failing(errno.ENOSPC)})
    with pytest.raises(RemoteError) as raised:
        remote.put_if_absent(key, b"v")
    where = repr(key) if call == "link" else repr(str((remote.root / key).parent))
    verb = "cannot write" if call == "link" else "cannot write in"
    assert str(raised.value) == f"{verb} {where}: {os.strerror(errno.ENOSPC)}"
    assert not (remote.root / key).exists()
    assert _temp_files(remote.root) == []


def test_a_key_whose_folder_cannot_be_made_fails_the_write_naming_the_folder(
    remote: DirRemote,
) -> None:
    """``snapshots/m1`` is a file: the snapshot's folder cannot be created."""
    (remote.root / "snapshots").mkdir()
    (remote.root / "snapshots" / "m1").write_text("a file")
    with pytest.raises(RemoteError) as raised:
        remote.put_if_absent(snapshot_key("m1", ULID), b"v")
    folder = str(remote.root / "snapshots" / "m1")
    assert str(raised.value) == f"cannot write in {folder!r}: File exists"


def test_a_new_remote_folder_is_private_and_opening_it_again_keeps_what_it_holds(
    tmp_path: Path,
) -> None:
    """Made with mode 0700 (other users of the machine cannot list or read it); opened again
    it is the same remote."""
    first = DirRemote(tmp_path / "ctx")
    assert stat.S_IMODE((tmp_path / "ctx").stat().st_mode) == 0o700
    first.cas(head_key("m1"), b"h1", None)
    again = DirRemote(tmp_path / "ctx")
    entry = again.get(head_key("m1"))
    assert entry is not None and entry.data == b"h1"
    assert repr(again) == f"<DirRemote dir://{tmp_path / 'ctx'}>"


def test_a_remote_whose_parent_folder_is_missing_or_whose_path_is_a_file_is_refused(
    tmp_path: Path,
) -> None:
    """A missing parent is a configuration error saying what to do; a file where the remote
    folder should be is an error naming it."""
    with pytest.raises(ConfigError) as missing:
        DirRemote(tmp_path / "nope" / "ctx")
    assert str(missing.value) == (
        f"CONTEXT_REMOTE dir://{tmp_path / 'nope' / 'ctx'}: the parent folder "
        f"{str(tmp_path / 'nope')!r} does not exist; create it (or fix the path)"
    )
    (tmp_path / "file").write_text("x")
    with pytest.raises(RemoteError) as taken:
        DirRemote(tmp_path / "file")
    where = str(tmp_path / "file")
    assert str(taken.value) == f"cannot create the dir remote {where!r}: File exists"


def test_a_scan_reads_exactly_what_a_listing_and_a_read_of_each_listed_key_give_in_key_order(
    tmp_path: Path, remote: DirRemote
) -> None:
    """Whatever else is in the folder (foreign names, conflict copies, dot files, a symlink,
    a FIFO, a key one past the key length), a scan of any prefix yields the listed keys,
    sorted, each with the value and etag a ``get`` of it reads."""
    keys = [object_key(c * 64) for c in "0a9f"] + [head_key("m1"), head_key("m1-2")]
    keys += [snapshot_key("m1", ULID), "meta/store.json"]
    for key in keys:
        remote.cas(key, key.encode() * 3, None)
    (remote.root / "heads" / "m1.sync-conflict-20261207-010101-ABCDEFG.json").write_text("{}")
    (remote.root / "heads" / "notes (1).txt").write_text("x")
    (remote.root / "heads" / "m3.json\n").write_text("x")
    (remote.root / "heads" / ".tmp-x").write_text("x")
    (remote.root / "heads" / "m4.json").symlink_to(remote.root / keys[4])
    os.mkfifo(remote.root / "heads" / "m5.json")
    (remote.root / "foreign folder").mkdir()
    (remote.root / "foreign folder" / "m6.json").write_text("x")
    deep = remote.root / "snapshots" / ("d" * 250) / ("e" * 249)
    deep.mkdir(parents=True)
    (deep / "fg").write_text("x")  # 513 characters: one past MAX_KEY_LENGTH
    (deep / "f").write_text("x")  # 512: a key
    keys.append(f"snapshots/{'d' * 250}/{'e' * 249}/f")
    assert remote.list() == sorted(keys)
    for prefix in ["", "objects/", "objects/sha256/a", "heads/", "heads/m1", "snapshots/", "x/"]:
        scanned = list(remote.scan(prefix))
        assert [k for k, _ in scanned] == remote.list(prefix)
        assert scanned == [(k, remote.get(k)) for k in remote.list(prefix)]
    assert remote.refused == {}


def test_a_scan_leaves_out_and_names_a_value_over_the_limit_and_all_under_a_folder_leading_out(
    tmp_path: Path, remote: DirRemote
) -> None:
    """The scan's reads are ``get``'s: a value a byte over ``max_bytes`` is named with its
    size; ``objects`` made a symlink to a folder outside (where a listing starts, so it is
    followed) has every key below it named, none read; the rest still reads."""
    small, big = object_key("a" * 64), object_key("b" * 64)
    remote.put_many([(small, b"x" * 1000), (big, b"y" * 1001), (head_key("m1"), b"h")])
    remote.max_bytes = 1000
    assert [(k, e.data) for k, e in remote.scan()] == [(head_key("m1"), b"h"), (small, b"x" * 1000)]
    assert remote.refused == {big: "1001 bytes, over the 1000-byte limit (SYNC_MAX_OBJECT_BYTES)"}
    remote.refused.clear()
    outside = tmp_path / f"{remote.root.name}-evil"
    (remote.root / "objects").rename(outside)
    (remote.root / "objects").symlink_to(outside)
    assert list(remote.scan("objects/")) == []
    assert remote.refused == {small: LEADS_OUT, big: LEADS_OUT}
    assert [k for k, _ in remote.scan("heads/")] == [head_key("m1")]


def test_a_scan_that_cannot_read_a_listed_file_fails_naming_it_and_a_file_gone_is_left_out(
    remote: DirRemote, mocker: MockerFixture
) -> None:
    """A file removed between the walk and its read is simply not yielded (as a key written
    or removed during a scan may or may not appear); a disk error is an error with the path."""
    first, second = object_key("a" * 64), object_key("b" * 64)
    remote.put_many([(first, b"1"), (second, b"2")])
    scan = remote.scan()
    key, entry = next(scan)
    (remote.root / second).unlink()
    assert (key, entry.data, list(scan)) == (first, b"1", [])
    _fake_os(mocker, read=_failing(errno.EIO))
    with pytest.raises(RemoteError) as raised:
        list(remote.scan())
    path = str(remote.root / first)
    assert str(raised.value) == f"cannot read {path!r}: {os.strerror(errno.EIO)}"


def test_a_folder_read_before_and_swapped_for_a_symlink_leading_out_is_refused_after(
    tmp_path: Path, remote: DirRemote
) -> None:
    """What was found inside the remote is not trusted for later reads: a machine's folder
    replaced by a symlink out after a read, a bulk read and a scan of it is refused from
    then on, by every kind of read."""
    key = snapshot_key("m1", ULID)
    remote.put_if_absent(key, b"inside")
    assert remote.get(key) is not None and list(remote.get_many([key])) == [key]
    assert [k for k, _ in remote.scan("snapshots/")] == [key]
    outside = tmp_path / "elsewhere"
    (remote.root / "snapshots" / "m1").rename(outside)
    (outside / f"{ULID}.json").write_bytes(b"outside")
    (remote.root / "snapshots" / "m1").symlink_to(outside)
    assert remote.get(key) is None and remote.get_many([key]) == {}
    assert remote.refused == {key: LEADS_OUT}


def test_a_read_computes_the_etag_only_when_asked_once_and_it_is_the_sha256_of_the_bytes(
    remote: DirRemote, mocker: MockerFixture
) -> None:
    """A restore reads every value and no etag: a scan, a bulk read and a read hash nothing
    until ``etag`` is read, then hash each value once; the entry unpacks and compares as the
    pair ``(data, etag)``."""
    key = object_key("a" * 64)
    remote.put_if_absent(key, b"v")
    sha = hashlib.sha256(b"v").hexdigest()
    hashed = mocker.patch("agents.sync.dir_remote.etag_of", side_effect=etag_of)
    ((_, scanned),) = remote.scan()
    entries = [scanned, remote.get(key), remote.get_many([key])[key]]
    assert hashed.call_count == 0
    assert [e.etag for e in entries if e is not None] == [sha, sha, sha]
    assert [e.etag for e in entries if e is not None] == [sha, sha, sha]
    assert hashed.call_count == 3
    data, etag = scanned
    assert (data, etag) == (b"v", sha) and scanned == (b"v", sha) and (b"v", sha) == scanned
    assert scanned != (b"v", etag_of(b"w")) and scanned != b"v"
