"""What each backend promises beyond the shared suite: sync-tool debris, commits, SQL, secrets."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import errno
import gc
import hashlib
import http.server
import os
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import psycopg
import pytest
from azure.storage.blob import ContainerClient, ContainerSasPermissions, generate_container_sas
from pytest_mock import MockerFixture
from structlog.testing import capture_logs

from agents.core.errors import ConfigError
from agents.sync.azure_remote import DEFAULT_ENV
from agents.sync.git_remote import GitRemote
from agents.sync.keys import head_key, object_key, snapshot_key
from agents.sync.pg_remote import PostgresRemote
from agents.sync.remote import CasConflict, ObjectConflict, RemoteError
from agents.sync.urls import open_remote
from tests.fakes.base import QuietHandler, challenge_basic, loopback
from tests.integration.sync.conftest import fresh_database
from tests.integration.sync.workers import objects_of, push, ulid
from tests.servers import (
    AZURITE_ACCOUNT,
    AZURITE_ACCOUNT_KEY,
    AzuriteServer,
    PostgresServer,
    bare_git_repo,
    git_out,
)

pytestmark = pytest.mark.integration

H = hashlib.sha256(b"x").hexdigest()


# --- dir ------------------------------------------------------------------------------------


def test_dir_remote_skips_sync_conflict_copies_temp_files_and_lock_files(tmp_path: Path) -> None:
    """Syncthing/Dropbox conflict copies, our temp and lock files are never listed or read."""
    remote = open_remote(str(tmp_path / "r"))
    remote.cas(head_key("m1"), b"mine", None)
    heads = tmp_path / "r" / "heads"
    (heads / "m1.sync-conflict-20261125-101010-ABCDEFG.json").write_bytes(b"theirs")
    (heads / "m1 (conflicted copy 2026-11-25).json").write_bytes(b"theirs")
    (heads / "m1 (1).json").write_bytes(b"theirs")
    (heads / ".tmp-abc123").write_bytes(b"half")
    (heads / ".syncthing.m1.json.tmp").write_bytes(b"half")
    assert remote.list() == [head_key("m1")]
    assert (tmp_path / "r" / ".locks").is_dir()
    assert remote.get(head_key("m1")).data == b"mine"  # type: ignore[union-attr]


def test_dir_remote_never_shows_a_half_written_value(tmp_path: Path) -> None:
    """A writer that died mid-write leaves only a hidden temp file: the key stays absent."""
    remote = open_remote(f"dir://{tmp_path}/r")
    folder = tmp_path / "r" / "objects" / "sha256" / H[:2]
    folder.mkdir(parents=True)
    (folder / ".tmp-dead").write_bytes(b'{"trunc')
    assert remote.get(object_key(H)) is None
    assert remote.list() == []
    remote.put_if_absent(object_key(H), b'{"truncated": false}')
    assert remote.get(object_key(H)).data == b'{"truncated": false}'  # type: ignore[union-attr]


def test_dir_remote_without_hard_links_still_writes_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a filesystem refusing os.link (FAT, some FUSE), writes fall back to lock + rename."""

    def no_links(*_: object) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    remote = open_remote(f"dir://{tmp_path}/r")
    remote.put_if_absent(object_key(H), b"x")
    remote.put_if_absent(object_key(H), b"x")
    with pytest.raises(ObjectConflict):
        remote.put_if_absent(object_key(H), b"y")
    assert remote.get(object_key(H)).data == b"x"  # type: ignore[union-attr]


def test_dir_remote_cas_notices_a_sync_tool_replacing_the_head(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sync tool swapping the head right after our rename is caught by the re-read."""
    remote = open_remote(f"dir://{tmp_path}/r")
    etag = remote.cas(head_key("m1"), b"v1", None)
    real_replace = os.replace

    def replace_then_sync_tool(src: str, dst: str) -> None:
        real_replace(src, dst)
        Path(dst).write_bytes(b"from the other side")

    monkeypatch.setattr(os, "replace", replace_then_sync_tool)
    with pytest.raises(CasConflict) as raised:
        remote.cas(head_key("m1"), b"v2", etag)
    assert raised.value.current_etag == hashlib.sha256(b"from the other side").hexdigest()


def test_dir_remote_needs_an_existing_parent_folder(tmp_path: Path) -> None:
    """A typo in the path is not silently created: the parent must exist."""
    with pytest.raises(ConfigError, match="does not exist"):
        open_remote(f"dir://{tmp_path}/missing/remote")


# --- git ------------------------------------------------------------------------------------


def test_git_remote_writes_a_whole_batch_as_one_commit(tmp_path: Path) -> None:
    """500 objects, a snapshot and the head land as one commit laid out as the key layout."""
    url = bare_git_repo(tmp_path / "r.git")
    remote = open_remote(url, cache_dir=tmp_path / "cache")
    objects = {object_key(hashlib.sha256(b"%d" % i).hexdigest()): b"%d" % i for i in range(500)}
    push(remote, "m1", 0, objects, None)
    assert git_out(tmp_path / "r.git", "rev-list", "--count", "main").strip() == "1"
    files = git_out(tmp_path / "r.git", "ls-tree", "-r", "--name-only", "main").split()
    assert set(files) == {*objects, snapshot_key("m1", ulid(0)), head_key("m1")}
    assert git_out(tmp_path / "r.git", "show", f"main:{head_key('m1')}").startswith('{"snapshot"')


def test_git_remote_uses_the_branch_named_in_the_url(tmp_path: Path) -> None:
    """#branch=<name> keeps the store on that branch and leaves the others alone."""
    url = bare_git_repo(tmp_path / "r.git") + "#branch=context/sync"
    remote = open_remote(url, cache_dir=tmp_path / "cache")
    remote.cas(head_key("m1"), b"h", None)
    refs = git_out(tmp_path / "r.git", "for-each-ref", "--format=%(refname)").split()
    assert refs == ["refs/heads/context/sync"]
    assert "#branch=context/sync" in repr(remote)


def test_git_remote_that_does_not_exist_raises_a_remote_error(tmp_path: Path) -> None:
    """A wrong path fails with git's reason, as a RemoteError, on the first operation."""
    remote = open_remote(f"git+file://{tmp_path}/nope.git", cache_dir=tmp_path / "cache")
    with pytest.raises(RemoteError, match="git fetch failed"):
        remote.list()


GIT_PASSWORD = "s3cr3t-Pa55"


@pytest.fixture(name="basic_auth_server")
def _basic_auth_server() -> Iterator[tuple[str, list[str]]]:
    """A git HTTP host in miniature: 401 until alice's password comes, then 404 (no such repo)."""
    seen: list[str] = []

    class Handler(QuietHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            auth = self.headers.get("Authorization")
            if auth:
                seen.append(base64.b64decode(auth.split()[1]).decode())
            if not seen or seen[-1] != f"alice:{GIT_PASSWORD}":
                challenge_basic(self)
                return
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

    with loopback(Handler) as server:
        yield f"127.0.0.1:{server.port}", seen


def test_git_password_reaches_git_only_through_askpass_and_never_an_error(
    tmp_path: Path, basic_auth_server: tuple[str, list[str]]
) -> None:
    """The URL's password is sent as HTTP basic auth, yet never appears in errors or repr."""
    host, seen = basic_auth_server
    password = GIT_PASSWORD
    url = f"git+http://alice:{password}@{host}/team/ctx.git"
    remote = open_remote(url, cache_dir=tmp_path / "cache")
    with pytest.raises(RemoteError) as raised:
        remote.list()
    assert f"alice:{password}" in seen, seen
    assert password not in str(raised.value) and password not in repr(remote)
    assert "alice:***@" in repr(remote)
    for path in (tmp_path / "cache").rglob("*"):
        if path.is_file():
            assert password.encode() not in path.read_bytes(), path


# --- postgres -------------------------------------------------------------------------------


def test_postgres_table_lives_outside_public_with_row_level_security(
    pg_server: PostgresServer,
) -> None:
    """The table is context_sync.kv, not in Supabase's REST-exposed public schema, RLS on."""
    url = fresh_database(pg_server)
    open_remote(url).close()
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT relrowsecurity FROM pg_class WHERE oid = 'context_sync.kv'::regclass"
        ).fetchone()
        public = conn.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
        ).fetchone()
    assert row == (True,) and public == (0,)


def test_postgres_failed_batch_writes_nothing(pg_server: PostgresServer) -> None:
    """A batch is one transaction: an ObjectConflict inside it rolls back the whole batch."""
    with open_remote(fresh_database(pg_server)) as remote:
        remote.put_if_absent(object_key(H), b"first")
        many = {object_key(hashlib.sha256(b"%d" % i).hexdigest()): b"v" for i in range(200)}
        with pytest.raises(ObjectConflict), remote.batch():
            remote.put_many(many.items())
            remote.put_many([(object_key(H), b"second")])
        assert remote.list() == [object_key(H)]


def test_postgres_connection_lost_fails_that_call_and_the_next_one_reconnects(
    pg_server: PostgresServer,
) -> None:
    """The server ends the session (a restart, a pooler, an admin): the call that finds out
    fails with a RemoteError, and the remote is not stuck: the next call opens a new session."""
    url = fresh_database(pg_server)
    with open_remote(url) as remote:
        remote.cas(head_key("m1"), b"h", None)
        _end_other_sessions(url)
        with pytest.raises(RemoteError, match="cannot list"):
            remote.list()
        assert remote.list() == [head_key("m1")]
        _end_other_sessions(url)
        with pytest.raises(RemoteError, match="cannot read"):
            list(remote.scan())
        assert [key for key, _ in remote.scan()] == [head_key("m1")]


def test_postgres_read_failing_inside_a_batch_keeps_the_batchs_head_from_moving(
    pg_server: PostgresServer,
) -> None:
    """A read in a batch that fails (here the session ended) rolls back the batch's writes so
    far: a caller going on past that error gets a RemoteError from the batch's next write, so
    the head never moves to objects the server dropped."""
    url = fresh_database(pg_server)
    with open_remote(url) as remote:
        with pytest.raises(RemoteError, match="unflushed writes were dropped"), remote.batch():
            remote.put_if_absent(object_key(H), b"o")
            _end_other_sessions(url)
            with pytest.raises(RemoteError, match="cannot read"):
                remote.get(object_key(H))
            remote.cas(head_key("m1"), b"h", None)
        assert remote.list() == []


def test_postgres_batch_whose_commit_fails_names_the_commit_and_leaves_nothing_written(
    pg_server: PostgresServer,
) -> None:
    """The session ends between a batch's writes and its commit: the batch fails with a
    RemoteError saying the commit failed, and none of its writes is on the remote."""
    url = fresh_database(pg_server)
    with open_remote(url) as remote:
        with pytest.raises(RemoteError, match=r"^postgresql://\S+: cannot commit: "):
            with remote.batch():
                remote.put_if_absent(object_key(H), b"o")
                _end_other_sessions(url)
        assert remote.list() == []


def _end_other_sessions(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


def test_postgres_write_the_server_refuses_fails_that_call_naming_it_and_the_next_works(
    pg_server: PostgresServer,
) -> None:
    """A statement the server rejects while the session lives on (a trigger or policy, a
    read-only replica) fails with a RemoteError naming the operation; the transaction is
    rolled back, so the next call on the same connection works."""
    url = fresh_database(pg_server)
    key, obj = head_key("refused"), object_key(hashlib.sha256(b"refused").hexdigest())
    with open_remote(url) as remote:
        etag = remote.cas(key, b"h", None)
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(
                "CREATE FUNCTION context_sync.refuse() RETURNS trigger LANGUAGE plpgsql AS $$ "
                "BEGIN IF (CASE WHEN TG_OP = 'DELETE' THEN OLD.key ELSE NEW.key END) "
                f"IN ('{key}', '{obj}') "
                "THEN RAISE EXCEPTION 'refused by policy'; END IF; "
                "RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END; END $$"
            )
            admin.execute(
                "CREATE TRIGGER refuse BEFORE INSERT OR UPDATE OR DELETE ON context_sync.kv "
                "FOR EACH ROW EXECUTE FUNCTION context_sync.refuse()"
            )
        with pytest.raises(RemoteError, match="cannot compare-and-swap: refused by policy"):
            remote.cas(key, b"h2", etag)
        assert remote.list() == [key]
        with pytest.raises(RemoteError, match="cannot delete: refused by policy"):
            remote.delete(key)
        with pytest.raises(RemoteError, match="cannot write: refused by policy"):
            remote.put_if_absent(obj, b"o")
        assert remote.cas(head_key("m1"), b"h", None)
        assert remote.get(key) == (b"h", etag)


def test_postgres_scan_leaves_out_a_value_over_the_limit_and_names_it(
    pg_server: PostgresServer,
) -> None:
    """A value over SYNC_MAX_OBJECT_BYTES is not sent by the server, and the scan reports
    which key it left out, so the pull can quarantine it."""
    with open_remote(fresh_database(pg_server)) as remote:
        big, small = object_key(H), object_key(hashlib.sha256(b"s").hexdigest())
        remote.put_many([(big, b"x" * 100), (small, b"s")])
        remote.max_bytes = 50
        assert [key for key, _ in remote.scan("objects/")] == [small]
        assert list(remote.refused) == [big] and "100 bytes" in remote.refused[big]


def test_postgres_one_key_given_two_values_in_one_write_is_an_object_conflict_naming_it(
    pg_server: PostgresServer,
) -> None:
    """The same write-once key twice with other bytes in one bulk write is refused before
    anything is sent, naming the key."""
    with open_remote(fresh_database(pg_server)) as remote:
        with pytest.raises(ObjectConflict) as conflict:
            remote.put_many([(object_key(H), b"x"), (object_key(H), b"not x")])
        assert conflict.value.key == object_key(H)
        assert remote.list() == []


def test_postgres_bulk_write_of_many_keys_refuses_one_holding_other_bytes_naming_it(
    pg_server: PostgresServer,
) -> None:
    """A write of 64 keys or more goes through COPY: a key among them that the remote holds
    with other bytes is an ObjectConflict naming it, and the bytes there stay."""
    with open_remote(fresh_database(pg_server)) as remote:
        remote.put_if_absent(object_key(H), b"first")
        many = [(object_key(hashlib.sha256(b"%d" % i).hexdigest()), b"v") for i in range(80)]
        with pytest.raises(ObjectConflict) as conflict:
            remote.put_many([*many, (object_key(H), b"second")])
        assert conflict.value.key == object_key(H)
        entry = remote.get(object_key(H))
        assert entry is not None and entry.data == b"first"


def test_postgres_connection_string_passes_through_with_its_options(
    pg_server: PostgresServer,
) -> None:
    """libpq options in the URL are used as they are: sslmode=require fails on a non-TLS server."""
    url = fresh_database(pg_server)
    with open_remote(f"{url}?sslmode=disable&application_name=ctx-test") as remote:
        remote.cas(head_key("m1"), b"h", None)
    with pytest.raises(RemoteError, match="SSL"):
        open_remote(f"{url}?sslmode=require")


def test_postgres_wrong_password_error_never_shows_the_password(pg_server: PostgresServer) -> None:
    """Authentication failures are RemoteErrors naming the host, never the password."""
    url = pg_server.url().replace(f":{pg_server.password}@", ":Wr0ng-Secret-Pw@")
    with pytest.raises(RemoteError) as raised:
        open_remote(url)
    assert "Wr0ng-Secret-Pw" not in str(raised.value)
    assert "password authentication failed" in str(raised.value)
    with open_remote(pg_server.url()) as remote:
        assert pg_server.password not in repr(remote)


@pytest.mark.parametrize(
    ("url", "secret"),
    [
        ("postgresql://u:s3cr%zzet@127.0.0.1/ctx", "s3cr%zzet"),
        ("postgresql://u@127.0.0.1/ctx?password=s3cr%zzet", "s3cr%zzet"),
        ("postgresql://u@127.0.0.1/ctx?sslmode=require&sslpassword=k3y%zz", "k3y%zz"),
    ],
    ids=["user-info", "query", "ssl-key-password"],
)
def test_postgres_connection_string_errors_never_show_a_password_written_in_it(
    url: str, secret: str
) -> None:
    """A password with a stray ``%`` makes the string unparsable, and psycopg's error quotes
    the bad token: shown as ``***`` wherever the password was written (it showed a query
    string's ``password=`` or ``sslpassword=`` in full)."""
    with pytest.raises(ConfigError) as raised:
        open_remote(url)
    assert str(raised.value).endswith(
        'is not a valid PostgreSQL connection string: invalid percent-encoded token: "***"'
    )
    assert secret not in str(raised.value)


def test_postgres_sessions_carry_the_application_name_unless_the_url_sets_one(
    pg_server: PostgresServer,
) -> None:
    """``agents-sync`` in pg_stat_activity, so an administrator can tell the sync's sessions
    apart; an ``application_name`` in the URL wins."""
    url = fresh_database(pg_server)
    for given, shown in ((url, "agents-sync"), (f"{url}?application_name=ctx-test", "ctx-test")):
        with open_remote(given) as remote:
            remote.list()
            with psycopg.connect(url, autocommit=True) as admin:
                names = admin.execute(
                    "SELECT application_name FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                ).fetchall()
        assert names == [(shown,)]


def test_postgres_reads_leave_no_transaction_open_outside_a_batch_or_after_one(
    pg_server: PostgresServer,
) -> None:
    """A read outside a batch, and a batch that only read, end their transaction: the session
    waits ``idle``, never ``idle in transaction`` (which pins a pooler's server connection and
    holds back vacuum for as long as the sync sleeps)."""
    url = fresh_database(pg_server)

    def state() -> list[tuple[str]]:
        with psycopg.connect(url, autocommit=True) as admin:
            rows = admin.execute(
                "SELECT state FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchall()
        return [(str(row[0]),) for row in rows]

    with open_remote(url) as remote:
        remote.cas(head_key("m1"), b"h", None)
        for read in (remote.list, lambda: remote.get(head_key("m1")), lambda: list(remote.scan())):
            read()
            assert state() == [("idle",)]
        with remote.batch():
            remote.get_many([head_key("m1"), head_key("m2")])
        assert state() == [("idle",)]


def test_postgres_a_read_of_more_keys_than_one_query_takes_returns_them_all(
    pg_server: PostgresServer,
) -> None:
    """``get_many`` asks a thousand keys per query: 2 500 keys (gc and the audit check read
    that many at once) come back whole, none left out past the second query."""
    keys = [object_key(hashlib.sha256(b"%d" % i).hexdigest()) for i in range(2500)]
    with open_remote(fresh_database(pg_server)) as remote:
        remote.put_many((key, key.encode()) for key in keys)
        found = remote.get_many(keys)
    assert len(found) == len(keys) and all(found[k].data == k.encode() for k in keys)


def test_postgres_statements_are_never_prepared_on_the_server(pg_server: PostgresServer) -> None:
    """A transaction-mode pooler (Supabase's port 6543, PgBouncer) gives each transaction
    another server session, where a statement prepared in an earlier one is missing: reads
    repeated past psycopg's threshold of five leave no prepared statement in the session."""
    with open_remote(fresh_database(pg_server)) as remote:
        assert isinstance(remote, PostgresRemote)
        remote.cas(head_key("m1"), b"h", None)
        for _ in range(8):
            remote.get(head_key("m1"))
            remote.list()
        # the session's own view: pg_prepared_statements shows only the querying session's
        with remote._connection().cursor() as cur:
            assert cur.execute("SELECT count(*) FROM pg_prepared_statements").fetchone() == (0,)


def test_postgres_server_that_never_answers_fails_the_open_after_ten_seconds() -> None:
    """A host that takes the connection and never answers (a firewall, a stuck pooler): the
    open fails after the 10-second connect timeout, naming what it was doing, never hangs; a
    ``connect_timeout`` in the URL is the one used."""
    with socket.create_server(("127.0.0.1", 0)) as silent:
        port = silent.getsockname()[1]
        started = time.monotonic()
        with pytest.raises(RemoteError) as raised:
            open_remote(f"postgresql://agent@127.0.0.1:{port}/ctx")
        took = time.monotonic() - started
        started = time.monotonic()
        with pytest.raises(RemoteError, match="timeout"):
            open_remote(f"postgresql://agent@127.0.0.1:{port}/ctx?connect_timeout=2")
        took_given = time.monotonic() - started
    assert str(raised.value).startswith(
        f"postgresql://agent@127.0.0.1:{port}/ctx: cannot prepare the table: "
    )
    assert "timeout" in str(raised.value) and 9 <= took < 60 and took_given < 9


def test_postgres_listing_a_prefix_takes_its_underscore_literally(
    pg_server: PostgresServer,
) -> None:
    """``_`` is a wildcard in SQL LIKE: a prefix with one matches only itself."""
    with open_remote(fresh_database(pg_server)) as remote:
        for machine in ("a_b", "axb"):
            remote.cas(head_key(machine), b"h", None)
        assert remote.list("heads/a_") == [head_key("a_b")]


# --- azure-blob -----------------------------------------------------------------------------


def test_azure_remote_keeps_keys_under_the_url_prefix(azurite: AzuriteServer) -> None:
    """azure-blob://<container>/<prefix> stores blobs under the prefix and lists keys without it."""
    env = {"CTX_BLOB": azurite.connection_string}
    with open_remote("azure-blob://ctx-prefix/users/aliceX?env=CTX_BLOB", environ=env) as remote:
        remote.cas(head_key("m1"), b"h", None)
        remote.put_if_absent(object_key(H), b"x")
        assert remote.list() == [head_key("m1"), object_key(H)]
        assert repr(remote) == "<AzureBlobRemote azure-blob://ctx-prefix/users/aliceX?env=CTX_BLOB>"
    container = ContainerClient.from_connection_string(azurite.connection_string, "ctx-prefix")
    with container:
        names = sorted(container.list_blob_names())
    assert names == [f"users/aliceX/{head_key('m1')}", f"users/aliceX/{object_key(H)}"]


def test_azure_wrong_account_key_error_never_shows_the_key(azurite: AzuriteServer) -> None:
    """A rejected key is a RemoteError without the key in it."""
    wrong = base64.b64encode(b"w" * 64).decode()
    env = {DEFAULT_ENV: azurite.connection_string.replace(AZURITE_ACCOUNT_KEY, wrong)}
    with pytest.raises(RemoteError) as raised:
        open_remote("azure-blob://ctx-wrongkey", environ=env)
    assert wrong not in str(raised.value) and AZURITE_ACCOUNT_KEY not in str(raised.value)


@pytest.mark.parametrize(
    ("may_read", "may_list"),
    [(True, True), (True, False), (False, True)],
    ids=["read-and-list", "read-only", "list-only"],
)
def test_azure_sas_without_write_rights_fails_each_call_naming_it_never_the_signature(
    azurite: AzuriteServer, may_read: bool, may_list: bool
) -> None:
    """A container SAS that may only read or list: the remote opens, and each write,
    compare-and-swap, delete (and listing, or read) is a RemoteError naming the call and its
    key, with Azure's reason and without the SAS."""
    container = f"ctx-sas-{'r' if may_read else ''}{'l' if may_list else ''}"
    ContainerClient.from_connection_string(azurite.connection_string, container).create_container()
    sas = generate_container_sas(
        AZURITE_ACCOUNT,
        container,
        account_key=AZURITE_ACCOUNT_KEY,
        permission=ContainerSasPermissions(read=may_read, list=may_list),
        expiry=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1),
    )
    endpoint = azurite.connection_string.split("BlobEndpoint=")[1]
    env = {DEFAULT_ENV: f"BlobEndpoint={endpoint}SharedAccessSignature={sas}"}
    denied = "This request is not authorized to perform this operation using this permission."
    key = head_key("m1")
    with open_remote(f"azure-blob://{container}", environ=env) as remote:
        calls: dict[str, Callable[[], object]] = {
            f"write {object_key(H)!r}": lambda: remote.put_if_absent(object_key(H), b"x"),
            f"compare-and-swap {key!r}": lambda: remote.cas(key, b"h", None),
            f"delete {key!r}": lambda: remote.delete(key),
        }
        if may_list:
            assert remote.list() == []
        else:
            calls["list"] = remote.list
        if may_read:
            assert remote.get(key) is None
        else:
            calls[f"read {key!r}"] = lambda: remote.get(key)
        for what, call in calls.items():
            with pytest.raises(RemoteError) as raised:
                call()
            assert str(raised.value) == f"azure-blob://{container}: cannot {what}: {denied}"
            assert sas not in str(raised.value)


def test_azure_a_blob_at_the_limit_is_read_whole_and_one_byte_more_is_left_out_with_its_size(
    azurite: AzuriteServer,
) -> None:
    """Written by someone else straight into the container: a blob of exactly the remote's
    size limit is read in full; one a byte over, or far over, is refused under its key with
    its real size (only the limit and a byte are fetched)."""
    env = {DEFAULT_ENV: azurite.connection_string}
    at, over, far = (snapshot_key("m1", ulid(n)) for n in (1, 2, 3))
    container = ContainerClient.from_connection_string(azurite.connection_string, "ctx-limit")
    with open_remote("azure-blob://ctx-limit", environ=env) as remote, container:
        remote.max_bytes = 70_000
        container.upload_blob(at, b"a" * 70_000)
        container.upload_blob(over, b"b" * 70_001)
        container.upload_blob(far, b"c" * 100_000)
        found = remote.get_many([at, over, far])
        assert list(found) == [at] and found[at].data == b"a" * 70_000
        assert remote.refused == {
            over: "70001 bytes, over the 70000-byte limit (SYNC_MAX_OBJECT_BYTES)",
            far: "100000 bytes, over the 70000-byte limit (SYNC_MAX_OBJECT_BYTES)",
        }


def test_azure_container_deleted_under_the_remote_fails_a_cas_as_an_error_not_a_conflict(
    azurite: AzuriteServer,
) -> None:
    """A CAS into a container someone deleted said "expected it to be absent, it is absent",
    a race the push would retry; it is the error Azure gives, like every other call."""
    env = {DEFAULT_ENV: azurite.connection_string}
    gone = "azure-blob://ctx-gone: cannot compare-and-swap 'heads/m1.json': The specified "
    with open_remote("azure-blob://ctx-gone", environ=env) as remote:
        ContainerClient.from_connection_string(
            azurite.connection_string, "ctx-gone"
        ).delete_container()
        for expected in (None, '"0x1"'):
            with pytest.raises(RemoteError) as raised:
                remote.cas(head_key("m1"), b"h", expected)
            assert not isinstance(raised.value, CasConflict)
            assert str(raised.value) == gone + "container does not exist."


@contextlib.contextmanager
def _storage(answer: Callable[[str], tuple[int, str, str]]) -> Iterator[tuple[str, list[str]]]:
    """A loopback Blob endpoint answering every PUT with ``answer(path)``: (status, Azure's
    error code, message); yields the endpoint and the paths it was sent."""
    sent: list[str] = []

    class Refuses(http.server.BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            sent.append(self.path)
            status, code, message = answer(self.path)
            body = (
                f'<?xml version="1.0" encoding="utf-8"?><Error><Code>{code}</Code>'
                f"<Message>{message}</Message></Error>"
            ).encode()
            self.send_response(status)
            self.send_header("x-ms-error-code", code)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    with loopback(Refuses) as server:
        yield f"{server.url}/{AZURITE_ACCOUNT}", sent


def test_azure_error_quoting_the_sas_signature_shows_neither_it_nor_the_sas() -> None:
    """A server (or a proxy before it) whose refusal quotes the request's ``sig``: the error
    names the call and keeps the server's words, with the signature as ``***``."""
    sig = base64.b64encode(hashlib.sha256(b"sas").digest()).decode()  # has + / =
    sas = f"sv=2025-01-05&sr=c&sp=rl&sig={quote(sig, safe='')}"

    def refuse(path: str) -> tuple[int, str, str]:
        quoted = parse_qs(urlsplit(path).query)["sig"][0]
        return 403, "AuthorizationFailure", f"Signature {quoted} refused"

    with _storage(refuse) as (endpoint, _), pytest.raises(RemoteError) as raised:
        env = {DEFAULT_ENV: f"BlobEndpoint={endpoint};SharedAccessSignature={sas}"}
        open_remote("azure-blob://ctx", environ=env)
    assert str(raised.value) == (
        "azure-blob://ctx: cannot create the container: Signature *** refused"
    )


# the SDK raises before it releases that answer's connection: the garbage collector closes it
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_azure_read_answered_without_its_content_range_is_an_error_naming_the_key() -> None:
    """A Blob endpoint (or a proxy before it) that ignores the read's ``Range`` and answers
    without a ``Content-Range``: the read fails with a RemoteError naming the key, never a
    ``ValueError`` out of the SDK that ends the sync with a traceback."""

    class IgnoresRange(QuietHandler):
        def do_PUT(self) -> None:  # noqa: N802 - http.server's name; the container: created
            self.send_response(201)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            body = b'{"whole": "blob"}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("ETag", '"0x1"')
            self.end_headers()
            self.wfile.write(body)

    with loopback(IgnoresRange) as server:
        sas = "SharedAccessSignature=sv=2025-01-05&sig=x"
        env = {DEFAULT_ENV: f"BlobEndpoint={server.url}/{AZURITE_ACCOUNT};{sas}"}
        with open_remote("azure-blob://ctx", environ=env) as remote:
            with pytest.raises(RemoteError) as raised:
                remote.get(object_key(H))
    gc.collect()
    assert str(raised.value).startswith(f"azure-blob://ctx: cannot read {object_key(H)!r}: ")


GLUED_KEY = base64.b64encode(hashlib.sha512(b"an account key").digest()).decode()  # 88 chars


@pytest.mark.parametrize(
    "connection_string",
    [
        f"DefaultEndpointsProtocol=https;AccountName=ctxAccountKey={GLUED_KEY};EndpointSuffix=invalid",
        f"AccountName=ctx;BlobEndpoint=http://127.0.0.1:1/ctx accountkey = {GLUED_KEY}",
        f"BlobEndpoint=http://127.0.0.1:1/ctxSharedAccessSignature=sv=2025-01-05&sig={GLUED_KEY}",
    ],
    ids=["key-in-the-account-name", "key-after-a-space", "sas-in-the-endpoint"],
)
def test_azure_connection_string_missing_a_semicolon_before_its_secret_is_refused_unshown(
    connection_string: str,
) -> None:
    """A ';' left out before ``AccountKey=`` made the key part of the account's host name,
    which the connection error then showed (in lower case); such a string is refused before
    any request, naming the variable and the missing ';', never the key or the SAS."""
    with pytest.raises(ConfigError) as raised:
        open_remote("azure-blob://ctx", environ={DEFAULT_ENV: connection_string})
    assert str(raised.value) == (
        f"{DEFAULT_ENV} is not a valid Azure Storage connection string: a ';' is missing "
        "before AccountKey= or SharedAccessSignature=; copy it from the storage account's "
        "'Access keys' page into the environment's secrets file"
    )


def test_azure_storage_that_keeps_failing_is_tried_four_times_waiting_seconds_not_minutes(
    mocker: MockerFixture,
) -> None:
    """Storage's own retry policy, set short: the first try and three retries, waiting about
    3, 5 and 9 seconds (each with the SDK's 3-second jitter; its default is 15 s and more),
    then the error with Azure's words."""
    waits = mocker.patch("time.sleep")  # the SDK's transport waits out its backoff with it
    key = f"AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_ACCOUNT_KEY}"
    with _storage(lambda _: (503, "ServerBusy", "The server is busy.")) as (endpoint, sent):
        with pytest.raises(RemoteError) as raised:
            open_remote("azure-blob://ctx", environ={DEFAULT_ENV: f"{key};BlobEndpoint={endpoint}"})
    assert str(raised.value) == "azure-blob://ctx: cannot create the container: The server is busy."
    assert len(sent) == 4
    slept = [c.args[0] for c in waits.call_args_list]
    assert len(slept) == 3 and all(0 <= w <= top for w, top in zip(slept, (6, 8, 12), strict=True))


@pytest.mark.parametrize(
    ("url", "environ", "message"),
    [
        (
            "azure-blob://key@ctx",
            {},
            "CONTEXT_REMOTE: an azure-blob URL carries no credentials; put the connection string "
            f"in {DEFAULT_ENV} in the environment's secrets file",
        ),
        (
            "azure-blob://ctx:443",
            {},
            "CONTEXT_REMOTE: an azure-blob URL carries no credentials; put the connection string "
            f"in {DEFAULT_ENV} in the environment's secrets file",
        ),
        (
            "azure-blob://Bad_Container",
            {},
            "CONTEXT_REMOTE: 'Bad_Container' is not an Azure container name (3-63 lowercase "
            "letters, digits and single hyphens): azure-blob://<container>[/<prefix>]",
        ),
        *(
            (
                f"azure-blob://ctx?{query}",
                {"CTX_BLOB": "x"},
                f"CONTEXT_REMOTE: unknown azure-blob URL parameter {name!r}; the only one is "
                f"?env=<VARIABLE> naming where the connection string is ({DEFAULT_ENV} by "
                "default). Never put the connection string or a SAS in the URL.",
            )
            for query, name in (("env=", "env"), ("env=1BAD", "env"), ("foo=CTX_BLOB", "foo"))
        ),
        (
            "azure-blob://ctx?env=CTX_BLOB",
            {DEFAULT_ENV: "not used"},
            "CTX_BLOB is not set: CONTEXT_REMOTE is an azure-blob remote; put the storage "
            "account's connection string in environments/.env.<env>.secrets",
        ),
        (
            "azure-blob://ctx",
            {DEFAULT_ENV: "not a connection string"},
            f"{DEFAULT_ENV} is not a valid Azure Storage connection string (Connection string is "
            "either blank or malformed.); copy it from the storage account's 'Access keys' page "
            "into the environment's secrets file",
        ),
    ],
)
def test_azure_url_or_connection_string_refused_says_what_is_wrong_and_where_to_fix_it(
    url: str, environ: dict[str, str], message: str
) -> None:
    """The whole message, before any request: credentials or a port in the URL, a bad
    container name, any parameter but ``?env=<VARIABLE>``, the variable unset, a string the
    SDK cannot parse."""
    with pytest.raises(ConfigError) as raised:
        open_remote(url, environ=environ)
    assert str(raised.value) == message


def test_azure_missing_connection_string_names_the_variable() -> None:
    """Without the variable, the error names it and the secrets file it belongs in."""
    with pytest.raises(ConfigError, match=r"AZURE_STORAGE_CONNECTION_STRING is not set.*secrets"):
        open_remote("azure-blob://ctx", environ={})


def test_azure_remote_pushes_like_any_other(azurite: AzuriteServer) -> None:
    """A push protocol round on Azurite: objects, snapshot, head, then a stale head is refused."""
    env = {DEFAULT_ENV: azurite.connection_string}
    with open_remote("azure-blob://ctx-push", environ=env) as remote:
        etag = push(remote, "m1", 0, objects_of("m1", 0, b"s"), None)
        push(remote, "m1", 1, objects_of("m1", 1, b"s"), etag)
        with pytest.raises(CasConflict):
            push(remote, "m1", 2, objects_of("m1", 2, b"s"), etag)


def test_git_push_that_another_machine_beat_is_rebuilt_on_the_new_tip(
    tmp_path: Path, mocker: MockerFixture
) -> None:
    """Another machine pushes between this one's fetch and its push: git rejects the push
    (``fetch first``), and the write is rebuilt on the new tip and pushed; both survive."""
    url = bare_git_repo(tmp_path / "r.git")
    mine = open_remote(url, cache_dir=tmp_path / "mine")
    other = open_remote(url, cache_dir=tmp_path / "other")
    assert isinstance(mine, GitRemote)
    mocker.patch("agents.core.retry.sync_sleep")
    theirs, ours = hashlib.sha256(b"t").hexdigest(), hashlib.sha256(b"o").hexdigest()
    real = mine._commit
    raced: list[str] = []

    def beaten(tip: str | None, changes: dict[str, bytes | None]) -> str:
        if not raced:  # the other machine wins the race once
            raced.append(tip or "")
            other.put_many([(object_key(theirs), b"t")])
        return real(tip, changes)

    mocker.patch.object(mine, "_commit", side_effect=beaten)
    mine.put_many([(object_key(ours), b"o")])
    assert raced and git_out(tmp_path / "r.git", "rev-list", "--count", "main").strip() == "2"
    files = git_out(tmp_path / "r.git", "ls-tree", "-r", "--name-only", "main").split()
    assert set(files) == {object_key(theirs), object_key(ours)}


def test_git_push_the_server_refuses_fails_at_once_with_its_reason(
    tmp_path: Path, mocker: MockerFixture
) -> None:
    """A push the server declines (a hook, a protected branch, no write access) is not a
    race: no retry, and the error says what git was told."""
    url = bare_git_repo(tmp_path / "r.git")
    hook = tmp_path / "r.git" / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'main is protected here' >&2\nexit 1\n")
    hook.chmod(0o755)
    waits = mocker.patch("agents.core.retry.sync_sleep")
    remote = open_remote(url, cache_dir=tmp_path / "cache")
    with pytest.raises(RemoteError, match="git push failed") as refused:
        remote.put_many([(object_key(H), b"x")])
    assert "main is protected here" in str(refused.value)
    assert waits.call_count == 0


def test_git_push_that_loses_races_retries_through_the_policy_then_gives_up(
    tmp_path: Path, mocker: MockerFixture
) -> None:
    """Rejected pushes (another machine moved the branch) are rebuilt and retried after short
    jittered waits from the shared policy; a branch that never settles is a clear error."""
    url = bare_git_repo(tmp_path / "r.git")
    remote = open_remote(url, cache_dir=tmp_path / "cache")
    assert isinstance(remote, GitRemote)
    waits: list[float] = []
    mocker.patch("agents.core.retry.sync_sleep", side_effect=waits.append)
    real = remote._push
    lost = [True, True]  # the first two pushes lose their race

    def race(commit: str) -> bool:
        return False if lost and lost.pop() else real(commit)

    mocker.patch.object(remote, "_push", side_effect=race)
    with capture_logs() as logs:
        push(remote, "m1", 0, {object_key(H): b"x"}, None)
    assert len(waits) == 2 and 0.01 <= waits[0] <= 0.03 and 0.02 <= waits[1] <= 0.04
    assert logs == [
        {
            "event": "git_push_rejected",
            "remote": remote.display_url,
            "attempt": n,
            "log_level": "debug",
        }
        for n in (1, 2)
    ]
    assert git_out(tmp_path / "r.git", "rev-list", "--count", "main").strip() == "1"
    mocker.patch.object(remote, "_push", return_value=False)
    with pytest.raises(RemoteError, match="kept moving; gave up after 40 attempts"):
        push(remote, "m1", 1, {object_key(hashlib.sha256(b"y").hexdigest()): b"y"}, None)
    assert len(waits) == 2 + 39
