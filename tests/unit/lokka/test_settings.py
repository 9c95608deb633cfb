"""Lokka settings: the auth mode the variables imply, and errors naming variable and file."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.core.errors import ConfigError
from agents.core.settings import EnvLayers
from agents.lokka.app import connect
from agents.lokka.auth import build_credential
from agents.lokka.client import Lokka, query_string, seg, validate_path
from agents.lokka.guard import Target, protected_match
from agents.lokka.settings import DEFAULT_PROTECTED, load_settings
from agents.lokka.tools import SPEC

BASE = {"AZURE_TENANT_ID": "contoso.onmicrosoft.com", "AZURE_CLIENT_ID": "app"}


def layers(**values: str) -> EnvLayers:
    origins = {
        k: "environments/.env.test.secrets" if "SECRET" in k else "environments/.env.test"
        for k in values
    }
    return EnvLayers(root=Path("/repo"), env="test", values=dict(values), origins=origins)


@pytest.mark.parametrize(
    ("values", "mode"),
    [
        ({**BASE, "AZURE_CLIENT_SECRET": "s"}, "client_secret"),
        (
            {**BASE, "AZURE_CLIENT_SECRET": "s", "AZURE_CLIENT_CERTIFICATE_PATH": "/c.pem"},
            "certificate",
        ),
        ({**BASE, "AZURE_FEDERATED_TOKEN_FILE": "/t"}, "workload_identity"),
        ({"LOKKA_AUTH_MODE": "managed_identity"}, "managed_identity"),
        ({**BASE, "LOKKA_AUTH_MODE": "device_code"}, "device_code"),
    ],
)
def test_the_auth_mode_follows_the_variables_that_are_set(
    values: dict[str, str], mode: str
) -> None:
    """Certificate beats secret beats federated token; other modes are chosen explicitly."""
    assert load_settings(layers(**values)).mode == mode


def test_no_credential_names_every_way_to_configure_one() -> None:
    """The not-ready reason lists the variables and the files they belong in."""
    with pytest.raises(ConfigError) as err:
        load_settings(layers())
    text = str(err.value)
    assert "AZURE_TENANT_ID" in text and "environments/.env.test.secrets" in text
    assert "managed_identity" in text


def test_a_mode_missing_a_variable_names_it_and_its_file() -> None:
    """client_secret without a secret: AZURE_CLIENT_SECRET belongs in the secrets file."""
    with pytest.raises(
        ConfigError,
        match=r"AZURE_CLIENT_SECRET missing for LOKKA_AUTH_MODE=client_secret: "
        r"set it in environments/\.env\.test\.secrets",
    ):
        load_settings(layers(**BASE, LOKKA_AUTH_MODE="client_secret"))


def test_a_multi_tenant_authority_is_refused() -> None:
    """The agent is pinned to one tenant: common/organizations are config errors."""
    with pytest.raises(ConfigError, match="pin one tenant"):
        load_settings(layers(**{**BASE, "AZURE_TENANT_ID": "common"}, AZURE_CLIENT_SECRET="s"))


@pytest.mark.parametrize(
    "url", ["http://graph.example.com", "https://graph.microsoft.com/v1.0", "ftp://x", "graph"]
)
def test_base_urls_must_be_https_origins_except_on_loopback(url: str) -> None:
    """Plain http only for 127.0.0.1/localhost test servers, and no path such as /v1.0."""
    with pytest.raises(ConfigError, match="LOKKA_GRAPH_URL invalid"):
        load_settings(layers(**BASE, AZURE_CLIENT_SECRET="s", LOKKA_GRAPH_URL=url))


def test_lists_and_flags_parse_from_the_env_file() -> None:
    """LOKKA_PROTECTED is comma-separated; the default protects the two top admin roles."""
    s = load_settings(
        layers(
            **BASE,
            AZURE_CLIENT_SECRET="s",
            LOKKA_PROTECTED=" bg*@x.com , Admins ",
            LOKKA_READ_ONLY="true",
        )
    )
    assert s.protected == ("bg*@x.com", "Admins") and s.read_only is True
    default = load_settings(layers(**BASE, AZURE_CLIENT_SECRET="s")).protected
    assert default == tuple(DEFAULT_PROTECTED.split(","))


def test_connect_builds_the_client_without_a_credential_or_network() -> None:
    """connect is cheap: the credential and the SDK clients come with the first call."""
    client = connect(layers(**BASE, AZURE_CLIENT_SECRET="s"))
    assert isinstance(client, Lokka)
    assert client._credential is None and client._adapter is None and client._arm is None


def test_the_agent_serves_more_than_thirty_typed_tools_and_the_passthrough() -> None:
    """The registry holds the typed tools and graph_request."""
    names = {h.name for h in SPEC.registry}
    assert len(names) > 31 and "graph_request" in names


def test_the_credential_class_follows_the_mode(tmp_path: Path) -> None:
    """One azure-identity async credential per mode (built, not used)."""
    from azure.identity import aio

    s = load_settings(layers(**BASE, AZURE_CLIENT_SECRET="s"))
    assert isinstance(build_credential(s), aio.ClientSecretCredential)
    s = load_settings(layers(LOKKA_AUTH_MODE="managed_identity"))
    assert isinstance(build_credential(s), aio.ManagedIdentityCredential)


@pytest.mark.parametrize(
    "path",
    [
        "https://evil.example/x",
        "//evil.example/x",
        "/users/../x",
        "/users?$top=1",
        "/a\\b",
        "javascript:x",
    ],
)
def test_validate_path_refuses_anything_but_a_relative_api_path(path: str) -> None:
    """So a path can never move the request, and its token, to another host."""
    from agents.core.errors import InputError

    with pytest.raises(InputError):
        validate_path(path)


def test_path_segments_and_query_strings_keep_odata_readable() -> None:
    """UPNs stay as they are in a path; $ and quotes stay readable in the query."""
    assert validate_path("users/ada@contoso.com") == "/users/ada@contoso.com"
    assert seg("ada@contoso.com", "user") == "ada@contoso.com"
    assert query_string({"$filter": "startswith(displayName,'A')", "$top": 5, "$x": None}) == (
        "$filter=startswith(displayName,'A')&$top=5"
    )


def test_protection_patterns_match_any_name_case_insensitively() -> None:
    """A wildcard UPN, a display name or an id each protect the object."""
    t = Target(kind="user", id="ID-1", names=("BreakGlass1@Contoso.com", "Break Glass"))
    assert protected_match(("breakglass*@contoso.com",), t) == "breakglass*@contoso.com"
    assert protected_match(("id-1",), t) == "id-1"
    assert protected_match(("admin@*",), t) is None


def test_every_lokka_variable_is_documented_in_the_env_template(repo: Path) -> None:
    """environments/.env.template lists each AZURE_*/LOKKA_* variable the agent reads."""
    from agents.lokka.settings import LokkaSettings

    template = (repo / "environments" / ".env.template").read_text()
    documented = {line.split("=", 1)[0] for line in template.splitlines() if "=" in line}
    aliases = {f.alias for f in LokkaSettings.model_fields.values()}
    assert aliases <= documented, aliases - documented
