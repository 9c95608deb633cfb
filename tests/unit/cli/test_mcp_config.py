"""Client configs for Claude Code (.mcp.json, claude mcp add) and Claude Desktop."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from agents.catalog import AGENTS
from agents.cli.env import EnvContext
from agents.cli.mcp_config import claude_code_lines, desktop_config, mcp_json
from agents.core.settings import CoreSettings, EnvLayers
from agents.supervisor.render import EnvPaths, agent_ports


def ctx_for(env: str) -> EnvContext:
    root = Path("/srv/agents")
    layers = EnvLayers(root=root, env=env, values={"AGENTS_PORT_BASE": "8800"})
    layers.values.update({a.token_var: f"tok-{a.name}" for a in AGENTS})
    core = layers.model(CoreSettings)
    return EnvContext(root, layers, core, EnvPaths(root, env), agent_ports(layers, core))


def test_mcp_json_has_one_http_entry_per_agent_with_env_references_not_tokens() -> None:
    """Tokens are `${VAR}` references that Claude Code expands, so the file can be committed."""
    config = mcp_json(ctx_for("local"))
    assert config["mcpServers"]["notion-agent"] == {
        "type": "http",
        "url": "http://127.0.0.1:8801/mcp",
        "headers": {"Authorization": "Bearer ${NOTION_AGENT_TOKEN}"},
    }
    assert "tok-notion" not in repr(config)


def test_non_local_environments_get_a_suffix_so_tool_names_cannot_be_confused() -> None:
    """mcp__fizzy-agent-staging__… vs mcp__fizzy-agent__…."""
    assert set(mcp_json(ctx_for("staging"))["mcpServers"]) == {
        "notion-agent-staging",
        "fizzy-agent-staging",
        "lokka-agent-staging",
        "context-agent-staging",
    }


@pytest.mark.parametrize("inline", [False, True])
def test_claude_code_lines_are_valid_claude_mcp_add_commands(inline: bool) -> None:
    """Each line parses as `claude mcp add --transport http … <name> <url> --header …`."""
    lines = [
        ln for ln in claude_code_lines(ctx_for("local"), inline=inline) if not ln.startswith("#")
    ]
    argv = shlex.split(lines[0])
    assert argv[:5] == ["claude", "mcp", "add", "--transport", "http"]
    assert argv[7:9] == ["notion-agent", "http://127.0.0.1:8801/mcp"]
    header = argv[argv.index("--header") + 1]
    assert header == (
        "Authorization: Bearer tok-notion"
        if inline
        else "Authorization: Bearer ${NOTION_AGENT_TOKEN}"
    )


def test_desktop_entries_are_stdio_commands_running_the_agent_itself() -> None:
    """Desktop accepts only stdio servers: the entry runs the module with --transport stdio."""
    entry = desktop_config(ctx_for("local"), python="/srv/agents/.venv/bin/python")["mcpServers"][
        "lokka-agent"
    ]
    assert entry == {
        "command": "/srv/agents/.venv/bin/python",
        "args": ["-m", "agents.lokka", "--env", "local", "--transport", "stdio"],
        "env": {"AGENTS_HOME": "/srv/agents"},
    }
    assert "url" not in entry


def test_the_project_approval_is_merged_into_settings_local_json(tmp_path: Path) -> None:
    """Other settings and earlier approvals stay; running again adds nothing twice."""
    import json

    from agents.cli.mcp_config import approve_project_servers
    from agents.core.errors import ConfigError

    path = tmp_path / ".claude" / "settings.local.json"
    path.parent.mkdir()
    path.write_text(json.dumps({"enabledMcpjsonServers": ["other"], "model": "opus"}))
    approve_project_servers(tmp_path, ["notion-agent", "fizzy-agent"])
    approve_project_servers(tmp_path, ["notion-agent"])
    assert json.loads(path.read_text()) == {
        "enabledMcpjsonServers": ["other", "notion-agent", "fizzy-agent"],
        "model": "opus",
    }
    path.write_text("{not json")
    with pytest.raises(ConfigError, match=r"settings\.local\.json is not valid JSON"):
        approve_project_servers(tmp_path, ["notion-agent"])
