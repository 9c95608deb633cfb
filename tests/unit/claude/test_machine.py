"""Machine paths, placeholders and project identity."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from agents.claude.drafts import Draft, Scope
from agents.claude.machine import Machine, Placeholders, UnknownProjectError, desktop_config_path
from agents.claude.projects import (
    normalize_remote,
    project_draft,
    project_id,
    project_paths,
    read_remote,
    slug,
)

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


@pytest.mark.parametrize(
    ("platform", "expected"),
    [
        ("cygwin", "/h/AppData/Roaming/Claude/claude_desktop_config.json"),
        ("msys", "/h/AppData/Roaming/Claude/claude_desktop_config.json"),
        ("freebsd14", "/h/.config/Claude/claude_desktop_config.json"),
    ],
)
def test_cygwin_and_msys_are_windows_and_the_bsds_follow_linux(
    platform: str, expected: str
) -> None:
    assert desktop_config_path(Path("/h"), platform) == Path(expected)


def test_this_machine_is_read_from_the_process_environment_and_platform(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CLAUDE_CONFIG_DIR, APPDATA and XDG_CONFIG_HOME as set (empty is unset), sys.platform,
    and the id and project paths given; a machine with more projects keeps all of that."""
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "c"))
    monkeypatch.setenv("APPDATA", str(tmp_path / "roaming"))
    monkeypatch.setenv("XDG_CONFIG_HOME", "")
    monkeypatch.setattr("agents.claude.machine.sys.platform", "win32")
    m = Machine.current("m1", {"github.com/a/b": tmp_path / "b"})
    assert (m.machine_id, m.platform, m.project_paths) == (
        "m1",
        "win32",
        {"github.com/a/b": tmp_path / "b"},
    )
    assert m.claude_dir == tmp_path / "c"
    assert m.desktop_config == tmp_path / "roaming" / "Claude" / "claude_desktop_config.json"
    assert "XDG_CONFIG_HOME" not in m.env
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr("agents.claude.machine.sys.platform", "linux")
    xdg = tmp_path / "xdg" / "Claude" / "claude_desktop_config.json"
    assert Machine.current().desktop_config == xdg
    more = m.with_projects({"~/notes": tmp_path / "notes"})
    assert (more.machine_id, more.platform, more.env) == ("m1", "win32", m.env)
    assert more.project_paths == {"github.com/a/b": tmp_path / "b", "~/notes": tmp_path / "notes"}


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


def test_a_path_is_replaced_by_the_innermost_project_and_never_by_one_above_home() -> None:
    """Nested projects: the longer path wins whatever the ids; a project at or above home,
    or a one-letter folder, is handled like any other path."""
    ph = Placeholders(
        "/home/alice",
        {
            "z/outer": "/home/alice/src",
            "a/inner": "/home/alice/src/inner",
            "up": "/home",
            "w": "/w",
        },
    )
    assert ph.unrender("/home/alice/src/inner/x") == "{{project:a/inner}}/x"
    assert ph.unrender("/home/alice/src/y") == "{{project:z/outer}}/y"
    assert ph.unrender("/home/bob/x") == "/home/bob/x"
    assert ph.unrender("/w/app.py") == "{{project:w}}/app.py"


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
        ("file://server/share/repo.git", None),
        ("https://github.com", None),
        ("https://github.com/", None),
        ("https://github.com/acme/api/.git", "github.com/acme/api"),
        ("https://github.com/Acme/ONYX", "github.com/acme/onyx"),
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
    assert project_id(home, home) is None  # the home itself is no project


def _config(repo: Path, text: bytes) -> Path:
    (repo / ".git").mkdir(parents=True)
    (repo / ".git" / "config").write_bytes(text)
    return repo


def test_origin_is_read_whatever_its_place_case_or_quoting_in_the_git_config(
    tmp_path: Path,
) -> None:
    """origin wins over a remote listed before it; "URL" and quotes as git accepts them; a
    config with another encoding's bytes (a user name in Latin-1) is still read."""
    repo = _config(
        tmp_path / "a",
        b'[user]\n\tname = Jos\xe9\n[remote "upstream"]\n\turl = https://github.com/up/api\n'
        b'[remote "origin"]\n\tURL = "git@github.com:Acme/TOOLBOX"\n',
    )
    assert read_remote(repo) == "git@github.com:Acme/TOOLBOX"


def test_without_origin_the_first_remote_with_a_url_is_read(tmp_path: Path) -> None:
    """A submodule's url after a remote without one is not that remote's."""
    repo = _config(
        tmp_path / "a",
        b'[remote "fork"]\n\tpushurl = https://github.com/me/api\n'
        b'[submodule "lib"]\n\turl = https://github.com/other/lib\n'
        b'[remote "mirror"]\n\turl = https://github.com/mirror/api\n',
    )
    assert read_remote(repo) == "https://github.com/mirror/api"


def test_a_submodule_checkout_reads_its_remote_through_a_relative_gitdir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``.git`` is a file ("gitdir: ../.git/modules/lib"), relative to the checkout, not to
    the current directory."""
    parent = tmp_path / "home" / "app"
    modules = parent / ".git" / "modules" / "lib"
    modules.mkdir(parents=True)
    (modules / "config").write_text('[remote "origin"]\n\turl = https://github.com/acme/lib\n')
    lib = parent / "lib"
    lib.mkdir()
    (lib / ".git").write_text("gitdir: ../.git/modules/lib\n")
    monkeypatch.chdir(tmp_path)
    assert project_id(lib, tmp_path / "home") == "github.com/acme/lib"


def test_the_projects_folder_name_keeps_letters_and_digits_as_claude_code_does() -> None:
    assert slug("/Users/Alice/src/API_v2.x") == "-Users-Alice-src-API-v2-x"


def test_a_project_document_maps_the_project_on_the_machine_that_wrote_it(tmp_path: Path) -> None:
    """Named after its last part, scoped to the project; read back as this machine's path."""
    doc = project_draft("github.com/acme/api", tmp_path / "src" / "api", "m1")
    assert (doc.id, doc.kind, doc.scope) == (
        "project:github.com/acme/api",
        "project",
        Scope("project", project_id="github.com/acme/api"),
    )
    assert doc.body == {
        "name": "api",
        "remote_url": "github.com/acme/api",
        "paths": {"m1": str(tmp_path / "src" / "api")},
    }
    assert project_draft("~/BOX", tmp_path / "BOX", "m1").body["name"] == "BOX"
    notes = project_draft("~/notes/", tmp_path / "notes", "m1")
    assert notes.body == {"name": "notes", "paths": {"m1": str(tmp_path / "notes")}}
    assert project_paths([doc, notes], "m1", tmp_path) == {
        "github.com/acme/api": tmp_path / "src" / "api",
        "~/notes/": tmp_path / "notes",
    }


def test_project_paths_come_from_live_project_documents_only(tmp_path: Path) -> None:
    """Another machine's ``~/…`` project maps under this home; a deleted project and other
    kinds of document map nothing, wherever they are in the list."""
    skill = Draft("skill:x", "skill", {"paths": {"m1": "/nowhere"}})
    notes = project_draft("~/notes", Path("/elsewhere/notes"), "m2")
    gone = project_draft("github.com/acme/old", tmp_path / "old", "m1").tombstone()
    api = project_draft("github.com/acme/api", tmp_path / "api", "m1")
    assert project_paths([skill, gone, notes, api], "m1", tmp_path / "home") == {
        "~/notes": tmp_path / "home" / "notes",
        "github.com/acme/api": tmp_path / "api",
    }
