"""Fizzy settings and connect: validation with messages naming the variable and file, and no
network at connect time."""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp.server.mcpserver.tools.base import Tool

from agents.core.errors import ConfigError
from agents.core.settings import EnvLayers
from agents.fizzy.app import connect
from agents.fizzy.client import FizzyClient
from agents.fizzy.models import Task
from agents.fizzy.tools import SPEC


def layers(**values: str) -> EnvLayers:
    origins = {
        k: "environments/.env.local" + (".secrets" if k == "FIZZY_TOKEN" else "") for k in values
    }
    return EnvLayers(root=Path("/srv/agents"), env="local", values=values, origins=origins)


def test_connect_builds_a_client_with_the_documented_defaults() -> None:
    """FIZZY_URL defaults to app.fizzy.do; the account stays unknown until first use."""
    client = connect(layers(FIZZY_TOKEN="tok"))
    assert isinstance(client, FizzyClient)
    assert client.base_url == "https://app.fizzy.do"
    assert client.default_account is None


def test_fizzy_account_may_carry_the_leading_slash_identity_shows() -> None:
    """'/897362094' (as /my/identity prints it) and a trailing '/' on the URL are accepted."""
    client = connect(
        layers(FIZZY_TOKEN="tok", FIZZY_URL="https://fizzy.local/", FIZZY_ACCOUNT="/897362094")
    )
    assert (client.base_url, client.default_account) == ("https://fizzy.local", "897362094")


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({}, "FIZZY_TOKEN missing: set it in environments/.env.local.secrets"),
        ({"FIZZY_TOKEN": "two words"}, "FIZZY_TOKEN invalid in environments/.env.local.secrets"),
        (
            {"FIZZY_TOKEN": "t", "FIZZY_URL": "app.fizzy.do"},
            "FIZZY_URL invalid in environments/.env.local: Value error, use the Fizzy origin",
        ),
        (
            {"FIZZY_TOKEN": "t", "FIZZY_ACCOUNT": "acme"},
            "FIZZY_ACCOUNT invalid in environments/.env.local",
        ),
    ],
)
def test_bad_settings_name_the_variable_and_the_file(values: dict[str, str], expected: str) -> None:
    """Each problem is one ConfigError line saying where to fix it."""
    with pytest.raises(ConfigError) as caught:
        connect(layers(**values))
    assert expected in str(caught.value)


def test_the_agent_serves_at_least_24_described_tools() -> None:
    """Every tool has a description and typed, described parameters."""
    tools = list(SPEC.registry)
    assert len(tools) >= 24
    for h in tools:
        schema = Tool.from_function(h.fn, name=h.name).parameters
        assert h.description and "ctx" not in schema["properties"]
        undescribed = [p for p, s in schema["properties"].items() if not s.get("description")]
        assert undescribed == [], h.name


@pytest.mark.parametrize(
    ("card", "stage"),
    [
        ({"closed": True, "postponed": False, "column": {"id": "c", "name": "Doing"}}, "Done"),
        ({"closed": False, "postponed": True}, "Not Now"),
        ({"closed": False, "postponed": False, "column": {"id": "c", "name": "Doing"}}, "Doing"),
        ({"closed": False, "postponed": False}, "Maybe?"),
        ({"status": "drafted"}, "Draft"),
    ],
)
def test_a_tasks_stage_follows_the_flags_before_the_column(
    card: dict[str, object], stage: str
) -> None:
    """Closing keeps the column in Fizzy, so closed and postponed decide first."""
    task = Task.model_validate({"id": "x", "number": 1, "title": "t", **card})
    assert task.stage == stage
