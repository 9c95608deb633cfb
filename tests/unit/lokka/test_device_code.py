"""Device-code sign-in: the code comes back as a tool error, never on stdout; then silent tokens."""

from __future__ import annotations

import stat
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import pytest
from azure.core.credentials import AccessToken
from azure.identity import AuthenticationRecord, AuthenticationRequiredError, DeviceCodeCredential

from agents.core.errors import NotConfiguredError
from agents.core.logs import configure_logging
from agents.lokka.auth import DeviceCodeSignIn
from agents.lokka.settings import LokkaSettings

pytestmark = pytest.mark.anyio


class StubDeviceCode:
    """Stands in for azure-identity's sync DeviceCodeCredential (the narrow seam)."""

    def __init__(self) -> None:
        self.signed_in = False
        self.release = threading.Event()
        self.sign_in: DeviceCodeSignIn | None = None

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        if not self.signed_in:
            raise AuthenticationRequiredError(scopes)
        return AccessToken("user-token", int(time.time()) + 3600)

    def authenticate(self, scopes: list[str]) -> AuthenticationRecord:
        assert self.sign_in is not None
        self.sign_in._on_prompt(
            "https://microsoft.com/devicelogin",
            "ABCD-EFGH",
            datetime.now(UTC) + timedelta(minutes=15),
        )
        self.release.wait(5)
        self.signed_in = True
        return AuthenticationRecord(
            "contoso", "app", "login.microsoftonline.com", "home.id", "admin@contoso.com"
        )


def settings() -> LokkaSettings:
    return LokkaSettings.model_validate(
        {"AZURE_TENANT_ID": "contoso", "AZURE_CLIENT_ID": "app", "LOKKA_AUTH_MODE": "device_code"}
    )


async def test_the_first_call_returns_the_device_code_and_later_calls_get_tokens(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Sign-in runs in the background; once done, the record is saved at 0600 for restarts."""
    monkeypatch.setenv("HOME", str(tmp_path))
    configure_logging(stream=sys.stderr, agent="lokka", env="test")  # as under --transport stdio
    stub = StubDeviceCode()
    cred = DeviceCodeSignIn(settings(), credential=stub)
    stub.sign_in = cred
    for _ in range(2):
        with pytest.raises(
            NotConfiguredError,
            match=r"open https://microsoft\.com/devicelogin and enter the code ABCD-EFGH",
        ):
            await cred.get_token("https://graph.microsoft.com/.default")
    stub.release.set()
    assert cred._thread is not None
    await anyio.to_thread.run_sync(cred._thread.join, 5)
    token = await cred.get_token("https://graph.microsoft.com/.default", enable_cae=True)
    assert token.token == "user-token"
    assert stat.S_IMODE(cred.record_path.stat().st_mode) == 0o600
    assert (
        AuthenticationRecord.deserialize(cred.record_path.read_text()).username
        == "admin@contoso.com"
    )
    out, err = capsys.readouterr()
    assert out == "" and "ABCD-EFGH" in err


def test_the_real_credential_uses_a_persistent_cache_and_never_prompts_by_itself(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """azure-identity's DeviceCodeCredential, with automatic authentication off."""
    monkeypatch.setenv("HOME", str(tmp_path))
    cred = DeviceCodeSignIn(settings())
    assert isinstance(cred._cred, DeviceCodeCredential)
    assert cred._cred._disable_automatic_authentication is True
    assert cred.record_path.parent == tmp_path / ".IdentityService"
