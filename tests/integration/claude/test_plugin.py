"""The context-sync plugin in the real Claude Code CLI (npm ``@anthropic-ai/claude-code``).

Installed with Claude Code's own plugin commands into a temporary home, then real sessions
(``claude -p``) against a loopback Anthropic API (``tests/fakes/anthropic.py``): the
SessionStart hook's briefing reaches the model's request, the SessionEnd hook saves the
checkpoint, archives the transcript and syncs it through a bare git remote, and on a second
machine, whose checkout lives at another path, ``claude --resume <id>`` and ``claude
--continue`` load the restored session.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from agents.claude.projects import slug
from tests.fakes.anthropic import FakeAnthropic
from tests.project import CLAUDE_INSTALL, Project, claude_cli
from tests.servers import bare_git_repo

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[3]
REMOTE_URL = "git@github.com:Acme/Shop.git"
CLAUDE = claude_cli(REPO)
needs_claude = pytest.mark.skipif(
    CLAUDE is None, reason=f"the Claude Code CLI is not installed: {CLAUDE_INSTALL}"
)


def checkout(path: Path) -> Path:
    """A git checkout of the shop repository (its own clone: remote only, no commits needed)."""
    path.mkdir(parents=True)
    subprocess.run(["git", "init", "--quiet", str(path)], check=True, timeout=60)
    subprocess.run(
        ["git", "-C", str(path), "remote", "add", "origin", REMOTE_URL], check=True, timeout=60
    )
    (path / "svc").mkdir()
    return path


@dataclass
class Machine:
    """One machine: its checkout of this project (own store), its home, its shop checkout."""

    root: Path
    home: Path
    shop: Path
    api: str

    def env(self) -> dict[str, str]:
        keep = ("PATH", "LANG", "TMPDIR")
        env = {k: v for k, v in os.environ.items() if k in keep}
        env.update(
            HOME=str(self.home),
            PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
            ANTHROPIC_API_KEY="sk-ant-api03-fake-key-for-the-loopback-api",
            ANTHROPIC_BASE_URL=self.api,
            CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1",
            DISABLE_AUTOUPDATER="1",
        )
        return env

    def run(self, argv: list[str], cwd: Path | None = None, **extra: str) -> str:
        proc = subprocess.run(
            argv,
            env={**self.env(), **extra},
            cwd=cwd or self.home,
            capture_output=True,
            text=True,
            timeout=180,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        assert proc.returncode == 0, (argv, proc.stdout[-3000:], proc.stderr[-3000:])
        return proc.stdout

    def agents(self, *argv: str) -> str:
        exe = str(Path(sys.executable).with_name("agents"))
        return self.run([exe, *argv], AGENTS_HOME=str(self.root))

    def claude(self, *argv: str, cwd: Path | None = None) -> str:
        assert CLAUDE is not None
        return self.run([CLAUDE, *argv], cwd=cwd)

    def identity(self) -> dict[str, Any]:
        rows = json.loads(self.agents("machines", "list", "--json"))
        [me] = [r for r in rows if r["this"]]
        return dict(me)

    def trust(self, other: Machine) -> None:
        """Trust ``other`` after checking its fingerprint, as its owner would."""
        them = other.identity()
        self.agents("machines", "trust", them["id"], "--fingerprint", them["fingerprint"])

    def store(self) -> sqlite3.Connection:
        return sqlite3.connect(self.root / "context" / "local" / "store.sqlite")

    def bodies(self, kind: str) -> list[dict[str, Any]]:
        with self.store() as db:
            rows = db.execute(
                "SELECT r.envelope FROM docs d JOIN revisions r ON r.hash = d.head "
                "WHERE d.kind = ?",
                (kind,),
            ).fetchall()
        return [json.loads(r[0])["body"] for r in rows]

    def revisions(self, doc_like: str) -> list[dict[str, Any]]:
        with self.store() as db:
            rows = db.execute(
                "SELECT envelope FROM revisions WHERE doc_id LIKE ? ORDER BY rowid", (doc_like,)
            ).fetchall()
        return [json.loads(r[0])["body"] for r in rows]

    def hook_log(self) -> list[dict[str, Any]]:
        path = self.root / "context" / "local" / "hooks.log"
        if not path.exists():
            return []
        return [json.loads(x) for x in path.read_text().splitlines() if x.startswith("{")]


@pytest.fixture(name="api")
def _api() -> Iterator[FakeAnthropic]:
    fake = FakeAnthropic(reply="Noted: the cart total is fixed.").start()
    yield fake
    fake.stop()


def machine(tmp: Path, name: str, remote: str, api: FakeAnthropic, shop: str) -> Machine:
    project = Project.copy(REPO, tmp / name / "claude-agents")
    project.set_env(
        "local",
        AGENTS_PORT_BASE="8700",
        CONTEXT_REMOTE=remote,
        CONTEXT_TRANSCRIPTS="true",
        CONTEXT_HOOK_SYNC_DELAY="0",
        CONTEXT_CHECKPOINT_BUDGET_MS="60000",
        CONTEXT_HOOK_BUDGET_MS="5000",
    )
    home = tmp / name / "home"
    home.mkdir(parents=True)
    return Machine(project.root, home, checkout(home / shop), api.url)


def wait_for_sync(box: Machine, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(e["event"] == "sync-later" for e in box.hook_log()):
            return
        time.sleep(0.2)
    log = (box.root / "context" / "local" / "hooks.log").read_text()
    raise AssertionError(f"no background sync in {timeout}s:\n{log}")


@needs_claude
def test_the_plugin_installs_with_claude_codes_own_commands(
    tmp_path: Path, api: FakeAnthropic
) -> None:
    """`agents claude plugin install` runs `claude plugin marketplace add` and `claude plugin
    install`; Claude Code then lists the plugin enabled and validates the marketplace."""
    box = machine(tmp_path, "a", bare_git_repo(tmp_path / "remote.git"), api, "src/shop")
    out = box.agents("claude", "plugin", "install", "--claude", str(CLAUDE))
    assert "claude plugin marketplace add" in out and "installed and enabled" in out
    listed = json.loads(box.claude("plugin", "list", "--json"))
    [entry] = [p for p in listed if p["id"] == "context-sync@claude-agents"]
    assert entry["enabled"] is True and entry["version"] == "0.1.0"
    assert "Validation passed" in box.claude("plugin", "validate", str(box.root))
    status = json.loads(box.agents("claude", "plugin", "status", "--claude", str(CLAUDE), "--json"))
    assert status["installed"] and status["enabled"]
    # the plugin's MCP server (the context agent over stdio) answers Claude Code's health check
    [server] = [x for x in box.claude("mcp", "list").splitlines() if "context-sync" in x]
    assert "Connected" in server, server
    # installing again is a no-op, not an error
    box.agents("claude", "plugin", "install", "--claude", str(CLAUDE))


@needs_claude
def test_a_session_resumes_on_another_machine_where_the_checkout_lives_elsewhere(
    tmp_path: Path, api: FakeAnthropic
) -> None:
    """Alice's session at ~/src/shop/svc ends: checkpoint, encrypted transcript, synced. Bob's
    checkout is ~/work/shop: his next session is briefed on hers, `agents claude resume`
    restores her transcript under his path, and `claude --resume`/`--continue` load it."""
    remote = bare_git_repo(tmp_path / "remote.git")
    alice = machine(tmp_path, "alice", remote, api, "src/shop")
    bob = machine(tmp_path, "bob", remote, api, "work/shop")
    for box in (alice, bob):
        box.agents("claude", "plugin", "install", "--claude", str(CLAUDE))
    bob.agents("claude", "secrets", "list")  # publishes bob's age key
    for box in (alice, bob):
        box.agents("sync", "push")
    for box, other in ((alice, bob), (bob, alice)):  # one person's machines trust each other
        box.agents("sync", "pull")
        box.trust(other)
    alice.agents("sync", "pull")  # alice now encrypts transcripts to bob's key too

    alice.claude("-p", "Fix the cart total rounding", cwd=alice.shop / "svc")
    [checkpoint] = alice.bodies("checkpoint")
    session = checkpoint["session"]
    assert checkpoint["project"] == {
        "id": "github.com/acme/shop",
        "name": "shop/svc",
        "subdir": "svc",
        "branch": checkpoint["project"]["branch"],
    }
    assert checkpoint["title"] == "Fix the cart total rounding"
    assert checkpoint["summary"] == "Noted: the cart total is fixed."
    assert checkpoint["transcript"]["archive"] == f"transcript_archive:{session}"
    [archive] = alice.bodies("transcript_archive")
    assert archive["subdir"] == "svc" and len(archive["recipients"]) == 2
    wait_for_sync(alice)
    # /compact in print mode runs the PreCompact hook (then SessionEnd): same document
    alice.claude("-p", "--resume", session, "/compact", cwd=alice.shop / "svc")
    triggers = [(b["trigger"], b.get("reason")) for b in alice.revisions(f"checkpoint:%/{session}")]
    assert ("pre_compact", "manual") in triggers and len(alice.bodies("checkpoint")) == 1

    bob.agents("sync", "pull")
    out = bob.agents("claude", "resume", session, "--yes")
    restored = bob.home / ".claude" / "projects" / slug(str(bob.shop / "svc")) / f"{session}.jsonl"
    assert restored.is_file(), out
    assert f"claude --resume {session}" in out
    lines = [json.loads(x) for x in restored.read_text().splitlines()]
    assert {x["cwd"] for x in lines if "cwd" in x} == {str(bob.shop / "svc")}
    assert str(alice.home) not in restored.read_text()

    before = len(api.conversations())
    bob.claude("-p", "--continue", "Continue please", cwd=bob.shop / "svc")
    continued = api.conversations()[before:]
    assert any("Fix the cart total rounding" in r.text for r in continued), "not continued"

    before = len(api.conversations())
    bob.claude("-p", "--resume", session, "And the tax?", cwd=bob.shop / "svc")
    resumed = api.conversations()[before:]
    assert any("Fix the cart total rounding" in r.text for r in resumed), "not resumed"

    # a new session of bob's is briefed on alice's (and his own resumed) checkpoints
    before = len(api.conversations())
    bob.claude("-p", "What next?", cwd=bob.shop / "svc")
    briefed = " ".join(r.text for r in api.conversations()[before:])
    assert "Context store briefing: github.com/acme/shop (svc)" in briefed
    assert f"resume here: `agents claude resume {session}`" in briefed
