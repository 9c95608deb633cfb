"""Where secret values live: the OS keyring, else a 0600 file; and age sharing between machines.

Values go to the OS keyring through ``keyring`` (macOS Keychain, Windows Credential Manager,
Secret Service) when a usable backend exists. Without one (a headless Linux box, CI) or when the
keyring refuses a write, they go to ``secrets.json`` (mode 0600, directory 0700), written
atomically. The same file keeps the list of names, since keyrings cannot enumerate.

Sharing across machines is optional: :func:`seal` encrypts a set of values with age (pyrage) to
one X25519 recipient per machine; each machine keeps its own identity in its vault.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import keyring
import keyring.errors
import pyrage
from keyring.backend import KeyringBackend

from agents.core.errors import AgentError, InputError
from agents.core.files import write_private

__all__ = [
    "SERVICE",
    "MachineKey",
    "SecretVault",
    "decrypt",
    "encrypt",
    "seal",
    "unseal",
    "write_private_json",
]

SERVICE = "claude-agents"
_FORMAT = "claude-agents-secrets/1"
_IDENTITY = "age/identity"


def _usable(backend: KeyringBackend) -> bool:
    try:
        return float(backend.priority) > 0
    except (NotImplementedError, RuntimeError, AttributeError):  # e.g. the abstract base
        return False


def write_private_json(path: Path, data: Any) -> None:
    """Write ``data`` as JSON to ``path`` through :func:`agents.core.files.write_private`:
    mode 0600 from the start, atomically; readers see the old file or the new one."""
    write_private(path, json.dumps(data, indent=2, sort_keys=True))


class SecretVault:
    """Secret values by name for one machine.

    Args:
        directory: Where the fallback file lives (created 0700).
        backend: A keyring backend; ``None`` uses keyring's configured one. A backend with no
            positive priority (keyring's ``fail.Keyring`` when no daemon runs) means file only.
        service: The keyring service name.
    """

    def __init__(
        self,
        directory: Path,
        *,
        backend: KeyringBackend | None = None,
        service: str = SERVICE,
        use_keyring: bool = True,
    ) -> None:
        self.path = directory / "secrets.json"
        self.service = service
        chosen = backend if backend is not None else keyring.get_keyring()
        self.backend: KeyringBackend | None = chosen if use_keyring and _usable(chosen) else None

    @property
    def where(self) -> str:
        """A human description of where values go."""
        if self.backend is None:
            return f"file {self.path} (0600)"
        return f"keyring {type(self.backend).__name__} (names in {self.path})"

    def _load(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {"format": _FORMAT, "keyring": [], "values": {}}
        except (OSError, ValueError) as exc:
            raise AgentError(
                f"cannot read the secrets file {self.path}: {exc}; restore it from a backup or "
                "move it away (its secrets will then be needed again)"
            ) from exc
        data.setdefault("keyring", [])
        data.setdefault("values", {})
        return data  # type: ignore[no-any-return]

    def _save(self, data: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with contextlib.suppress(OSError):
            os.chmod(self.path.parent, 0o700)
        write_private_json(self.path, data)

    def get(self, name: str) -> str | None:
        """The value of ``name``, or ``None`` when this machine does not have it."""
        data = self._load()
        if name in data["values"]:
            return str(data["values"][name])
        if self.backend is not None and name in data["keyring"]:
            try:
                return self.backend.get_password(self.service, name)
            except keyring.errors.KeyringError:
                return None
        return None

    def set(self, name: str, value: str) -> None:
        """Store ``value`` under ``name`` (keyring first, the 0600 file if that fails)."""
        data = self._load()
        if self.backend is not None:
            try:
                self.backend.set_password(self.service, name, value)
            except keyring.errors.KeyringError:
                pass
            else:
                data["values"].pop(name, None)
                if name not in data["keyring"]:
                    data["keyring"].append(name)
                self._save(data)
                return
        data["values"][name] = value
        if name in data["keyring"]:
            data["keyring"].remove(name)
        self._save(data)

    def update(self, values: Mapping[str, str]) -> None:
        """Store several values (what a capture or an opened bundle returns)."""
        for name, value in values.items():
            if self.get(name) != value:
                self.set(name, value)

    def delete(self, name: str) -> None:
        """Forget ``name`` everywhere."""
        data = self._load()
        if self.backend is not None and name in data["keyring"]:
            with contextlib.suppress(keyring.errors.KeyringError):
                self.backend.delete_password(self.service, name)
        data["values"].pop(name, None)
        data["keyring"] = [n for n in data["keyring"] if n != name]
        self._save(data)

    def names(self) -> list[str]:
        """Every stored name (the machine identity excluded)."""
        data = self._load()
        return sorted(n for n in {*data["values"], *data["keyring"]} if n != _IDENTITY)

    def values(self, names: Sequence[str] | None = None) -> dict[str, str]:
        """name -> value for ``names`` (default: all) that this machine has."""
        out = {}
        for name in names if names is not None else self.names():
            value = self.get(name)
            if value is not None:
                out[name] = value
        return out


@dataclass(frozen=True)
class MachineKey:
    """This machine's age X25519 identity (private) and recipient (public ``age1…``)."""

    identity: str
    recipient: str

    @classmethod
    def load_or_create(cls, vault: SecretVault) -> MachineKey:
        """The identity kept in ``vault``; a new one is generated and stored the first time."""
        text = vault.get(_IDENTITY)
        if text is None:
            ident = pyrage.x25519.Identity.generate()
            vault.set(_IDENTITY, str(ident))
        else:
            ident = pyrage.x25519.Identity.from_str(text)
        return cls(str(ident), str(ident.to_public()))

    def identity_file(self) -> str:
        """The identity in age's key file format (``age -d -i <file>`` reads it)."""
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return f"# created: {stamp}\n# public key: {self.recipient}\n{self.identity}\n"


def _recipients(recipients: Sequence[str]) -> list[Any]:
    if not recipients:
        raise InputError("no recipients: give at least one machine's age1… public key")
    out = []
    for r in recipients:
        try:
            out.append(pyrage.x25519.Recipient.from_str(r.strip()))
        except pyrage.RecipientError as exc:
            raise InputError(f"not an age X25519 recipient: {r[:12]!r}…") from exc
    return out


def encrypt(data: bytes, recipients: Sequence[str]) -> bytes:
    """``data`` encrypted with age to every recipient (binary age format)."""
    return bytes(pyrage.encrypt(data, _recipients(recipients)))


def decrypt(data: bytes, identities: Sequence[str]) -> bytes:
    """The plaintext of an age file.

    Raises:
        AgentError: None of ``identities`` is a recipient, or the data is not an age file.
    """
    try:
        idents = [pyrage.x25519.Identity.from_str(i) for i in identities]
        return bytes(pyrage.decrypt(data, idents))
    except (pyrage.DecryptError, pyrage.IdentityError) as exc:
        raise AgentError(
            "cannot decrypt: this machine's key is not a recipient; on a machine that has the "
            "secrets, share them again including this machine's public key"
        ) from exc


def seal(values: Mapping[str, str], recipients: Sequence[str]) -> bytes:
    """A secrets bundle: the values as JSON, age-encrypted to one recipient per machine."""
    doc = {"format": _FORMAT, "secrets": dict(sorted(values.items()))}
    return encrypt(json.dumps(doc).encode(), recipients)


def unseal(data: bytes, identity: str) -> dict[str, str]:
    """The values of a bundle made by :func:`seal`."""
    doc = json.loads(decrypt(data, [identity]))
    if not isinstance(doc, dict) or doc.get("format") != _FORMAT:
        raise AgentError("not a claude-agents secrets bundle")
    return {str(k): str(v) for k, v in doc["secrets"].items()}
