"""A new machine picks up where the last one was: import on alice's machine, push through a
real git remote, `agents restore` on bob's, then secrets shared with age."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from agents.claude.machine import Machine
from agents.claude.scan import scan
from agents.cli.main import main
from agents.sync import open_remote
from tests.servers import bare_git_repo
from tests.unit.claude.conftest import TOKENS, alice_home, as_on_bob, git_repo, read

pytestmark = pytest.mark.integration


def project(root: Path, remote: str, base: int) -> Path:
    """A project (one machine's checkout of this repository) syncing to ``remote``."""
    (root / "environments").mkdir(parents=True)
    (root / "environments" / ".env.local").write_text(
        f"AGENTS_PORT_BASE={base}\nCONTEXT_REMOTE={remote}\n"
    )
    return root


def run(capsys: pytest.CaptureFixture[str], root: Path, *argv: str, code: int = 0) -> str:
    os.environ["AGENTS_HOME"] = str(root)
    try:
        with pytest.raises(SystemExit) as done:
            main(list(argv))
    finally:
        os.environ.pop("AGENTS_HOME", None)
    out, err = capsys.readouterr()
    assert done.value.code == code, (out, err)
    return out + err


def as_json(capsys: pytest.CaptureFixture[str], root: Path, *argv: str) -> Any:
    return json.loads(run(capsys, root, *argv, "--json"))


def this_machine(capsys: pytest.CaptureFixture[str], root: Path) -> dict[str, Any]:
    """The ``agents machines list`` row of the machine at ``root``."""
    return next(r for r in as_json(capsys, root, "machines", "list") if r["this"])


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AGENT_ENV", "CONTEXT_REMOTE", "AGENTS_HOME", "CLAUDE_CONFIG_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", "/nonexistent-xdg")  # Desktop config under the home


def test_restore_brings_a_new_machine_to_where_the_last_one_was(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Files, settings, skills and MCP servers arrive; secrets follow once shared."""
    if not shutil.which("git"):
        pytest.skip("git not installed")
    remote = bare_git_repo(tmp_path / "ctx.git")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    alice = alice_home(tmp_path)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(alice.home / ".config"))
    a = project(tmp_path / "repo-a", remote, 8700)
    b = project(tmp_path / "repo-b", remote, 8800)

    # alice: the dry run shows and writes nothing; --yes imports
    dry = run(capsys, a, "claude", "import", "--home", str(alice.home), "--dry-run")
    assert "claude_file:user/CLAUDE.md" in dry and TOKENS["notion"] not in dry
    assert as_json(capsys, a, "context", "list", "--kind", "skill") == []
    done = as_json(capsys, a, "claude", "import", "--home", str(alice.home), "--yes")
    assert "skill:pdf-tools" in done["written"] and done["secrets"] >= 5
    again = as_json(capsys, a, "claude", "import", "--home", str(alice.home), "--yes")
    assert again["changed"] == []  # a second import finds nothing new
    run(capsys, a, "sync", "push")

    # bob: a fresh home with acme/api cloned elsewhere
    bob_home = tmp_path / "machines" / "bob"
    git_repo(bob_home / "work" / "api", "https://github.com/acme/api")
    (bob_home / "notes").mkdir(parents=True)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(bob_home / ".config"))
    alice_id = this_machine(capsys, a)["id"]
    untrusted = as_json(capsys, b, "restore", "--from", remote, "--home", str(bob_home), "--yes")
    assert untrusted["pull"]["fast_forwarded"] == 0, "--yes alone trusts nobody"
    assert any("--trust ID" in n and alice_id in n for n in untrusted["notes"])
    out = as_json(
        capsys,
        b,
        "restore",
        "--from",
        remote,
        "--home",
        str(bob_home),
        "--yes",
        "--trust",
        alice_id,
    )
    assert out["pull"]["fast_forwarded"] >= 10
    # what runs code is held with --yes alone: the rest is written
    held = {h["target"]: h for h in out["apply"]["held"]}
    script = "~/.claude/skills/pdf-tools/scripts/extract.py"
    assert held[script]["origin"] == alice_id and held[script]["risk"] == "an executable file"
    assert not (bob_home / ".claude" / "skills" / "pdf-tools" / "scripts" / "extract.py").exists()
    assert (bob_home / ".claude" / "CLAUDE.md").exists()
    # not even --allow-exec writes it while alice is not trusted here
    run(capsys, b, "machines", "revoke", alice_id)
    out = as_json(
        capsys, b, "restore", "--from", remote, "--home", str(bob_home), "--yes", "--allow-exec"
    )
    assert script in {h["target"] for h in out["apply"]["held"]}
    run(capsys, b, "machines", "trust", alice_id)
    out = as_json(
        capsys, b, "restore", "--from", remote, "--home", str(bob_home), "--yes", "--allow-exec"
    )
    assert out["apply"]["held"] == []
    assert "notion-agent" in out["registered"]
    assert out["apply"]["missing_secrets"], "alice's secrets are not shared with bob yet"
    claude = bob_home / ".claude"
    bob = Machine(bob_home, "linux", "bob", {"github.com/acme/api": bob_home / "work" / "api"})
    for rel in ("CLAUDE.md", "rules/python.md", "skills/pdf-tools/scripts/extract.py"):
        assert read(claude / rel) == as_on_bob(alice, bob, read(alice.claude_dir / rel)), rel
    assert f"the API is {bob_home}/work/api." in read(claude / "CLAUDE.md")
    png = "skills/pdf-tools/assets/logo.png"
    assert (claude / png).read_bytes() == (alice.claude_dir / png).read_bytes()
    servers = json.loads((bob_home / ".claude.json").read_text())["mcpServers"]
    token = (b / "environments" / ".env.local.secrets").read_text()
    assert servers["notion-agent"]["url"] == "http://127.0.0.1:8801/mcp"
    assert servers["notion-agent"]["headers"]["Authorization"].removeprefix("Bearer ") in token
    assert any("secrets still needed" in n for n in out["notes"])

    bob_id = this_machine(capsys, b)
    assert any(f"agents machines trust {bob_id['id']}" in n for n in out["notes"])

    # alice sees bob pending; secrets are not sealed to him until she trusts him
    run(capsys, a, "sync", "pull")
    shared = as_json(capsys, a, "claude", "secrets", "share")
    assert [r["id"] for r in shared["recipients"]] == [alice_id]
    rows = {r["id"]: r for r in as_json(capsys, a, "machines", "list")}
    assert rows[bob_id["id"]]["trusted"] is False
    assert rows[bob_id["id"]]["fingerprint"] == bob_id["fingerprint"]
    run(capsys, a, "machines", "trust", bob_id["id"], "--fingerprint", bob_id["fingerprint"])
    run(capsys, a, "sync", "pull")
    shared = as_json(capsys, a, "claude", "secrets", "share")
    assert sorted(r["id"] for r in shared["recipients"]) == sorted([alice_id, bob_id["id"]])
    run(capsys, a, "sync", "push")
    out = as_json(
        capsys, b, "restore", "--from", remote, "--home", str(bob_home), "--yes", "--allow-exec"
    )
    assert out["apply"]["missing_secrets"] == [] and out["secrets_received"]
    settings = json.loads((bob_home / ".claude" / "settings.json").read_text())
    assert TOKENS["anthropic"] in json.dumps(settings["env"])  # the real value, on bob's disk
    assert (bob_home / ".claude" / "settings.json").stat().st_mode & 0o777 == 0o600

    # a file bob edits is never overwritten by a later restore
    (claude / "CLAUDE.md").write_text("bob's own rules\n")
    again = as_json(capsys, b, "restore", "--from", remote, "--home", str(bob_home), "--yes")
    assert again["apply"]["held"] == [], "approved content is remembered by its hash"
    assert (claude / "CLAUDE.md").read_text() == "bob's own rules\n"
    assert any("CLAUDE.md" in c["target"] for c in again["apply"]["conflicts"])

    # no secret value in either store, on the remote, or in what the commands printed
    values = {f"token-{k}": v for k, v in TOKENS.items()}
    for root in (a, b):
        found = scan(root / "context" / "local" / "store.sqlite", known=values)
        assert found == [], [str(f) for f in found]
    with open_remote(remote, cache_dir=tmp_path / "scan-cache") as r:
        for key, entry in r.scan(""):
            assert not scan(entry.data, known=values), key


def test_apply_never_overwrites_a_file_changed_since_it_was_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """chezmoi's rule through the CLI: a changed target is reported, --import-first takes it in."""
    alice: Machine = alice_home(tmp_path)
    a = project(tmp_path / "repo", f"dir://{tmp_path / 'remote'}", 8700)
    run(capsys, a, "claude", "import", "--home", str(alice.home), "--yes")
    run(
        capsys,
        a,
        "context",
        "put",
        "claude_file:user/CLAUDE.md",
        "--kind",
        "claude_file",
        "--body",
        json.dumps({"path": "CLAUDE.md", "format": "markdown", "text": "from the store\n"}),
    )
    (alice.claude_dir / "CLAUDE.md").write_text("edited by hand\n")
    out = as_json(capsys, a, "claude", "apply", "--home", str(alice.home), "--yes")
    assert out["conflicts"] and (alice.claude_dir / "CLAUDE.md").read_text() == "edited by hand\n"
    rule = {"path": "rules/new.md", "format": "markdown", "text": "new rule\n"}
    run(
        capsys,
        a,
        "context",
        "put",
        "claude_file:user/rules/new.md",
        "--kind",
        "claude_file",
        "--body",
        json.dumps(rule),
    )
    refused = run(capsys, a, "claude", "apply", "--home", str(alice.home), code=1)
    assert "add --yes" in refused and not (alice.claude_dir / "rules" / "new.md").exists()
    out = as_json(
        capsys, a, "claude", "apply", "--home", str(alice.home), "--yes", "--import-first"
    )
    assert out["conflicts"] == []
    doc = as_json(capsys, a, "context", "get", "claude_file:user/CLAUDE.md")
    assert doc["body"]["text"] == "edited by hand\n"
