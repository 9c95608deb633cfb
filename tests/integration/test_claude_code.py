"""`agents mcp-config <env> --install` against the real Claude Code CLI from npm, in a temp HOME,
with the four agents running under a real supervisord: `claude mcp list` (no login needed)
health-checks each server, and all four must be connected."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from agents.catalog import AGENTS
from tests.integration.conftest import make_project
from tests.project import CLAUDE_INSTALL, Project
from tests.project import claude_cli as shared_claude_cli

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


def claude_cli() -> str:
    found = shared_claude_cli(REPO)
    if found is None:
        pytest.skip(f"the Claude Code CLI is not installed: {CLAUDE_INSTALL}")
    return found


@pytest.fixture(name="claude", scope="module")
def _claude() -> str:
    return claude_cli()


@pytest.fixture(name="project", scope="module")
def _project(tmp_path_factory: pytest.TempPathFactory, claude: str) -> Iterator[Project]:
    project = make_project(tmp_path_factory.mktemp("claude-code"), REPO)
    # a user's checkout is a git repository; Claude Code finds .claude/ settings at its root
    subprocess.run(["git", "init", "-q", str(project.root)], check=True)
    project.run("scripts/start-all-agents", "local")
    yield project
    project.run("stop-all-agents", "local", check=False)


def environ(project: Project, home: Path, claude: str, **extra: str) -> dict[str, str]:
    env = project.environ()
    env.update(HOME=str(home), PATH=f"{Path(claude).parent}:{env['PATH']}", **extra)
    env.pop("CLAUDE_CONFIG_DIR", None)
    return env


def run(project: Project, env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    """``argv`` in the project's root with ``env`` (a temp HOME), as a user would."""
    return subprocess.run(
        list(argv), cwd=project.root, env=env, capture_output=True, text=True, timeout=600
    )


def mcp_list(project: Project, env: dict[str, str], claude: str) -> dict[str, str]:
    """``claude mcp list``, one line per server by name."""
    listed = run(project, env, claude, "mcp", "list")
    assert listed.returncode == 0, listed.stderr
    lines = [line for line in listed.stdout.splitlines() if " - " in line]
    return {line.split(":", 1)[0]: line for line in lines}


def install(project: Project, env: dict[str, str], *scope: str) -> subprocess.CompletedProcess[str]:
    agents = str(project.venv / "bin" / "agents")
    return run(project, env, agents, "mcp-config", "local", "--install", *scope)


def test_install_at_user_scope_registers_every_agent_and_claude_code_connects(
    project: Project, claude: str, tmp_path: Path
) -> None:
    env = environ(project, tmp_path, claude)
    done = install(project, env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("registered ") == len(AGENTS)
    servers = mcp_list(project, env, claude)
    assert sorted(servers) == sorted(a.server_name for a in AGENTS)
    assert all("✔ Connected" in line for line in servers.values()), servers
    # the private ~/.claude.json holds the tokens; nothing printed them
    for entry in AGENTS:
        assert project.secret("local", entry.token_var) not in done.stdout + done.stderr
    again = install(project, env)  # running it again replaces, never duplicates
    assert again.returncode == 0 and len(mcp_list(project, env, claude)) == len(AGENTS)


def test_install_at_project_scope_writes_mcp_json_and_records_the_approval(
    project: Project, claude: str, tmp_path: Path
) -> None:
    """.mcp.json (committed) gets ${VAR} references; the approval Claude Code would ask for is
    recorded in .claude/settings.local.json, so nothing stays "Pending approval"."""
    env = environ(project, tmp_path, claude)
    done = install(project, env, "--scope", "project")
    assert done.returncode == 0, done.stderr
    assert "enabledMcpjsonServers" in done.stdout and "set -a; ." in done.stdout
    mcp_json = (project.root / ".mcp.json").read_text()
    assert "${NOTION_AGENT_TOKEN}" in mcp_json
    assert project.secret("local", "NOTION_AGENT_TOKEN") not in mcp_json
    tokens = {a.token_var: project.secret("local", a.token_var) for a in AGENTS}
    servers = mcp_list(project, environ(project, tmp_path, claude, **tokens), claude)
    assert sorted(servers) == sorted(a.server_name for a in AGENTS)
    assert all("✔ Connected" in line for line in servers.values()), servers


def test_without_the_claude_cli_install_says_what_to_do(project: Project, tmp_path: Path) -> None:
    env = project.environ()
    env.update(HOME=str(tmp_path), PATH=f"{project.venv / 'bin'}:/usr/bin:/bin")
    if shutil.which("claude", path=env["PATH"]):
        pytest.skip("a claude CLI is installed system-wide")
    done = install(project, env)
    assert done.returncode == 1
    assert "npm install -g @anthropic-ai/claude-code" in done.stderr
    assert "claude mcp add --transport http --scope user notion-agent" in done.stderr
    assert not (tmp_path / ".claude.json").exists()
