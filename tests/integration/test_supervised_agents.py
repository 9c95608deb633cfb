"""The spine end to end: real supervisord, real agent processes, a real MCP client over HTTP."""

from __future__ import annotations

import functools
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from agents.catalog import AGENTS
from agents.core.testing import mcp_client
from agents.supervisor.daemon import PACE
from agents.supervisor.render import EnvPaths
from tests.integration.conftest import alive, wait_for
from tests.project import Project

pytestmark = pytest.mark.integration


def status(project: Project, env: str = "local") -> dict[str, dict[str, Any]]:
    out = project.run("agents", "status", env, "--json", check=False).stdout
    return {row["agent"]: row for row in json.loads(out)}


def call_agent_info(url: str, token: str | None) -> Any:
    async def go() -> Any:
        async with mcp_client(url, token) as client:
            tools = [t.name for t in (await client.list_tools()).tools]
            result = await client.call_tool("agent_info", {})
            return tools, result.structured_content

    return anyio.run(go)


def test_start_all_agents_brings_every_agent_up_and_a_client_calls_agent_info(
    project: Project,
) -> None:
    """The documented first command works on a fresh copy and ends with the status table."""
    out = project.run("scripts/start-all-agents", "local").stdout
    assert out.splitlines()[0].split() == ["AGENT", "STATE", "PID", "PORT", "URL", "READY"]
    rows = status(project)
    assert set(rows) == {a.name for a in AGENTS}
    secrets = project.root / "environments" / ".env.local.secrets"
    assert secrets.stat().st_mode & 0o777 == 0o600
    for entry in AGENTS:
        row = rows[entry.name]
        assert row["state"] in ("STARTING", "RUNNING") and row["answering"]
        tools, info = call_agent_info(row["url"], project.secret("local", entry.token_var))
        assert "agent_info" in tools
        assert info["agent"] == entry.name and info["env"] == "local"
        # The context agent's upstream is the local store: configured from the start.
        assert info["upstream_configured"] is (entry.name == "context")


def test_mcp_refuses_a_missing_or_wrong_token_and_a_foreign_host(project: Project) -> None:
    """401 without or with a wrong bearer; the SDK's DNS-rebinding guard stays on."""
    row = status(project)["notion"]
    token = project.secret("local", "NOTION_AGENT_TOKEN")
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    assert httpx.post(row["url"], json=body).status_code == 401
    wrong = {"Authorization": "Bearer not-the-token"}
    assert httpx.post(row["url"], json=body, headers=wrong).status_code == 401
    evil = {"Authorization": f"Bearer {token}", "Host": "evil.example"}
    assert httpx.post(row["url"], json=body, headers=evil).status_code == 421
    origin = {"Authorization": f"Bearer {token}", "Origin": "http://evil.example"}
    assert httpx.post(row["url"], json=body, headers=origin).status_code == 403


def test_every_agent_listens_on_loopback_only(project: Project) -> None:
    """Binding is 127.0.0.1 in every environment: the port refuses other local addresses."""
    port = status(project)["fizzy"]["port"]
    addresses = {str(info[4][0]) for info in socket.getaddrinfo(socket.gethostname(), None)}
    for address in addresses - {"127.0.0.1", "::1"}:
        with pytest.raises(OSError), socket.create_connection((address, port), timeout=1):
            pass


def test_starting_again_is_idempotent(project: Project) -> None:
    """A second start restarts nothing: same pids."""
    before = {name: row["pid"] for name, row in status(project).items()}
    project.run("scripts/start-all-agents", "local")
    after = {name: row["pid"] for name, row in status(project).items()}
    assert after == before


def test_an_agent_killed_with_sigkill_is_restarted_and_ready_again(project: Project) -> None:
    """supervisord respawns it; the new process answers /readyz."""
    old = status(project)["fizzy"]["pid"]
    os.kill(old, signal.SIGKILL)
    wait_for(
        lambda: (r := status(project)["fizzy"])["pid"] not in (None, old) and r["answering"],
        30,
        "fizzy to come back after SIGKILL",
    )


@pytest.mark.skipif(not hasattr(os, "SCHED_BATCH"), reason="Linux scheduling policies")
def test_supervisord_runs_as_a_batch_process_and_every_agent_thread_as_a_normal_one(
    project: Project,
) -> None:
    """A waking supervisord never preempts an agent writing its log line
    (agents.core.scheduling); the agents it started, fizzy's respawn above included, and
    each of their threads are normal processes."""
    supervisord = int(EnvPaths(project.root, "local").pidfile.read_text())
    assert os.sched_getscheduler(supervisord) == os.SCHED_BATCH
    for name, row in status(project).items():
        threads = [int(t) for t in os.listdir(f"/proc/{row['pid']}/task")]
        policies = {os.sched_getscheduler(t) for t in threads}
        assert policies == {os.SCHED_OTHER}, (name, policies)


def _wake_ups(pid: int) -> int:
    """How often process ``pid`` has gone to sleep and been woken (its voluntary context
    switches: a ``poll`` or ``sleep`` that waited)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("voluntary_ctxt_switches:"):
            return int(line.split(":")[1])
    raise AssertionError(f"no context switches in /proc/{pid}/status")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="Linux /proc")
def test_supervisord_reads_an_agents_log_lines_in_paced_wake_ups(project: Project) -> None:
    """Each call writes a ``tool_call`` line to the pipe supervisord reads. Unpaced,
    supervisord woke once per line; paced (agents.supervisor.daemon), at most once per PACE,
    and every line still reaches the agent's log."""
    supervisord = int(EnvPaths(project.root, "local").pidfile.read_text())
    row = status(project)["fizzy"]
    token = project.secret("local", "FIZZY_AGENT_TOKEN")
    log = EnvPaths(project.root, "local").log_of("fizzy")
    calls = 300

    def logged() -> int:
        return log.read_text().count('"event": "tool_call"')

    async def one_after_another() -> None:
        async with mcp_client(row["url"], token) as client:
            for _ in range(calls):
                await client.call_tool("agent_info", {})

    already = logged()
    before = _wake_ups(supervisord)
    started = time.monotonic()
    anyio.run(one_after_another)
    elapsed = time.monotonic() - started
    woken = _wake_ups(supervisord) - before
    # unpaced it woke once per line, more than this wherever a call takes under PACE
    assert woken <= elapsed / PACE + 20, (woken, elapsed, calls)
    wait_for(lambda: logged() >= already + calls, 10, "every tool_call line in the log")


def test_a_hung_agent_is_restarted_by_the_health_listener(project: Project) -> None:
    """SIGSTOP: still RUNNING for supervisord, but /readyz stops answering; the listener acts."""
    old = status(project)["lokka"]["pid"]
    os.kill(old, signal.SIGSTOP)
    try:
        wait_for(
            lambda: (r := status(project)["lokka"])["pid"] not in (None, old) and r["answering"],
            45,
            "the listener to restart the SIGSTOPped lokka",
        )
    finally:
        if alive(old):
            os.kill(old, signal.SIGKILL)
    log = (project.root / "supervisor.d/local/logs/health.log").read_text()
    assert "agent_unresponsive_restarting" in log


def test_a_crash_looping_agent_is_stopped_and_can_be_restarted(project: Project) -> None:
    """CRASH_LOOP_EXITS exits within the window: the listener stops it and says why."""
    for _ in range(3):
        pid = wait_for(
            lambda: (r := status(project)["notion"])["state"] == "RUNNING" and r["pid"],
            30,
            "notion RUNNING",
        )
        os.kill(int(pid), signal.SIGKILL)  # type: ignore[call-overload]
        wait_for(functools.partial(_pid_changed, project, pid), 10, "notion to exit")
    wait_for(lambda: status(project)["notion"]["state"] == "STOPPED", 30, "notion STOPPED")
    log = (project.root / "supervisor.d/local/logs/health.log").read_text()
    assert '"crash_loop"' in log
    # status says why it is down, not just STOPPED
    reason = status(project)["notion"]["reason"]
    assert reason.startswith("stopped by the health listener: 3 exits within 120.0 s"), reason
    project.run("agents", "restart", "local", "notion")
    assert status(project)["notion"]["answering"]


def test_two_environments_run_side_by_side_and_stop_independently(project: Project) -> None:
    """staging has its own socket, ports and tokens; stopping it leaves local untouched."""
    refused = project.run("scripts/start-all-agents", "staging", check=False)
    assert refused.returncode == 1
    # every missing token at once, not one per attempt
    assert (
        "NOTION_AGENT_TOKEN, FIZZY_AGENT_TOKEN, LOKKA_AGENT_TOKEN, CONTEXT_AGENT_TOKEN missing: "
        "set them in environments/.env.staging.secrets"
    ) in refused.stderr
    project.set_secrets("staging", **{a.token_var: f"staging-{a.name}-token" for a in AGENTS})
    local_before = {name: row["pid"] for name, row in status(project).items()}
    with project.started("staging"):
        staging = status(project, "staging")
        assert all(row["answering"] for row in staging.values())
        assert {r["port"] for r in staging.values()}.isdisjoint(
            r["port"] for r in status(project).values()
        )
        _, info = call_agent_info(staging["fizzy"]["url"], "staging-fizzy-token")
        assert info["env"] == "staging"
    assert {name: row["pid"] for name, row in status(project).items()} == local_before


def foreign_web_server(port: int) -> subprocess.Popen[bytes]:
    """`python -m http.server` on ``port``: it answers /readyz too (with a 404)."""
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for(lambda: socket_answers(port), 30, f"http.server on {port}")
    return server


def socket_answers(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_a_port_held_by_another_web_server_fails_start_naming_agent_port_and_holder(
    project: Project,
) -> None:
    """Not a success with `fizzy STARTING ... no`: start exits 1 before launching anything."""
    port = status(project, "local")["fizzy"]["port"]
    project.run("stop-all-agents", "local")
    server = foreign_web_server(port)
    try:
        failed = project.run("scripts/start-all-agents", "local", check=False)
    finally:
        server.kill()
        server.wait()
    assert failed.returncode == 1
    assert (
        f"agent 'fizzy' cannot start: port {port} is taken by pid {server.pid} "
        f"({sys.executable} -m http.server --bind 127.0.0.1 {port})"
    ) in failed.stderr
    assert "set FIZZY_PORT (or AGENTS_PORT_BASE) in environments/.env.local" in failed.stderr


def test_status_gives_the_cause_of_a_crash_from_the_log_not_supervisords_text(
    project: Project,
) -> None:
    """The port is taken while fizzy is down: restart fails naming the holder, and status shows
    the bind error from fizzy's log instead of "Exited too quickly"."""
    project.run("scripts/start-all-agents", "local")
    port = status(project)["fizzy"]["port"]
    project.run(
        "supervisorctl", "-c", "supervisor.d/local/supervisord.conf", "stop", "agents:fizzy"
    )
    server = foreign_web_server(port)
    try:
        project.run(
            "supervisorctl",
            "-c",
            "supervisor.d/local/supervisord.conf",
            "start",
            "agents:fizzy",
            check=False,
        )

        # BACKOFF -> FATAL; or, when a loaded machine lets it pass startsecs before the bind
        # fails, EXITED and respawned until the health listener stops the crash loop. Between
        # retries it is STARTING again, so poll the text status until it shows a down agent.
        def down_line() -> str | None:
            shown = project.run("agents", "status", "local", check=False)
            line = next(x for x in shown.stdout.splitlines() if x.startswith("  fizzy: "))
            down = next(x for x in shown.stdout.splitlines() if x.startswith("fizzy "))
            if shown.returncode == 1 and "address already in use" in line:
                assert "STARTING" not in down and "RUNNING" not in down
                return line
            return None

        line = str(wait_for(down_line, 120, "fizzy to fail to bind"))
    finally:
        server.kill()
        server.wait()
    assert f"port {port} is taken by pid {server.pid}" in line
    assert "Exited too quickly" not in line
    project.run("agents", "restart", "local", "fizzy")


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ("LOG_LEVEL INFO", "environments/.env.local:{n}: expected NAME=value: 'LOG_LEVEL INFO'"),
        ('FIZZY_URL="https://app.fizzy.do', "environments/.env.local:{n}: the value of FIZZY_URL"),
        (
            "NOTION_TOKEN=ntn_committed_by_mistake",
            "NOTION_TOKEN is a secret but set in environments/.env.local, which is committed",
        ),
    ],
)
def test_a_bad_or_secret_line_in_the_committed_env_file_refuses_start(
    project: Project, line: str, error: str
) -> None:
    """Not a warning without a file name, nor a start that exits 0."""
    path = project.root / "environments" / ".env.local"
    before = path.read_text()
    path.write_text(before + line + "\n")
    try:
        refused = project.run("scripts/start-all-agents", "local", check=False)
    finally:
        path.write_text(before)
    assert refused.returncode == 1
    assert error.format(n=len(before.splitlines()) + 1) in refused.stderr
    assert "ntn_committed_by_mistake" not in refused.stderr + refused.stdout


def test_strict_start_says_which_agents_are_not_ready_and_why(project: Project) -> None:
    project.run("scripts/start-all-agents", "local")
    strict = project.run("scripts/start-all-agents", "local", "--strict", check=False)
    assert strict.returncode == 1
    assert (
        "error: --strict: notion is not ready: NOTION_TOKEN missing: set it in "
        "environments/.env.local.secrets"
    ) in strict.stderr.splitlines()


def test_tool_errors_through_a_real_client_suggest_names_and_explain_types(
    project: Project,
) -> None:
    """Over HTTP with the bearer token, as Claude Code sees them."""
    rows = status(project)

    async def go(agent: str, calls: list[tuple[str, dict[str, Any]]]) -> list[str]:
        token = project.secret("local", f"{agent.upper()}_AGENT_TOKEN")
        async with mcp_client(rows[agent]["url"], token) as client:
            return [(await client.call_tool(t, a)).content[0].text for t, a in calls]

    search, parent = anyio.run(
        go,
        "notion",
        [("search", {"query": "x"}), ("create_page", {"title": "t", "parent": "p"})],
    )
    assert search.startswith("unknown tool 'search'; did you mean 'search_workspace'")
    assert "did you mean 'parent_page_id' instead of 'parent'?" in parent
    (missing,) = anyio.run(go, "context", [("get_document", {"id": "session:none"})])
    assert missing == (
        "no document 'session:none'; list_documents or search_documents shows what exists"
    )
    (limit,) = anyio.run(go, "context", [("list_documents", {"limit": "lots"})])
    assert limit.startswith("list_documents: invalid arguments: parameter 'limit' should be")
    assert "(expects integer ≥ 1, ≤ 500, got string)" in limit and "pydantic" not in limit


def test_stop_all_agents_leaves_no_process_behind(project: Project) -> None:
    """supervisord, the listener and every agent are gone, checked by pid."""
    project.run("scripts/start-all-agents", "local")
    supervisord = int((project.root / "supervisor.d/local/supervisord.pid").read_text())
    info = project.run(
        "python",
        "-c",
        "import json,sys;from agents.cli.env import load_env;"
        "print(json.dumps([p['pid'] for p in load_env('local').supervisor.rpc.supervisor"
        ".getAllProcessInfo()]))",
    ).stdout
    pids = [supervisord, *json.loads(info)]
    assert len(pids) == len(AGENTS) + 2 and all(alive(p) for p in pids)
    project.run("scripts/stop-all-agents", "local")
    assert [p for p in pids if alive(p)] == []


def test_the_desktop_entry_runs_the_agent_over_stdio_with_logs_on_stderr(project: Project) -> None:
    """The generated claude_desktop_config.json entry starts and answers a real stdio client."""
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters

    config = json.loads(project.run("agents", "mcp-config", "local", "--format", "desktop").stdout)
    entry = config["mcpServers"]["fizzy-agent"]

    async def go() -> Any:
        params = StdioServerParameters(
            command=entry["command"], args=entry["args"], env=entry["env"], cwd=str(project.root)
        )
        async with Client(params) as client:
            return (await client.call_tool("agent_info", {})).structured_content

    info = anyio.run(go)
    assert info["agent"] == "fizzy" and info["env"] == "local"


def test_in_stdio_mode_stdout_carries_only_the_protocol(project: Project) -> None:
    """Every stdout line is JSON-RPC; the agent's log lines go to stderr."""
    import subprocess

    init = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "test", "version": "0"},
        },
    }
    proc = subprocess.run(
        [str(project.venv / "bin" / "python"), "-m", "agents.notion", "--transport", "stdio"],
        input=json.dumps(init) + "\n",
        capture_output=True,
        text=True,
        cwd=project.root,
        env=project.environ(),
        timeout=60,
        check=False,
    )
    lines = proc.stdout.splitlines()
    assert lines and all(json.loads(line)["jsonrpc"] == "2.0" for line in lines)
    assert json.loads(lines[0])["result"]["serverInfo"]["name"] == "notion-agent"
    assert '"event": "agent_starting"' in proc.stderr


def _pid_changed(project: Project, pid: object) -> bool:
    return bool(status(project)["notion"]["pid"] != pid)
