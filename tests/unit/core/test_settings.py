"""Settings: layer precedence, secrets-file mode, and one clear line per bad variable."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import Field, SecretStr
from pytest_mock import MockerFixture

from agents.core.errors import ConfigError
from agents.core.settings import (
    PROCESS_ENV,
    CoreSettings,
    SettingsModel,
    ensure_tokens,
    find_root,
    load_layers,
)


class Demo(SettingsModel):
    token: SecretStr = Field(alias="DEMO_TOKEN")
    url: str = Field(default="https://example.test", alias="DEMO_URL")
    retries: int = Field(default=3, alias="DEMO_RETRIES")


def write(root: Path, name: str, text: str, mode: int = 0o644) -> Path:
    path = root / "environments" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    os.chmod(path, mode)
    return path


@pytest.fixture(name="root")
def _root(tmp_path: Path) -> Path:
    write(
        tmp_path, ".env.dev", "AGENTS_PORT_BASE=8000\nDEMO_URL=https://file.test\nDEMO_RETRIES=5\n"
    )
    return tmp_path


@pytest.mark.parametrize(
    ("secrets", "environ", "expected_url", "origin"),
    [
        (None, {}, "https://file.test", "environments/.env.dev"),
        (
            "DEMO_URL=https://secrets.test\n",
            {},
            "https://secrets.test",
            "environments/.env.dev.secrets",
        ),
        (
            "DEMO_URL=https://secrets.test\n",
            {"DEMO_URL": "https://proc.test"},
            "https://proc.test",
            PROCESS_ENV,
        ),
    ],
)
def test_later_layers_win_env_file_then_secrets_file_then_process(
    root: Path, secrets: str | None, environ: dict[str, str], expected_url: str, origin: str
) -> None:
    """.env.<env> < .env.<env>.secrets < process environment."""
    if secrets is not None:
        write(root, ".env.dev.secrets", secrets + "DEMO_TOKEN=t\n", 0o600)
    layers = load_layers(root, "dev", environ={"DEMO_TOKEN": "t", **environ})
    assert layers.model(Demo).url == expected_url
    assert layers.where("DEMO_URL") == origin


def test_a_missing_secret_names_the_variable_and_the_secrets_file(root: Path) -> None:
    """The message says which variable and in which file it belongs."""
    layers = load_layers(root, "dev", environ={})
    with pytest.raises(ConfigError) as err:
        layers.model(Demo)
    assert str(err.value) == "DEMO_TOKEN missing: set it in environments/.env.dev.secrets"


def test_an_empty_value_counts_as_missing(root: Path) -> None:
    """``NOTION_TOKEN=`` copied from the template is not a token."""
    write(root, ".env.dev.secrets", "DEMO_TOKEN=\n", 0o600)
    with pytest.raises(ConfigError, match="DEMO_TOKEN missing"):
        load_layers(root, "dev", environ={}).model(Demo)


def test_an_invalid_value_names_the_variable_and_the_file_it_came_from(root: Path) -> None:
    """A bad integer is reported with its origin, in one line, without its value."""
    write(root, ".env.dev", "AGENTS_PORT_BASE=8000\nDEMO_RETRIES=many\n")
    layers = load_layers(root, "dev", environ={"DEMO_TOKEN": "t"})
    with pytest.raises(ConfigError) as err:
        layers.model(Demo)
    message = str(err.value)
    assert message.startswith("DEMO_RETRIES invalid in environments/.env.dev:")
    assert "\n" not in message


def test_a_secrets_file_readable_by_others_is_refused(root: Path) -> None:
    """Mode 0644 on the secrets file stops the agent with the chmod to run."""
    write(root, ".env.dev.secrets", "DEMO_TOKEN=t\n", 0o644)
    with pytest.raises(ConfigError, match=r"chmod 600 environments/.env.dev.secrets"):
        load_layers(root, "dev", environ={})


def test_a_secret_in_the_committed_file_is_refused(root: Path) -> None:
    """Secrets belong in the gitignored file; the error says to move it."""
    write(root, ".env.dev", "AGENTS_PORT_BASE=8000\nDEMO_TOKEN=oops\n")
    with pytest.raises(ConfigError, match=r"move it to environments/\.env\.dev\.secrets"):
        load_layers(root, "dev", environ={}).model(Demo)


def test_an_unknown_environment_lists_the_known_ones(root: Path) -> None:
    """A typo in the env name gets the list of environments."""
    with pytest.raises(ConfigError, match="known environments are dev"):
        load_layers(root, "prod", environ={})


def test_a_malformed_environment_name_is_refused(root: Path) -> None:
    """Env names become file names and supervisord identifiers, so they are restricted."""
    with pytest.raises(ConfigError, match="invalid"):
        load_layers(root, "../etc", environ={})


def test_core_settings_validate_the_port_base(root: Path) -> None:
    """A port base out of range is a config error naming AGENTS_PORT_BASE."""
    write(root, ".env.dev", "AGENTS_PORT_BASE=80\n")
    with pytest.raises(ConfigError, match="AGENTS_PORT_BASE invalid"):
        load_layers(root, "dev", environ={}).model(CoreSettings)


def test_generated_tokens_land_in_a_new_0600_secrets_file_once(root: Path) -> None:
    """First start creates the file at 0600; a second call generates nothing new."""
    layers = load_layers(root, "dev", environ={})
    assert ensure_tokens(layers, ["A_AGENT_TOKEN", "B_AGENT_TOKEN"]) == [
        "A_AGENT_TOKEN",
        "B_AGENT_TOKEN",
    ]
    path = root / "environments" / ".env.dev.secrets"
    assert path.stat().st_mode & 0o777 == 0o600
    first = layers.get("A_AGENT_TOKEN")
    assert first and len(first) >= 40
    again = load_layers(root, "dev", environ={})
    assert ensure_tokens(again, ["A_AGENT_TOKEN", "B_AGENT_TOKEN"]) == []
    assert again.get("A_AGENT_TOKEN") == first


def test_token_generation_never_writes_through_a_planted_temp_file_or_symlink(
    root: Path, mocker: MockerFixture
) -> None:
    """The old fixed temp name was a trap: a symlink there received the tokens. Now the temp
    file has a random name, is created O_EXCL|O_NOFOLLOW at 0600, and nothing is left."""
    outside = root / "stolen"
    envs = root / "environments"
    envs.mkdir(parents=True, exist_ok=True)
    (envs / ".env.dev.secrets.tmp").symlink_to(outside)
    opened = mocker.spy(os, "open")
    ensure_tokens(load_layers(root, "dev", environ={}), ["A_AGENT_TOKEN"])
    assert not outside.exists()
    creates = [c for c in opened.call_args_list if c.args[1] & os.O_CREAT]
    assert creates and all(
        c.args[1] & os.O_EXCL and c.args[1] & os.O_NOFOLLOW and c.args[2] == 0o600 for c in creates
    )
    left = [p.name for p in envs.iterdir() if p.name.endswith(".tmp")]
    assert left == [".env.dev.secrets.tmp"]  # the planted one, untouched; none of ours
    assert (envs / ".env.dev.secrets").stat().st_mode & 0o777 == 0o600


def test_token_generation_keeps_existing_secrets(root: Path) -> None:
    """Generating a token appends; the user's other secrets stay as they were."""
    write(root, ".env.dev.secrets", "DEMO_TOKEN=keep-me", 0o600)
    layers = load_layers(root, "dev", environ={})
    ensure_tokens(layers, ["A_AGENT_TOKEN"])
    text = (root / "environments" / ".env.dev.secrets").read_text()
    assert text.startswith("DEMO_TOKEN=keep-me\n")
    assert "A_AGENT_TOKEN=" in text


def test_the_root_is_found_from_agents_home_or_the_working_directory(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """$AGENTS_HOME wins; otherwise the nearest ancestor with environments/ and pyproject."""
    (root / "pyproject.toml").write_text("")
    sub = root / "a" / "b"
    sub.mkdir(parents=True)
    monkeypatch.delenv("AGENTS_HOME", raising=False)
    assert find_root(sub) == root
    monkeypatch.setenv("AGENTS_HOME", str(sub))
    assert find_root(root) == sub
