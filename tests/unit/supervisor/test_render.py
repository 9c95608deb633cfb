"""supervisord.conf rendering: golden files, % escaping, quoting, paths with spaces."""

from __future__ import annotations

import os
import shlex
from pathlib import Path

import pytest

from agents.core.errors import ConfigError
from agents.core.settings import CoreSettings, EnvLayers
from agents.supervisor.render import EnvPaths, render_conf, write_conf

GOLDEN = Path(__file__).with_name("golden")


def layers_for(root: Path, env: str, **values: str) -> EnvLayers:
    layers = EnvLayers(root=root, env=env, values=dict(values))
    layers.origins = dict.fromkeys(values, f"environments/.env.{env}")
    return layers


@pytest.mark.parametrize(
    ("case", "root", "env", "values"),
    [
        ("local_plain", "/srv/agents", "local", {"AGENTS_PORT_BASE": "8700"}),
        (
            "staging_space_percent",
            "/srv/my agents/100%",
            "staging",
            {"AGENTS_PORT_BASE": "8800", "FIZZY_PORT": "9802", "HEALTH_MISSES": "3"},
        ),
    ],
)
def test_rendered_conf_matches_the_golden_file(
    case: str, root: str, env: str, values: dict[str, str]
) -> None:
    """The whole conf is pinned; UPDATE_GOLDEN=1 rewrites the files after a deliberate change."""
    layers = layers_for(Path(root), env, **values)
    text = render_conf(
        EnvPaths(Path(root), env),
        layers,
        layers.model(CoreSettings),
        python=f"{root}/.venv/bin/python",
        instance="0123456789abcdef",
    )
    golden = GOLDEN / f"{case}.conf"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(text)
    assert text == golden.read_text()


def test_supervisord_reads_paths_with_spaces_and_percent_back_exactly(tmp_path: Path) -> None:
    """supervisord's own parser gets back the argv, directory and log paths we meant."""
    from supervisor.options import ServerOptions

    root = tmp_path / "my agents" / "100%"
    root.mkdir(parents=True)
    layers = layers_for(root, "local", AGENTS_PORT_BASE="8700")
    paths = EnvPaths(root, "local")
    python = str(root / "venv dir" / "python")
    text = render_conf(paths, layers, layers.model(CoreSettings), python=python, instance="n0nce")
    write_conf(paths, text)
    options = ServerOptions()
    options.realize(args=["-c", str(paths.conf)])
    programs = {g.name: g for g in options.process_group_configs}
    notion = next(p for p in programs["agents"].process_configs if p.name == "notion")
    assert shlex.split(notion.command) == [
        python,
        "-m",
        "agents.notion",
        "--env",
        "local",
        "--port",
        "8701",
    ]
    assert notion.directory == str(root)
    assert notion.stdout_logfile == str(paths.logdir / "notion.log")
    assert notion.environment == {
        "AGENTS_HOME": str(root),
        "AGENT_INSTANCE": "n0nce",  # the nonce /readyz answers with, per supervisord start
        "PYTHONUNBUFFERED": "1",
        "MALLOC_ARENA_MAX": "2",  # fewer malloc arenas: flat memory with worker threads
    }
    assert (notion.stopsignal, notion.stopasgroup, notion.killasgroup) == (15, True, True)
    assert options.server_configs[0]["chmod"] == 0o700
    assert paths.conf.stat().st_mode & 0o777 == 0o600


def test_no_secret_value_reaches_the_conf() -> None:
    """Agents load their own secrets; the conf carries none."""
    layers = layers_for(Path("/srv/a"), "local", AGENTS_PORT_BASE="8700")
    layers.values["NOTION_TOKEN"] = "secret_abcdef123456"
    layers.values["NOTION_AGENT_TOKEN"] = "tok-zzz"
    text = render_conf(EnvPaths(Path("/srv/a"), "local"), layers, layers.model(CoreSettings))
    assert "secret_abcdef123456" not in text and "tok-zzz" not in text


def test_two_agents_on_one_port_are_refused() -> None:
    """A port override that collides is caught before supervisord sees it."""
    layers = layers_for(Path("/srv/a"), "local", AGENTS_PORT_BASE="8700", FIZZY_PORT="8701")
    with pytest.raises(ConfigError, match="both use port 8701"):
        render_conf(EnvPaths(Path("/srv/a"), "local"), layers, layers.model(CoreSettings))


def test_a_path_with_a_double_quote_is_refused_with_a_clear_error() -> None:
    """supervisord's environment= parser cannot carry a quote, so we refuse up front."""
    root = Path('/srv/a"b')
    layers = layers_for(root, "local", AGENTS_PORT_BASE="8700")
    with pytest.raises(ConfigError, match="cannot be written"):
        render_conf(EnvPaths(root, "local"), layers, layers.model(CoreSettings))


def test_a_socket_path_too_long_for_af_unix_moves_to_the_temp_dir() -> None:
    """AF_UNIX paths stop at 107 bytes; a deep checkout still gets a working socket."""
    deep = Path("/" + "/".join(["d" * 20] * 6))
    sock = EnvPaths(deep, "production").socket
    assert len(str(sock)) <= 100
    assert sock != EnvPaths(deep, "staging").socket


def test_a_sync_interval_with_a_remote_adds_a_supervised_sync_program(tmp_path: Path) -> None:
    """SYNC_INTERVAL runs `python -m agents.cli sync run`; without a remote, nothing runs."""
    from supervisor.options import ServerOptions

    tmp_path.mkdir(exist_ok=True)
    base = {"AGENTS_PORT_BASE": "8700", "SYNC_INTERVAL": "300"}
    paths = EnvPaths(tmp_path, "local")
    alone = layers_for(tmp_path, "local", **base)
    assert "[program:sync]" not in render_conf(paths, alone, alone.model(CoreSettings))
    layers = layers_for(tmp_path, "local", **base, CONTEXT_REMOTE="git+ssh://git@host/ctx.git")
    write_conf(paths, render_conf(paths, layers, layers.model(CoreSettings), python="/py"))
    opts = ServerOptions()
    opts.realize(args=["-c", str(paths.conf)])
    [sync] = [p for p in opts.process_group_configs if p.name == "sync"]
    [program] = sync.process_configs
    assert shlex.split(program.command) == [
        "/py",
        "-m",
        "agents.cli",
        "sync",
        "run",
        "--env",
        "local",
    ]
    assert "git@host" not in paths.conf.read_text()


def test_every_sync_variable_is_documented_in_the_env_template() -> None:
    """environments/.env.template lists each variable the sync settings read."""
    from agents.sync.config import SyncSettings

    template = (Path(__file__).parents[3] / "environments" / ".env.template").read_text()
    for field in SyncSettings.model_fields.values():
        assert f"\n{field.alias}=" in template, field.alias
