"""Secrets never leak and every door is locked: a full run with realistic fake tokens, then a
scan of logs, store, generated config and remote objects; tokens, Host/Origin, socket and file
modes checked on every agent."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from agents.claude.scan import scan
from agents.core.testing import free_port
from tests.chaos.conftest import FAKE_SECRETS, System
from tests.unit.claude.conftest import TOKENS, alice_home

pytestmark = [pytest.mark.chaos, pytest.mark.integration]

AGENTS = ("notion", "fizzy", "lokka", "context")
INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "chaos", "version": "1"},
    },
}
ACCEPT = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def test_after_a_full_run_no_secret_is_in_logs_store_configs_or_remote_objects(
    system: System, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Agent calls (ok and failing upstream), a Claude import full of tokens, a sync push;
    then every byte we wrote outside the secret files is scanned: zero hits."""
    root = system.root
    for agent in ("notion", "fizzy", "lokka"):
        system.call(agent, "agent_info")
    calls: list[tuple[str, str, dict[str, object]]] = [
        ("notion", "search_workspace", {"query": "plans"}),
        ("fizzy", "list_projects", {}),
        ("lokka", "list_users", {}),
    ]
    for agent, tool, args in calls:
        row = system.status()[agent]
        assert row["answering"], row
        _call_expecting_error(system, agent, tool, args)
    home = alice_home(tmp_path_factory.mktemp("home"))
    env = {"XDG_CONFIG_HOME": str(home.home / ".config")}
    _agents(system, "claude", "import", "--home", str(home.home), "--yes", env=env)
    remote = tmp_path_factory.mktemp("remote") / "ctx"
    _agents(system, "sync", "push", "--remote", f"dir://{remote}")

    known = {f"env:{k}": v for k, v in FAKE_SECRETS.items()}
    known |= {f"token:{a}": system.token(a) for a in AGENTS}
    known |= {f"claude:{k}": v for k, v in TOKENS.items()}
    store_dir = root / "context" / "local"
    places = [
        root / "supervisor.d" / "local" / "logs",
        root / "supervisor.d" / "local" / "supervisord.conf",
        *[p for p in store_dir.iterdir() if p.name != "vault"],
        remote,
    ]
    findings = [f for place in places for f in scan(place, known=known)]
    assert findings == [], [str(f) for f in findings[:10]]
    # the values are where they belong, and nobody else can read them
    vault = store_dir / "vault"
    assert stat.S_IMODE(vault.stat().st_mode) == 0o700
    assert scan(vault, known=known), "the vault holds the imported values"
    for path in (vault / "secrets.json", root / "environments" / ".env.local.secrets"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


@pytest.mark.parametrize("agent", AGENTS)
def test_every_agent_refuses_a_missing_or_wrong_token_and_a_foreign_host_or_origin(
    system: System, agent: str
) -> None:
    """401 without the right bearer; the SDK's DNS-rebinding guard rejects Host and Origin."""
    url = system.status()[agent]["url"]
    good = {"Authorization": f"Bearer {system.token(agent)}", **ACCEPT}
    with httpx.Client(timeout=10) as http:
        assert http.post(url, json=INIT, headers=ACCEPT).status_code == 401
        bad = {**ACCEPT, "Authorization": "Bearer not-the-token"}
        assert http.post(url, json=INIT, headers=bad).status_code == 401
        assert http.post(url, json=INIT, headers=good).status_code == 200
        host = http.post(url, json=INIT, headers={**good, "Host": "evil.example:80"})
        assert host.status_code in (400, 403, 421), host.status_code
        origin = http.post(url, json=INIT, headers={**good, "Origin": "http://evil.example"})
        assert origin.status_code in (400, 403), origin.status_code
        assert http.get(url.replace("/mcp", "/healthz")).status_code == 200


def test_the_supervisor_socket_is_private_and_a_readable_secrets_file_is_refused(
    system: System,
) -> None:
    """supervisord's socket is 0700; at 0644 the secrets file stops agents and the CLI."""
    conf = (system.root / "supervisor.d" / "local" / "supervisord.conf").read_text()
    socket_path = Path(conf.split("[unix_http_server]\nfile=", 1)[1].split("\n", 1)[0])
    assert stat.S_ISSOCK(socket_path.stat().st_mode)
    assert stat.S_IMODE(socket_path.stat().st_mode) == 0o700
    secrets = system.root / "environments" / ".env.local.secrets"
    os.chmod(secrets, 0o644)
    try:
        out = _agents(system, "context", "info", check=False)
        assert out.returncode == 1 and "chmod 600" in out.stderr
        agent = subprocess.run(
            [sys.executable, "-m", "agents.notion", "--env", "local", "--port", str(free_port())],
            cwd=system.root,
            env=system.project.environ(),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert agent.returncode != 0 and "chmod 600" in agent.stdout + agent.stderr
    finally:
        os.chmod(secrets, 0o600)


def _agents(
    system: System, *argv: str, env: dict[str, str] | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [str(system.project.venv / "bin" / "agents"), *argv],
        cwd=system.root,
        env={**system.project.environ(), **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
    )
    if check:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def _call_expecting_error(system: System, agent: str, tool: str, args: dict[str, object]) -> None:
    """A call whose upstream is unreachable: a clear tool error, and the agent goes on."""
    import anyio

    from agents.core.testing import mcp_client

    async def go() -> str:
        async with mcp_client(system.status()[agent]["url"], system.token(agent)) as client:
            result = await client.call_tool(tool, args)
            assert result.is_error
            return json.dumps([c.model_dump() for c in result.content])

    text = anyio.run(go)
    assert "Traceback" not in text
