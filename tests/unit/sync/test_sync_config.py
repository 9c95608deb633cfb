"""The remote an environment names (agents.sync.config): ``CONTEXT_REMOTE`` from its files or
``--remote``, the backend's secrets from the environment's layers, its limits set, and a
password kept out of the committed file."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.core.errors import ConfigError
from agents.core.layers import EnvLayers, load_layers
from agents.sync.config import open_configured_remote, remote_url
from agents.sync.dir_remote import DirRemote
from agents.sync.urls import URL_FORMS


def project(tmp_path: Path, public: str, secrets: str | None = None) -> EnvLayers:
    """Environment ``local`` of a project at ``tmp_path``; nothing from the process."""
    folder = tmp_path / "environments"
    folder.mkdir()
    (folder / ".env.local").write_text(public)
    if secrets is not None:
        (folder / ".env.local.secrets").write_text(secrets)
        (folder / ".env.local.secrets").chmod(0o600)
    return load_layers(tmp_path, "local", environ={})


def test_the_remote_of_the_env_file_opens_with_the_environments_limits(tmp_path: Path) -> None:
    layers = project(
        tmp_path,
        f"CONTEXT_REMOTE=dir://{tmp_path}/r\nSYNC_MAX_OBJECT_BYTES=70000\nSYNC_MAX_CLOCK_SKEW=5\n",
    )
    remote = open_configured_remote(layers)
    assert isinstance(remote, DirRemote) and remote.root == tmp_path / "r"
    assert (remote.max_bytes, remote.max_skew) == (70000, 5.0)


def test_the_remote_given_on_the_command_line_wins_over_the_env_file(tmp_path: Path) -> None:
    layers = project(tmp_path, f"CONTEXT_REMOTE=dir://{tmp_path}/r\n")
    remote = open_configured_remote(layers, f"dir://{tmp_path}/other")
    assert isinstance(remote, DirRemote) and remote.root == tmp_path / "other"
    assert remote_url(layers, f"dir://{tmp_path}/other") == f"dir://{tmp_path}/other"


def test_a_backends_secret_is_read_from_the_environments_secrets_file_not_the_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The connection string is in ``.env.local.secrets`` only (a malformed one, refused
    before any connection): the error shows it was read from there."""
    monkeypatch.delenv("AZURE_STORAGE_CONNECTION_STRING", raising=False)
    layers = project(
        tmp_path,
        "CONTEXT_REMOTE=azure-blob://ctx\n",
        "AZURE_STORAGE_CONNECTION_STRING=not a connection string\n",
    )
    with pytest.raises(ConfigError, match="is not a valid Azure Storage connection string"):
        open_configured_remote(layers)


def test_without_a_remote_the_error_names_both_files_the_flag_and_the_forms(
    tmp_path: Path,
) -> None:
    layers = project(tmp_path, "AGENTS_PORT_BASE=8700\n")
    with pytest.raises(ConfigError) as raised:
        open_configured_remote(layers)
    assert str(raised.value) == (
        "CONTEXT_REMOTE is not set: add it to environments/.env.local (or, with a password in "
        f"it, environments/.env.local.secrets), or pass --remote URL; forms: {URL_FORMS}"
    )


def test_a_remote_password_in_the_committed_file_is_refused_naming_where_to_move_it(
    tmp_path: Path,
) -> None:
    layers = project(tmp_path, "CONTEXT_REMOTE=postgresql://ctx:hunter22@db.example/ctx\n")
    with pytest.raises(ConfigError) as raised:
        remote_url(layers)
    assert str(raised.value) == (
        "CONTEXT_REMOTE (postgresql://ctx:***@db.example/ctx) holds a password but is set in "
        "environments/.env.local, which is committed: move that line to "
        "environments/.env.local.secrets"
    )


def test_a_remote_password_in_the_secrets_file_is_used(tmp_path: Path) -> None:
    url = "postgresql://ctx:hunter22@db.example/ctx"
    layers = project(tmp_path, "AGENTS_PORT_BASE=8700\n", f"CONTEXT_REMOTE={url}\n")
    assert remote_url(layers) == url


def test_a_url_that_does_not_parse_is_left_to_open_remote_not_called_a_password(
    tmp_path: Path,
) -> None:
    """An unclosed IPv6 bracket: no password can be read from it, so it is not refused as
    one here; opening it says what is wrong."""
    layers = project(tmp_path, "CONTEXT_REMOTE=postgresql://ctx@[::1/ctx\n")
    assert remote_url(layers) == "postgresql://ctx@[::1/ctx"
