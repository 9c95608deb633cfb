"""``git`` backend: the key layout committed as a tree on one branch of any git remote.

Driven through the git CLI. A bare cache clone (one per remote URL and branch, under the
cache dir) holds what was fetched. Reads of write-once keys come from the cache, fetching
only when a key is not there yet; reads of mutable keys (heads, meta) and listings fetch first.

Writes are buffered and become one commit per flush, built with ``git fast-import`` on the
fetched tip and pushed without force. A rejected push (someone else pushed first) means: fetch,
re-check the conditions on the new tip, rebuild the commit and retry. That never conflicts
textually, because machines only add write-once files and rewrite their own head; a head that
moved under us is a ``CasConflict``, a write-once key with other bytes an ``ObjectConflict``.
The etag is the git blob id of the value.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import os
import re
import subprocess
import time
import uuid
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import IO
from urllib.parse import unquote, urlsplit, urlunsplit

import structlog

from agents.core.errors import ConfigError
from agents.core.retry import RetryPolicy
from agents.sync.git_cat import PIPE_BYTES, cat_blobs
from agents.sync.keys import is_key, is_mutable
from agents.sync.remote import CasConflict, Entry, ObjectConflict, Remote, RemoteError, scrub

__all__ = ["GitRemote", "blob_id"]

log = structlog.get_logger("agents.sync.git")

TRACK = "refs/agents-sync/remote"
PENDING = "refs/agents-sync/pending"
MAX_ATTEMPTS = 40
# A lost push race is retried at once on the new tip: the conditions are re-checked each time,
# so repeating is safe; short jittered waits keep racing machines from colliding in step.
PUSH_POLICY = RetryPolicy(attempts=MAX_ATTEMPTS, first=0.01, cap=0.5, jitter=0.02)
NETWORK_TIMEOUT = 300.0
_NO_GIT = "the git backend needs the git command; install git"
CAT_TIMEOUT = 120.0  # seconds the cache clone's cat-file may take to give the next object
_BRANCH = re.compile(r"^(?!-)(?!.*\.\.)(?!.*//)[A-Za-z0-9._/-]+(?<!\.lock)(?<![/.])$")
_RETRYABLE = ("fetch first", "non-fast-forward", "lock", "failed to update ref", "expected")


def blob_id(data: bytes) -> str:
    """The git blob id (SHA-1 object format) of ``data``: the etag of a value in a git remote."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


class GitRemote(Remote):
    """A remote kept as commits on one branch of a git repository."""

    scheme = "git"

    def __init__(
        self,
        url: str,
        *,
        branch: str,
        cache_dir: Path,
        display_url: str,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        super().__init__(display_url)
        self.url = url
        self.branch = branch
        self.cache = cache_dir
        self._secrets = tuple(s for s in (password,) if s)
        self._lock_fd: int | None = None
        self._puts: dict[str, bytes] = {}
        self._deletes: set[str] = set()
        self._cas_op: tuple[str, bytes, str | None] | None = None
        self._tree_cache: tuple[str | None, dict[str, str]] = ("", {})
        self._sizes: dict[str, int] = {}  # key -> blob size, from the cached tree
        with self._locked():
            self._env = _git_env(username, password, cache_dir)
            if not (cache_dir / "HEAD").exists():
                self._git("init", "--quiet", "--bare", str(cache_dir), bare=False)

    @classmethod
    def from_url(cls, url: str, *, cache_dir: Path | None = None) -> GitRemote:
        """Parse ``git+<transport>://…[#branch=<name>]`` (see ``docs/sync-remotes.md``)."""
        parts = urlsplit(url)
        transport = parts.scheme.lower().removeprefix("git+")
        branch = "main"
        if parts.fragment:
            key, _, value = parts.fragment.partition("=")
            if key != "branch" or not value:
                raise ConfigError(
                    f"CONTEXT_REMOTE: unknown fragment #{parts.fragment} in a git URL; "
                    "the only one is #branch=<name>"
                )
            branch = value
        if not _BRANCH.match(branch):
            raise ConfigError(f"CONTEXT_REMOTE: {branch!r} is not a valid git branch name")
        try:
            _ = parts.port
        except ValueError:
            raise ConfigError(
                "CONTEXT_REMOTE: a git+ssh URL has the form git+ssh://user@host/path/repo.git "
                "(a '/' after the host, not the ':' of scp-style addresses)"
            ) from None
        username = unquote(parts.username) if parts.username else None
        password = unquote(parts.password) if parts.password else None
        if transport == "file":
            if parts.netloc not in ("", "localhost") or not parts.path.startswith("/"):
                raise ConfigError(
                    "CONTEXT_REMOTE: a local git remote is git+file:///absolute/path/repo.git"
                )
        elif not parts.hostname:
            raise ConfigError(f"CONTEXT_REMOTE: a git+{transport} URL needs a host")
        if password and transport == "ssh":
            raise ConfigError(
                "CONTEXT_REMOTE: git+ssh URLs cannot carry a password; use an SSH key "
                "(ssh-agent or ~/.ssh/config)"
            )
        netloc = parts.netloc.rsplit("@", 1)[-1]
        if parts.username:
            netloc = f"{parts.username}@{netloc}"
        clean = urlunsplit((transport, netloc, parts.path, parts.query, ""))
        shown = clean if branch == "main" else f"{clean}#branch={branch}"
        if password:
            shown = shown.replace(f"{parts.username}@", f"{parts.username}:***@", 1)
        if cache_dir is None:
            base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
            digest = hashlib.sha256(f"{clean}#{branch}".encode()).hexdigest()[:16]
            cache_dir = base / "claude-agents" / "git-remotes" / digest
        return cls(
            clean,
            branch=branch,
            cache_dir=cache_dir,
            display_url=f"git+{shown}",
            username=username,
            password=password,
        )

    # --- reads ---------------------------------------------------------------------------

    def _get(self, key: str) -> Entry | None:
        return self._get_many([key]).get(key)

    def _get_many(self, keys: list[str]) -> dict[str, Entry]:
        found: dict[str, Entry] = {}
        wanted: list[str] = []
        for key in keys:
            # a buffered cas is never seen here: ``cas`` pushes it before it returns
            if key in self._puts:
                found[key] = Entry(self._puts[key], blob_id(self._puts[key]))
            elif key not in self._deletes:
                wanted.append(key)
        if not wanted:
            return found
        fetched = any(is_mutable(k) for k in wanted)
        tree = self._tree(self._fetch() if fetched else self._tip())
        if not fetched and any(k not in tree for k in wanted):
            tree = self._tree(self._fetch())
        ids = {k: tree[k] for k in wanted if k in tree and self.fits(k, self._sizes.get(k, 0))}
        blobs = self._cat(sorted(set(ids.values())))
        found.update({k: Entry(blobs[sha], sha) for k, sha in ids.items()})
        return found

    def _list(self, prefix: str) -> Iterator[str]:
        return self._keys(self._tree(self._fetch()), prefix)

    def _keys(self, tree: dict[str, str], prefix: str) -> Iterator[str]:
        keys = (set(tree) | set(self._puts)) - self._deletes
        return (k for k in keys if k.startswith(prefix) and is_key(k))

    def _scan(self, prefix: str) -> Iterator[tuple[str, Entry]]:
        """The keys :meth:`list` gives, their blobs read by one ``cat-file`` for the whole
        scan (a restore reads every object), which inflates ahead of the caller."""
        tree = self._tree(self._fetch())
        keys = sorted(self._keys(tree, prefix))
        puts = {k: self._puts[k] for k in keys if k in self._puts}
        wanted = [
            k for k in keys if k not in puts and k in tree and self.fits(k, self._sizes.get(k, 0))
        ]
        with contextlib.closing(self._cat_each([tree[k] for k in wanted])) as blobs:
            read = set(wanted)
            for key in keys:
                if key in puts:
                    yield key, Entry(puts[key], blob_id(puts[key]))
                elif key in read:
                    sha, data = next(blobs)
                    yield key, Entry(data, sha)

    # --- writes --------------------------------------------------------------------------

    def _put_many(self, items: list[tuple[str, bytes]]) -> None:
        for key, data in items:
            if self._puts.get(key, data) != data:
                raise ObjectConflict(key)
            self._puts[key] = data
            self._deletes.discard(key)

    def _cas(self, key: str, data: bytes, expected: str | None) -> str:
        self._cas_op = (key, data, expected)
        return blob_id(data)

    def _delete(self, key: str) -> None:
        self._puts.pop(key, None)
        self._deletes.add(key)

    def _abort(self) -> None:
        self._puts, self._deletes, self._cas_op = {}, set(), None

    def flush(self) -> None:
        """Commit every buffered write on the remote's tip and push it (retrying on races)."""
        if not (self._puts or self._deletes or self._cas_op):
            return
        try:
            with self._locked():
                self._push_pending()
        finally:
            self._abort()

    def _push_pending(self) -> None:
        def attempt() -> bool:
            """Rebuild the commit on the current tip and push it; False when the push lost a
            race (the tip moved), so the shared policy tries again after a short backoff."""
            tip = self._fetch()
            tree = self._tree(tip)
            changes: dict[str, bytes | None] = {}
            for key, data in self._puts.items():
                have = tree.get(key)
                if have is None:
                    changes[key] = data
                elif have != blob_id(data):
                    raise ObjectConflict(key)
            changes.update({k: None for k in self._deletes if k in tree})
            conflict = None
            if self._cas_op:
                key, data, expected = self._cas_op
                if tree.get(key) != expected:
                    conflict = CasConflict(key, tree.get(key), expected)
                elif expected != blob_id(data):
                    changes[key] = data
            if changes:
                commit = self._commit(tip, changes)
                if not self._push(commit):
                    return False
                self._git("update-ref", TRACK, commit)
            if conflict:
                raise conflict
            return True

        pushed, _ = PUSH_POLICY.call_sync(
            attempt,
            retry_on=lambda ok: not ok,
            on_retry=lambda n, _: log.debug(
                "git_push_rejected", remote=self.display_url, attempt=n
            ),
        )
        if not pushed:
            raise RemoteError(
                f"{self.display_url}: the branch {self.branch!r} kept moving; gave up after "
                f"{MAX_ATTEMPTS} attempts to push (try again)"
            )

    def _commit(self, tip: str | None, changes: dict[str, bytes | None]) -> str:
        added = sum(1 for v in changes.values() if v is not None)
        heads = [k for k in changes if is_mutable(k)]
        message = f"sync: {added} written, {len(changes) - added} removed"
        if heads:
            message += f"; {', '.join(heads)}"
        # a nonce makes every commit unique: two writers making the same change on the same
        # tip would otherwise build the same commit, and the second push would "succeed"
        msg = f"{message}\n\nSync-Id: {uuid.uuid4().hex}\n".encode()
        stream = [
            f"reset {PENDING}\ncommit {PENDING}\n".encode(),
            f"committer agents-sync <agents-sync@localhost> {int(time.time())} +0000\n".encode(),
            b"data %d\n%s\n" % (len(msg), msg),
            f"from {tip}\n".encode() if tip else b"",
        ]
        for key, data in changes.items():
            if data is None:
                stream.append(f"D {key}\n".encode())
            else:
                stream.append(
                    b"M 100644 inline %s\ndata %d\n%s\n" % (key.encode(), len(data), data)
                )
        stream.append(b"\n")
        self._git("fast-import", "--quiet", "--force", input=b"".join(stream))
        return self._git("rev-parse", "--verify", PENDING).decode().strip()

    def _push(self, commit: str) -> bool:
        proc = self._run(
            "push", "--porcelain", "--quiet", self.url, f"{commit}:refs/heads/{self.branch}",
            timeout=NETWORK_TIMEOUT,
        )  # fmt: skip
        if proc.returncode == 0:
            return True
        out = proc.stdout.decode(errors="replace")
        rejected = [line for line in out.splitlines() if line.startswith("!")]
        if rejected and all(any(r in line for r in _RETRYABLE) for line in rejected):
            return False
        raise self._error("push", proc)

    # --- git plumbing --------------------------------------------------------------------

    def _fetch(self) -> str | None:
        with self._locked():
            proc = self._run(
                "fetch", "--quiet", "--no-tags", "--no-write-fetch-head", self.url,
                f"+refs/heads/{self.branch}:{TRACK}", timeout=NETWORK_TIMEOUT,
            )  # fmt: skip
            if proc.returncode != 0:
                if b"couldn't find remote ref" not in proc.stderr:
                    raise self._error("fetch", proc)
                self._git("update-ref", "-d", TRACK)
            return self._tip()

    def _tip(self) -> str | None:
        proc = self._run("rev-parse", "--verify", "--quiet", f"{TRACK}^{{commit}}")
        return proc.stdout.decode().strip() or None

    def _tree(self, tip: str | None) -> dict[str, str]:
        if tip is None:
            return {}
        if self._tree_cache[0] == tip:
            return self._tree_cache[1]
        tree: dict[str, str] = {}
        sizes: dict[str, int] = {}
        for record in self._git("ls-tree", "-r", "-l", "-z", "--full-tree", tip).split(b"\0"):
            if record:
                meta, path = record.split(b"\t", 1)
                _mode, kind, sha, size = meta.decode().split()
                if kind == "blob":
                    if not size.isdigit():  # git's "BAD": the object cannot be read
                        raise self._damaged(sha)
                    name = path.decode("utf-8", "replace")
                    tree[name] = sha
                    sizes[name] = int(size)
        self._tree_cache = (tip, tree)
        self._sizes = sizes
        return tree

    def _cat(self, shas: list[str]) -> dict[str, bytes]:
        return dict(self._cat_each(shas))

    def _cat_each(self, shas: list[str]) -> Generator[tuple[str, bytes]]:
        def start(errors: IO[bytes]) -> subprocess.Popen[bytes]:
            try:
                return subprocess.Popen(
                    self._argv("cat-file", "--batch"), stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE, stderr=errors, env=self._env, bufsize=PIPE_BYTES,
                )  # fmt: skip
            except FileNotFoundError:
                raise RemoteError(_NO_GIT) from None

        return cat_blobs(
            start,
            shas,
            damaged=self._damaged,
            failed=functools.partial(self._failed, "cat-file"),
            timeout=CAT_TIMEOUT,
        )

    def _damaged(self, sha: str) -> RemoteError:
        return RemoteError(
            f"{self.display_url}: object {sha} missing from the cache clone {self.cache}; "
            "delete that folder and sync again (it is fetched anew)"
        )

    def _run(
        self,
        *args: str,
        input: bytes | None = None,
        timeout: float = 120.0,
        bare: bool = True,
    ) -> subprocess.CompletedProcess[bytes]:
        argv = self._argv(*args) if bare else ["git", *args]
        # no stdin: a prompt for credentials must fail, not wait (under supervisord, forever)
        stdin = subprocess.DEVNULL if input is None else None
        try:
            return subprocess.run(
                argv, input=input, stdin=stdin, capture_output=True, env=self._env,
                timeout=timeout, check=False,
            )  # fmt: skip
        except FileNotFoundError:
            raise RemoteError(_NO_GIT) from None
        except subprocess.TimeoutExpired:
            raise RemoteError(
                f"{self.display_url}: git {args[0]} did not finish within {timeout:.0f}s"
            ) from None

    def _git(self, *args: str, input: bytes | None = None, bare: bool = True) -> bytes:
        proc = self._run(*args, input=input, bare=bare)
        if proc.returncode != 0:
            raise self._error(args[0], proc)
        return proc.stdout

    def _argv(self, *args: str) -> list[str]:
        """A git command line run in the cache clone."""
        return ["git", "--git-dir", str(self.cache), *args]

    def _error(self, what: str, proc: subprocess.CompletedProcess[bytes]) -> RemoteError:
        return self._failed(what, (proc.stderr or proc.stdout).decode(errors="replace").strip())

    def _failed(self, what: str, reason: str) -> RemoteError:
        """git ``what`` failed for ``reason`` (git's own words, secrets scrubbed)."""
        return RemoteError(f"{self.display_url}: git {what} failed: {scrub(reason, self._secrets)}")

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Serialise this cache clone between processes (re-entrant within one object)."""
        if self._lock_fd is not None:
            yield
            return
        self.cache.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self.cache / "agents-sync.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._lock_fd = fd
            yield
        finally:
            self._lock_fd = None
            os.close(fd)


_ASKPASS = """#!/bin/sh
case "$1" in
    Username*) printf '%s\\n' "$AGENTS_SYNC_GIT_USERNAME" ;;
    *) printf '%s\\n' "$AGENTS_SYNC_GIT_PASSWORD" ;;
esac
"""


# the variables that point git at a repository (``git rev-parse --local-env-vars``, git
# 2.39): git sets them for its hooks and aliases, so an ``agents sync`` run from a hook would
# otherwise init, fetch and write objects in the user's repository, not the cache clone
_REPOSITORY_VARIABLES = frozenset(
    {
        "GIT_ALTERNATE_OBJECT_DIRECTORIES",
        "GIT_CONFIG",
        "GIT_CONFIG_PARAMETERS",
        "GIT_CONFIG_COUNT",
        "GIT_OBJECT_DIRECTORY",
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_IMPLICIT_WORK_TREE",
        "GIT_GRAFT_FILE",
        "GIT_INDEX_FILE",
        "GIT_NO_REPLACE_OBJECTS",
        "GIT_REPLACE_REF_BASE",
        "GIT_PREFIX",
        "GIT_INTERNAL_SUPER_PREFIX",
        "GIT_SHALLOW_FILE",
        "GIT_COMMON_DIR",
    }
)


def _git_env(username: str | None, password: str | None, cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _REPOSITORY_VARIABLES}
    env.update(GIT_TERMINAL_PROMPT="0", LC_ALL="C", LANGUAGE="C")
    if password:
        # the password reaches git through GIT_ASKPASS from the environment, never on a
        # command line or in a file; credential helpers are switched off so that git neither
        # prefers a stored password nor stores ours (the "store" helper writes plain text)
        env.update(
            GIT_CONFIG_COUNT="1", GIT_CONFIG_KEY_0="credential.helper", GIT_CONFIG_VALUE_0=""
        )
        askpass = cache / "askpass.sh"
        if not askpass.exists() or askpass.read_text() != _ASKPASS:
            askpass.write_text(_ASKPASS)
            askpass.chmod(0o700)
        env.update(
            GIT_ASKPASS=str(askpass),
            AGENTS_SYNC_GIT_USERNAME=username or "",
            AGENTS_SYNC_GIT_PASSWORD=password,
        )
    return env
