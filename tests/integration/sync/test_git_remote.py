"""The git remote beyond the shared suite and the backend tests: batches buffered until
their flush, what each commit says, reads served from the cache clone, hostile branches,
servers that hang and caches that were damaged, and a password that reaches git only
through the askpass script (never a credential helper's store)."""

from __future__ import annotations

import base64
import fcntl
import hashlib
import http.server
import os
import shutil
import stat
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_mock import MockerFixture

from agents.sync.git_remote import GitRemote, blob_id
from agents.sync.keys import head_key, object_key
from agents.sync.remote import Entry, ObjectConflict, RemoteError
from agents.sync.urls import open_remote
from tests.fakes.base import QuietHandler, challenge_basic, loopback
from tests.servers import bare_git_repo, git_out

pytestmark = pytest.mark.integration

H = hashlib.sha256(b"x").hexdigest()
Y = hashlib.sha256(b"y").hexdigest()
Z = hashlib.sha256(b"z").hexdigest()


def _git_remote(tmp_path: Path, cache: str = "cache") -> GitRemote:
    if not (tmp_path / "r.git").exists():
        bare_git_repo(tmp_path / "r.git")
    remote = open_remote(f"git+file://{tmp_path / 'r.git'}", cache_dir=tmp_path / cache)
    assert isinstance(remote, GitRemote)
    return remote


def test_git_batch_keeps_the_later_of_a_put_and_a_delete_of_the_same_key(tmp_path: Path) -> None:
    """Buffered writes of one batch: a delete after a put removes the key, a put after a
    delete keeps it, both before the flush and in the commit that the flush pushes."""
    remote = _git_remote(tmp_path)
    kept, dropped = object_key(H), object_key(Y)
    remote.put_many([(kept, b"x")])
    with remote.batch():
        remote.delete(kept)
        remote.put_many([(kept, b"x")])
        remote.put_many([(dropped, b"y")])
        remote.delete(dropped)
        assert remote.list("objects/") == [kept]
        assert remote.get(kept) == (b"x", blob_id(b"x"))
        assert remote.get(dropped) is None
    files = git_out(tmp_path / "r.git", "ls-tree", "-r", "--name-only", "main").split()
    assert files == [kept]


def test_git_batch_refuses_one_key_given_two_different_values(tmp_path: Path) -> None:
    """A write-once key written twice with other bytes in one batch is an ObjectConflict
    naming the key, and nothing of that batch reaches the remote."""
    remote = _git_remote(tmp_path)
    key = object_key(H)
    with pytest.raises(ObjectConflict) as conflict, remote.batch():
        remote.put_many([(key, b"x")])
        remote.put_many([(key, b"not x")])
    assert conflict.value.key == key
    assert remote.list() == []


def test_git_commit_message_counts_the_writes_and_removals_and_names_the_heads(
    tmp_path: Path,
) -> None:
    """``git log`` of the remote says what each sync commit did: how many keys it wrote and
    removed, and which heads moved or went."""
    remote = _git_remote(tmp_path)
    old = object_key(hashlib.sha256(b"old").hexdigest())
    remote.put_many([(old, b"old")])
    remote.cas(head_key("m2"), b"h2", None)
    with remote.batch():
        remote.put_many([(object_key(H), b"x"), (object_key(Y), b"y")])
        remote.delete(old)
        remote.delete(head_key("m2"))
        remote.cas(head_key("m1"), b"h1", None)
    subjects = git_out(tmp_path / "r.git", "log", "--format=%s", "main").splitlines()
    assert subjects == [
        f"sync: 3 written, 2 removed; {head_key('m2')}, {head_key('m1')}",
        f"sync: 1 written, 0 removed; {head_key('m2')}",
        "sync: 1 written, 0 removed",
    ]


def test_git_push_to_a_server_that_hangs_fails_after_the_network_timeout(
    tmp_path: Path, mocker: MockerFixture
) -> None:
    """A push the server never answers (here a hook that sleeps) is stopped after the network
    timeout with a clear error, instead of holding the sync loop forever."""
    remote = _git_remote(tmp_path)
    hook = tmp_path / "r.git" / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\nsleep 20\n")
    hook.chmod(0o755)
    mocker.patch("agents.sync.git_remote.NETWORK_TIMEOUT", 3.0)
    with pytest.raises(RemoteError, match="git push did not finish within 3s"):
        remote.put_many([(object_key(H), b"x")])


def test_git_reads_of_write_once_keys_come_from_the_cache_clone_and_heads_are_fetched(
    tmp_path: Path, mocker: MockerFixture
) -> None:
    """An object already in the cache clone is read without a fetch (objects never change);
    a missing object and any head are fetched once, since another machine may have moved."""
    remote = _git_remote(tmp_path)
    remote.put_many([(object_key(H), b"x")])
    fetches = mocker.spy(remote, "_fetch")
    assert remote.get(object_key(H)) == (b"x", blob_id(b"x"))
    assert fetches.call_count == 0
    assert remote.get(object_key(Y)) is None
    assert fetches.call_count == 1
    assert remote.get(head_key("m1")) is None
    assert fetches.call_count == 2


def test_git_reads_at_one_commit_list_its_tree_once(tmp_path: Path, mocker: MockerFixture) -> None:
    """A pull reads many objects at the same commit: git lists the tree once for all of them,
    and again only once the commit has moved."""
    remote = _git_remote(tmp_path)
    remote.put_many([(object_key(H), b"x"), (object_key(Y), b"y")])
    reader = _git_remote(tmp_path, "reader")
    git = mocker.spy(reader, "_git")

    def listings() -> int:
        return sum(1 for call in git.call_args_list if call.args[0] == "ls-tree")

    assert reader.get(object_key(H)) == (b"x", blob_id(b"x"))
    assert reader.get(object_key(Y)) == (b"y", blob_id(b"y"))
    assert reader.get_many([object_key(H), object_key(Y)]).keys() == {object_key(H), object_key(Y)}
    assert listings() == 1
    remote.put_many([(object_key(Z), b"z")])
    assert reader.get(object_key(Z)) == (b"z", blob_id(b"z"))
    assert listings() == 2


def test_git_object_over_the_limit_is_left_out_unread_and_named(tmp_path: Path) -> None:
    """A blob over SYNC_MAX_OBJECT_BYTES (its size read from the tree) is not read, and the
    remote says which key it left out, so the pull can quarantine it."""
    remote = _git_remote(tmp_path)
    big, small = object_key(H), object_key(Y)
    remote.put_many([(big, b"x" * 100), (small, b"y")])
    reader = _git_remote(tmp_path, "reader")
    reader.max_bytes = 50
    assert reader.get_many([big, small]) == {small: (b"y", blob_id(b"y"))}
    assert list(reader.refused) == [big] and "100 bytes" in reader.refused[big]


def test_git_branch_holding_file_names_that_are_no_keys_still_lists_and_reads_its_keys(
    tmp_path: Path,
) -> None:
    """Another tool (or a hostile writer) commits files whose names hold tabs or bytes that
    are not UTF-8: they are no keys, and the remote lists and reads its own keys regardless."""
    remote = _git_remote(tmp_path)
    remote.put_many([(object_key(H), b"x")])
    tip = git_out(tmp_path / "r.git", "rev-parse", "main").strip()
    stream = (
        b"commit refs/heads/main\ncommitter x <x@x> 0 +0000\ndata 4\njunk\n"
        + f"from {tip}\n".encode()
        + b'M 100644 inline "a\\tb\\tc"\ndata 1\nt\n'
        + b'M 100644 inline "caf\\351"\ndata 1\nu\n\n'
    )
    subprocess.run(
        ["git", "--git-dir", str(tmp_path / "r.git"), "fast-import", "--quiet"],
        input=stream,
        capture_output=True,
        check=True,
    )
    reader = _git_remote(tmp_path, "reader")
    assert reader.list() == [object_key(H)]
    assert reader.get(object_key(H)) == (b"x", blob_id(b"x"))


def test_git_cache_clone_missing_an_object_is_a_clear_error(tmp_path: Path) -> None:
    """An object deleted from the cache clone (a disk cleaner, a damaged copy) fails the read
    with a RemoteError saying what to do, not a crash, whether or not the tree naming it was
    read before the damage."""
    remote = _git_remote(tmp_path)
    remote.put_many([(object_key(H), b"x")])
    reader = _git_remote(tmp_path, "reader")
    assert reader.get(object_key(H)) is not None
    sha = blob_id(b"x")
    loose = tmp_path / "reader" / "objects" / sha[:2] / sha[2:]
    assert loose.exists()
    loose.unlink()
    with pytest.raises(RemoteError, match=f"object {sha} missing from the cache clone"):
        reader.get(object_key(H))
    fresh = _git_remote(tmp_path, "reader")  # another process: the tree is read anew
    with pytest.raises(RemoteError, match=f"object {sha} missing .* delete that folder"):
        fresh.get(object_key(H))  # git lists its size as BAD: the object named all the same


@pytest.fixture(name="hanging_server")
def _hanging_server() -> Iterator[str]:
    """A git HTTP host that accepts connections and never answers (until the test ends)."""
    release = threading.Event()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            release.wait(30)

        def log_message(self, *_: object) -> None:
            pass

    with loopback(Handler) as server:
        yield f"127.0.0.1:{server.port}"
        release.set()


def test_git_fetch_from_a_server_that_hangs_fails_after_the_network_timeout(
    tmp_path: Path, hanging_server: str, mocker: MockerFixture
) -> None:
    """A fetch the server never answers is stopped after the network timeout with a clear
    error, so a sync loop is never held by one unresponsive host."""
    mocker.patch("agents.sync.git_remote.NETWORK_TIMEOUT", 3.0)
    url = f"git+http://{hanging_server}/team/ctx.git"
    remote = open_remote(url, cache_dir=tmp_path / "cache")
    with pytest.raises(RemoteError, match="git fetch did not finish within 3s"):
        remote.list()


PASSWORD = "s3cr3t-Pa55"


@pytest.fixture(name="auth_git_host")
def _auth_git_host(tmp_path: Path) -> Iterator[str]:
    """A git host over git's dumb HTTP protocol: a bare repository holding one head, served
    only to alice with ``PASSWORD`` (401 otherwise)."""
    root = tmp_path / "host"
    repo = root / "ctx.git"
    bare_git_repo(repo)
    with open_remote(f"git+file://{repo}", cache_dir=tmp_path / "seed") as seed:
        seed.cas(head_key("m1"), b"h1", None)
    git_out(repo, "update-server-info")
    expected = "Basic " + base64.b64encode(f"alice:{PASSWORD}".encode()).decode()

    class Handler(QuietHandler, http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(root), **kwargs)

        def do_GET(self) -> None:
            if self.headers.get("Authorization") == expected:
                super().do_GET()
            else:
                challenge_basic(self)

    with loopback(Handler) as server:
        yield f"127.0.0.1:{server.port}"


def test_git_password_of_the_url_wins_over_a_stored_one_and_is_never_stored(
    tmp_path: Path, auth_git_host: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The user's git has the ``store`` credential helper holding an old password for the
    host: the URL's password is the one sent (through askpass), and git neither erases the old
    entry nor writes the new password into the helper's plain-text file."""
    creds = tmp_path / "git-credentials"
    stored = f"http://alice:old-password@{auth_git_host}\n"
    creds.write_text(stored)
    (tmp_path / "gitconfig").write_text(f"[credential]\n\thelper = store --file {creds}\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "gitconfig"))
    url = f"git+http://alice:{PASSWORD}@{auth_git_host}/ctx.git"
    with open_remote(url, cache_dir=tmp_path / "cache") as remote:
        assert remote.list() == [head_key("m1")]
        assert remote.get(head_key("m1")) == (b"h1", blob_id(b"h1"))
    assert creds.read_text() == stored


def test_git_askpass_script_changed_in_the_cache_is_rewritten_before_git_runs_it(
    tmp_path: Path, auth_git_host: str
) -> None:
    """The script that hands git the password is the cache clone's ``askpass.sh``, runnable
    by its owner only; if anything changed it since, opening the remote writes it again, so a
    planted script never receives the password."""
    url = f"git+http://alice:{PASSWORD}@{auth_git_host}/ctx.git"
    askpass = tmp_path / "cache" / "askpass.sh"
    open_remote(url, cache_dir=tmp_path / "cache").close()
    script = askpass.read_text()
    assert stat.S_IMODE(askpass.stat().st_mode) == 0o700 and PASSWORD not in script
    askpass.write_text('#!/bin/sh\necho "$AGENTS_SYNC_GIT_PASSWORD" > "$0.leak"\necho nope\n')
    with open_remote(url, cache_dir=tmp_path / "cache") as remote:
        assert askpass.read_text() == script
        assert remote.list() == [head_key("m1")]
    assert not (tmp_path / "cache" / "askpass.sh.leak").exists()


def test_git_branch_deleted_on_the_server_reads_as_an_empty_remote(tmp_path: Path) -> None:
    """Someone deleted the branch after this machine fetched it: the next read finds no keys
    (the tracking ref is dropped), never the keys of the last fetch."""
    remote = _git_remote(tmp_path)
    remote.cas(head_key("m1"), b"h1", None)
    reader = _git_remote(tmp_path, "reader")
    assert reader.list() == [head_key("m1")]
    git_out(tmp_path / "r.git", "update-ref", "-d", "refs/heads/main")
    assert reader.list() == []
    assert reader.get(head_key("m1")) is None


def test_git_command_that_fails_in_the_cache_clone_is_an_error_naming_it_and_gits_reason(
    tmp_path: Path,
) -> None:
    """The tree of the fetched tip deleted from the cache clone: ``git ls-tree`` fails, and
    the error names the remote, the git command and what git said."""
    remote = _git_remote(tmp_path)
    remote.cas(head_key("m1"), b"h1", None)
    reader = _git_remote(tmp_path, "reader")
    tip = reader._fetch()
    assert tip is not None
    tree = git_out(tmp_path / "reader", "rev-parse", f"{tip}^{{tree}}").strip()
    (tmp_path / "reader" / "objects" / tree[:2] / tree[2:]).unlink()
    fresh = _git_remote(tmp_path, "reader")
    with pytest.raises(RemoteError) as raised:
        fresh.list()
    assert str(raised.value).startswith(f"{fresh.display_url}: git ls-tree failed: fatal: ")


def test_without_git_installed_a_git_remote_says_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(RemoteError) as raised:
        open_remote(f"git+file://{tmp_path / 'r.git'}", cache_dir=tmp_path / "cache")
    assert str(raised.value) == "the git backend needs the git command; install git"


def test_git_cache_clone_is_used_by_one_process_at_a_time(tmp_path: Path) -> None:
    """Another process (a sync loop and an ``agents sync`` run share the cache clone) holds
    the clone's lock: a read waits for it, then goes ahead."""
    remote = _git_remote(tmp_path)
    remote.cas(head_key("m1"), b"h1", None)
    reader = _git_remote(tmp_path, "reader")
    fd = os.open(tmp_path / "reader" / "agents-sync.lock", os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)
    got: list[list[str]] = []
    worker = threading.Thread(target=lambda: got.append(reader.list()), daemon=True)
    try:
        worker.start()
        worker.join(1.0)
        assert worker.is_alive() and got == [], "the read did not wait for the lock"
    finally:
        os.close(fd)
    worker.join(60)
    assert got == [[head_key("m1")]]


def test_git_scan_reads_every_object_through_one_cat_file_in_key_order(
    tmp_path: Path, mocker: MockerFixture
) -> None:
    """A scan (a restore reads every object this way) starts one ``git cat-file`` for all its
    keys, not one per page, and yields each key with its bytes and blob id in key order."""
    remote = _git_remote(tmp_path)
    values = {object_key(hashlib.sha256(b"%d" % i).hexdigest()): b"v%d" % i for i in range(25)}
    remote.put_many(values.items())
    remote.cas(head_key("m1"), b"h", None)
    reader = _git_remote(tmp_path, "reader")
    mocker.patch("agents.sync.remote.SCAN_CHUNK", 7)  # the generic scan would read 4 pages
    popen = mocker.spy(subprocess, "Popen")
    scanned = list(reader.scan("objects/"))
    assert [k for k, _ in scanned] == sorted(values)
    assert all(entry == (values[k], blob_id(values[k])) for k, entry in scanned)
    assert [c.args[0][3:] for c in popen.call_args_list if "cat-file" in c.args[0]] == [
        ["cat-file", "--batch"]
    ]


def test_git_scan_of_a_cache_clone_missing_an_object_fails_naming_it_and_stops_git(
    tmp_path: Path, mocker: MockerFixture
) -> None:
    """An object deleted from the cache clone under a scan's key fails the scan with the
    clone's RemoteError (the objects before it were yielded), and no git is left running."""
    remote = _git_remote(tmp_path)
    values = {object_key(hashlib.sha256(b"%d" % i).hexdigest()): b"v%d" % i for i in range(5)}
    remote.put_many(values.items())
    reader = _git_remote(tmp_path, "reader")
    assert len(reader.list("objects/")) == 5
    third = sorted(values)[2]
    sha = blob_id(values[third])
    (tmp_path / "reader" / "objects" / sha[:2] / sha[2:]).unlink()
    popen = mocker.spy(subprocess, "Popen")
    got: list[str] = []
    with pytest.raises(RemoteError, match=f"object {sha} missing from the cache clone"):
        got.extend(k for k, _ in reader.scan("objects/"))
    assert got == sorted(values)[:2]
    assert popen.spy_return.returncode is not None


def test_git_scan_left_early_stops_its_cat_file(tmp_path: Path, mocker: MockerFixture) -> None:
    """A caller that stops reading a scan halfway (an error in the pull) leaves no git
    process behind, though git was still blocked writing the objects nobody took (3.6 MB:
    more than the pipe and the read-ahead hold)."""
    remote = _git_remote(tmp_path)
    values = {
        object_key(hashlib.sha256(b"%d" % i).hexdigest()): os.urandom(300_000) for i in range(12)
    }
    remote.put_many(values.items())
    reader = _git_remote(tmp_path, "reader")
    mocker.patch("agents.sync.git_cat.AHEAD_BYTES", 1)  # one object parsed ahead, at most
    mocker.patch("agents.sync.git_cat._BATCH_BYTES", 1)
    popen = mocker.spy(subprocess, "Popen")
    scan = reader.scan("objects/")
    assert next(scan)[0] == sorted(values)[0]
    cat = popen.spy_return
    assert "cat-file" in cat.args and cat.poll() is None
    time.sleep(1)  # the reader fills the read-ahead and waits for room: it must stop waiting
    closing = threading.Thread(target=scan.close, daemon=True)
    closing.start()
    closing.join(60)
    assert not closing.is_alive(), "closing the scan waited for git"
    assert cat.returncode is not None


def test_git_scan_inside_a_batch_gives_its_buffered_writes_beside_the_remotes_values(
    tmp_path: Path,
) -> None:
    """Scanned inside a batch, a key written again (the same bytes) and a key not yet pushed
    come from the batch, and every key after them still gets its own bytes from the clone."""
    remote = _git_remote(tmp_path)
    values = {object_key(hashlib.sha256(b"%d" % i).hexdigest()): b"v%d" % i for i in range(4)}
    remote.put_many(values.items())
    first, new = sorted(values)[0], object_key("0" * 64)
    with remote.batch():
        remote.put_many([(first, values[first]), (new, b"new")])
        scanned = dict(remote.scan("objects/"))
        assert list(scanned) == sorted([*values, new])
        assert scanned == {
            new: Entry(b"new", blob_id(b"new")),
            **{k: Entry(v, blob_id(v)) for k, v in values.items()},
        }


def test_git_scan_leaves_out_an_object_over_the_limit_unread_and_names_it(tmp_path: Path) -> None:
    """A scan (how a restore reads) does not read a blob over SYNC_MAX_OBJECT_BYTES, judged
    by its size in the tree, and names the key it left out, as a read does."""
    remote = _git_remote(tmp_path)
    big, small = object_key(H), object_key(Y)
    remote.put_many([(big, b"x" * 100), (small, b"y")])
    reader = _git_remote(tmp_path, "reader")
    reader.max_bytes = 50
    assert list(reader.scan("objects/")) == [(small, Entry(b"y", blob_id(b"y")))]
    assert list(reader.refused) == [big] and "100 bytes" in reader.refused[big]


def test_git_remote_run_from_a_git_hook_leaves_the_hooks_repository_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``agents sync`` started by a git hook inherits GIT_DIR, GIT_WORK_TREE, GIT_INDEX_FILE
    (and, in a server's hook, GIT_OBJECT_DIRECTORY): the remote still clones, writes and
    reads its own cache, and writes nothing into the hook's repository."""
    user = tmp_path / "user"
    subprocess.run(["git", "init", "--quiet", str(user)], check=True)
    bare_git_repo(tmp_path / "r.git")
    before = sorted(p.name for p in (user / ".git" / "objects").iterdir())
    for name, value in {
        "GIT_DIR": user / ".git",
        "GIT_WORK_TREE": user,
        "GIT_INDEX_FILE": user / ".git" / "index",
        "GIT_OBJECT_DIRECTORY": user / ".git" / "objects",
        "GIT_PREFIX": "",
    }.items():
        monkeypatch.setenv(name, str(value))
    remote = _git_remote(tmp_path)
    remote.put_many([(object_key(H), b"x")])
    remote.cas(head_key("m1"), b"h", None)
    reader = _git_remote(tmp_path, "reader")
    assert dict(reader.scan("")) == {
        head_key("m1"): (b"h", blob_id(b"h")),
        object_key(H): (b"x", blob_id(b"x")),
    }
    assert sorted(p.name for p in (user / ".git" / "objects").iterdir()) == before


def test_git_scan_of_a_cache_clone_whose_pack_is_corrupt_fails_with_gits_own_reason(
    tmp_path: Path,
) -> None:
    """A pack in the cache clone damaged on disk makes ``git cat-file`` die mid-scan with
    "packed object … is corrupt": the scan fails with that reason, as a RemoteError naming
    the command, not as an object missing (which would hide what git said) nor a crash."""
    remote = _git_remote(tmp_path)
    big = object_key(H)
    remote.put_many([(big, os.urandom(400_000)), (object_key(Y), b"y")])
    reader = _git_remote(tmp_path, "reader")
    assert len(reader.list("objects/")) == 2
    git_out(tmp_path / "reader", "repack", "-a", "-d", "-q")
    (pack,) = (tmp_path / "reader" / "objects" / "pack").glob("*.pack")
    data = bytearray(pack.read_bytes())
    middle = len(data) // 2  # inside the 400 kB blob: the trees and commits stay readable
    data[middle : middle + 4096] = bytes(b ^ 0xFF for b in data[middle : middle + 4096])
    pack.chmod(0o644)
    pack.write_bytes(bytes(data))
    reason = r"(?s)git cat-file failed: .*packed object .* is corrupt"
    with pytest.raises(RemoteError, match=reason):
        list(reader.scan("objects/"))


def test_git_push_refused_with_a_message_not_in_utf8_is_an_error_showing_it(
    tmp_path: Path,
) -> None:
    """A server's hook may answer in any encoding (here Latin-1): the refused push is a
    RemoteError quoting what the server said, the bytes UTF-8 cannot hold replaced, never a
    decoding crash."""
    remote = _git_remote(tmp_path)
    hook = tmp_path / "r.git" / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\nprintf 'refus\\351 par la politique\\n' >&2\nexit 1\n")
    hook.chmod(0o755)
    with pytest.raises(RemoteError, match=r"git push failed: .*refus\ufffd par la politique"):
        remote.put_many([(object_key(H), b"x")])


def test_git_cat_file_that_stops_answering_fails_the_scan_after_its_timeout(
    tmp_path: Path, mocker: MockerFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ``git cat-file`` that hangs (a stuck disk, a git that never answers) fails the scan
    after the cat-file timeout instead of holding the restore, and the sync loop, forever."""
    remote = _git_remote(tmp_path)
    remote.put_many([(object_key(H), b"x")])
    real = shutil.which("git")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "git").write_text(
        f'#!/bin/sh\nfor a in "$@"; do [ "$a" = cat-file ] && exec sleep 30; done\n'
        f'exec {real} "$@"\n'
    )
    (bin_dir / "git").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    reader = _git_remote(tmp_path, "reader")  # its git environment takes this PATH
    mocker.patch("agents.sync.git_remote.CAT_TIMEOUT", 1.0)
    failed: list[BaseException] = []

    def scan() -> None:
        try:
            list(reader.scan("objects/"))
        except RemoteError as e:
            failed.append(e)

    scanning = threading.Thread(target=scan, daemon=True)
    scanning.start()
    scanning.join(20)
    assert not scanning.is_alive(), "the scan waited for a cat-file that never answers"
    assert [str(e) for e in failed] == [
        f"{reader.display_url}: git cat-file failed: cat-file did not finish within 1s"
    ]
