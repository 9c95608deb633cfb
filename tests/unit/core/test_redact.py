"""The one redaction rule: secret names, credential shapes, file outputs, and its properties."""

from __future__ import annotations

import json
import string
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agents.core.redact import (
    REDACTED,
    TOKEN_PATTERNS,
    file_output,
    find_tokens,
    is_secret_name,
    mask,
    mask_text,
    redact_url,
    summary,
)


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("passphrase", True),
        ("pwd", True),
        ("private_key", True),
        ("client_secret", True),
        ("sas", True),
        ("connection_string", True),
        ("connectionString", True),
        ("AZURE_STORAGE_CONNECTION_STRING", True),
        ("AccountKey", True),
        ("sslpassword", True),
        ("accessToken", True),
        ("secretText", True),
        ("apiKey", True),
        ("OPENAI_API_KEY", True),
        ("Authorization", True),
        ("sig", True),
        ("db_pass", True),
        ("keyword", False),
        ("keywords", False),
        ("monkey", False),
        ("primaryKey", False),
        ("keyId", False),
        ("token_type", False),
        ("AZURE_FEDERATED_TOKEN_FILE", False),
        ("LOKKA_TOKEN_CACHE", False),
        ("title", False),
        ("", False),
    ],
)
def test_one_rule_says_which_names_hold_secrets(name: str, secret: bool) -> None:
    """The table of issue 15: passphrase…connection_string masked; keyword and monkey not."""
    assert is_secret_name(name) is secret


SHAPES = {
    "notion ntn_": "ntn_" + "a1B2c3D4e5" * 4 + "xyz123",
    "notion secret_": "secret_" + "Q9w8E7r6T5" * 4 + "abc",
    "bearer": "Bearer abc123def456ghi789",
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlF",
    "age": "AGE-SECRET-KEY-1" + "QYZ" * 19 + "Q",
    "pem": "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n"
    "-----END PRIVATE KEY-----",
    "pem cut short": "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA0Z3VS5JJcds3xfn",
    "sas sig": "https://acct.blob.core.windows.net/c?sv=2024-01-01&sig=AbCd%2Bef1234567%3D",
    "connection string": "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=bXlrZXk9PQ==;",
    "connection password": "Server=db;User Id=sa;Password=Hunter2xyz;",
    "url password": "postgresql://app:hunter2pw@db.example.com/ctx",
}
SECRET_PARTS = {
    "notion ntn_": SHAPES["notion ntn_"],
    "notion secret_": SHAPES["notion secret_"],
    "bearer": "abc123def456ghi789",
    "jwt": SHAPES["jwt"],
    "age": SHAPES["age"],
    "pem": "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC",
    "pem cut short": "MIIEpAIBAAKCAQEA0Z3VS5JJcds3xfn",
    "sas sig": "AbCd%2Bef1234567%3D",
    "connection string": "bXlrZXk9PQ==",
    "connection password": "Hunter2xyz",
    "url password": "hunter2pw",
}


@pytest.mark.parametrize("kind", sorted(SHAPES))
def test_credential_shaped_values_are_masked_whatever_their_key(kind: str) -> None:
    """Under an innocent key, inside text, in a list: the secret part is gone."""
    value = {"note": f"see {SHAPES[kind]} here", "items": [SHAPES[kind]]}
    out = json.dumps(mask(value))
    assert SECRET_PARTS[kind] not in out and REDACTED in out
    assert "see " in out  # the text around it stays


def test_secret_named_members_hide_every_string_and_number_beneath_them() -> None:
    """passwordProfile.password and token.value alike; booleans, nulls and the shape stay."""
    body = {
        "passwordProfile": {"password": "Xy7!pass", "forceChangePasswordNextSignIn": True},
        "token": {"value": "abc", "n": 4, "none": None},
        "credentials": ["a", "b"],
        "displayName": "Alice",
    }
    assert mask(body) == {
        "passwordProfile": {"password": REDACTED, "forceChangePasswordNextSignIn": True},
        "token": {"value": REDACTED, "n": REDACTED, "none": None},
        "credentials": [REDACTED, REDACTED],
        "displayName": "Alice",
    }


def test_a_summary_masks_before_it_cuts_so_no_half_secret_is_kept() -> None:
    """A JWT that straddles the 200-character cut is masked, not cut in two."""
    text = "x" * 150 + " " + SHAPES["jwt"] + " tail" * 20
    out = summary({"text": text})["text"]
    assert "eyJhbGci" not in out and REDACTED in out


def test_a_file_reading_tools_output_is_kept_as_hash_size_and_a_short_masked_preview() -> None:
    """The content itself is never kept; the preview carries no secret."""
    output = {"content": "ntn_" + "k3y" * 20 + " " + "line\n" * 1000}
    kept = file_output(output)
    assert set(kept) == {"sha256", "bytes", "preview"}
    assert len(kept["sha256"]) == 64 and kept["bytes"] > 5000
    assert len(kept["preview"]) <= 121 and "k3yk3y" not in kept["preview"]


def test_urls_lose_passwords_and_secret_named_parameters() -> None:
    """The sync paths' URL rule is the same name rule."""
    url = "postgresql://u:hunter2@db/ctx?sslpassword=pw1&sslmode=require&pwd=x"
    assert redact_url(url) == "postgresql://u:***@db/ctx?sslpassword=***&sslmode=require&pwd=***"


# --- properties -------------------------------------------------------------------------------

_B62 = string.ascii_letters + string.digits
_B64URL = _B62 + "-_"


def _chars(alphabet: str, lo: int, hi: int) -> st.SearchStrategy[str]:
    return st.text(alphabet=alphabet, min_size=lo, max_size=hi)


# Credentials as their vendors issue them.
CREDENTIALS: st.SearchStrategy[str] = st.one_of(
    _chars(_B62, 40, 50).map(lambda s: "ntn_" + s),
    st.builds(lambda a, d: "secret_" + a + d, _chars(_B62, 35, 45), st.sampled_from("0123456789")),
    st.builds(
        lambda h, p, s: f"eyJ{h}.eyJ{p}.{s}",
        _chars(_B64URL, 10, 40),
        _chars(_B64URL, 10, 80),
        _chars(_B64URL, 0, 60),
    ),
    _chars("023456789ACDEFGHJKLMNPQRSTUVWXYZ", 58, 58).map(lambda s: "AGE-SECRET-KEY-1" + s),
    st.builds(
        lambda w, t: f"{w} {t}",
        st.sampled_from(["Bearer", "bearer", "BEARER"]),
        st.builds(
            lambda a, d: a + d, _chars(_B62 + "._~+/-", 15, 60), st.sampled_from("0123456789")
        ),
    ),
    st.builds(
        lambda kind, body: (
            f"-----BEGIN {kind}PRIVATE KEY-----\n{body}\n-----END {kind}PRIVATE KEY-----"
        ),
        st.sampled_from(["", "RSA ", "EC ", "OPENSSH ", "ENCRYPTED "]),
        _chars(_B62 + "+/=\n", 1, 200),
    ),
)

# Ordinary data: words, numbers, ids, dates; keys from real payloads.
WORDS = st.text(alphabet=string.ascii_letters + string.digits + " .,:-#/()", max_size=40)
PLAIN_KEYS = st.sampled_from(
    [
        "title",
        "id",
        "name",
        "keyword",
        "monkey",
        "status",
        "url",
        "created_at",
        "tags",
        "items",
        "primaryKey",
        "keyId",
        "token_type",
        "description",
        "number",
        "column",
        "body",
    ]
)
PLAIN = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), WORDS),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(PLAIN_KEYS, inner, max_size=4)
    ),
    max_leaves=20,
)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in [k, *_strings(v)]]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(secret=CREDENTIALS, before=WORDS, after=WORDS, data=PLAIN)
def test_no_credential_survives_masking_wherever_it_is_put(
    secret: str, before: str, after: str, data: Any
) -> None:
    """In text between ordinary words, as a value, as a key, in a summary: none survives."""
    text = f"{before} {secret} {after}"
    tree = {"x": data, "note": text, "list": [secret], secret: 1}
    for out in (mask(tree), summary(tree), mask_text(text)):
        for s in _strings(out):
            assert not find_tokens(s), s
    core = secret.split()[-1] if secret.lower().startswith("bearer") else secret
    body = core.split("-----")[2].strip() if "PRIVATE KEY" in core else core
    elsewhere = f"{before} {after} {json.dumps(data)}"
    assert body not in json.dumps(mask(tree)) or len(body) < 8 or body in elsewhere


@settings(max_examples=300)
@given(data=PLAIN)
def test_ordinary_data_comes_back_unchanged_and_masking_twice_changes_nothing(data: Any) -> None:
    """No false positives on payload-like data, and mask is idempotent."""
    assert mask(data) == data
    assert mask(mask(data)) == mask(data)


def test_every_pattern_has_a_shape_in_the_table_or_the_vendor_list() -> None:
    """A new pattern needs a test: the issue's shapes are all covered above."""
    names = {p.name for p in TOKEN_PATTERNS}
    assert {"notion-token", "bearer-token", "jwt", "age-secret-key", "private-key"} <= names
    assert {"sas-signature", "connection-string-secret", "url-password"} <= names


def test_an_output_whose_urls_carry_no_password_comes_back_unscanned() -> None:
    """A URL is scanned for a password only when its text holds an ``@`` too: a record of links
    (most outputs) comes back as it is, the same object, and a password in one is masked."""
    out = {"id": "p-1", "url": "https://example.test/p-1", "n": 3}
    assert mask(out) is out
    leaked = {"id": "p-1", "url": "postgresql://app:hunter2pw@db.example.com/ctx"}
    assert mask(leaked)["url"] == f"postgresql://app:{REDACTED}@db.example.com/ctx"


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(secret=CREDENTIALS, before=WORDS, after=WORDS)
def test_every_match_holds_the_literal_text_its_pattern_is_skipped_without(
    secret: str, before: str, after: str
) -> None:
    """The pre-checks are safe: each match of a pattern contains one of its hints and what it
    ``needs`` (lower-cased for a folding pattern), so a text without them cannot match."""
    text = f"{before} {secret} {after}"
    for pat in TOKEN_PATTERNS:
        for m in pat.regex.finditer(text):
            where = m.group(0).lower() if pat.fold else m.group(0)
            assert any(h in where for h in pat.hints), (pat.name, where)
            assert pat.needs in where, (pat.name, where)
