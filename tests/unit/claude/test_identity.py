"""The branch a checkpoint records, read from ``.git`` alone (no git process), and a project's
working directory on another machine."""

from __future__ import annotations

import subprocess
from pathlib import Path

from agents.claude.identity import ProjectRef, current_branch, locate
from tests.unit.claude.conftest import git_repo


def git(*args: str) -> None:
    subprocess.run(["git", *args], check=True, capture_output=True, timeout=60)


def test_the_branch_of_a_checkout_and_of_its_linked_worktree_are_each_their_own(
    tmp_path: Path,
) -> None:
    main = tmp_path / "main"
    git("init", "-q", "-b", "trunk", str(main))
    git(
        "-C",
        str(main),
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@x",
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "one",
    )
    git("-C", str(main), "worktree", "add", "-q", "-b", "feature/cart", str(tmp_path / "wt"))
    assert current_branch(main) == "trunk"
    assert current_branch(tmp_path / "wt") == "feature/cart"
    git("-C", str(main), "checkout", "-q", "--detach")
    assert current_branch(main) is None  # a detached HEAD is no branch


def test_a_worktree_named_by_a_relative_gitdir_is_read_from_the_checkout(tmp_path: Path) -> None:
    gitdir = tmp_path / "repo" / ".git" / "worktrees" / "wt"
    gitdir.mkdir(parents=True)
    (gitdir / "HEAD").write_text("ref: refs/heads/fix\n")
    wt = tmp_path / "repo-wt"
    wt.mkdir()
    (wt / ".git").write_text("gitdir: ../repo/.git/worktrees/wt\n")
    assert current_branch(wt) == "fix"


def test_a_branch_name_or_gitdir_that_is_not_utf8_never_fails_the_checkpoint(
    tmp_path: Path,
) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / ".git" / "HEAD").write_bytes(b"ref: refs/heads/caf\xe9\n")
    assert current_branch(repo) == "caf\ufffd"
    odd = tmp_path / "odd"
    odd.mkdir()
    (odd / ".git").write_bytes(b"gitdir: /nowhere/\xe9\n")
    assert current_branch(odd) is None


def test_no_git_or_a_git_file_that_names_no_gitdir_has_no_branch(tmp_path: Path) -> None:
    assert current_branch(tmp_path) is None
    (tmp_path / ".git").write_text("not a gitdir line\n")
    assert current_branch(tmp_path) is None


def test_a_projects_folder_is_found_under_another_machines_checkout() -> None:
    ref = ProjectRef("github.com/acme/shop", Path("/home/alice/src/shop"), "svc/api")
    assert ref.path_here(Path("/Users/bob/work/shop")) == Path("/Users/bob/work/shop/svc/api")
    assert ref.path_here() == Path("/home/alice/src/shop/svc/api")
    top = ProjectRef("github.com/acme/shop", Path("/home/alice/src/shop"))
    assert top.path_here(Path("/w/shop")) == Path("/w/shop")


def test_a_folder_without_a_remote_is_the_project_of_its_place_under_home(tmp_path: Path) -> None:
    """Outside any checkout, the folder itself; in a checkout without a remote, the checkout
    (``~/<path>``), with the path inside it."""
    home = tmp_path / "home"
    notes = home / "notes" / "2026"
    notes.mkdir(parents=True)
    assert locate(notes, home) == ProjectRef("~/notes/2026", notes)
    tool = git_repo(home / "src" / "tool", None)
    (tool / "pkg").mkdir()
    assert locate(tool / "pkg", home) == ProjectRef("~/src/tool", tool, "pkg")
