"""Two machines edit the same Claude files between syncs, through a real bare git remote,
driving the real `agents` command in subprocesses: no edit is ever silently lost."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.integration.claude.accuracy import machine_dirs
from tests.servers import bare_git_repo

pytestmark = pytest.mark.integration

LINES = "one\ntwo\nthree\nfour\nfive\n"


@dataclass
class Box:
    """One machine: its checkout of this project (own store) and its home."""

    root: Path
    home: Path

    def agents(self, *argv: str, code: int = 0) -> str:
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("AGENT_ENV", "CONTEXT_REMOTE", "CLAUDE_CONFIG_DIR")
        }
        env.update(
            AGENTS_HOME=str(self.root),
            XDG_CONFIG_HOME=str(self.home / ".config"),
            XDG_CACHE_HOME=str(self.root / "cache"),
        )
        proc = subprocess.run(
            [str(Path(sys.executable).with_name("agents")), *argv],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        assert proc.returncode == code, (argv, proc.stdout, proc.stderr)
        return proc.stdout + proc.stderr

    def json(self, *argv: str) -> Any:
        return json.loads(self.agents(*argv, "--json"))

    def me(self) -> str:
        """This machine's id (``agents machines list``)."""
        return str(next(r["id"] for r in self.json("machines", "list") if r["this"]))

    def claude(self, verb: str, *argv: str) -> Any:
        return self.json("claude", verb, "--home", str(self.home), *argv)

    @property
    def claude_md(self) -> Path:
        return self.home / ".claude" / "CLAUDE.md"

    @property
    def settings(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.home / ".claude" / "settings.json").read_text())
        return data


def _machine(tmp: Path, name: str, remote: str, port: int) -> Box:
    return Box(*machine_dirs(tmp, name, remote, port))


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Box, Box]:
    """Machine A with CLAUDE.md and settings.json imported and synced; B restored from it."""
    if not shutil.which("git"):
        pytest.skip("git not installed: apt-get install git")
    remote = bare_git_repo(tmp_path / "ctx.git")
    a = _machine(tmp_path, "a", remote, 8700)
    b = _machine(tmp_path, "b", remote, 8800)
    a.claude_md.write_text(LINES)
    (a.home / ".claude" / "settings.json").write_text('{"model": "sonnet", "theme": "dark"}\n')
    a.claude("import", "--yes")
    a.agents("sync", "sync")
    b.json("restore", "--from", remote, "--home", str(b.home), "--yes", "--trust", a.me())
    a.agents("sync", "pull")
    a.agents("machines", "trust", b.me())
    assert b.claude_md.read_text() == LINES
    return a, b


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def _set(box: Box, key: str, value: str) -> None:
    data = box.settings
    data[key] = value
    (box.home / ".claude" / "settings.json").write_text(json.dumps(data, indent=2) + "\n")


@pytest.mark.parametrize("how", ["import", "apply --import-first"])
def test_edits_made_on_two_machines_between_syncs_both_arrive_on_both(
    pair: tuple[Box, Box], how: str
) -> None:
    """A changes line one and the model, B line five and the theme: both keep all four."""
    a, b = pair
    _edit(a.claude_md, "one\n", "one (from A)\n")
    _set(a, "model", "haiku")
    _edit(b.claude_md, "five\n", "five (from B)\n")
    _set(b, "theme", "light")

    a.claude("import", "--yes")
    a.agents("sync", "sync")
    b.agents("sync", "sync")
    if how == "import":
        done = b.claude("import", "--yes")
        assert done["merged"] == ["claude_file:user/CLAUDE.md"], done
        b.claude("apply", "--yes")
    else:
        done = b.claude("apply", "--import-first", "--yes")
        assert done["imported"]["merged"] == ["claude_file:user/CLAUDE.md"], done
    b.agents("sync", "sync")
    a.agents("sync", "sync")
    a.claude("apply", "--yes")

    want = "one (from A)\ntwo\nthree\nfour\nfive (from B)\n"
    for box in (a, b):
        assert box.claude_md.read_text() == want
        assert box.settings == {"model": "haiku", "theme": "light"}
        assert box.json("sync", "conflicts") == []
    # nothing left to do anywhere: a second round changes nothing
    assert a.claude("import", "--yes")["changed"] == []
    assert b.claude("import", "--yes")["changed"] == []


def test_overlapping_edits_are_listed_on_both_machines_and_no_file_is_overwritten(
    pair: tuple[Box, Box],
) -> None:
    """A and B both rewrite line three: a conflict for review, each file left as its owner
    wrote it, both texts in the store; resolving on one machine settles both."""
    a, b = pair
    _edit(a.claude_md, "three\n", "three as A says\n")
    _edit(b.claude_md, "three\n", "three as B says\n")
    a_text, b_text = a.claude_md.read_text(), b.claude_md.read_text()

    a.claude("import", "--yes")
    a.agents("sync", "sync")
    b.agents("sync", "sync")
    done = b.claude("apply", "--import-first", "--yes")
    assert done["imported"]["conflicts"] == ["claude_file:user/CLAUDE.md"]
    b.agents("sync", "sync")
    a.agents("sync", "sync")
    a.claude("apply", "--yes")
    b.claude("apply", "--yes")

    assert a.claude_md.read_text() == a_text
    assert b.claude_md.read_text() == b_text
    for box in (a, b):
        listed = box.json("sync", "conflicts")
        assert [c["doc_id"] for c in listed] == ["claude_file:user/CLAUDE.md"], listed
        history = box.json("context", "history", "claude_file:user/CLAUDE.md")
        texts = {
            json.dumps(box.json("context", "get", "claude_file:user/CLAUDE.md", "--at", h["hash"]))
            for h in history
        }
        assert any("three as A says" in t for t in texts)
        assert any("three as B says" in t for t in texts)

    # B resolves for its own text; A fast-forwards to the resolution, closes its record, and
    # apply brings the chosen text to A's file (A's text stays in the history)
    b.agents("sync", "resolve", "claude_file:user/CLAUDE.md", "--take", "local")
    b.agents("sync", "sync")
    a.agents("sync", "sync")
    a.claude("apply", "--yes")
    assert a.json("sync", "conflicts") == [] and b.json("sync", "conflicts") == []
    assert a.claude_md.read_text() == b_text == b.claude_md.read_text()


def test_a_new_machine_is_told_what_restore_already_did_and_what_to_run_elsewhere(
    tmp_path: Path,
) -> None:
    """Without --yes (no terminal) restore says the documents are in the store and no file
    was written; with --yes the secrets hint names commands that work on the old machine even
    without CONTEXT_REMOTE there; `agents sync` with no verb syncs."""
    if not shutil.which("git"):
        pytest.skip("git not installed: apt-get install git")
    remote = bare_git_repo(tmp_path / "ctx.git")
    a = _machine(tmp_path, "a", remote, 8700)
    b = _machine(tmp_path, "b", "", 8800)
    a.claude_md.write_text(LINES)
    (a.home / ".claude" / "settings.json").write_text(
        '{"env": {"API_TOKEN": "sk-ant-api03-' + "x" * 40 + '"}}\n'
    )
    a.claude("import", "--yes")
    assert "pushed" in a.agents("sync")  # no verb: pull, then push

    out = b.agents("restore", "--from", remote, "--home", str(b.home), code=1)
    assert "are now in this machine's store" in out and "no file was written" in out
    assert "add --yes" in out and not b.claude_md.exists()

    out = b.agents("restore", "--from", remote, "--home", str(b.home), "--yes", code=0)
    assert "nothing pulled from" in out and "--trust ID" in out  # --yes trusts nobody
    done = b.json("restore", "--from", remote, "--home", str(b.home), "--yes", "--trust", a.me())
    hint = next(n for n in done["notes"] if n.startswith("secrets still needed"))
    assert f"agents sync pull --remote {remote}" in hint
    assert f"agents machines trust {b.me()}" in hint
    assert f"agents sync push --remote {remote}" in hint
    # followed literally on A (which has CONTEXT_REMOTE; the flag works there too)
    for part in hint.split("`")[1].split(" && "):
        argv = shlex.split(part)
        assert argv[0] == "agents"
        a.agents(*argv[1:])
    assert len(a.json("claude", "secrets", "share")["recipients"]) == 2
    a.agents("sync", "push", "--remote", remote)
    again = b.json("restore", "--from", remote, "--home", str(b.home), "--yes")
    assert again["apply"]["missing_secrets"] == [], again
    assert "sk-ant-api03-" in (b.home / ".claude" / "settings.json").read_text()
