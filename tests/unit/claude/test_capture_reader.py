"""Capture, file by file: the fields of each document, the folders it skips, what it warns."""

from __future__ import annotations

import errno
import json
import os
import shutil
from pathlib import Path

import pytest

from agents.claude import targets
from agents.claude.capture import capture, capture_skill
from agents.claude.drafts import SecretRef
from agents.claude.machine import Machine
from agents.claude.projects import slug

from .conftest import TOKENS, git_repo

API = "github.com/acme/api"


def _memory(machine: Machine) -> Path:
    """The auto-memory folder Claude Code keeps for Alice's checkout of acme/api."""
    return machine.claude_dir / "projects" / slug(str(machine.home / "src" / "api")) / "memory"


def test_each_captured_file_records_its_format_where_it_came_from_and_its_secrets(
    alice: Machine,
) -> None:
    """A ``.md`` file is markdown, any other text; a user file comes from Claude Code, a
    memory file from its project; a token in a memory note is taken out at ``/text``."""
    memory = _memory(alice)
    (memory / "notes.txt").write_text(f"deploy key: GITHUB_TOKEN={TOKENS['github']}\n")
    by_id = capture(alice).by_id()
    user = by_id["claude_file:user/rules/python.md"].body
    assert (user["path"], user["format"], user["source"]) == (
        "rules/python.md",
        "markdown",
        "claude_code",
    )
    memo = by_id[f"claude_file:project/memory/MEMORY.md@{API}"].body
    assert (memo["format"], memo["source"]) == ("markdown", "project")
    notes = by_id[f"claude_file:project/memory/notes.txt@{API}"]
    assert (notes.body["format"], notes.body["source"]) == ("text", "project")
    assert TOKENS["github"] not in notes.body["text"]
    assert [r.path for r in notes.secret_refs] == ["/text"]


def _refuse_to_read(monkeypatch: pytest.MonkeyPatch, locked: str) -> None:
    """Root reads any file, so a refusal comes from the one seam that opens files."""
    real = targets._read

    def read(path: str) -> tuple[bytes, int] | None:
        if path == locked:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), path)
        return real(path)

    monkeypatch.setattr(targets, "_read", read)


def test_a_file_that_cannot_be_read_is_skipped_with_a_warning_naming_it_from_home(
    alice: Machine, monkeypatch: pytest.MonkeyPatch
) -> None:
    locked = str(alice.claude_dir / "rules" / "python.md")
    _refuse_to_read(monkeypatch, locked)
    cap = capture(alice)
    assert "claude_file:user/rules/python.md" not in cap.by_id()
    assert cap.warnings == [
        f"~/.claude/rules/python.md skipped: [Errno 13] Permission denied: {locked!r}"
    ]


def test_a_file_outside_the_home_is_named_by_its_full_path_in_a_warning(tmp_path: Path) -> None:
    """A project cloned outside the home with a half-written ``.mcp.json``."""
    home = tmp_path / "home"
    home.mkdir()
    web = git_repo(tmp_path / "elsewhere" / "web", "https://github.com/acme/web")
    (web / ".mcp.json").write_text('{"mcpServers": {')
    cap = capture(Machine(home, "linux", "m-1", {"github.com/acme/web": web}))
    assert len(cap.warnings) == 1
    assert cap.warnings[0].startswith(f"{web / '.mcp.json'} skipped: invalid JSON")


def test_a_claude_json_whose_projects_is_not_a_map_still_gives_its_servers(
    alice: Machine,
) -> None:
    """``"projects": null`` (or a list) in ``~/.claude.json`` is no reason to fail."""
    for projects in (None, ["~/src/api"]):
        doc = json.loads(alice.claude_json.read_text())
        doc["projects"] = projects
        alice.claude_json.write_text(json.dumps(doc))
        by_id = capture(alice).by_id()
        assert "mcp_server:notion" in by_id
        assert f"mcp_server:local/postgres@{API}" not in by_id


def test_skills_folders_are_skills_but_hidden_folders_stray_files_and_a_missing_folder_are_not(
    alice: Machine,
) -> None:
    """``skills/.cache/SKILL.md`` and ``skills/README.md`` are not skills and not warned
    about; without any ``skills`` folder (or ``rules``, or memory) capture still works."""
    skills = alice.claude_dir / "skills"
    (skills / ".cache").mkdir()
    (skills / ".cache" / "SKILL.md").write_text("---\nname: cache\n---\n")
    (skills / "README.md").write_text("my skills\n")
    cap = capture(alice)
    assert sorted(d.id for d in cap.drafts if d.kind == "skill") == [
        "skill:pdf-tools",
        "skill:release-notes",
    ]
    assert cap.warnings == []
    for folder in (skills, alice.claude_dir / "rules", _memory(alice)):
        shutil.rmtree(folder)
    cap = capture(alice)
    assert not [d for d in cap.drafts if d.kind == "skill"] and cap.warnings == []
    assert "claude_file:user/CLAUDE.md" in cap.by_id()


def test_memory_keeps_files_in_subfolders_and_leaves_desktop_litter(alice: Machine) -> None:
    """A note in ``memory/topics/`` is captured with its path; ``.DS_Store`` is not, and a
    folder is never read as a file."""
    memory = _memory(alice)
    (memory / "topics").mkdir()
    (memory / "topics" / "db.md").write_text("# db\n")
    (memory / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    cap = capture(alice)
    memory_ids = sorted(d.id for d in cap.drafts if d.id.startswith("claude_file:project/"))
    assert memory_ids == [
        f"claude_file:project/memory/MEMORY.md@{API}",
        f"claude_file:project/memory/topics/db.md@{API}",
    ]
    assert cap.warnings == []


def test_a_skill_captured_alone_is_named_by_its_folder_unless_a_name_is_given(
    alice: Machine,
) -> None:
    """``agents claude skill add DIR [--name N]``."""
    root = alice.claude_dir / "skills" / "pdf-tools"
    assert [d.id for d in capture_skill(root, alice).drafts] == ["skill:pdf-tools"]
    named = capture_skill(root, alice, "pdf")
    assert [d.id for d in named.drafts] == ["skill:pdf"]
    assert named.drafts[0].body["name"] == "pdf"


def test_a_skill_captured_alone_has_this_machines_home_as_a_placeholder(alice: Machine) -> None:
    """A path under the home in a skill's file is written ``{{home}}``, as in a whole capture:
    the skill then works on another machine and does not carry this one's user name."""
    root = alice.claude_dir / "skills" / "pdf-tools"
    (root / "SKILL.md").write_text(f"Read {alice.home}/Documents/in.pdf\n")
    [draft] = capture_skill(root, alice).drafts
    [skill_md] = [f for f in draft.body["files"] if f["path"] == "SKILL.md"]
    assert skill_md["text"] == "Read {{home}}/Documents/in.pdf\n"


def test_a_projects_local_servers_reference_their_secrets_under_the_projects_name(
    alice: Machine,
) -> None:
    """``~/.claude.json``'s per-project servers take ``secret://`` references named by the
    project, like the user's own servers; ``.mcp.json`` keeps ``${VAR}``."""
    cap = capture(alice)
    local = cap.by_id()[f"mcp_server:local/postgres@{API}"]
    name = f"claude-code-local/{API}/postgres/env/DATABASE_URI"
    assert local.body["env"] == {"DATABASE_URI": f"secret://{name}"}
    assert local.secret_refs == (SecretRef("/env/DATABASE_URI", name, "uri"),)
    assert name in cap.secrets


def test_a_secret_in_any_setting_is_referenced_under_that_settings_name(alice: Machine) -> None:
    """Not only ``env``: a token nested in another setting goes to the vault as
    ``claude-code/settings/<key>/<name>``, referenced at its place under ``/value``."""
    doc = json.loads(alice.settings_json.read_text())
    doc["otelExporter"] = {"endpoint": "https://otel.example.com", "apiToken": TOKENS["slack"]}
    alice.settings_json.write_text(json.dumps(doc))
    cap = capture(alice)
    pref = cap.by_id()["pref:otelExporter"]
    name = "claude-code/settings/otelExporter/apiToken"
    assert pref.body["value"] == {
        "endpoint": "https://otel.example.com",
        "apiToken": f"secret://{name}",
    }
    assert pref.secret_refs == (SecretRef("/value/apiToken", name, "uri"),)
    assert cap.secrets[name] == TOKENS["slack"]


def test_a_folder_where_a_file_belongs_is_skipped_with_a_warning_saying_so(alice: Machine) -> None:
    """``~/.claude/settings.json`` made a folder by mistake: reported as ``diff`` or ``cat``
    would, and the rest is captured."""
    alice.settings_json.unlink()
    alice.settings_json.mkdir()
    cap = capture(alice)
    assert cap.warnings == [
        f"~/.claude/settings.json skipped: [Errno 21] Is a directory: '{alice.settings_json}'"
    ]
    assert not [d for d in cap.drafts if d.kind == "preference"]
    assert "claude_file:user/CLAUDE.md" in cap.by_id()


def test_an_empty_file_is_captured_as_an_empty_text(alice: Machine) -> None:
    """A rule file created and not written yet is a document with no text, not an error."""
    (alice.claude_dir / "rules" / "todo.md").write_bytes(b"")
    cap = capture(alice)
    assert cap.by_id()["claude_file:user/rules/todo.md"].body["text"] == ""
    assert cap.warnings == []


def test_a_server_entry_that_is_not_an_object_is_skipped_and_the_next_one_kept(
    alice: Machine,
) -> None:
    """``"mcpServers": {"broken": "npx x", "notion": {...}}``: the one that is not an object
    is left out, every other is captured, a user's server in no project's scope."""
    doc = json.loads(alice.claude_json.read_text())
    doc["mcpServers"] = {"broken": "npx x", **doc["mcpServers"]}
    alice.claude_json.write_text(json.dumps(doc))
    by_id = capture(alice).by_id()
    assert "mcp_server:broken" not in by_id
    assert by_id["mcp_server:notion"].scope.to_json() == by_id["pref:model"].scope.to_json()
    assert by_id[f"mcp_server:local/postgres@{API}"].scope.project_id == API


def test_a_skill_leaves_out_git_dependencies_and_desktop_litter_and_keeps_every_other_file(
    alice: Machine,
) -> None:
    """A skill kept as a git checkout: its ``.git`` (whose config may hold a token in the
    remote's URL), ``node_modules`` and ``.DS_Store`` stay here; the files after them in
    the listing are all captured."""
    root = alice.claude_dir / "skills" / "kit"
    for rel, text in {
        ".DS_Store": "litter",
        ".git/config": '[remote "origin"]\n\turl = https://x:ghp_leak@github.com/a/kit\n',
        "SKILL.md": "---\nname: kit\ndescription: the kit\n---\n",
        "node_modules/dep/index.js": "module.exports = 1\n",
        "sub/.DS_Store": "litter",
        "sub/notes.md": "notes\n",
        "zz.md": "last\n",
    }.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    cap = capture(alice)
    files = cap.by_id()["skill:kit"].body["files"]
    assert [f["path"] for f in files] == ["SKILL.md", "sub/notes.md", "zz.md"]
    assert cap.warnings == []


def test_a_skill_is_described_by_its_skill_md_and_a_folder_without_one_is_skipped_with_a_warning(
    alice: Machine,
) -> None:
    skills = alice.claude_dir / "skills"
    (skills / "kit").mkdir()
    (skills / "kit" / "README.md").write_text("---\ndescription: the readme\n---\n")
    (skills / "kit" / "SKILL.md").write_text("---\nname: kit\ndescription: the skill\n---\n")
    (skills / "empty").mkdir()
    (skills / "empty" / "notes.md").write_text("no skill here\n")
    cap = capture(alice)
    assert cap.by_id()["skill:kit"].body["description"] == "the skill"
    assert "skill:empty" not in cap.by_id()
    assert cap.warnings == ["~/.claude/skills/empty skipped: no SKILL.md"]


def test_a_skill_file_that_cannot_be_read_is_skipped_with_a_warning_and_the_rest_kept(
    alice: Machine, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = alice.claude_dir / "skills" / "kit"
    root.mkdir()
    for name in ("SKILL.md", "a.md", "b.md"):
        (root / name).write_text(f"---\nname: kit\n---\n{name}\n")
    locked = str(root / "a.md")
    _refuse_to_read(monkeypatch, locked)
    cap = capture(alice)
    assert [f["path"] for f in cap.by_id()["skill:kit"].body["files"]] == ["SKILL.md", "b.md"]
    assert cap.warnings == [
        f"~/.claude/skills/kit/a.md skipped: [Errno 13] Permission denied: {locked!r}"
    ]
