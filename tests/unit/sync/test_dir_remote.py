"""The ``dir`` backend (agents.sync.dir_remote) as whoever else writes to the folder leaves
it: listings hold only keys (no symlinks, sync tools' conflict copies or foreign files), a
key whose folder is a file reads and deletes as missing, and the conflicts a write meets
say what was expected and what is there."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytest_mock import MockerFixture

from agents.sync.dir_remote import DirRemote, etag_of
from agents.sync.keys import head_key, snapshot_key
from agents.sync.remote import CasConflict, ObjectConflict, RemoteError

ULID = "01ARZ3NDEKTSV4RRFFQ69G5FAV"


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
