"""One azure-identity credential per process, chosen by ``LOKKA_AUTH_MODE``.

azure.identity is imported only when the first token is needed, so the agent starts (and
answers /readyz) without paying for it.
"""

from __future__ import annotations

import os
import threading
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import anyio

from agents.core.errors import ConfigError, NotConfiguredError
from agents.core.logs import get_logger
from agents.lokka.settings import LokkaSettings

__all__ = ["AsyncCredential", "DeviceCodeSignIn", "build_credential", "build_sync_credential"]

log = get_logger(__name__)
PUBLIC_AUTHORITIES = {"login.microsoftonline.com"}


class AsyncCredential(Protocol):
    """What the Graph and ARM clients need from a credential (azure-core's async protocol)."""

    async def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        """An ``AccessToken`` for ``scopes``."""

    async def close(self) -> None:
        """Release the credential's transport."""


def _transport_kwargs(s: LokkaSettings) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"authority": s.authority_host}
    if s.ca_bundle:
        kwargs["connection_verify"] = s.ca_bundle
    return kwargs


def _credential(s: LokkaSettings, identity: Any, **extra: Any) -> Any:
    """The credential for ``s.mode`` from ``identity``: ``azure.identity`` (sync) or
    ``azure.identity.aio``, which name their classes alike."""
    kw = {**_transport_kwargs(s), **extra}
    mode = s.mode
    if mode == "certificate":
        password = s.certificate_password.get_secret_value() if s.certificate_password else None
        return identity.CertificateCredential(
            s.tenant_id or "",
            s.client_id or "",
            certificate_path=s.certificate_path,
            password=password,
            **kw,
        )
    if mode == "client_secret":
        secret = s.client_secret.get_secret_value() if s.client_secret else ""
        return identity.ClientSecretCredential(s.tenant_id or "", s.client_id or "", secret, **kw)
    if mode == "workload_identity":
        return identity.WorkloadIdentityCredential(
            tenant_id=s.tenant_id,
            client_id=s.client_id,
            token_file_path=s.federated_token_file,
            **kw,
        )
    kw.pop("authority")
    kw.pop("disable_instance_discovery", None)
    return identity.ManagedIdentityCredential(client_id=s.client_id, **kw)


def build_credential(s: LokkaSettings) -> AsyncCredential:
    """The credential for ``s.mode``; called once, on the first call that needs a token."""
    if s.mode == "device_code":
        return DeviceCodeSignIn(s)
    from azure.identity import aio

    cred: AsyncCredential = _credential(s, aio)
    return cred


def build_sync_credential(s: LokkaSettings) -> Any:
    """A synchronous azure-identity credential for ``s.mode`` (for programs that run
    without a person, such as the sync program's Microsoft 365 remote).

    Raises:
        ConfigError: ``device_code`` (it needs a person at a prompt).
    """
    if s.mode == "device_code":
        raise ConfigError(
            "LOKKA_AUTH_MODE=device_code needs a person at a prompt, and sync runs unattended: "
            "use a certificate, a client secret, a managed or a workload identity"
        )
    import azure.identity

    # the sync credentials go through MSAL, which looks an unknown authority up on the
    # public cloud first; a sovereign or private authority host must not be looked up there
    extra = {}
    if urlsplit(s.authority_host).hostname not in PUBLIC_AUTHORITIES:
        extra["disable_instance_discovery"] = True
    return _credential(s, azure.identity, **extra)


def _record_path(s: LokkaSettings) -> Path:
    return Path.home() / ".IdentityService" / f"{s.token_cache}.{s.tenant_id}.authrecord.json"


class DeviceCodeSignIn:
    """Delegated sign-in with a device code, for interactive use.

    azure-identity has no async device-code credential, so the sync one runs in a worker
    thread. It never prompts inside a tool call: the first call starts the sign-in in the
    background and fails with the URL and code (also logged, never printed to stdout, which
    may be the MCP stdio stream); once the user has signed in, the account record is saved
    and tokens come silently from the persistent cache, across restarts too.
    """

    def __init__(self, s: LokkaSettings, *, credential: Any = None) -> None:
        self.settings = s
        self.record_path = _record_path(s)
        self._prompt: str | None = None
        self._error: str | None = None
        self._prompted = threading.Event()
        self._thread: threading.Thread | None = None
        self._cred = credential if credential is not None else self._build()

    def _build(self) -> Any:
        from azure.identity import (
            AuthenticationRecord,
            DeviceCodeCredential,
            TokenCachePersistenceOptions,
        )

        s = self.settings
        record = None
        if self.record_path.is_file():
            record = AuthenticationRecord.deserialize(self.record_path.read_text())
        return DeviceCodeCredential(
            client_id=s.client_id or "",
            tenant_id=s.tenant_id,
            prompt_callback=self._on_prompt,
            authentication_record=record,
            disable_automatic_authentication=True,
            cache_persistence_options=TokenCachePersistenceOptions(
                name=s.token_cache, allow_unencrypted_storage=s.token_cache_unencrypted
            ),
            **_transport_kwargs(s),
        )

    def _on_prompt(self, uri: str, code: str, expires: datetime) -> None:
        self._prompt = (
            f"sign in to Microsoft 365: open {uri} and enter the code {code} "
            f"(valid until {expires:%H:%M} UTC), then call the tool again"
        )
        log.warning("lokka_device_code_sign_in", uri=uri, code=code, expires=expires.isoformat())
        self._prompted.set()

    def _sign_in(self, scope: str) -> None:
        try:
            record = self._cred.authenticate(scopes=[scope])
            self.record_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(self.record_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(record.serialize())
            log.info("lokka_device_code_signed_in", user=record.username)
        except Exception as exc:  # the thread's top level: any failure ends this attempt
            self._error = f"device-code sign-in failed: {exc}"
            log.error("lokka_device_code_failed", error=str(exc))
        finally:
            self._prompted.set()

    async def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        """A token from the cache, or a "sign in first" error that carries the code."""
        from azure.identity import AuthenticationRequiredError

        kwargs.pop("enable_cae", None)
        try:
            return await anyio.to_thread.run_sync(partial(self._cred.get_token, *scopes, **kwargs))
        except AuthenticationRequiredError:
            pass
        if self._thread is None or not self._thread.is_alive():
            self._prompt, self._error = None, None
            self._prompted.clear()
            self._thread = threading.Thread(
                target=self._sign_in, args=(scopes[0],), name="lokka-device-code", daemon=True
            )
            self._thread.start()
        await anyio.to_thread.run_sync(self._prompted.wait, 30)
        raise NotConfiguredError(
            self._error or self._prompt or "device-code sign-in is starting; call again shortly"
        )

    async def close(self) -> None:
        """Nothing to release (the sync credential has no async transport)."""
