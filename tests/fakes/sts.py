"""A loopback Microsoft identity platform token endpoint over TLS, and test certificates.

azure-identity only talks to an https authority, so the fake serves TLS with a self-signed
certificate that the agent trusts through ``LOKKA_CA_BUNDLE``. It answers the v2.0 token
endpoint (client secret, certificate assertion, federated assertion) and the App Service
managed-identity endpoint, and remembers which scope each token was issued for.
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import json
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from tests.fakes.base import FakeServer, Recorded, Reply

TENANT = "contoso.onmicrosoft.com"
CLIENT_ID = "00000000-1111-2222-3333-444444444444"
SECRET = "s3cret-value"
IDENTITY_HEADER = "fake-identity-header"


def make_cert(directory: Path, name: str, *, server: bool) -> tuple[Path, Path]:
    """A self-signed certificate and key (PEM); a server one is valid for 127.0.0.1/localhost."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=2))
    )
    if server:
        san = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
        builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
        builder = builder.add_extension(
            x509.BasicConstraints(ca=True, path_length=None), critical=True
        )
    cert = builder.sign(key, hashes.SHA256())
    cert_path, key_path = directory / f"{name}.crt", directory / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def _claims(jwt: str) -> dict[str, Any]:
    payload = jwt.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


class FakeSts(FakeServer):
    """Token endpoint for one tenant and one app registration."""

    def __init__(self, tls: tuple[Path, Path], *, secret: str = SECRET) -> None:
        super().__init__(tls=tls)
        self.secret = secret
        self.federated: str | None = None
        self.issued: dict[str, str] = {}

    def _token(self, scope: str) -> dict[str, Any]:
        token = f"tok-{uuid.uuid4().hex}"
        self.issued[token] = scope
        return {
            "token_type": "Bearer",
            "expires_in": 3599,
            "ext_expires_in": 3599,
            "access_token": token,
        }

    def _aad_error(self, status: int, error: str, code: int, text: str) -> Reply:
        body = {
            "error": error,
            "error_description": f"AADSTS{code}: {text}",
            "error_codes": [code],
            "timestamp": time.strftime("%Y-%m-%d %H:%M:%SZ"),
            "trace_id": str(uuid.uuid4()),
            "correlation_id": str(uuid.uuid4()),
        }
        return status, {}, body

    def route(self, req: Recorded) -> Reply:
        if req.method == "GET" and req.path == "/msi/token":
            if req.headers.get("x-identity-header") != IDENTITY_HEADER:
                return 400, {}, {"error": "invalid_request", "error_description": "bad header"}
            tok = self._token(req.query["resource"].rstrip("/") + "/.default")
            expires = str(int(time.time()) + 3599)
            return (
                200,
                {},
                {
                    "access_token": tok["access_token"],
                    "expires_on": expires,
                    "resource": req.query["resource"],
                    "token_type": "Bearer",
                },
            )
        if req.method != "POST" or req.path != f"/{TENANT}/oauth2/v2.0/token":
            return self._aad_error(
                404, "invalid_request", 90002, f"Tenant or path {req.path!r} not found."
            )
        form = {k: v[-1] for k, v in parse_qs(str(req.body or "")).items()}
        if form.get("client_id") != CLIENT_ID:
            return self._aad_error(
                400, "unauthorized_client", 700016, "Application not found in the directory."
            )
        if form.get("grant_type") != "client_credentials":
            return self._aad_error(400, "unsupported_grant_type", 70003, "Unsupported grant type.")
        if "client_secret" in form:
            if form["client_secret"] != self.secret:
                return self._aad_error(
                    401, "invalid_client", 7000215, "Invalid client secret provided."
                )
        elif "client_assertion" in form and form["client_assertion"] == self.federated:
            pass
        elif "client_assertion" in form:
            claims = _claims(form["client_assertion"])
            if claims.get("iss") != CLIENT_ID or claims.get("sub") != CLIENT_ID:
                return self._aad_error(
                    401, "invalid_client", 700027, "Client assertion failed signature validation."
                )
        else:
            return self._aad_error(
                401,
                "invalid_client",
                7000218,
                "The request body must contain client_assertion or client_secret.",
            )
        return 200, {}, self._token(form.get("scope", ""))
