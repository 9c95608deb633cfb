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
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
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


def _b64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _thumbprints(cert: x509.Certificate) -> set[str]:
    """The ``x5t`` (SHA-1) and ``x5t#S256`` header values that name ``cert``."""
    return {
        base64.urlsafe_b64encode(cert.fingerprint(h)).decode().rstrip("=")
        for h in (hashes.SHA1(), hashes.SHA256())
    }


def verify_assertion(
    jwt: str, certs: list[x509.Certificate], audience: str
) -> tuple[dict[str, Any] | None, str]:
    """The claims of a client assertion signed (RS256 or PS256) by the key of one of
    ``certs``, named by its ``x5t``/``x5t#S256`` header, for ``audience`` and not expired;
    else None and why, as Entra ID says it."""
    try:
        head_b64, body_b64, sig_b64 = jwt.split(".")
        header, claims = json.loads(_b64(head_b64)), json.loads(_b64(body_b64))
        signature = _b64(sig_b64)
    except ValueError:
        return None, "Client assertion is not a well-formed JWT."
    named = {str(header.get(h)).rstrip("=") for h in ("x5t", "x5t#S256") if header.get(h)}
    cert = next((c for c in certs if _thumbprints(c) & named), None)
    if cert is None:
        return None, "The certificate used to sign the client assertion is not registered."
    key: Any = cert.public_key()
    pad: Any = {
        "RS256": padding.PKCS1v15(),
        "PS256": padding.PSS(padding.MGF1(hashes.SHA256()), hashes.SHA256.digest_size),
    }.get(header.get("alg"))
    if pad is None:
        return None, f"Client assertion algorithm {header.get('alg')!r} is not supported."
    try:
        key.verify(signature, f"{head_b64}.{body_b64}".encode(), pad, hashes.SHA256())
    except InvalidSignature:
        return None, "Client assertion failed signature validation."
    if claims.get("aud") != audience:
        return None, f"Client assertion audience claim does not match {audience!r}."
    if not isinstance(claims.get("exp"), int | float) or claims["exp"] < time.time():
        return None, "Client assertion is not within its valid time range."
    return claims, ""


class FakeSts(FakeServer):
    """Token endpoint for one tenant and one app registration."""

    def __init__(self, tls: tuple[Path, Path], *, secret: str = SECRET) -> None:
        super().__init__(tls=tls)
        self.secret = secret
        self.federated: str | None = None
        self.issued: dict[str, str] = {}
        self.certificates: list[x509.Certificate] = []  # the app registration's certificates

    def register_certificate(self, cert_pem: Path) -> None:
        """Upload a certificate to the app registration (client assertions must verify)."""
        self.certificates.append(x509.load_pem_x509_certificate(cert_pem.read_bytes()))

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
        if req.method == "GET" and req.path.endswith("/.well-known/openid-configuration"):
            # what MSAL (azure-identity's sync credentials) reads to find the token endpoint
            if not req.path.startswith(f"/{TENANT}/"):
                return self._aad_error(400, "invalid_tenant", 90002, "Tenant not found.")
            base = f"{self.url}/{TENANT}"
            return (
                200,
                {},
                {
                    "token_endpoint": f"{base}/oauth2/v2.0/token",
                    "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                    "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
                    "issuer": f"{base}/v2.0",
                    "token_endpoint_auth_methods_supported": [
                        "client_secret_post",
                        "private_key_jwt",
                        "client_secret_basic",
                    ],
                    "response_types_supported": ["code", "id_token", "token id_token"],
                    "scopes_supported": ["openid", "profile", "email", "offline_access"],
                    "subject_types_supported": ["pairwise"],
                    "id_token_signing_alg_values_supported": ["RS256"],
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
            audience = f"{self.url}/{TENANT}/oauth2/v2.0/token"
            claims, why = verify_assertion(form["client_assertion"], self.certificates, audience)
            if claims is None:
                return self._aad_error(401, "invalid_client", 700027, why)
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
