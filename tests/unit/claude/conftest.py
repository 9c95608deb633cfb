"""Simulated homes built from the golden fixtures in tests/fixtures/claude/."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_mock import MockerFixture

from agents.claude.bridge import vault_of
from agents.claude.importer import plan_import, run_import
from agents.claude.machine import Machine, desktop_config_path
from agents.claude.projects import slug
from agents.claude.vault import MachineKey, SecretVault
from agents.store.store import ContextStore
from tests.unit.claude.claude_cli import FakeClaude, fake_claude

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "claude"
TOKENS: dict[str, str] = json.loads((FIXTURES / "tokens.json").read_text())
# the session of the golden home's transcript (projects/HOMESLUG-src-api/<id>.jsonl)
HOME_SESSION = "0b7d2c4e-1f3a-4c5b-9d8e-7a6b5c4d3e2f"
# git keeps only the executable bit; these are 0600 in a real home
PRIVATE = (
    ".claude.json",
    ".claude/.credentials.json",
    ".claude/skills/pdf-tools/resources/service.env",
)


def _copy(src: Path, dst: Path, home: Path) -> None:
    for path in sorted(src.rglob("*")):
        rel = path.relative_to(src).as_posix().replace("HOMESLUG", slug(str(home)))
        target = dst / rel
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        data = path.read_bytes()
        try:
            data = data.decode("utf-8").replace("@HOME@", str(home)).encode()
        except UnicodeDecodeError:
            pass
        target.write_bytes(data)
        os.chmod(target, path.stat().st_mode & 0o777)


def git_repo(path: Path, remote: str | None) -> Path:
    """A real git repository at ``path`` with ``origin`` set to ``remote``."""
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    if remote:
        subprocess.run(["git", "-C", str(path), "remote", "add", "origin", remote], check=True)
    return path


def alice_home(root: Path, platform: str = "linux") -> Machine:
    """Alice's machine: the golden home, a git checkout of acme/api, Desktop config."""
    home = root / "alice"
    _copy(FIXTURES / "home", home, home)
    for rel in PRIVATE:
        os.chmod(home / rel, 0o600)
    git_repo(home / "src" / "api", "git@github.com:Acme/API.git")
    desktop = desktop_config_path(home, platform)
    desktop.parent.mkdir(parents=True, exist_ok=True)
    text = (FIXTURES / "desktop" / "claude_desktop_config.json").read_text()
    desktop.write_text(text.replace("@HOME@", str(home)))
    return Machine(home, platform, "m-alice")  # type: ignore[arg-type]


@pytest.fixture(name="alice")
def _alice(tmp_path: Path) -> Machine:
    return alice_home(tmp_path)


@pytest.fixture(name="bob")
def _bob(tmp_path: Path) -> Machine:
    """Bob's machine: a different home; acme/api cloned elsewhere over https."""
    home = tmp_path / "machines" / "bob"
    api = git_repo(home / "work" / "api", "https://github.com/acme/api")
    (home / "notes").mkdir(parents=True)
    return Machine(home, "linux", "m-bob", {"github.com/acme/api": api, "~/notes": home / "notes"})


def as_on_bob(alice: Machine, bob: Machine, text: str) -> str:
    """Alice's fixture text as it should read on bob's machine."""
    api = str(bob.project_paths["github.com/acme/api"])
    for old, new in ((str(alice.home / "src" / "api"), api), (str(alice.home), str(bob.home))):
        text = re.sub(re.escape(old) + r"(?![A-Za-z0-9_-])", new, text)
    return text


@pytest.fixture(name="same_as_alice")
def _same_as_alice() -> Callable[[Machine, Machine, str], str]:
    """Alice's fixture text as it should read on bob's machine."""
    return as_on_bob


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


SESSION = "5f0c5a52-8d0e-4e8a-9a57-1c2b3d4e5f60"


def line(kind: str, **fields: Any) -> str:
    return json.dumps({"type": kind, "sessionId": SESSION, **fields}, separators=(",", ":"))


def transcript(path: Path, cwd: Path) -> Path:
    """A session file as Claude Code 2.1 writes it (the line types the checkpoint reads)."""
    stamp = "2026-12-06T10:00:00.000Z"
    lines = [
        line("queue-operation", operation="enqueue", timestamp=stamp, content="hi"),
        line(
            "user",
            cwd=str(cwd),
            timestamp=stamp,
            message={"role": "user", "content": "Fix the cart total rounding"},
        ),
        "{not json",
        line(
            "assistant",
            cwd=str(cwd),
            timestamp=stamp,
            message={
                "role": "assistant",
                "content": [
                    {"type": "text", "text": "Looking at cart.py."},
                    {
                        "type": "tool_use",
                        "name": "Edit",
                        "input": {"file_path": str(cwd / "cart.py")},
                    },
                    {"type": "tool_use", "name": "Write", "input": {"file_path": "/etc/motd"}},
                    {
                        "type": "tool_use",
                        "name": "TodoWrite",
                        "input": {
                            "todos": [
                                {
                                    "content": "Round half even",
                                    "status": "completed",
                                    "activeForm": "x",
                                },
                                {
                                    "content": "Deploy to staging",
                                    "status": "pending",
                                    "activeForm": "y",
                                },
                            ]
                        },
                    },
                    {
                        "type": "tool_use",
                        "name": "TaskCreate",
                        "input": {"subject": "Tell finance"},
                    },
                    {
                        "type": "tool_use",
                        "name": "TaskUpdate",
                        "input": {"taskId": "1", "status": "in_progress"},
                    },
                ],
            },
        ),
        line(
            "user",
            cwd=str(cwd),
            message={"role": "user", "content": [{"type": "tool_result", "content": "x" * 10_000}]},
        ),
        line(
            "assistant",
            cwd=str(cwd),
            message={
                "role": "assistant",
                "content": [{"type": "text", "text": "Fixed: totals round half even."}],
            },
        ),
        line("ai-title", aiTitle="Cart rounding fix"),
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(name="root")
def _root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A claude-agents checkout for the hooks (``$AGENTS_HOME``), the home at ``tmp_path/home``."""
    root = tmp_path / "claude-agents"
    (root / "environments").mkdir(parents=True)
    (root / "environments" / ".env.local").write_text("AGENTS_PORT_BASE=8700\n")
    monkeypatch.setenv("AGENTS_HOME", str(root))
    monkeypatch.delenv("AGENT_ENV", raising=False)
    monkeypatch.delenv("CONTEXT_REMOTE", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    return root


def log_of(root: Path) -> list[dict[str, Any]]:
    path = root / "context" / "local" / "hooks.log"
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


# --- a store of alice's machine, for apply and import ----------------------------------------

MD = "claude_file:user/CLAUDE.md"
RULE = "claude_file:user/rules/python.md"


@pytest.fixture(name="store")
def _store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ContextStore]:
    """Alice's machine's store (``m-alice``); no system keyring, so the vault is a file."""
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    with ContextStore(tmp_path / "store", machine_id="m-alice") as store:
        yield store


def imported(store: ContextStore, machine: Machine) -> list[str]:
    """Run an import; the ids it wrote."""
    return run_import(store, plan_import(store, machine), vault_of(store)).written


def machine_key(machine: Machine) -> MachineKey:
    """This machine's own key (its transcripts' recipient), from a file vault in its home."""
    return MachineKey.load_or_create(SecretVault(machine.home / ".keys", use_keyring=False))


def edit_here(machine: Machine) -> None:
    """CLAUDE.md edited on this machine: a line added."""
    md = machine.claude_dir / "CLAUDE.md"
    md.write_text(md.read_text() + "- Run the tests before pushing.\n")


def elsewhere(store: ContextStore, doc_id: str, text: str) -> None:
    """Another machine's edit of ``doc_id``'s text, as a pull would bring it."""
    body = {**store.get(doc_id).body, "text": text}
    store.put(doc_id, store.get(doc_id).kind, body, actor="sync")


@pytest.fixture(name="cli")
def _cli(mocker: MockerFixture) -> FakeClaude:
    """Claude Code's CLI faked for ``agents.claude.marketplace`` (``claude_cli.py``)."""
    return fake_claude(mocker)
