"""Secret detection on capture and the leak scanner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agents.claude.capture import capture
from agents.claude.drafts import SecretRef
from agents.claude.machine import Machine
from agents.claude.scan import SecretLeakError, assert_clean, redact, scan
from agents.claude.secrets import Extractor, is_secret_name

from .conftest import TOKENS

SHAPES = {
    "anthropic-key": TOKENS["anthropic"],
    "openai-key": "sk-proj-4fQ9xL2mN7pR3tV8wY1zB6cD0eF5gH",
    "notion-token": TOKENS["notion"],
    "github-token": TOKENS["github"],
    "slack-token": TOKENS["slack"],
    "slack-webhook": TOKENS["webhook"],
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
    "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "azure-client-secret": TOKENS["azure"],
    "aws-access-key": "AKIAIOSFODNN7EXAMPLE",
    "google-api-key": "AIzaSyD4x9Lm2Np7Qr3St8Uv1Wx6Yz0Ab5Cd9Ef",
    "age-secret-key": "AGE-SECRET-KEY-1" + "QYZ" * 19 + "Q",
    "private-key": "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n"
    "-----END OPENSSH PRIVATE KEY-----",
    "bearer-token": "Authorization: Bearer 0123456789abcdefXYZ",
    "authorization-header": "curl -H 'Authorization: Basic dXNlcjpwYXNzd29yZA=='",
}


@pytest.mark.parametrize(("kind", "text"), sorted(SHAPES.items()))
def test_known_token_shapes_are_found_in_any_text(kind: str, text: str) -> None:
    """Each shape is reported by name, with the line, never the value."""
    [finding] = scan(f"line one\nsee {text} here\n", where="log")
    assert finding.what == f"{kind} shape" and finding.line == 2
    assert text not in str(finding)


@pytest.mark.parametrize(
    "text",
    [
        "task-force-manager-for-the-whole-team",
        "sk-learn-model-selection-toolbox-for-you",
        "secret_santa_list_for_the_office_party_2024",
        "Bearer ${NOTION_AGENT_TOKEN}",
        "secret://claude-code/notion/env/NOTION_TOKEN",
        "the token check in auth.py compares bytes to str",
        "ghp_short",
    ],
)
def test_prose_and_references_are_not_secrets(text: str) -> None:
    """No noise from ordinary words or from our own references."""
    assert scan(text) == []


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("GITHUB_TOKEN", True),
        ("apiKey", True),
        ("client_secret", True),
        ("DB_PASSWORD", True),
        ("Authorization", True),
        ("apiKeyHelper", False),
        ("model", False),
        ("url", False),
    ],
)
def test_secret_names(name: str, secret: bool) -> None:
    """*TOKEN*, *KEY*, *SECRET*, *PASSWORD*; settings helpers that name keys are commands."""
    assert is_secret_name(name) is secret


def test_known_values_are_found_raw_json_escaped_and_url_encoded() -> None:
    """A value containing quotes or slashes is still caught after serialisation."""
    value = 'p@ss/"word"+9'
    known = {"db/password": value}
    assert (
        scan(json.dumps({"msg": f"x {value}"}), known=known)[0].what == "known secret 'db/password'"
    )
    assert scan("postgres://u:p%40ss%2F%22word%22%2B9@h/db", known=known) != []
    assert scan({"nested": [{"k": value.encode()}]}, known=known)[0].where == "/nested/0/k"
    assert scan("short ab", known=["ab"]) == []  # too short to search


def test_the_scanner_walks_files_and_directories(alice: Machine) -> None:
    """Fed the fixture home, it finds the planted tokens; fed the drafts, nothing."""
    findings = scan(alice.home, known=TOKENS)
    places = {Path(f.where).name for f in findings}
    assert {".claude.json", "settings.json", ".mcp.json", "service.env"} <= places
    assert_clean(capture(alice).drafts, known=TOKENS)


def test_assert_clean_raises_with_places_not_values() -> None:
    """The error message is safe to log."""
    with pytest.raises(SecretLeakError) as info:
        assert_clean({"a": [f"x {TOKENS['github']}"]}, known={"gh": TOKENS["github"]}, where="obj")
    assert TOKENS["github"] not in str(info.value)
    assert "obj/a/0: known secret 'gh'" in str(info.value)


def test_redact_shows_known_values_by_name_and_masks_shapes() -> None:
    """What a diff prints."""
    text = f'"NOTION_TOKEN": "{TOKENS["notion"]}", x={TOKENS["github"]}'
    out = redact(text, {"notion/token": TOKENS["notion"]})
    assert out == '"NOTION_TOKEN": "secret://notion/token", x=«github-token»'


def test_same_name_different_values_get_distinct_names_and_repeat_values_reuse_theirs() -> None:
    """Two projects' GITHUB_TOKEN differ: GITHUB_TOKEN and GITHUB_TOKEN_2."""
    ex, refs = Extractor(), list[SecretRef]()
    a = ex.scrub_all({"GITHUB_TOKEN": "one-value"}, "", refs, "ns", "env")
    b = ex.scrub_all({"GITHUB_TOKEN": "two-value"}, "", refs, "ns", "env")
    c = ex.scrub_all({"GITHUB_TOKEN": "one-value"}, "", refs, "ns", "env")
    assert (a, b, c) == (
        {"GITHUB_TOKEN": "${GITHUB_TOKEN}"},
        {"GITHUB_TOKEN": "${GITHUB_TOKEN_2}"},
        {"GITHUB_TOKEN": "${GITHUB_TOKEN}"},
    )
    assert ex.values == {"GITHUB_TOKEN": "one-value", "GITHUB_TOKEN_2": "two-value"}


def test_server_args_flags_urls_and_headers_are_scrubbed() -> None:
    """--api-key v, --token=v, ?api_key=v, user:password@ and every header value."""
    ex, refs = Extractor(), list[SecretRef]()
    out = ex.scrub_server(
        "svc",
        {
            "args": ["--api-key", "abc123def456", "--token=zyx987wvu654", "--port", "8080"],
            "url": "https://user:pw123456@svc.example.com/mcp?api_key=q1w2e3r4t5&x=1",
            "headers": {"X-Custom": "plain"},
        },
        "/config",
        refs,
        "claude-code",
        "uri",
    )
    assert out["args"] == [
        "--api-key",
        "secret://claude-code/svc/args/api-key",
        "--token=secret://claude-code/svc/args/token",
        "--port",
        "8080",
    ]
    assert out["url"] == (
        "https://user:secret://claude-code/svc/url-password@svc.example.com/mcp"
        "?api_key=secret://claude-code/svc/url-api_key&x=1"
    )
    assert out["headers"] == {"X-Custom": "secret://claude-code/svc/headers/X-Custom"}
    assert {r.path for r in refs} == {
        "/config/args/1",
        "/config/args/2",
        "/config/url",
        "/config/headers/X-Custom",
    }
