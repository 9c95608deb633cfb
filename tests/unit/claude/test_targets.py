"""Where documents land: relative paths from other machines stay inside their root, and the
plan's cached view of the disk resolves paths exactly as ``os.path.realpath`` does."""

from __future__ import annotations

import errno
import os
from pathlib import Path, PurePath

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agents.claude.apply import execute
from agents.claude.drafts import Draft
from agents.claude.machine import Machine
from agents.claude.plan import plan_apply
from agents.claude.projects import slug
from agents.claude.targets import (
    DELETE,
    Blob,
    BlockedError,
    Disk,
    _join,
    _split,
    safe_relpath,
    units,
)

PIECES = st.sampled_from(["a", "b", ".", "..", "", "c:", "x\\y", "/", "\0", " ", "...", "-"])


@given(st.lists(PIECES, max_size=6).map("/".join))
def test_a_relative_path_is_refused_or_stays_under_its_root(rel: str) -> None:
    root = "/r/o/o/t"
    try:
        parts = safe_relpath(rel)
    except BlockedError as exc:
        assert "unsafe path" in str(exc)
        return
    assert parts and all(p not in ("", ".", "..") and "/" not in p for p in parts)
    assert "\0" not in "".join(parts) and ":" not in parts[0]
    assert os.path.normpath(os.path.join(root, *parts)).startswith(root + "/")


@pytest.mark.parametrize("rel", [".", "./", "", "/etc/passwd", "a/../../b", "C:/x", "a\0b"])
def test_paths_that_name_no_file_inside_the_root_are_refused(rel: str) -> None:
    with pytest.raises(BlockedError, match="unsafe path"):
        safe_relpath(rel)


def test_a_backslash_from_a_windows_machine_separates_folders_and_cannot_climb_out() -> None:
    assert safe_relpath("rules\\team\\style.md") == ("rules", "team", "style.md")
    with pytest.raises(BlockedError, match="unsafe path"):
        safe_relpath("..\\..\\.ssh\\authorized_keys")


@pytest.fixture(name="tree", scope="module")
def _tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Folders, files and symlinks of every kind: to a folder, to a file, dangling, looping,
    climbing out with ``..``."""
    tmp_path = tmp_path_factory.mktemp("tree")
    (tmp_path / "home" / "real" / "sub").mkdir(parents=True)
    (tmp_path / "out").mkdir()
    (tmp_path / "home" / "real" / "f").write_text("x")
    (tmp_path / "home" / "to-real").symlink_to("real")
    (tmp_path / "home" / "to-out").symlink_to(tmp_path / "out")
    (tmp_path / "home" / "real" / "to-f").symlink_to("f")
    (tmp_path / "home" / "real" / "up").symlink_to("../..")
    (tmp_path / "home" / "dangling").symlink_to("nowhere/deeper")
    (tmp_path / "home" / "loop").symlink_to("loop")
    return tmp_path / "home"


NAMES = st.sampled_from(["real", "sub", "f", "to-real", "to-out", "to-f", "up", "dangling",
                         "loop", "new", "..", "."])  # fmt: skip


@given(paths=st.lists(st.lists(NAMES, min_size=1, max_size=5), min_size=1, max_size=8))
def test_the_plans_view_resolves_every_path_as_realpath_does(
    tree: Path, paths: list[list[str]]
) -> None:
    disk = Disk()  # one view for many paths, as in a plan: its caches must not mislead
    for names in paths:
        path = os.path.join(tree, *names)
        real, folder = disk.real(path), disk.real_folder(path)
        if _through_a_loop(path):
            continue  # realpath stops resolving there; no file can be written there either
        assert real == folder == os.path.realpath(path), path


def _through_a_loop(path: str) -> bool:
    try:
        os.path.realpath(path, strict=True)
    except OSError as exc:
        return exc.errno == errno.ELOOP
    return False


def test_nothing_below_an_absent_folder_is_read(tmp_path: Path) -> None:
    disk = Disk()
    path = tmp_path / "home" / "new" / "deeper" / "file.md"
    disk.real(path)
    path.parent.mkdir(parents=True)
    path.write_text("made after the plan looked")
    assert disk.read(path) is None  # the plan's snapshot: the folder was not there
    assert Disk().read(path) == b"made after the plan looked"


def test_a_plan_resolves_the_home_and_a_project_once_however_many_documents_name_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each project document checks that its project lies under the home; through the plan's
    view of the disk that costs nothing more per document."""
    home = tmp_path / "home"
    (home / "proj").mkdir(parents=True)
    bob = Machine(home, "linux", "m", {"p": home / "proj"})
    resolved: list[str] = []
    realpath = os.path.realpath

    def counted(path: str) -> str:
        resolved.append(os.fspath(path))
        return realpath(path)

    monkeypatch.setattr(os.path, "realpath", counted)
    counts = []
    for n in (2, 20):
        resolved.clear()
        servers = [
            Draft(f"mcp_server:s{i}", "mcp_server", {"name": f"s{i}", "project_id": "p",
                                                     "source": "claude_code_project"})
            for i in range(n)
        ]  # fmt: skip
        plan = plan_apply(servers, bob)
        assert [c.action for c in plan.changes] == ["create"] * n
        counts.append(len(resolved))
    assert counts[0] == counts[1]


@given(st.lists(PIECES, max_size=6).map("/".join), st.sampled_from(["/", "/r", "/r/o o/t"]))
def test_a_files_path_is_spelled_as_pathlib_spells_it(rel: str, home: str) -> None:
    """Units carry their path as a string joined without pathlib; it is the same text."""
    try:
        parts = safe_relpath(rel)
    except BlockedError:
        return
    draft = Draft("skill:s", "skill", {"name": "s", "files": [{"path": rel, "text": ""}]})
    machine = Machine(Path(home), "linux", "m")
    (unit,) = units(draft, machine)
    expected = machine.claude_dir.joinpath("skills", "s", *parts)
    assert unit.where == str(expected) and unit.path == expected and unit.key == unit.where


def test_a_restore_builds_no_path_object_per_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Building a ``Path`` costs microseconds on Python 3.11; a plan and its apply build a
    handful, not one per file (the skill here has 60)."""
    skill = {
        "name": "big",
        "files": [{"path": f"d{i % 3}/f{i}.md", "text": "x\n"} for i in range(60)],
    }
    draft = Draft("skill:big", "skill", skill)
    bob = Machine(tmp_path / "home", "linux", "m")
    built: list[object] = []
    new, div = Path.__new__, PurePath.__truediv__

    def counted_new(cls: type[Path], *args: str, **kwargs: object) -> Path:
        built.append(args)
        return new(cls, *args, **kwargs)

    def counted_div(self: PurePath, key: str) -> PurePath:
        built.append(key)
        return div(self, key)

    monkeypatch.setattr(Path, "__new__", counted_new)
    monkeypatch.setattr(PurePath, "__truediv__", counted_div)
    done = execute(plan_apply([draft], bob))
    monkeypatch.undo()
    assert len(done.written) == 60 and (bob.claude_dir / "skills/big/d2/f59.md").is_file()
    assert len(built) < 20


SEPARATED = st.lists(st.sampled_from(["a", "b", "", ".", "..", "/"]), max_size=6).map("/".join)


@given(SEPARATED, SEPARATED)
def test_the_plans_split_and_join_are_os_paths(path: str, name: str) -> None:
    """The plan's own split and join (no general case per file) agree with ``os.path``."""
    assert _split(path) == os.path.split(path)
    assert _join(path, name) == os.path.join(path, name)


def test_a_plan_resolves_files_without_os_path_split_or_join_per_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each target is checked against the roots; the folder and name it is made of are found
    without ``os.path``'s general split and join: as many calls for 60 files as for 6."""
    calls: list[str] = []
    split, join = os.path.split, os.path.join

    def counted_split(p: str) -> tuple[str, str]:
        calls.append(p)
        return split(p)

    def counted_join(a: str, *p: str) -> str:
        calls.append(a)
        return join(a, *p)

    counts = []
    for n in (6, 60):
        files = [{"path": f"d{i % 3}/f{i}.md", "text": "x\n"} for i in range(n)]
        draft = Draft("skill:big", "skill", {"name": "big", "files": files})
        calls.clear()
        monkeypatch.setattr(os.path, "split", counted_split)
        monkeypatch.setattr(os.path, "join", counted_join)
        plan = plan_apply([draft], Machine(tmp_path / "home", "linux", "m"))
        monkeypatch.undo()
        assert [c.action for c in plan.changes] == ["create"] * n
        counts.append(len(calls))
    assert counts[0] == counts[1]


def test_a_plan_looks_up_the_home_and_a_project_on_disk_once_however_many_documents_name_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every project document checks its project lies under the home: one ``lstat`` of each
    per plan, not one per document."""
    home = tmp_path / "home"
    (home / "proj").mkdir(parents=True)
    bob = Machine(home, "linux", "m", {"p": home / "proj"})
    looked: list[str] = []
    lstat = os.lstat

    def counted(path: str, *args: object, **kwargs: object) -> os.stat_result:
        looked.append(os.fspath(path))
        return lstat(path)

    counts = []
    for n in (2, 20):
        servers = [
            Draft(f"mcp_server:s{i}", "mcp_server", {"name": f"s{i}", "project_id": "p",
                                                     "source": "claude_code_project"})
            for i in range(n)
        ]  # fmt: skip
        looked.clear()
        monkeypatch.setattr(os, "lstat", counted)
        plan = plan_apply(servers, bob)
        monkeypatch.undo()
        assert [c.action for c in plan.changes] == ["create"] * n
        counts.append(len(looked))
    assert counts[0] == counts[1]


def test_a_session_of_a_subfolder_is_restored_in_the_subfolders_own_session_folder(
    bob: Machine,
) -> None:
    """Claude Code keeps a session started in ``svc/api`` of a checkout under that folder's
    slug, not the checkout's: the archive's ``subdir`` is joined under the project's path."""
    api = bob.project_paths["github.com/acme/api"]
    body = {
        "project_id": "github.com/acme/api",
        "subdir": "svc/api",
        "session": "11111111-2222-3333-4444-555555555555",
        "blob": {"blob": "b1"},
    }
    draft = Draft("transcript_archive:1", "transcript_archive", body)
    [unit] = units(draft, bob)
    folder = bob.claude_dir / "projects" / slug(str(api / "svc" / "api"))
    assert unit.where == str(folder / "11111111-2222-3333-4444-555555555555.jsonl")
    assert (unit.value, unit.mode) == (Blob("b1", True, True), 0o600)
    [gone] = units(draft.tombstone(), bob)  # the archive deleted: the file goes
    assert (gone.where, gone.value) == (unit.where, DELETE)


def test_a_file_that_grew_since_its_size_was_taken_is_read_to_its_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Claude Code may append to a file between the ``fstat`` and the read: the read goes on
    in chunks to the end rather than stopping at the size first seen."""
    path = tmp_path / "history.jsonl"
    data = bytes(range(256)) * 1000  # several chunks
    path.write_bytes(data)
    fstat = os.fstat

    def stale(fd: int) -> os.stat_result:
        st = fstat(fd)
        return os.stat_result((*st[:6], 1, *st[7:10]))  # the size when it held one byte

    monkeypatch.setattr(os, "fstat", stale)
    assert Disk().read(str(path)) == data
