"""open_remote(url): which backend each URL opens, and the errors bad URLs get."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from agents.core.errors import ConfigError
from agents.sync.dir_remote import DirRemote
from agents.sync.git_remote import GitRemote, blob_id
from agents.sync.remote import RemoteError, redact_url, scrub
from agents.sync.urls import open_remote


def test_a_plain_path_and_a_dir_url_open_a_dir_remote(tmp_path: Path) -> None:
    """'/abs/path', 'dir:///abs/path' and percent-escapes all name the same folder."""
    (tmp_path / "a b").mkdir()
    for url in (str(tmp_path / "a b"), f"dir://{tmp_path}/a%20b", f"  dir://{tmp_path}/a b  "):
        remote = open_remote(url)
        assert isinstance(remote, DirRemote) and remote.root == tmp_path / "a b"


@pytest.mark.parametrize("kind", ["bare", "checkout"])
def test_a_plain_path_to_a_git_repository_is_refused_with_the_url_to_use(
    tmp_path: Path, kind: str
) -> None:
    """A folder remote there would write the store's objects into the repository."""
    import subprocess

    repo = tmp_path / "ctx.git"
    subprocess.run(
        ["git", "init", "-q", *(["--bare"] if kind == "bare" else []), str(repo)], check=True
    )
    for url in (str(repo), f"dir://{repo}"):
        with pytest.raises(ConfigError, match=f"is a git repository.*git\\+file://{repo}"):
            open_remote(url)
    assert sorted(p.name for p in repo.iterdir() if p.name.startswith("objects")) == (
        ["objects"] if kind == "bare" else []
    )


def test_git_urls_open_a_git_remote_with_a_cache_clone(tmp_path: Path) -> None:
    """git+file/ssh/https/http URLs open a GitRemote; the branch comes from #branch=."""
    remote = open_remote(
        "git+ssh://git@example.com/org/ctx.git#branch=sync", cache_dir=tmp_path / "c"
    )
    assert isinstance(remote, GitRemote)
    assert remote.url == "ssh://git@example.com/org/ctx.git" and remote.branch == "sync"
    assert (tmp_path / "c" / "HEAD").is_file()
    https = open_remote("git+https://example.com/ctx.git", cache_dir=tmp_path / "d")
    assert isinstance(https, GitRemote) and https.branch == "main"
    http = open_remote("git+http://example.com/ctx.git", cache_dir=tmp_path / "e")
    assert isinstance(http, GitRemote) and http.url == "http://example.com/ctx.git"


def test_a_path_from_the_home_folder_opens_a_dir_remote_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`CONTEXT_REMOTE=~/Dropbox/ctx`, as a person writes it in an env file."""
    monkeypatch.setenv("HOME", str(tmp_path))
    remote = open_remote("~/ctx")
    assert isinstance(remote, DirRemote) and remote.root == tmp_path / "ctx"


def test_git_etag_is_the_blob_id_git_computes() -> None:
    """The git backend's etag equals `git hash-object` of the value."""
    assert blob_id(b"hello\n") == "ce013625030ba8dba906f756967f9e9ca394464a"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "is empty"),
        ("   ", "is empty"),
        ("s3://bucket", "is not a remote URL"),
        ("https://github.com/me/ctx.git", r"git\+https://"),
        ("http://example.com/ctx.git", r"git\+http://"),
        ("ssh://git@example.com/ctx.git", r"git\+ssh://"),
        ("git://example.com/ctx.git", r"git\+git://"),
        ("file:///srv/ctx.git", r"git\+file://"),
        ("azure://ctx", "azure-blob://<container>"),
        ("azblob://ctx", "azure-blob://<container>"),
        ("azure_blob://ctx", "azure-blob://<container>"),
        ("wasb://ctx", "azure-blob://<container>"),
        ("wasbs://ctx", "azure-blob://<container>"),
        ("postgres://host/db?nosuchoption=1", "not a valid PostgreSQL connection string"),
        ("relative/path", "is not a remote URL"),
        ("dir:relative", "absolute path"),
        ("dir://host/path", "three slashes"),
        ("git+ssh://git@github.com:me/ctx.git", "not the ':'"),
        ("git+ssh://me:pw@host/ctx.git", "use an SSH key"),
        ("git+file://host/srv/ctx.git", "git\\+file:///absolute"),
        ("git+https:///ctx.git", "needs a host"),
        ("git+file:///srv/ctx.git#main", "#branch=<name>"),
        ("git+file:///srv/ctx.git#branch=bad..name", "not a valid git branch"),
        ("postgresql://host/db?nosuchoption=1", "not a valid PostgreSQL connection string"),
        ("azure-blob://Bad_Container", "not an Azure container name"),
        ("azure-blob://user:key@ctx", "carries no credentials"),
        ("azure-blob://ctx?AccountKey=abc", "(?i)never put the connection string"),
        ("azure-blob://ctx?sig=abc", "(?i)never put the connection string"),
    ],
)
def test_bad_urls_get_a_config_error_that_says_what_to_write(
    url: str, message: str, tmp_path: Path
) -> None:
    """Every malformed URL is a ConfigError naming the right form, never a traceback."""
    with pytest.raises(ConfigError, match=message) as raised:
        open_remote(url, cache_dir=tmp_path / "c", environ={})
    assert "abc" not in str(raised.value)


def test_errors_about_a_url_never_repeat_its_password(tmp_path: Path) -> None:
    """A ConfigError about a URL with a password shows the URL redacted."""
    with pytest.raises(ConfigError) as raised:
        open_remote("mysql://root:hunter2@db/ctx")
    assert "hunter2" not in str(raised.value) and "root:***@db" in str(raised.value)
    with pytest.raises(ConfigError) as raised:
        open_remote("postgresql://u:hunter2@db/ctx?nosuchoption=1")
    assert "hunter2" not in str(raised.value)


def test_a_git_remote_keeps_the_password_out_of_its_url_and_repr(tmp_path: Path) -> None:
    """The password of a git+https URL is held for askpass only; repr and url are clean."""
    remote = open_remote("git+https://bob:t0ken-xyz@example.com/ctx.git", cache_dir=tmp_path / "c")
    assert isinstance(remote, GitRemote)
    assert remote.url == "https://bob@example.com/ctx.git"
    assert repr(remote) == "<GitRemote git+https://bob:***@example.com/ctx.git>"
    assert "t0ken-xyz" not in (tmp_path / "c" / "askpass.sh").read_text()


@pytest.mark.parametrize(
    ("url", "given", "shown", "branch", "secret"),
    [
        (
            "git+https://me@corp.com:t0k@example.com/ctx.git",
            "https://me@corp.com@example.com/ctx.git",
            "git+https://me@corp.com:***@example.com/ctx.git",
            "main",
            "t0k",
        ),
        (
            "git+https://me%40corp.com:t%40k@example.com/ctx.git#branch=team/sync",
            "https://me%40corp.com@example.com/ctx.git",
            "git+https://me%40corp.com:***@example.com/ctx.git#branch=team/sync",
            "team/sync",
            "t@k",
        ),
        (
            "GIT+HTTPS://Example.com/ctx.git?x=1",
            "https://Example.com/ctx.git?x=1",
            "git+https://Example.com/ctx.git?x=1",
            "main",
            None,
        ),
        (
            "git+file://localhost/srv/ctx.git",
            "file://localhost/srv/ctx.git",
            "git+file://localhost/srv/ctx.git",
            "main",
            None,
        ),
        (
            "git+ssh://git@example.com:2222/org/ctx.git#branch=MAIN",
            "ssh://git@example.com:2222/org/ctx.git",
            "git+ssh://git@example.com:2222/org/ctx.git#branch=MAIN",
            "MAIN",
            None,
        ),
    ],
)
def test_a_git_url_gives_git_the_url_without_its_password_and_shows_it_masked(
    tmp_path: Path, url: str, given: str, shown: str, branch: str, secret: str | None
) -> None:
    """The URL git is given keeps the user name (even one holding a raw ``@``) but never the
    password, which is kept apart, percent-decoded, for askpass; what is shown masks it and
    names a branch other than ``main``."""
    remote = GitRemote.from_url(url, cache_dir=tmp_path / "c")
    assert (remote.url, remote.display_url, remote.branch) == (given, shown, branch)
    assert remote._secrets == (() if secret is None else (secret,))
    assert remote._env.get("AGENTS_SYNC_GIT_PASSWORD") == secret


@pytest.mark.parametrize(
    ("fragment", "message"),
    [
        ("#ref=x", "CONTEXT_REMOTE: unknown fragment #ref=x in a git URL; the only one is "),
        ("#branch=", "CONTEXT_REMOTE: unknown fragment #branch= in a git URL; the only one is "),
        ("#branch=a=b", "CONTEXT_REMOTE: 'a=b' is not a valid git branch name"),
    ],
)
def test_a_git_url_fragment_other_than_a_valid_branch_is_refused_naming_it(
    tmp_path: Path, fragment: str, message: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        GitRemote.from_url(f"git+file:///srv/ctx.git{fragment}", cache_dir=tmp_path / "c")
    assert str(raised.value).startswith(message)


def test_a_git_remotes_cache_clone_is_under_the_users_cache_folder_one_per_url_and_branch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``$XDG_CACHE_HOME/claude-agents/git-remotes/<hash>``, else ``~/.cache/…``; the hash
    is of the URL git is given and the branch (docs/sync-remotes.md)."""

    def cache_of(url: str) -> Path:
        remote = GitRemote.from_url(url)
        return remote.cache

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    digest = hashlib.sha256(b"file:///srv/ctx.git#main").hexdigest()[:16]
    assert cache_of("git+file:///srv/ctx.git") == (
        tmp_path / "xdg" / "claude-agents" / "git-remotes" / digest
    )
    assert (tmp_path / "xdg" / "claude-agents" / "git-remotes" / digest / "HEAD").is_file()
    other = hashlib.sha256(b"file:///srv/ctx.git#sync").hexdigest()[:16]
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_of("git+file:///srv/ctx.git#branch=sync") == (
        tmp_path / "home" / ".cache" / "claude-agents" / "git-remotes" / other
    )


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://u:p%40ss@h:5432/db?sslmode=require", "postgresql://u:***@h:5432/db?sslmode=require"),
        ("postgresql://u@h/db", "postgresql://u@h/db"),
        ("postgres://h/db?password=pw&sslmode=verify-full", "postgres://h/db?password=***&sslmode=verify-full"),
        ("https://acct.blob.core.windows.net/c?sv=2024&sig=abc%2F", "https://acct.blob.core.windows.net/c?sv=2024&sig=***"),
        ("git+file:///srv/ctx.git", "git+file:///srv/ctx.git"),  # nothing hidden: as written
        ("dir:///home/me/Sync/ctx", "dir:///home/me/Sync/ctx"),
    ],
)  # fmt: skip
def test_redact_url_hides_passwords_and_secret_parameters(url: str, shown: str) -> None:
    """Passwords in the user info and secret-looking query values become ***."""
    assert redact_url(url) == shown


def test_a_dir_url_with_a_query_or_a_fragment_is_refused(tmp_path: Path) -> None:
    """Either one alone is refused: neither means anything to a folder remote."""
    for url in (f"dir://{tmp_path}?x=1", f"dir://{tmp_path}#part"):
        with pytest.raises(ConfigError, match="three slashes"):
            open_remote(url)


def test_a_dir_url_on_localhost_names_the_local_folder(tmp_path: Path) -> None:
    """``dir://localhost/abs/path`` is the file-URL spelling of ``dir:///abs/path``."""
    remote = open_remote(f"dir://localhost{tmp_path}")
    assert isinstance(remote, DirRemote) and remote.root == tmp_path


def test_the_connection_string_is_read_from_the_environment_given_not_the_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The agent passes its environment's layers: a value only in the process is not used,
    and the one given is (here a malformed one, refused before any connection)."""
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", "from the process")
    with pytest.raises(ConfigError, match="AZURE_STORAGE_CONNECTION_STRING is not set"):
        open_remote("azure-blob://ctx", environ={})
    monkeypatch.delenv("AZURE_STORAGE_CONNECTION_STRING")
    given = {"AZURE_STORAGE_CONNECTION_STRING": "not a connection string"}
    with pytest.raises(ConfigError, match="is not a valid Azure Storage connection string"):
        open_remote("azure-blob://ctx", environ=given)


def test_a_folder_that_cannot_be_checked_is_not_called_a_git_repository(tmp_path: Path) -> None:
    """A name too long to look into is refused for what it is, with the system's reason."""
    with pytest.raises(RemoteError, match=r"cannot create the dir remote.*File name too long"):
        open_remote(str(tmp_path / ("n" * 300)))


def test_without_an_environment_given_the_process_environment_is_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``open_remote(url)`` called on its own (a script, a user's test) reads the settings a
    backend needs from the process (here a malformed connection string, refused before any
    connection)."""
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", "not a connection string")
    with pytest.raises(ConfigError, match="is not a valid Azure Storage connection string"):
        open_remote("azure-blob://ctx")


def test_a_backend_error_hides_each_secret_and_its_url_quoted_form_however_short() -> None:
    """What a server says back may quote the password, as given or percent-encoded (``/`` and
    ``@`` too): each becomes ``***``, down to three characters; an empty or two-character
    "secret" is not searched for, so the message stays readable."""
    text = "pw abc, p%2Fq%40r and p/q@r refused; ab stays"
    assert scrub(text, ["", "ab", "abc", "p/q@r"]) == "pw ***, *** and *** refused; ab stays"
