"""Secret detection on capture and the leak scanner."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from agents.claude.capture import capture
from agents.claude.drafts import SecretRef
from agents.claude.machine import Machine
from agents.claude.scan import Finding, SecretLeakError, assert_clean, redact, scan
from agents.claude.secrets import Extractor, is_secret_name, pointer

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


def test_every_place_holding_a_secret_is_found_once_with_its_line() -> None:
    """Each occurrence of each secret, in keys and values, before and after clean entries;
    a secret inside a longer one is named as the longer; lines count from the text's start."""
    known = {"short": "abcdef12", "long": "0abcdef12345678", "exact": "six-ch"}
    subject = {
        "a": "\nfirst 0abcdef12345678 then abcdef12",
        "six-ch": "abcdef12abcdef12abcdef12",
        "z": "clean",
    }
    assert scan(subject, known=known) == [
        Finding("/a", "known secret 'long'", 2),
        Finding("/a", "known secret 'short'", 2),
        Finding("/six-ch", "known secret 'exact'"),
        Finding("/six-ch", "known secret 'short'"),
        Finding("/six-ch", "known secret 'short'"),
        Finding("/six-ch", "known secret 'short'"),
    ]
    # one secret right before another: both
    assert scan("abcdef120abcdef12345678", known=known) == [
        Finding("", "known secret 'short'"),
        Finding("", "known secret 'long'"),
    ]


def test_values_given_without_names_and_anything_printable_are_scanned() -> None:
    """A list of values is numbered; an object that is neither text nor JSON is scanned as
    its text; a secret URL-encoded with its slashes, or JSON-escaped with non-ASCII, is found."""
    value = 'pä/ss"wörd'
    assert scan(ValueError(f"failed with {value}"), known=[value]) == [
        Finding("", "known secret '#0'")
    ]
    assert scan("https://h/?p=p%C3%A4%2Fss%22w%C3%B6rd", known=[value]) != []
    assert scan(json.dumps({"p": value}, ensure_ascii=False), known=[value]) != []
    assert redact(json.dumps({"p": value}, ensure_ascii=False), {"pw": value}) == (
        '{"p": "secret://pw"}'
    )


def test_a_directory_is_scanned_file_by_file_each_finding_naming_its_file(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.env").write_text("TOKEN=abcdef12345678\n")
    (tmp_path / "a.txt").write_text("nothing here\n")
    assert scan(tmp_path, known={"t": "abcdef12345678"}) == [
        Finding(str(tmp_path / "sub" / "b.env"), "known secret 't'", 1)
    ]


class _Envelope:
    """An object that is not a dataclass but says how it is written: like an SDK model."""

    def __init__(self, token: str) -> None:
        self.token = token

    def to_json(self) -> dict[str, object]:
        return {"auth": {"token": self.token}}


@dataclass
class _Box:
    label: str
    inner: dict[str, str]


def test_an_object_is_scanned_as_its_json_or_its_fields_with_each_value_in_its_place() -> None:
    """What a capture or a store hands over (a document, a dataclass, anything with
    ``to_json``) is scanned as it will be written, each finding at its JSON pointer."""
    known = {"t": "abcdef12345678"}
    subject = {"a": _Envelope("abcdef12345678"), "b": _Box("x", {"k": "abcdef12345678"})}
    assert scan(subject, known=known, where="drafts") == [
        Finding("drafts/a/auth/token", "known secret 't'", None),
        Finding("drafts/b/inner/k", "known secret 't'", None),
    ]
    assert scan(_Envelope(TOKENS["github"])) == [Finding("/auth/token", "github-token shape", None)]
    assert scan(_Box, known=known) == []  # the class itself holds no value


def test_the_leak_error_lists_the_first_ten_places_and_counts_the_rest() -> None:
    """A finding in a text of several lines says which line."""
    known = {"t": "abcdef12345678"}
    with pytest.raises(SecretLeakError) as info:
        assert_clean([f"x{i}\n abcdef12345678" for i in range(11)], known=known)
    shown = "; ".join(f"/{i}:2: known secret 't'" for i in range(10))
    assert str(info.value) == f"secret values found: {shown} (and 1 more)"
    assert len(info.value.findings) == 11
    with pytest.raises(SecretLeakError) as info:
        assert_clean([f"x{i} abcdef12345678" for i in range(10)], known=known)
    shown = "; ".join(f"/{i}: known secret 't'" for i in range(10))
    assert str(info.value) == f"secret values found: {shown}"


def test_redacting_a_secret_that_begins_with_another_shows_none_of_either() -> None:
    """The longer value is replaced first: no tail of it is left beside the shorter's name."""
    known = {"short": "abcdef12", "long": "0abcdef12345678"}
    assert redact("x=0abcdef12345678 y=abcdef12", known) == "x=secret://long y=secret://short"


def _restored(text: str, refs: list[SecretRef], values: dict[str, str]) -> str:
    """What apply does with a captured string: each reference replaced by its vault value."""
    for ref in refs:
        text = text.replace(ref.ref, values[ref.name])
    return text


@pytest.mark.parametrize(
    ("url", "scrubbed"),
    [
        (  # the secret value also sits under a harmless name earlier in the query
            "https://h.example/mcp?x=abc12345&token=abc12345",
            "https://h.example/mcp?x=secret://ns/svc/url-token&token=secret://ns/svc/url-token",
        ),
        (  # percent-encoded and plus-encoded values, an encoded name, a fragment
            "https://h.example/mcp?token=ab%2Fcd12345&api%5Fkey=q1+w2e3r4#top",
            "https://h.example/mcp?token=secret://ns/svc/url-token"
            "&api%5Fkey=secret://ns/svc/url-api_key#top",
        ),
        (  # a bare flag, a blank value, a reference and a short value stay as written
            "https://u:pw123456@h.example/mcp?flag&token=&key=${K}&api_key=abc&n=1",
            "https://u:secret://ns/svc/url-password@h.example/mcp?flag&token=&key=${K}"
            "&api_key=abc&n=1",
        ),
    ],
)
def test_every_secret_in_a_server_url_query_is_taken_as_written_and_restores_byte_exact(
    url: str, scrubbed: str
) -> None:
    """No query value under a secret name stays in the URL, however it is encoded or repeated;
    the vault holds the bytes as written, so apply gives back the very same URL."""
    ex, refs = Extractor(), list[SecretRef]()
    out = ex.scrub_server("svc", {"url": url}, "", refs, "ns", "uri")["url"]
    assert out == scrubbed
    assert _restored(out, refs, ex.values) == url
    assert scan(out, known=ex.values) == []


def test_a_value_under_a_secret_name_is_taken_from_four_characters_but_flags_stay() -> None:
    """Four characters or seven digits are a secret; three characters, a six-digit number,
    a boolean or null in any case, a reference, a non-string and an empty string are not."""
    ex, refs = Extractor(), list[SecretRef]()
    kept = ["abc", "123456", "True", "FALSE", "null", "None", "${DB_PASSWORD}", "secret://db/pw"]
    values: list[object] = ["abcd", "1234567", *kept, 1234567, "", None]
    out = ex.scrub_json({"password": values, "model": "abcd"}, "/b", refs, "ns")
    assert out == {
        "password": ["secret://ns/password", "secret://ns/password_2", *kept, 1234567, "", None],
        "model": "abcd",
    }
    assert ex.values == {"ns/password": "abcd", "ns/password_2": "1234567"}
    assert refs == [
        SecretRef("/b/password/0", "ns/password"),
        SecretRef("/b/password/1", "ns/password_2"),
    ]


def test_secret_assignments_in_free_text_are_taken_when_they_look_like_credentials() -> None:
    """NAME=value and "name": "value" under a secret name: a value with a digit, or of sixteen
    characters or more; a fifteen-letter word, a boolean and a plain name's value stay.
    References are named by the lower-cased key and the value's hash."""
    text = (
        'GITHUB_TOKEN=abcdefghijklmnop\nNOTION_TOKEN=abcdefghijklmno\n"api_key": "abc12345",'
        " Model=abc12345 TOKEN=True"
    )
    ex, refs = Extractor(), list[SecretRef]()
    assert ex.scrub_text(text, "/t", refs) == (
        "GITHUB_TOKEN=secret://token/github_token-f39dac6c\nNOTION_TOKEN=abcdefghijklmno\n"
        '"api_key": "secret://token/api_key-14f8f4bb", Model=abc12345 TOKEN=True'
    )
    assert ex.values == {
        "token/github_token-f39dac6c": "abcdefghijklmnop",
        "token/api_key-14f8f4bb": "abc12345",
    }
    assert [r.path for r in refs] == ["/t", "/t"]
    assert Extractor().scrub_text(text, "/t", [], "env") == (
        "GITHUB_TOKEN=${GITHUB_TOKEN_F39DAC6C}\nNOTION_TOKEN=abcdefghijklmno\n"
        '"api_key": "${API_KEY_14F8F4BB}", Model=abc12345 TOKEN=True'
    )


@pytest.mark.parametrize(
    ("text", "token", "value"),
    [
        # a bearer token ending in ``=`` right where the assignment's value begins
        ("Bearer my1_api_token=#Zq8vLm2Pw9", "my1_api_token=", "#Zq8vLm2Pw9"),
        # a connection-string password beginning right where the assignment's value ends
        ("api_token=Sk9xQ2Lm-Password=,hunter22x", ",hunter22x", "Sk9xQ2Lm-Password="),
    ],
)
def test_a_secret_assignment_touching_a_token_shape_is_taken_as_well_as_the_token(
    text: str, token: str, value: str
) -> None:
    """A token that ends where a secret-named assignment's value begins, or begins where it
    ends, does not overlap it: both are taken, and neither is left in the text."""
    ex, refs = Extractor(), list[SecretRef]()
    out = ex.scrub_text(text, "/t", refs)
    assert sorted(ex.values.values()) == sorted([token, value])
    assert value not in out
    assert len(refs) == 2


def test_env_style_reference_names_are_valid_variable_names_that_capture_again_unchanged() -> None:
    """X-Api-Key is X_API_KEY, _token_ is TOKEN, a name starting with a digit gets S_, a nested
    member is found at its pointer; each reference is one Claude Code expands and a second
    capture keeps as a reference rather than taking it as a value."""
    ex, refs = Extractor(), list[SecretRef]()
    doc = {
        "X-Api-Key": "abcd1234",
        "_token_": "abcd5678",
        "1password": "abcd9999",
        "outer": {"list": [{"token": "tok12345"}, 7, True]},
    }
    out = ex.scrub_json(doc, "/b", refs, "ns", "env")
    assert out == {
        "X-Api-Key": "${X_API_KEY}",
        "_token_": "${TOKEN}",
        "1password": "${S_1PASSWORD}",
        "outer": {"list": [{"token": "${TOKEN_2}"}, 7, True]},
    }
    assert [r.path for r in refs] == [
        "/b/X-Api-Key",
        "/b/_token_",
        "/b/1password",
        "/b/outer/list/0/token",
    ]
    again = list[SecretRef]()
    assert Extractor().scrub_json(out, "/b", again, "ns", "env") == out and again == []


def test_a_server_url_in_env_style_references_its_password_query_and_token_shapes() -> None:
    """In .mcp.json every secret of a URL, wherever it sits, is a ${NAME} Claude Code expands,
    recorded at the URL's pointer, and the vault gives back the same URL."""
    url = f"https://u:pw123456@h.example/{TOKENS['github']}/mcp?token=t0k3n123&x=1"
    ex, refs = Extractor(), list[SecretRef]()
    out = ex.scrub_server("svc", {"url": url}, "/s", refs, "ns", "env")["url"]
    assert out == (
        "https://u:${SVC_PASSWORD}@h.example/${GITHUB_TOKEN_CFFE96E4}/mcp?token=${SVC_TOKEN}&x=1"
    )
    assert refs == [
        SecretRef("/s/url", "SVC_PASSWORD", "env"),
        SecretRef("/s/url", "SVC_TOKEN", "env"),
        SecretRef("/s/url", "GITHUB_TOKEN_CFFE96E4", "env"),
    ]
    assert _restored(out, refs, ex.values) == url


def test_every_part_of_a_server_entry_is_scrubbed_in_place_and_nothing_else_is_taken() -> None:
    """Secret options whole (a base64 value's ``=`` padding too), token shapes in any
    argument or in ``command``, a secret-named key, a query value after a ``?`` inside the
    query; numbers, empty values, a trailing flag, plain options and other objects or
    lists stay as they are, each reference at its own pointer, in either style."""
    gh = TOKENS["github"]
    config = {
        "command": f"run --token {gh}",
        "apiKey": "k3y-value-998877",
        "args": [
            "--X-Api-Key",
            "xk-value-123456",
            "--X-Api-Key=xk-value-654321",
            8080,
            "--api-key=c2VjcmV0LXZhbHVlLTEy==",
            f"--note={gh}",
            gh,
            "mode=fast",
            "--port=8080",
            "--token",
        ],
        "url": "https://h.example/mcp?next=/a?b&token=dG9rZW4tdmFsdWU==",
        "env": {"EMPTY": "", "PORT": 8080, "KEY": "v4lue-secret-1"},
        "headers": {"Authorization": "Bearer abcdef0123456789"},
        "oauth": {"clientId": "my-client-app", "scopes": ["read"]},
        "alwaysAllow": ["read", "list"],
    }
    ex, refs = Extractor(), list[SecretRef]()
    gh_ref = "secret://token/github-token-cffe96e4"
    assert ex.scrub_server("svc", config, "/s", refs, "ns", "uri") == {
        "command": f"run --token {gh_ref}",
        "apiKey": "secret://ns/svc/apiKey",
        "args": [
            "--X-Api-Key",
            "secret://ns/svc/args/X-Api-Key",
            "--X-Api-Key=secret://ns/svc/args/X-Api-Key_2",
            8080,
            "--api-key=secret://ns/svc/args/api-key",
            f"--note={gh_ref}",
            gh_ref,
            "mode=fast",
            "--port=8080",
            "--token",
        ],
        "url": "https://h.example/mcp?next=/a?b&token=secret://ns/svc/url-token",
        "env": {"EMPTY": "", "PORT": 8080, "KEY": "secret://ns/svc/env/KEY"},
        "headers": {"Authorization": "secret://ns/svc/headers/Authorization"},
        "oauth": {"clientId": "my-client-app", "scopes": ["read"]},
        "alwaysAllow": ["read", "list"],
    }
    assert [(r.path, r.name) for r in refs] == [
        ("/s/command", "token/github-token-cffe96e4"),
        ("/s/apiKey", "ns/svc/apiKey"),
        ("/s/args/1", "ns/svc/args/X-Api-Key"),
        ("/s/args/2", "ns/svc/args/X-Api-Key_2"),
        ("/s/args/4", "ns/svc/args/api-key"),
        ("/s/args/5", "token/github-token-cffe96e4"),
        ("/s/args/6", "token/github-token-cffe96e4"),
        ("/s/url", "ns/svc/url-token"),
        ("/s/env/KEY", "ns/svc/env/KEY"),
        ("/s/headers/Authorization", "ns/svc/headers/Authorization"),
    ]
    assert ex.values["ns/svc/args/api-key"] == "c2VjcmV0LXZhbHVlLTEy=="
    assert ex.values["ns/svc/url-token"] == "dG9rZW4tdmFsdWU=="
    env_refs = list[SecretRef]()
    out = Extractor().scrub_server("svc", config, "/s", env_refs, "ns", "env")
    assert out["args"][:5] == [
        "--X-Api-Key",
        "${SVC_X_API_KEY}",
        "--X-Api-Key=${SVC_X_API_KEY_2}",
        8080,
        "--api-key=${SVC_API_KEY}",
    ]
    assert out["headers"] == {"Authorization": "${SVC_AUTHORIZATION}"}
    assert out["env"] == {"EMPTY": "", "PORT": 8080, "KEY": "${KEY}"}
    assert {r.style for r in env_refs} == {"env"} and len(env_refs) == len(refs)


def test_a_secrets_place_is_an_rfc_6901_pointer_with_tilde_and_slash_escaped() -> None:
    """A merge finds a secret's reference again by this pointer (``sync.merge._ref_in``
    undoes exactly these escapes), so a key holding ``/`` or ``~`` must survive it."""
    ex, refs = Extractor(), list[SecretRef]()
    out = ex.scrub_json({"env": {"api/token~2": "v4lue-secret-xyz"}}, "", refs, "ns")
    assert out == {"env": {"api/token~2": "secret://ns/api/token~2"}}
    assert [r.path for r in refs] == ["/env/api~1token~02"]
    assert pointer("mcpServers", "a/b~c", 0) == "/mcpServers/a~1b~0c/0"
    assert pointer() == ""


def test_a_secret_assignment_in_free_text_is_named_by_its_whole_key() -> None:
    """Only the quotes around a key are dropped: ``X_API_KEY`` keeps its ``X``."""
    ex, refs = Extractor(), list[SecretRef]()
    text = ex.scrub_text('X_API_KEY=abc123def456x\n"TOKENX": "zz9988776655"\n', "/text", refs)
    assert text.startswith("X_API_KEY=secret://token/x_api_key-")
    assert [r.name.split("-")[0] for r in refs] == ["token/x_api_key", "token/tokenx"]
