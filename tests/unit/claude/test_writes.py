"""New folders are built aside and renamed into place once; nothing half-written or foreign
is ever at a final name, and a folder that appears meanwhile is kept."""

from __future__ import annotations

import ctypes
import errno
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
from pytest_mock import MockerFixture

from agents.claude import writes
from agents.claude.apply import execute, plan_apply
from agents.claude.drafts import Draft, SecretRef, sha256_hex
from agents.claude.machine import Machine
from agents.claude.writes import flush, rename_new

SKILL = {
    "name": "tools",
    "files": [
        {"path": "SKILL.md", "text": "---\nname: tools\n---\nUse run.sh\n", "mode": 0o644},
        {"path": "scripts/run.sh", "text": "#!/bin/sh\necho hi\n", "mode": 0o755},
        {"path": "docs/deep/ref.md", "text": "Reference.\n" * 50, "mode": 0o644},
    ],
}


def drafts() -> list[Draft]:
    return [
        Draft("skill:tools", "skill", SKILL),
        Draft("claude_file:user/CLAUDE.md", "claude_file", {"path": "CLAUDE.md", "text": "# Me\n"}),
    ]


@pytest.fixture(autouse=True)
def _libc_looked_up_per_test() -> None:
    """Each test looks libc's ``renameat2`` and ``syncfs`` up again, and starts with ctypes'
    copy of errno at 0, as a new process does.

    Both lookups are cached for the process; without this, a runner that forks its workers
    from a process that already ran the tests (mutmut) never calls ``_linux_call`` again. And
    a failed call read without ``use_errno`` would find the errno an earlier test left
    (``EEXIST``, say) and pass for the right error.
    """
    writes._renameat2.cache_clear()
    writes._syncfs.cache_clear()
    ctypes.set_errno(0)


@pytest.fixture(name="home")
def _home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    return home


def machine(home: Path) -> Machine:
    return Machine(home, "linux", "m")


def during_sync(monkeypatch: pytest.MonkeyPatch, then: Callable[[], None]) -> None:
    """Run ``then`` just after the apply's flush, before anything is renamed into place."""

    def flushed(folders: Iterable[str]) -> None:
        flush(folders)
        then()

    monkeypatch.setattr("agents.claude.apply.flush", flushed)


def tree(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): p.read_text()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def test_until_the_flush_nothing_exists_under_a_new_folders_final_name(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new ~/.claude is built as a hidden sibling: its final name appears only by rename."""
    seen: dict[str, object] = {}

    def look() -> None:
        seen["final"] = (home / ".claude").exists()
        [aside] = [p for p in home.iterdir() if p.name.endswith(".tmp")]
        seen["aside"] = tree(aside)

    during_sync(monkeypatch, look)
    result = execute(plan_apply(drafts(), machine(home)))
    assert seen["final"] is False
    assert seen["aside"] == tree(home / ".claude")
    assert sorted(tree(home / ".claude")) == [
        "CLAUDE.md",
        "skills/tools/SKILL.md",
        "skills/tools/docs/deep/ref.md",
        "skills/tools/scripts/run.sh",
    ]
    assert (home / ".claude/skills/tools/scripts/run.sh").stat().st_mode & 0o777 == 0o755
    assert len(result.written) == 4
    assert [p.name for p in home.iterdir()] == [".claude"]


def test_a_crash_after_the_flush_leaves_nothing_at_the_final_names(home: Path) -> None:
    """The process dies between the flush and the rename: no ~/.claude, and the folder
    left aside holds only whole files, which the next apply sweeps away once it is old."""
    script = textwrap.dedent(
        f"""
        import os, sys
        sys.path[:0] = {sys.path!r}
        from pathlib import Path
        from tests.unit.claude.test_writes import drafts, machine
        from agents.claude.apply import execute, plan_apply
        import agents.claude.apply as apply
        real_flush = apply.flush
        def crash(folders):
            real_flush(folders)
            os._exit(9)
        apply.flush = crash
        execute(plan_apply(drafts(), machine(Path({str(home)!r}))))
        """
    )
    done = subprocess.run([sys.executable, "-c", script], timeout=120, check=False)
    assert done.returncode == 9
    assert not (home / ".claude").exists()
    [aside] = list(home.iterdir())
    assert aside.name.startswith("..claude.") and aside.name.endswith(".tmp")
    files = tree(aside)
    assert files["skills/tools/docs/deep/ref.md"] == "Reference.\n" * 50
    assert files["CLAUDE.md"] == "# Me\n"
    # once it is old, the next apply knows it for a crashed apply's folder and removes it
    old = time.time() - writes.STALE_SECONDS - 60
    os.utime(aside, (old, old))
    execute(plan_apply(drafts(), machine(home)))
    assert [p.name for p in home.iterdir()] == [".claude"]


def left_aside(home: Path, age: float) -> Path:
    """A ``~/.claude`` half built by an apply that died ``age`` seconds ago."""
    aside = home / f"..claude.{os.urandom(6).hex()}.tmp"
    (aside / "skills/tools").mkdir(parents=True)
    (aside / "skills/tools/SKILL.md").write_text("---\nname: tools\n---\nhalf\n")
    when = time.time() - age
    os.utime(aside, (when, when))
    return aside


def test_a_folder_left_aside_by_a_crashed_apply_is_removed_by_the_next_one(home: Path) -> None:
    """Nothing half built stays beside the folder once the next apply builds it."""
    left_aside(home, writes.STALE_SECONDS + 60)
    execute(plan_apply(drafts(), machine(home)))
    assert [p.name for p in home.iterdir()] == [".claude"]
    assert "Use run.sh" in (home / ".claude/skills/tools/SKILL.md").read_text()


def test_every_folder_left_aside_is_removed_among_the_homes_other_entries(home: Path) -> None:
    """The sweep reads the whole folder: other files and folders of the home, listed in any
    order, do not stop it before the last half-built copy."""
    for i in range(30):
        (home / f"project-{i}").mkdir()
        (home / f"note-{i}.txt").write_text("mine")
    for _ in range(3):
        left_aside(home, writes.STALE_SECONDS + 60)
    execute(plan_apply(drafts(), machine(home)))
    assert not [p.name for p in home.iterdir() if p.name.endswith(".tmp")]
    assert len(list(home.iterdir())) == 61


def test_a_folder_being_built_by_another_apply_right_now_is_left_alone(home: Path) -> None:
    aside = left_aside(home, 5)
    execute(plan_apply(drafts(), machine(home)))
    assert sorted(p.name for p in home.iterdir()) == sorted([".claude", aside.name])


def test_a_symlink_named_like_a_folder_left_aside_is_not_followed(
    home: Path, tmp_path: Path
) -> None:
    """Only real folders are swept: a link to elsewhere is left, and so is what it points to."""
    outside = tmp_path / "outside"
    (outside / "skills").mkdir(parents=True)
    (outside / "skills/keep.md").write_text("mine")
    link = home / f"..claude.{'a' * 12}.tmp"
    link.symlink_to(outside)
    old = time.time() - writes.STALE_SECONDS - 60
    os.utime(link, (old, old), follow_symlinks=False)
    execute(plan_apply(drafts(), machine(home)))
    assert link.is_symlink()
    assert (outside / "skills/keep.md").read_text() == "mine"


def test_a_failed_write_leaves_no_folder_and_no_temp_file_behind(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The disk fills up on the third file: the apply fails and the home is as before."""
    calls = iter(range(100))
    real_write = os.write

    def write(fd: int, data: bytes) -> int:
        if next(calls) == 2:
            raise OSError(28, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr("agents.claude.writes.os.write", write)
    with pytest.raises(OSError, match="No space"):
        execute(plan_apply(drafts(), machine(home)))
    monkeypatch.undo()
    assert list(home.iterdir()) == []


def test_a_write_failing_on_a_filesystem_gone_read_only_reports_the_writes_own_error(
    home: Path, mocker: MockerFixture
) -> None:
    """The disk fails on the third file and the kernel turns the filesystem read-only, so
    the temp files cannot be removed either: the apply reports the disk's error, not one
    from its clean-up, and nothing is at a final name."""
    calls = iter(range(100))
    real_write, real_unlink = os.write, os.unlink

    def write(fd: int, data: bytes) -> int:
        if next(calls) == 2:
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        return real_write(fd, data)

    def unlink(path: str, *, dir_fd: int | None = None) -> None:
        if str(path).startswith(str(home)):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), path)
        real_unlink(path, dir_fd=dir_fd)

    mocker.patch("os.write", side_effect=write)
    mocker.patch("os.unlink", side_effect=unlink)
    with pytest.raises(OSError) as failed:
        execute(plan_apply(drafts(), machine(home)))
    assert failed.value.errno == errno.EIO
    assert not (home / ".claude").exists()


def unremovable(mocker: MockerFixture, name: Callable[[str], bool]) -> list[str]:
    """Folders whose name passes ``name`` cannot be removed, as a mount point cannot
    (EBUSY; root removes any other folder). Returns the names refused."""
    refused: list[str] = []
    real_rmdir = os.rmdir

    def rmdir(path: str, *, dir_fd: int | None = None) -> None:
        if name(os.path.basename(path)):
            refused.append(os.path.basename(path))
            raise OSError(errno.EBUSY, os.strerror(errno.EBUSY), path)
        real_rmdir(path, dir_fd=dir_fd)

    mocker.patch("os.rmdir", side_effect=rmdir)
    return refused


def test_a_folder_left_aside_that_cannot_be_removed_is_left_and_the_apply_goes_on(
    home: Path, mocker: MockerFixture
) -> None:
    """Sweeping is tidying: a crashed apply's folder that will not go does not fail the
    apply that found it."""
    stuck = left_aside(home, writes.STALE_SECONDS + 60)
    refused = unremovable(mocker, lambda name: name == stuck.name)
    result = execute(plan_apply(drafts(), machine(home)))
    assert refused == [stuck.name]
    assert len(result.written) == 4 and len(tree(home / ".claude")) == 4
    assert sorted(p.name for p in home.iterdir()) == sorted([".claude", stuck.name])


def test_a_folder_left_aside_that_vanishes_while_the_sweep_looks_does_not_stop_it(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another apply's sweep removes one of the crashed applies' folders between our listing
    and our look at it: the sweep goes on to the others."""
    gone = left_aside(home, writes.STALE_SECONDS + 60)
    left_aside(home, writes.STALE_SECONDS + 60)
    real_scandir = os.scandir
    listed: list[str] = []

    def scandir(path: Any) -> Any:
        if path != str(home) or listed:
            return real_scandir(path)
        entries = list(real_scandir(path))
        listed.extend(e.name for e in entries)
        shutil.rmtree(gone)  # after our listing: ``gone`` is first in it, and not there
        return iter(sorted(entries, key=lambda e: e.name != gone.name))

    plan = plan_apply(drafts(), machine(home))
    monkeypatch.setattr(os, "scandir", scandir)
    execute(plan)
    assert gone.name in listed and len(listed) == 2
    assert [p.name for p in home.iterdir()] == [".claude"]


def test_a_folder_built_aside_that_cannot_be_removed_after_it_was_not_needed_is_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mocker: MockerFixture
) -> None:
    """Claude Code makes the skill's folder while we apply, so our copy is emptied into it
    file by file and then removed; if that removal fails the apply still succeeds."""
    home = tmp_path / "home"
    (home / ".claude" / "skills").mkdir(parents=True)
    folder = home / ".claude" / "skills" / "tools"
    during_sync(monkeypatch, folder.mkdir)
    refused = unremovable(mocker, lambda name: name.startswith(".tools.") and name.endswith(".tmp"))
    result = execute(plan_apply(drafts(), machine(home)))
    assert len(refused) == 1
    assert len(result.written) == 4 and not result.changed_meanwhile
    assert tree(folder)["scripts/run.sh"] == "#!/bin/sh\necho hi\n"
    assert sorted(p.name for p in (home / ".claude" / "skills").iterdir()) == sorted(
        ["tools", *refused]
    )


def test_a_folder_that_appears_meanwhile_is_kept_and_filled_file_by_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Claude Code makes the skill's folder while we apply: it is not replaced, its files
    stay, and a file it wrote at one of our names is reported, not overwritten."""
    home = tmp_path / "home"
    (home / ".claude" / "skills").mkdir(parents=True)
    folder = home / ".claude" / "skills" / "tools"

    def claude_code() -> None:
        folder.mkdir()
        (folder / "notes.md").write_text("theirs\n")
        (folder / "SKILL.md").write_text("their skill\n")

    during_sync(monkeypatch, claude_code)
    result = execute(plan_apply(drafts(), machine(home)))
    assert tree(folder) == {
        "SKILL.md": "their skill\n",
        "notes.md": "theirs\n",
        "docs/deep/ref.md": "Reference.\n" * 50,
        "scripts/run.sh": "#!/bin/sh\necho hi\n",
    }
    assert [c.key for c in result.changed_meanwhile] == [str(folder / "SKILL.md")]
    assert [p.name for p in (home / ".claude" / "skills").iterdir()] == ["tools"]


def test_an_empty_folder_that_appears_meanwhile_is_not_replaced(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Renaming a folder over an empty one would silently succeed: it must not."""
    made: list[int] = []

    def claude_code() -> None:
        (home / ".claude").mkdir(mode=0o700)
        made.append((home / ".claude").stat().st_ino)

    during_sync(monkeypatch, claude_code)
    execute(plan_apply(drafts(), machine(home)))
    assert (home / ".claude").stat().st_ino == made[0]
    assert len(tree(home / ".claude")) == 4
    assert [p.name for p in home.iterdir()] == [".claude"]


def test_a_symlink_that_appears_meanwhile_at_a_new_folder_is_not_written_through(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The folder appears as a link leading out of the home: nothing is written there."""
    home = tmp_path / "home"
    (home / ".claude" / "skills").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    during_sync(monkeypatch, lambda: (home / ".claude/skills/tools").symlink_to(outside))
    result = execute(plan_apply(drafts(), machine(home)))
    assert list(outside.iterdir()) == []
    assert len(result.changed_meanwhile) == 3
    assert (home / ".claude" / "CLAUDE.md").read_text() == "# Me\n"
    assert sorted(p.name for p in (home / ".claude" / "skills").iterdir()) == ["tools"]


def test_a_missing_home_is_made_in_place_and_nothing_is_built_beside_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only folders inside the home are built aside: its parent is outside the roots."""
    home = tmp_path / "new" / "home"
    beside: list[list[str]] = []
    during_sync(monkeypatch, lambda: beside.append(sorted(os.listdir(home.parent))))
    execute(plan_apply(drafts(), machine(home)))
    assert beside == [["home"]]
    assert len(tree(home / ".claude")) == 4


@pytest.fixture(name="rename", params=["renameat2", "fallback"])
def _rename(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if request.param == "fallback":
        monkeypatch.setattr(writes, "_renameat2", lambda: None)
    elif writes._renameat2() is None:
        pytest.skip("no renameat2 on this platform")


@pytest.mark.parametrize("there", ["file", "symlink", "empty folder", "folder", "dangling link"])
@pytest.mark.usefixtures("rename")
def test_a_folder_is_never_renamed_over_anything(tmp_path: Path, there: str) -> None:
    """Whatever is at the name stays as it was, and the folder stays where it was built."""
    src, dst = tmp_path / "src", tmp_path / "dst"
    src.mkdir()
    (src / "ours").write_text("ours")
    if there == "file":
        dst.write_text("theirs")
    elif there == "symlink":
        (tmp_path / "elsewhere").mkdir()
        dst.symlink_to(tmp_path / "elsewhere")
    elif there == "dangling link":
        dst.symlink_to(tmp_path / "nowhere")
    else:
        dst.mkdir()
        if there == "folder":
            (dst / "theirs").write_text("theirs")
    before = os.lstat(dst)
    assert rename_new(str(src), str(dst)) is False
    assert os.lstat(dst).st_ino == before.st_ino
    assert (src / "ours").read_text() == "ours"
    assert not (tmp_path / "nowhere").exists()


@pytest.mark.usefixtures("rename")
def test_a_folder_is_renamed_to_a_free_name(tmp_path: Path) -> None:
    """The ordinary case: nothing at the name."""
    src, dst = tmp_path / "src", tmp_path / "dst"
    src.mkdir()
    (src / "ours").write_text("ours")
    assert rename_new(str(src), str(dst)) is True
    assert (dst / "ours").read_text() == "ours" and not src.exists()


@pytest.mark.parametrize("err", [errno.EINVAL, errno.ENOSYS])
def test_a_filesystem_without_renameat2_falls_back_to_the_checked_rename(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, err: int
) -> None:
    """``renameat2`` answering EINVAL (a filesystem without ``RENAME_NOREPLACE``) or ENOSYS
    (an old kernel) is not an error: the folder is renamed the portable way."""
    monkeypatch.setattr(writes, "_renameat2", lambda: lambda src, dst: err)
    src, dst = tmp_path / "src", tmp_path / "dst"
    src.mkdir()
    (src / "ours").write_text("ours")
    assert rename_new(str(src), str(dst)) is True
    assert (dst / "ours").read_text() == "ours" and not src.exists()


def test_a_folder_made_at_the_name_just_after_the_fallbacks_check_is_not_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without ``renameat2``, a folder another program makes at the name between the check
    and the rename makes the rename fail: reported as taken, theirs kept, ours not placed."""
    monkeypatch.setattr(writes, "_renameat2", lambda: None)
    src, dst = tmp_path / "src", tmp_path / "dst"
    src.mkdir()
    (src / "ours").write_text("ours")

    def free_then_taken(path: str) -> bool:
        os.mkdir(path)
        (Path(path) / "theirs").write_text("theirs")
        return False

    monkeypatch.setattr(os.path, "lexists", free_then_taken)
    assert rename_new(str(src), str(dst)) is False
    assert (dst / "theirs").read_text() == "theirs" and (src / "ours").exists()


def test_each_filesystem_written_to_is_flushed_once_and_no_other(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """~/.claude on another filesystem (CLAUDE_CONFIG_DIR): one syncfs for each, none for
    the filesystems nothing was written to, and no sync() of them all."""
    shm = Path("/dev/shm")
    if not shm.is_dir() or shm.stat().st_dev == tmp_path.stat().st_dev:
        pytest.skip("needs a second filesystem at /dev/shm")
    home, config = tmp_path / "home", Path(tempfile.mkdtemp(dir=shm)) / "claude"
    home.mkdir()
    synced: list[int] = []
    monkeypatch.setattr(writes, "_syncfs", lambda: lambda fd: synced.append(os.fstat(fd).st_dev))
    monkeypatch.setattr("agents.claude.writes.os.sync", lambda: synced.append(-1))
    try:
        (home / ".config" / "Claude").mkdir(parents=True)
        (home / "proj").mkdir()
        bob = Machine(home, "linux", "m", {"p": home / "proj"}, {"CLAUDE_CONFIG_DIR": str(config)})
        desktop = {"name": "d", "source": "claude_desktop", "command": "npx"}
        project = {"name": "p", "source": "claude_code_project", "project_id": "p", "command": "x"}
        servers = [Draft("mcp_server:d", "mcp_server", desktop)]
        servers.append(Draft("mcp_server:p", "mcp_server", project))
        execute(plan_apply([*drafts(), *servers], bob))
        assert sorted(synced) == sorted([home.stat().st_dev, shm.stat().st_dev])
        assert (config / "skills" / "tools" / "SKILL.md").exists()
        assert (home / ".config" / "Claude" / "claude_desktop_config.json").exists()
        assert (home / "proj" / ".mcp.json").exists()
    finally:
        shutil.rmtree(config.parent)


def test_the_folders_renamed_into_are_synced_after_the_renames_and_before_the_apply_returns(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The flush makes the new contents durable; the renames that put them at their names
    are made durable too, so a crash right after an apply, once the store has recorded the
    files as written, cannot bring an old file back. One fsync per folder, none before the
    renames."""
    (home / ".claude").mkdir()
    (home / ".claude" / "CLAUDE.md").write_text("# Before\n")
    applied = {str(home / ".claude" / "CLAUDE.md"): sha256_hex(b"# Before\n")}
    synced: list[tuple[str, bool]] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            placed = (home / ".claude" / "CLAUDE.md").read_text() == "# Me\n" and (
                home / ".claude" / "skills" / "tools" / "SKILL.md"
            ).exists()
            name = next(str(p) for p in (home, home / ".claude") if p.stat().st_ino == st.st_ino)
            synced.append((name, placed))
        real_fsync(fd)

    monkeypatch.setattr("agents.claude.writes.os.fsync", fsync)
    execute(plan_apply(drafts(), machine(home), applied=applied))
    # CLAUDE.md replaced in ~/.claude; skills/ is new, built aside and renamed into ~/.claude
    assert synced == [(str(home / ".claude"), True)]


def test_a_folder_pruned_by_an_apply_is_synced_through_the_nearest_one_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A delete that emptied and removed the file's folders: the nearest folder that still
    exists is the one whose entries changed, synced once however many names led to it."""
    (tmp_path / "a").mkdir()
    inodes: list[int] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        inodes.append(os.fstat(fd).st_ino)
        real_fsync(fd)

    monkeypatch.setattr("agents.claude.writes.os.fsync", fsync)
    writes.sync_folders([str(tmp_path / "a" / "b" / "c"), str(tmp_path / "a")])
    assert inodes == [(tmp_path / "a").stat().st_ino]


def test_without_syncfs_everything_is_flushed_with_one_sync(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not Linux, or no syncfs in libc: sync() once, as before."""
    synced: list[str] = []
    monkeypatch.setattr(writes, "_syncfs", lambda: None)
    monkeypatch.setattr("agents.claude.writes.os.sync", lambda: synced.append("sync"))
    execute(plan_apply(drafts(), machine(home)))
    assert synced == ["sync"]
    assert len(tree(home / ".claude")) == 4


def test_a_write_back_error_fails_the_apply_before_anything_is_renamed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """syncfs reports that the disk could not store the data: nothing reaches a final name
    and nothing is left behind (sync() could not have told)."""
    home = tmp_path / "home"
    (home / ".claude").mkdir(parents=True)
    (home / ".claude" / "CLAUDE.md").write_text("# Before\n")
    applied = {str(home / ".claude" / "CLAUDE.md"): sha256_hex(b"# Before\n")}
    monkeypatch.setattr(writes, "_syncfs", lambda: lambda fd: errno.EIO)
    with pytest.raises(OSError, match="Input/output error"):
        execute(plan_apply(drafts(), machine(home), applied=applied))
    assert tree(home) == {".claude/CLAUDE.md": "# Before\n"}
    assert [p.name for p in (home / ".claude").iterdir()] == ["CLAUDE.md"]


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o000])
def test_files_get_their_exact_modes_and_a_chmod_only_where_the_umask_takes_bits_away(
    home: Path, monkeypatch: pytest.MonkeyPatch, umask: int
) -> None:
    """Under the usual umask a new file is created with its mode, as ``cp`` does (no
    ``fchmod`` per file); a stricter umask still gets the document's modes, by ``fchmod``."""
    # a resolved secret: the file becomes 0600
    server = {"name": "s", "source": "claude_code_user", "command": "x", "env": {"T": "secret://t"}}
    secret = Draft("mcp_server:s", "mcp_server", server, secret_refs=(SecretRef("/env/T", "t"),))
    chmods: list[int] = []
    fchmod = os.fchmod

    def counted(fd: int, mode: int) -> None:
        chmods.append(mode)
        fchmod(fd, mode)

    monkeypatch.setattr(os, "fchmod", counted)
    old = os.umask(umask)
    try:
        execute(plan_apply([*drafts(), secret], machine(home), secrets={"t": "v"}))
    finally:
        os.umask(old)
    skill = home / ".claude/skills/tools"
    modes = {p: (home / p).stat().st_mode & 0o777 for p in (".claude/CLAUDE.md", ".claude.json")}
    modes |= {p: (skill / p).stat().st_mode & 0o777 for p in ("SKILL.md", "scripts/run.sh")}
    assert modes == {
        ".claude/CLAUDE.md": 0o644,
        ".claude.json": 0o600,
        "SKILL.md": 0o644,
        "scripts/run.sh": 0o755,
    }
    taken = [m for m in (0o644, 0o644, 0o755, 0o644, 0o600) if m & umask]
    assert sorted(chmods) == sorted(taken)
