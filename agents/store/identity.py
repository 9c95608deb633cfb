"""This machine's Ed25519 signing key, fingerprints, and signing of JSON objects.

Each store (one machine, one environment) has one signing key, kept in
``<store>/vault/signing.key`` (0600, in the 0700 vault directory that also holds the age
identity). Everything the machine publishes is signed with it (heads, snapshot manifests,
audit checkpoints, machine keys, secrets bundles, trust decisions; see docs/security.md).

A signature covers the canonical JSON of an object without its ``sig`` member, under a
``purpose`` string, so a signature made for one kind of object never verifies as another.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from agents.core.errors import StoreError
from agents.store.canonical import canonical

__all__ = [
    "KEY_FILE",
    "Identity",
    "fingerprint",
    "signed_payload",
    "verify",
]

KEY_FILE = "signing.key"
_SIG = "sig"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def fingerprint(public_key: str) -> str:
    """A short human-readable name of a public key (base64): 80 bits of its SHA-256 in
    base32, four groups of four (``K7QF-3MZA-PX2D-4JNH``). Compare them between screens."""
    try:
        raw = _unb64(public_key)
    except ValueError:
        raw = public_key.encode()
    text = base64.b32encode(hashlib.sha256(raw).digest()[:10]).decode("ascii")
    return "-".join(text[i : i + 4] for i in range(0, 16, 4))


def signed_payload(purpose: str, data: dict[str, Any]) -> bytes:
    """The bytes a signature covers: the purpose, a newline, canonical JSON without ``sig``."""
    return purpose.encode() + b"\n" + canonical({k: v for k, v in data.items() if k != _SIG})


def verify(purpose: str, data: Any, public_key: str) -> bool:
    """True when ``data[\"sig\"]`` is ``public_key``'s signature of ``data`` for ``purpose``.
    Anything malformed (no signature, bad base64, a wrong-size key, not JSON) is False."""
    if not isinstance(data, dict) or not isinstance(data.get(_SIG), str):
        return False
    try:
        key = Ed25519PublicKey.from_public_bytes(_unb64(public_key))
        key.verify(_unb64(data[_SIG]), signed_payload(purpose, data))
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


@dataclass(frozen=True)
class Identity:
    """A machine's signing key pair."""

    private: Ed25519PrivateKey
    public_key: str  # base64 of the 32 raw bytes

    @property
    def fingerprint(self) -> str:
        """The public key's fingerprint."""
        return fingerprint(self.public_key)

    def sign(self, purpose: str, data: dict[str, Any]) -> dict[str, Any]:
        """``data`` with its ``sig`` member (the signature of everything else, for ``purpose``)."""
        sig = self.private.sign(signed_payload(purpose, data))
        return {**{k: v for k, v in data.items() if k != _SIG}, _SIG: _b64(sig)}

    @classmethod
    def generate(cls) -> Identity:
        """A fresh key pair (not stored)."""
        return cls._of(Ed25519PrivateKey.generate())

    @classmethod
    def _of(cls, private: Ed25519PrivateKey) -> Identity:
        raw = private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return cls(private, _b64(raw))

    @classmethod
    def load_or_create(cls, store_directory: Path) -> Identity:
        """The key of the store at ``store_directory`` (``vault/signing.key``); made the first
        time, written atomically 0600.

        Raises:
            StoreError: The key file is readable by others, or not a key.
        """
        path = store_directory / "vault" / KEY_FILE
        try:
            st = path.stat()
        except FileNotFoundError:
            return cls._create(path)
        if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise StoreError(
                f"{path} (this machine's signing key) is readable by other users "
                f"(mode {stat.S_IMODE(st.st_mode):04o}): run `chmod 600 {path}`; if someone "
                "else may have read it, move it away (a new key is made) and trust this "
                "machine again on the others"
            )
        try:
            private = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except (OSError, ValueError, TypeError) as exc:
            raise StoreError(
                f"{path} is not an Ed25519 signing key ({exc}); restore it from a backup, or "
                "move it away (a new key is made) and trust this machine again on the others"
            ) from None
        if not isinstance(private, Ed25519PrivateKey):
            raise StoreError(f"{path} holds another kind of key than Ed25519; move it away")
        return cls._of(private)

    @classmethod
    def _create(cls, path: Path) -> Identity:
        made = cls.generate()
        pem = made.private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with contextlib.suppress(OSError):
            os.chmod(path.parent, 0o700)
        fd, tmp = tempfile.mkstemp(prefix=".signing.", dir=path.parent)  # created 0600
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(pem)
                fh.flush()
                os.fsync(fh.fileno())
            try:
                os.link(tmp, path)  # never replaces a key another process made meanwhile
            except FileExistsError:
                return cls.load_or_create(path.parent.parent)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        return made
