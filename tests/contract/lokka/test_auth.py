"""Each unattended auth mode gets its token from the fake token endpoint through azure-identity."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.contract.lokka.conftest import start_agent
from tests.fakes.graph import FakeGraph
from tests.fakes.sts import CLIENT_ID, IDENTITY_HEADER, FakeSts, make_cert

pytestmark = [pytest.mark.anyio, pytest.mark.contract]


def token_requests(sts: FakeSts) -> list[dict[str, str]]:
    from urllib.parse import parse_qs

    return [
        {k: v[-1] for k, v in parse_qs(str(r.body)).items()}
        for r in sts.requests
        if r.path.endswith("/oauth2/v2.0/token")
    ]


async def test_certificate_mode_signs_a_client_assertion(
    env: dict[str, str], sts: FakeSts, graph: FakeGraph, tmp_path: Path
) -> None:
    """AZURE_CLIENT_CERTIFICATE_PATH (PEM with key) wins over a secret: no secret is sent."""
    cert, key = make_cert(tmp_path, "app", server=False)
    sts.register_certificate(cert)  # the token service verifies the signature against it
    pem = tmp_path / "app.pem"
    pem.write_bytes(cert.read_bytes() + key.read_bytes())
    async for agent in start_agent({**env, "AZURE_CLIENT_CERTIFICATE_PATH": str(pem)}):
        await agent.ok("list_users", limit=1)
    (req,) = token_requests(sts)
    assert "client_secret" not in req and req["client_assertion"].count(".") == 2
    assert req["scope"] == f"{graph.url}/.default" and req["client_id"] == CLIENT_ID


async def test_a_client_assertion_signed_with_a_key_the_app_does_not_hold_is_refused(
    env: dict[str, str], sts: FakeSts, graph: FakeGraph, tmp_path: Path
) -> None:
    """The token service checks the signature against the app's registered certificate: a
    certificate the app registration does not have gets AADSTS700027, and no token."""
    registered, _ = make_cert(tmp_path, "registered", server=False)
    sts.register_certificate(registered)
    other, other_key = make_cert(tmp_path, "other", server=False)
    pem = tmp_path / "other.pem"
    pem.write_bytes(other.read_bytes() + other_key.read_bytes())
    async for agent in start_agent({**env, "AZURE_CLIENT_CERTIFICATE_PATH": str(pem)}):
        text = await agent.error("list_users", limit=1)
        assert "AADSTS700027" in text and "not registered" in text, text
    assert sts.issued == {} and graph.requests == []


async def test_workload_identity_sends_the_federated_token_file(
    env: dict[str, str], sts: FakeSts, graph: FakeGraph, tmp_path: Path
) -> None:
    """AZURE_FEDERATED_TOKEN_FILE's content is the client assertion (AKS workload identity)."""
    token_file = tmp_path / "token"
    token_file.write_text("header.payload.signature")
    sts.federated = "header.payload.signature"
    values = {k: v for k, v in env.items() if k != "AZURE_CLIENT_SECRET"}
    async for agent in start_agent({**values, "AZURE_FEDERATED_TOKEN_FILE": str(token_file)}):
        await agent.ok("list_users", limit=1)
        assert (await agent.ok("agent_info"))["upstream_configured"] is True
    (req,) = token_requests(sts)
    assert req["client_assertion"] == "header.payload.signature"


async def test_managed_identity_uses_the_hosting_environment_endpoint(
    env: dict[str, str], sts: FakeSts, graph: FakeGraph, monkeypatch: pytest.MonkeyPatch
) -> None:
    """LOKKA_AUTH_MODE=managed_identity: App Service's IDENTITY_ENDPOINT answers, no secret used."""
    monkeypatch.setenv("IDENTITY_ENDPOINT", f"{sts.url}/msi/token")
    monkeypatch.setenv("IDENTITY_HEADER", IDENTITY_HEADER)
    values = {k: v for k, v in env.items() if not k.startswith("AZURE_CLIENT")}
    async for agent in start_agent({**values, "LOKKA_AUTH_MODE": "managed_identity"}):
        await agent.ok("list_users", limit=1)
    (req,) = [r for r in sts.requests if r.path == "/msi/token"]
    assert req.query["resource"] == graph.url
    assert token_requests(sts) == []


async def test_one_credential_serves_graph_and_arm_for_the_whole_process(
    env: dict[str, str], sts: FakeSts
) -> None:
    """Tokens are cached per scope: repeated calls fetch one Graph and one ARM token."""
    async for agent in start_agent(env):
        for _ in range(3):
            await agent.ok("list_users", limit=1)
            await agent.ok("list_subscriptions", limit=1)
    scopes = [r["scope"] for r in token_requests(sts)]
    assert len(scopes) == 2 and len(set(scopes)) == 2


async def test_a_client_assertion_whose_signature_does_not_verify_is_refused(
    env: dict[str, str],
    sts: FakeSts,
    graph: FakeGraph,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Signing broken at its seam (one byte of the signature flipped): the token service
    answers AADSTS700027, so the test above would fail if the agent signed wrongly."""
    from azure.identity._internal.aadclient_certificate import AadClientCertificate

    for name in ("sign_rs256", "sign_ps256"):
        real = getattr(AadClientCertificate, name)

        def flipped(self: Any, plaintext: bytes, _real: Any = real) -> bytes:
            sig = bytearray(_real(self, plaintext))
            sig[-1] ^= 0xFF
            return bytes(sig)

        monkeypatch.setattr(AadClientCertificate, name, flipped)
    cert, key = make_cert(tmp_path, "app", server=False)
    sts.register_certificate(cert)
    pem = tmp_path / "app.pem"
    pem.write_bytes(cert.read_bytes() + key.read_bytes())
    async for agent in start_agent({**env, "AZURE_CLIENT_CERTIFICATE_PATH": str(pem)}):
        text = await agent.error("list_users", limit=1)
        assert "AADSTS700027" in text and "signature validation" in text, text
    assert sts.issued == {}
