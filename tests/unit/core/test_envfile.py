"""Env files are parsed strictly: every line that does not parse is named as file:line with
what is wrong; a secret in the committed file refuses whatever reads it."""

from __future__ import annotations

import os
import typing
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr

from agents.core.envfile import read_env_file
from agents.core.errors import ConfigError
from agents.core.redact import is_secret_name
from agents.core.settings import SettingsModel, load_layers


def env_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / ".env.dev"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("A=1\nLOG_LEVEL INFO\n", "f:2: expected NAME=value: 'LOG_LEVEL INFO'"),
        ("A=1\nB\n", "f:2: expected NAME=value: 'B'"),
        (
            'A=1\nB="abc\nC=2\n',
            'f:2: the value of B opens a " quote that is not closed on this line '
            "(values are one line; close the quote)",
        ),
        (
            "A='abc\n",
            "f:1: the value of A opens a ' quote that is not closed on this line "
            "(values are one line; close the quote)",
        ),
        ("MY-VAR=1\n", "f:1: 'MY-VAR' is not a variable name (letters, digits and _)"),
    ],
)
def test_a_line_that_does_not_parse_is_named_by_file_and_line(
    tmp_path: Path, text: str, error: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        read_env_file(env_file(tmp_path, text), "f")
    assert str(caught.value) == error


def test_every_bad_line_is_named_at_once(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        read_env_file(env_file(tmp_path, "A 1\nB=2\nC 3\n"), "f")
    assert [line.split(":")[1] for line in str(caught.value).splitlines()] == ["1", "3"]


def test_a_bad_line_of_a_secrets_file_is_named_without_its_value(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        read_env_file(env_file(tmp_path, "NOTION_TOKEN secret_abc123\n"), "s", secret=True)
    assert str(caught.value) == "s:1: expected NAME=value"


def test_what_dotenv_accepts_on_one_line_still_reads(tmp_path: Path) -> None:
    text = "# comment\n\nexport A=1\nB='two words'\nC=\"x\" # trailing\nD=\nE=a=b\n"
    assert read_env_file(env_file(tmp_path, text), "f") == {
        "A": "1",
        "B": "two words",
        "C": "x",
        "D": "",
        "E": "a=b",
    }


@given(
    st.dictionaries(
        st.from_regex(r"[A-Z_][A-Z0-9_]{0,20}", fullmatch=True),
        st.text(st.characters(whitelist_categories=("L", "N")), max_size=30),
        max_size=10,
    )
)
def test_any_file_of_name_value_lines_reads_back_exactly(values: dict[str, str]) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "e"
        path.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
        assert read_env_file(path, "e") == values


def test_a_secret_in_the_committed_file_refuses_every_reader(tmp_path: Path) -> None:
    """Not only the agent that reads it: start, restart and every agent refuse."""
    (tmp_path / "environments").mkdir()
    (tmp_path / "environments" / ".env.dev").write_text(
        "AGENTS_PORT_BASE=8000\nNOTION_TOKEN=ntn_x\nFIZZY_TOKEN=f\nAZURE_FEDERATED_TOKEN_FILE=/t\n"
    )
    layers = load_layers(tmp_path, "dev", environ={})
    with pytest.raises(ConfigError) as caught:
        layers.refuse_committed_secrets()
    assert str(caught.value) == (
        "FIZZY_TOKEN, NOTION_TOKEN are secrets but set in environments/.env.dev, which is "
        "committed: move them to environments/.env.dev.secrets (mode 0600), and rotate any "
        "that were pushed"
    )
    assert "ntn_x" not in str(caught.value)


def _secret(annotation: object) -> bool:
    return annotation is SecretStr or SecretStr in typing.get_args(annotation)


def test_every_secret_setting_of_every_agent_has_a_name_the_committed_check_knows() -> None:
    """One source: every SecretStr setting has a name the one secret-name rule catches."""
    from agents.catalog import AGENTS
    from agents.fizzy.app import FizzySettings
    from agents.lokka.settings import LokkaSettings
    from agents.notion.app import NotionSettings
    from agents.store.config import StoreSettings
    from agents.sync.config import SyncSettings

    models: list[type[SettingsModel]] = [
        NotionSettings,
        FizzySettings,
        LokkaSettings,
        StoreSettings,
        SyncSettings,
    ]
    names = [a.token_var for a in AGENTS] + [
        str(f.alias) for m in models for f in m.model_fields.values() if _secret(f.annotation)
    ]
    assert len(names) > len(AGENTS)
    assert [n for n in names if not is_secret_name(n)] == []


def test_a_secrets_file_is_checked_for_its_mode_before_it_is_parsed(tmp_path: Path) -> None:
    envs = tmp_path / "environments"
    envs.mkdir()
    (envs / ".env.dev").write_text("AGENTS_PORT_BASE=8000\n")
    (envs / ".env.dev.secrets").write_text("bad line\n")
    os.chmod(envs / ".env.dev.secrets", 0o600)
    with pytest.raises(
        ConfigError, match=r"^environments/.env.dev.secrets:1: expected NAME=value$"
    ):
        load_layers(tmp_path, "dev", environ={})
