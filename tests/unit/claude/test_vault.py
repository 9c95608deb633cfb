"""Secret values: OS keyring through keyring's backend API, else a 0600 file; age sharing."""

from __future__ import annotations

import errno
import json
import os
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Any

import keyring
import keyring.errors
import pytest
from keyring.backend import KeyringBackend
from pytest_mock import MockerFixture

from agents.claude.vault import MachineKey, SecretVault, decrypt, encrypt, seal, unseal
from agents.core.errors import AgentError, InputError
from tests.keyrings import failing_keyring


class MemoryKeyring(KeyringBackend):
    """A real keyring backend (keyring's own API) that keeps values in memory."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if (service, username) not in self.store:
            raise keyring.errors.PasswordDeleteError(username)
        del self.store[(service, username)]


class LockedKeyring(MemoryKeyring):
    """A keyring that refuses writes, as a locked Secret Service collection does."""

    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.PasswordSetError("collection is locked")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_without_a_keyring_daemon_values_go_to_a_0600_file_in_a_0700_directory(
    tmp_path: Path,
) -> None:
    """keyring's fail backend (this machine has no daemon) means the file fallback."""
    vault = SecretVault(tmp_path / "keys", backend=failing_keyring())
    assert vault.backend is None and "0600" in vault.where
    vault.set("claude-code/env/X", "v1")
    vault.update({"a": "1", "b": "2"})
    assert _mode(vault.path) == 0o600 and _mode(vault.path.parent) == 0o700
    assert vault.get("claude-code/env/X") == "v1" and vault.get("nope") is None
    assert vault.names() == ["a", "b", "claude-code/env/X"]
    vault.delete("a")
    assert vault.values() == {"b": "2", "claude-code/env/X": "v1"}
    assert not list(vault.path.parent.glob(".secrets.*"))  # no temp file left behind


def test_a_vault_folder_whose_mode_cannot_be_changed_still_keeps_the_value(
    tmp_path: Path, mocker: MockerFixture
) -> None:
    """The vault's folder belongs to someone else (or sits on a filesystem without modes):
    tightening it to 0700 fails, and the value is still kept, in its 0600 file."""
    folder = tmp_path / "keys"
    real_chmod = os.chmod

    def chmod(path: Any, mode: int, **kwargs: Any) -> None:
        if Path(path) == folder:
            raise PermissionError(errno.EPERM, os.strerror(errno.EPERM), str(path))
        real_chmod(path, mode, **kwargs)

    mocker.patch("os.chmod", side_effect=chmod)
    vault = SecretVault(folder, backend=failing_keyring())
    vault.set("claude-code/env/X", "v1")
    assert vault.get("claude-code/env/X") == "v1" and _mode(vault.path) == 0o600


def test_the_default_backend_on_this_machine_is_used_when_none_is_given(tmp_path: Path) -> None:
    """keyring.get_keyring() decides; with no daemon here, that means the file."""
    vault = SecretVault(tmp_path)
    vault.set("n", "v")
    assert SecretVault(tmp_path).get("n") == "v"


def test_with_a_keyring_values_live_in_it_and_the_file_holds_only_names(tmp_path: Path) -> None:
    """The file never sees the value; a new vault object reads it back from the keyring."""
    ring = MemoryKeyring()
    vault = SecretVault(tmp_path, backend=ring)
    vault.set("mcp/notion/env/NOTION_TOKEN", "ntn_value_123")
    assert ring.store == {("claude-agents", "mcp/notion/env/NOTION_TOKEN"): "ntn_value_123"}
    assert "ntn_value_123" not in vault.path.read_text()
    assert SecretVault(tmp_path, backend=ring).get("mcp/notion/env/NOTION_TOKEN") == "ntn_value_123"
    assert vault.names() == ["mcp/notion/env/NOTION_TOKEN"]
    vault.delete("mcp/notion/env/NOTION_TOKEN")
    assert ring.store == {} and vault.names() == []


def test_a_keyring_that_refuses_a_write_falls_back_to_the_file(tmp_path: Path) -> None:
    """Nothing is lost when the collection is locked."""
    vault = SecretVault(tmp_path, backend=LockedKeyring())
    vault.set("k", "value-1")
    assert json.loads(vault.path.read_text())["values"] == {"k": "value-1"}
    assert vault.get("k") == "value-1"


def test_a_corrupt_secrets_file_is_an_error_not_a_silent_reset(tmp_path: Path) -> None:
    """The message says what to do."""
    vault = SecretVault(tmp_path, backend=failing_keyring())
    vault.path.write_text("{not json")
    with pytest.raises(AgentError, match="cannot read the secrets file"):
        vault.get("x")


def test_each_machine_has_one_age_identity_kept_in_its_vault(tmp_path: Path) -> None:
    """Created once, then the same key every time."""
    vault = SecretVault(tmp_path, backend=failing_keyring())
    key = MachineKey.load_or_create(vault)
    assert key.recipient.startswith("age1") and key.identity.startswith("AGE-SECRET-KEY-1")
    assert MachineKey.load_or_create(vault) == key
    assert vault.names() == []  # the identity is not a shared secret


def test_a_bundle_sealed_to_two_machines_opens_on_each_and_not_on_a_third(tmp_path: Path) -> None:
    """One X25519 recipient per machine."""
    laptop, desktop, stranger = (
        MachineKey.load_or_create(SecretVault(tmp_path / n, backend=failing_keyring()))
        for n in ("laptop", "desktop", "stranger")
    )
    values = {"claude-code/env/ANTHROPIC_API_KEY": "sk-ant-xyz", "GITHUB_TOKEN": "ghp_x"}
    bundle = seal(values, [laptop.recipient, desktop.recipient])
    assert b"sk-ant-xyz" not in bundle
    assert unseal(bundle, laptop.identity) == values
    assert unseal(bundle, desktop.identity) == values
    with pytest.raises(AgentError, match="not a recipient"):
        unseal(bundle, stranger.identity)
    with pytest.raises(InputError, match="not an age X25519 recipient"):
        encrypt(b"x", ["age1notakey"])
    with pytest.raises(InputError, match="no recipients"):
        encrypt(b"x", [])
    assert decrypt(encrypt(b"raw", [laptop.recipient]), [laptop.identity]) == b"raw"


@pytest.mark.skipif(shutil.which("age") is None, reason="the age CLI is installed by .ci/run")
def test_a_bundle_opens_with_the_standard_age_cli(tmp_path: Path) -> None:
    """Recoverable without this tool: `age -d -i key.txt bundle.age`."""
    key = MachineKey.load_or_create(SecretVault(tmp_path, backend=failing_keyring()))
    (tmp_path / "key.txt").write_text(key.identity_file())
    (tmp_path / "bundle.age").write_bytes(seal({"n": "v"}, [key.recipient]))
    out = subprocess.run(
        ["age", "-d", "-i", str(tmp_path / "key.txt"), str(tmp_path / "bundle.age")],
        check=True,
        capture_output=True,
    )
    assert json.loads(out.stdout)["secrets"] == {"n": "v"}


def test_a_vault_written_with_a_keyring_and_opened_without_one_moves_values_to_the_file(
    tmp_path: Path,
) -> None:
    """The names the keyring held are not readable without it; a value set again goes to the
    file and leaves the keyring's list; forgetting a name needs no keyring either."""
    folder = tmp_path / "store" / "keys"  # neither folder exists yet: made 0700
    SecretVault(folder, backend=MemoryKeyring()).set("a", "in the keyring")
    SecretVault(folder, backend=MemoryKeyring()).set("b", "in the keyring too")
    assert _mode(folder) == 0o700
    vault = SecretVault(folder, use_keyring=False)
    assert vault.where == f"file {folder / 'secrets.json'} (0600)"
    assert (vault.get("a"), vault.names()) == (None, ["a", "b"])
    vault.set("a", "in the file")
    vault.delete("b")
    assert json.loads(vault.path.read_text()) == {
        "format": "claude-agents-secrets/1",
        "keyring": [],
        "values": {"a": "in the file"},
    }
    assert vault.values() == {"a": "in the file"}


def test_a_secrets_file_of_only_its_format_and_a_bundle_that_is_no_object_are_handled(
    tmp_path: Path,
) -> None:
    """An older file without the lists still takes values; a bundle that is JSON but not an
    object is refused by name, not with a crash."""
    vault = SecretVault(tmp_path, use_keyring=False)
    vault.path.write_text('{"format": "claude-agents-secrets/1"}')
    vault.set("a", "1")
    assert vault.values() == {"a": "1"}
    key = MachineKey.load_or_create(vault)
    with pytest.raises(AgentError, match=r"^not a claude-agents secrets bundle$"):
        unseal(encrypt(b"[1, 2]", [key.recipient]), key.identity)


def test_a_value_moved_into_a_working_keyring_leaves_the_file_and_one_gone_from_it_is_forgotten(
    tmp_path: Path,
) -> None:
    """No plaintext copy stays behind once the keyring holds the value; a name whose keyring
    entry was removed by hand is still forgotten; asking for some names gives only those."""
    SecretVault(tmp_path, backend=LockedKeyring()).set("a", "first in the file")
    ring = MemoryKeyring()
    vault = SecretVault(tmp_path, backend=ring)
    vault.set("a", "now in the keyring")
    vault.set("b", "also")
    assert json.loads(vault.path.read_text())["values"] == {}
    assert vault.values(["a"]) == {"a": "now in the keyring"}
    ring.store.clear()  # removed in the keychain's own app
    vault.delete("b")
    assert vault.names() == ["a"]


def test_without_a_backend_given_the_systems_keyring_is_used_if_it_says_it_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``keyring.get_keyring()`` (the seam: this machine has no keyring daemon) is asked
    when no backend is passed; a backend that cannot tell its priority is not trusted."""
    system = MemoryKeyring()
    monkeypatch.setattr(keyring, "get_keyring", lambda: system)
    vault = SecretVault(tmp_path / "keys")
    assert vault.backend is system
    vault.set("claude-code/env/X", "v1")
    assert system.store == {(vault.service, "claude-code/env/X"): "v1"}

    class Unknown(MemoryKeyring):
        @property
        def priority(self) -> float:  # type: ignore[override]
            raise RuntimeError("no D-Bus session")

    assert SecretVault(tmp_path / "other", backend=Unknown()).backend is None
