"""Machine paths, placeholders and project identity."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from agents.claude.machine import Machine, Placeholders, UnknownProjectError, desktop_config_path
from agents.claude.projects import normalize_remote, project_id, read_remote

from .conftest import git_repo


@pytest.mark.parametrize(
    ("platform", "env", "expected"),
    [
        ("linux", {}, "/h/.config/Claude/claude_desktop_config.json"),
        ("linux", {"XDG_CONFIG_HOME": "/x"}, "/x/Claude/claude_desktop_config.json"),
        ("darwin", {}, "/h/Library/Application Support/Claude/claude_desktop_config.json"),
        ("win32", {}, "/h/AppData/Roaming/Claude/claude_desktop_config.json"),
        ("win32", {"APPDATA": "/r"}, "/r/Claude/claude_desktop_config.json"),
    ],
)
def test_desktop_config_path_per_platform(
    platform: str, env: dict[str, str], expected: str
) -> None:
    """Linux (XDG), macOS and Windows (%APPDATA%) locations."""
    assert desktop_config_path(Path("/h"), platform, env) == Path(expected)


def test_claude_config_dir_relocates_claude_and_its_json() -> None:
    """CLAUDE_CONFIG_DIR moves ~/.claude and ~/.claude.json."""
    m = Machine(Path("/h"), env={"CLAUDE_CONFIG_DIR": "/c"})
    assert (m.claude_dir, m.claude_json) == (Path("/c"), Path("/c/.claude.json"))


PH = Placeholders("/home/alice", {"github.com/acme/api": "/home/alice/src/api", "root": "/"})


@pytest.mark.parametrize(
    ("text", "stored"),
    [
        ("/home/alice/x", "{{home}}/x"),
        ("/home/alice", "{{home}}"),
        ("/home/alice2/x", "/home/alice2/x"),
        ("/home/alice.bak", "/home/alice.bak"),
        ("in /home/alice.", "in {{home}}."),
        ("/home/alice/src/api/app.py", "{{project:github.com/acme/api}}/app.py"),
        ("/home/alice/src/apix", "{{home}}/src/apix"),
        ('"/home/alice/a" "/home/alice/b"', '"{{home}}/a" "{{home}}/b"'),
        ("{{home}} {{project:z}} {{raw:home}}", "{{raw:home}} {{raw:project:z}} {{raw:raw:home}}"),
        ("{{/home/alice}}", "{{{{home}}}}"),
    ],
)
def test_placeholders_round_trip_exactly(text: str, stored: str) -> None:
    """Unrender then render gives the original text back, paths only at boundaries."""
    assert PH.unrender(text) == stored
    assert PH.render(stored) == text


def test_rendering_an_unmapped_project_says_which() -> None:
    """The caller turns this into a blocked unit naming the project."""
    with pytest.raises(UnknownProjectError, match=r"gitlab\.com/x/y"):
        PH.render("{{project:gitlab.com/x/y}}/a")


@pytest.mark.parametrize(
    ("url", "normal"),
    [
        ("git@github.com:Acme/API.git", "github.com/acme/api"),
        ("https://github.com/acme/api", "github.com/acme/api"),
        ("https://x-access-token:ghp_abc@github.com/acme/api.git/", "github.com/acme/api"),
        ("ssh://git@github.com:22/acme/api", "github.com/acme/api"),
        ("ssh://git@gitlab.example.com:2222/team/svc.git", "gitlab.example.com:2222/team/svc"),
        ("https://dev.azure.com/org/proj/_git/repo", "dev.azure.com/org/proj/_git/repo"),
        ("/srv/git/repo.git", None),
        ("file:///srv/git/repo.git", None),
        ("C:\\repos\\api", None),
    ],
)
def test_remote_urls_normalise_without_credentials(url: str, normal: str | None) -> None:
    """Scheme, user, password, default port and .git are dropped; case is folded."""
    assert normalize_remote(url) == normal


def test_project_id_reads_origin_from_a_real_repository_and_its_worktree(tmp_path: Path) -> None:
    """git init + remote add; a linked worktree reads the main repository's config."""
    repo = git_repo(tmp_path / "home" / "api", "git@github.com:acme/api.git")
    subprocess.run(["git", "-C", str(repo), "remote", "add", "fork", "https://x/y"], check=True)
    assert read_remote(repo) == "git@github.com:acme/api.git"
    run = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*run, "commit", "-q", "--allow-empty", "-m", "init"], check=True)
    subprocess.run([*run, "worktree", "add", "-q", str(tmp_path / "wt")], check=True)
    assert project_id(tmp_path / "wt", tmp_path / "home") == "github.com/acme/api"


def test_a_project_without_remote_is_identified_by_its_place_under_home(tmp_path: Path) -> None:
    """~/notes matches ~/notes on another machine; outside home it has no id."""
    home = tmp_path / "home"
    (home / "notes").mkdir(parents=True)
    assert project_id(home / "notes", home) == "~/notes"
    assert project_id(tmp_path, home) is None
