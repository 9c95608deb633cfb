"""keyring backends for tests (keyring's own classes have untyped constructors)."""

from __future__ import annotations

from keyring.backend import KeyringBackend


def failing_keyring() -> KeyringBackend:
    """keyring's backend for "no keyring here" (a headless box): every call fails."""
    from keyring.backends import fail

    backend: KeyringBackend = fail.Keyring()  # type: ignore[no-untyped-call]
    return backend
