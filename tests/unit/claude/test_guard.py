"""The changed-since-applied guard (chezmoi's rule): import first or stop, never clobber."""

from __future__ import annotations

import io
import json
import os
import shutil
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from agents.claude.apply import TargetChangedError, execute, import_changes, plan_apply
from agents.claude.capture import Capture, capture
from agents.claude.drafts import Draft, Scope, SecretRef
from agents.claude.machine import Machine
from agents.claude.targets import current_hashes
from agents.claude.writes import flush

from .conftest import read


def _server(name: str, **config: object) -> Draft:
    body = {"name": name, "source": "claude_code_user", "transport": "stdio", **config}
    return Draft(f"mcp_server:{name}", "mcp_server", body)


def _edit(cap: Capture, id: str, **body: object) -> list[Draft]:
    """The capture's drafts with ``id``'s body updated (a change pulled from another machine)."""
    return [replace(d, body={**d.body, **body}) if d.id == id else d for d in cap.drafts]


def _edit_by_hand(m: Machine, server: str, **fields: object) -> None:
    """``server``'s entry in ``m``'s ``~/.claude.json`` edited by hand, indented as Claude Code
    writes it."""
    doc = json.loads(read(m.claude_json))
    doc["mcpServers"][server].update(fields)
    m.claude_json.write_text(json.dumps(doc, indent=2))


@pytest.fixture(name="restored")
def _restored(alice: Machine, bob: Machine) -> tuple[Capture, dict[str, str]]:
    cap = capture(alice)
    plan = plan_apply(cap.drafts, bob, secrets=cap.secrets, blobs=cap.blobs)
    return cap, execute(plan).applied


def test_a_file_edited_since_it_was_applied_is_a_conflict_and_is_not_overwritten(
    bob: Machine, restored: tuple[Capture, dict[str, str]]
) -> None:
    """Bob edits CLAUDE.md; a newer CLAUDE.md from the store stops instead of clobbering."""
    cap, applied = restored
    claude_md = bob.claude_dir / "CLAUDE.md"
    claude_md.write_text(read(claude_md) + "- bob's local note\n")
    drafts = _edit(cap, "claude_file:user/CLAUDE.md", text="# from the store\n")
    plan = plan_apply(drafts, bob, applied=applied, secrets=cap.secrets, blobs=cap.blobs)
    [conflict] = plan.conflicts
    assert conflict.reason == "changed since it was last applied"
    assert plan.conflict_ids == ["claude_file:user/CLAUDE.md"]
    with pytest.raises(TargetChangedError, match="import those changes first"):
        execute(plan)
    assert read(claude_md).endswith("- bob's local note\n")


def test_the_changed_target_can_be_imported_first_as_a_draft(
    bob: Machine, restored: tuple[Capture, dict[str, str]]
) -> None:
    """import_changes captures exactly the conflicting documents from this machine."""
    cap, applied = restored
    (bob.claude_dir / "CLAUDE.md").write_text("# bob rewrote it\n")
    drafts = _edit(cap, "claude_file:user/CLAUDE.md", text="# from the store\n")
    plan = plan_apply(drafts, bob, applied=applied, secrets=cap.secrets, blobs=cap.blobs)
    [imported] = import_changes(plan)
    assert imported.id == "claude_file:user/CLAUDE.md"
    assert imported.body["text"] == "# bob rewrote it\n"


def test_skip_conflicts_writes_everything_else_and_leaves_the_changed_target(
    bob: Machine, restored: tuple[Capture, dict[str, str]]
) -> None:
    """Apply the rest; the records keep the old hash for the untouched target."""
    cap, applied = restored
    claude_md = bob.claude_dir / "CLAUDE.md"
    claude_md.write_text("# bob\n")
    drafts = _edit(cap, "claude_file:user/CLAUDE.md", text="# store\n")
    drafts = [
        replace(d, body={**d.body, "value": "claude-opus-4-1"}) if d.id == "pref:model" else d
        for d in drafts
    ]
    plan = plan_apply(drafts, bob, applied=applied, secrets=cap.secrets, blobs=cap.blobs)
    result = execute(plan, skip_conflicts=True)
    assert read(claude_md) == "# bob\n"
    assert json.loads(read(bob.settings_json))["model"] == "claude-opus-4-1"
    assert result.applied[str(claude_md)] == applied[str(claude_md)]
    assert [c.draft_id for c in result.skipped] == ["claude_file:user/CLAUDE.md"]


def test_claude_code_rewriting_its_own_keys_is_not_a_change_to_ours(
    bob: Machine, restored: tuple[Capture, dict[str, str]]
) -> None:
    """~/.claude.json gains state and is reformatted; our mcpServers members still apply."""
    cap, applied = restored
    doc = json.loads(read(bob.claude_json))
    doc = {"numStartups": 3, **doc, "tipsHistory": {"x": 1}}
    bob.claude_json.write_text(json.dumps(doc, indent=4))
    drafts = [
        replace(d, body={**d.body, "args": ["-y", "notion@2"]})
        if d.id == "mcp_server:notion"
        else d
        for d in cap.drafts
    ]
    plan = plan_apply(drafts, bob, applied=applied, secrets=cap.secrets, blobs=cap.blobs)
    assert plan.conflicts == []
    execute(plan)
    after = json.loads(read(bob.claude_json))
    assert after["mcpServers"]["notion"]["args"] == ["-y", "notion@2"]
    assert after["numStartups"] == 3 and after["tipsHistory"] == {"x": 1}
    assert read(bob.claude_json).startswith('{\n    "numStartups": 3,')


def test_a_member_edited_by_hand_is_a_conflict_but_its_neighbours_apply(
    bob: Machine, restored: tuple[Capture, dict[str, str]]
) -> None:
    """Granularity is the member: mcpServers.notion changed by bob, github still updates."""
    cap, applied = restored
    _edit_by_hand(bob, "notion", args=["-y", "bob-fork"])
    drafts = [
        replace(d, body={**d.body, "args": ["-y", "store"]})
        if d.id in ("mcp_server:notion", "mcp_server:local-tool")
        else d
        for d in cap.drafts
    ]
    plan = plan_apply(drafts, bob, applied=applied, secrets=cap.secrets, blobs=cap.blobs)
    assert [c.draft_id for c in plan.conflicts] == ["mcp_server:notion"]
    execute(plan, skip_conflicts=True)
    after = json.loads(read(bob.claude_json))["mcpServers"]
    assert after["notion"]["args"] == ["-y", "bob-fork"]
    assert after["local-tool"]["args"] == ["-y", "store"]


def test_an_existing_file_never_written_by_us_is_not_overwritten(
    alice: Machine, bob: Machine
) -> None:
    """A new machine where Claude Code already wrote settings: differing keys stop apply."""
    bob.settings_json.parent.mkdir(parents=True)
    bob.settings_json.write_text('{\n  "model": "haiku",\n  "theme": "dark"\n}\n')
    cap = capture(alice)
    plan = plan_apply(cap.drafts, bob, secrets=cap.secrets, blobs=cap.blobs)
    [c] = plan.conflicts
    assert (c.draft_id, c.reason) == ("pref:model", "exists, differs and was never applied here")
    execute(plan, skip_conflicts=True)
    after = json.loads(read(bob.settings_json))
    assert after["model"] == "haiku" and after["theme"] == "dark"
    assert after["cleanupPeriodDays"] == 90


def test_a_target_deleted_since_it_was_applied_is_not_recreated_silently(
    bob: Machine, restored: tuple[Capture, dict[str, str]]
) -> None:
    """Deleting a file we wrote is a change too."""
    cap, applied = restored
    agent = bob.claude_dir / "agents" / "reviewer.md"
    agent.unlink()
    drafts = _edit(cap, "claude_file:user/agents/reviewer.md", text="---\nname: r\n---\nnew\n")
    plan = plan_apply(drafts, bob, applied=applied, secrets=cap.secrets, blobs=cap.blobs)
    [c] = plan.conflicts
    assert (c.draft_id, c.reason) == (
        "claude_file:user/agents/reviewer.md",
        "deleted since it was last applied",
    )


def test_a_tombstone_removes_only_what_it_manages_and_only_if_unchanged(
    bob: Machine, restored: tuple[Capture, dict[str, str]]
) -> None:
    """Deleting mcp_server:github removes that member, a deleted setting its key; a deleted
    skill removes its files."""
    cap, applied = restored
    gone = ("mcp_server:github", "skill:release-notes", "pref:model")
    drafts = [d.tombstone() if d.id in gone else d for d in cap.drafts]
    plan = plan_apply(drafts, bob, applied=applied, secrets=cap.secrets, blobs=cap.blobs)
    assert {c.draft_id for c in plan.by_action("delete")} == set(gone)
    result = execute(plan)
    assert "github" not in json.loads(read(bob.claude_json))["mcpServers"]
    assert "notion" in json.loads(read(bob.claude_json))["mcpServers"]
    settings = json.loads(read(bob.settings_json))
    assert "model" not in settings and "permissions" in settings
    assert not (bob.claude_dir / "skills" / "release-notes").exists()
    assert not any("release-notes" in k for k in result.applied)


def test_a_file_dropped_from_a_skill_is_removed_when_unchanged(
    bob: Machine, restored: tuple[Capture, dict[str, str]]
) -> None:
    """The new skill version has no resources/; the old file we wrote goes away."""
    cap, applied = restored
    skill = cap.by_id()["skill:pdf-tools"]
    files = [f for f in skill.body["files"] if not f["path"].startswith("resources/")]
    drafts = _edit(cap, "skill:pdf-tools", files=files)
    plan = plan_apply(drafts, bob, applied=applied, secrets=cap.secrets, blobs=cap.blobs)
    [gone] = plan.by_action("delete")
    assert gone.key.endswith("skills/pdf-tools/resources/service.env")
    execute(plan)
    assert not (bob.claude_dir / "skills/pdf-tools/resources").exists()
    assert (bob.claude_dir / "skills/pdf-tools/SKILL.md").exists()


def test_a_file_with_a_hash_in_its_name_dropped_from_a_skill_is_removed_too(
    bob: Machine, restored: tuple[Capture, dict[str, str]]
) -> None:
    """``#`` in a skill file's name (``notes#1.md``) is part of the path, not a member's
    pointer: dropped from the skill, the file goes away like any other."""
    cap, applied = restored
    files = cap.by_id()["skill:pdf-tools"].body["files"]
    extra = {"path": "notes#1.md", "text": "Notes.\n", "mode": 0o644}
    grown = _edit(cap, "skill:pdf-tools", files=[*files, extra])
    plan = plan_apply(grown, bob, applied=applied, secrets=cap.secrets, blobs=cap.blobs)
    applied = execute(plan).applied
    assert (bob.claude_dir / "skills/pdf-tools/notes#1.md").exists()
    plan = plan_apply(cap.drafts, bob, applied=applied, secrets=cap.secrets, blobs=cap.blobs)
    [gone] = plan.by_action("delete")
    assert gone.key.endswith("skills/pdf-tools/notes#1.md")
    execute(plan)
    assert not (bob.claude_dir / "skills/pdf-tools/notes#1.md").exists()
    assert (bob.claude_dir / "skills/pdf-tools/SKILL.md").exists()


def test_a_change_between_plan_and_write_to_another_key_is_kept(
    bob: Machine, restored: tuple[Capture, dict[str, str]]
) -> None:
    """Claude Code writes ~/.claude.json after we planned: our edit is re-spliced on top."""
    cap, applied = restored
    drafts = [d.tombstone() if d.id == "mcp_server:github" else d for d in cap.drafts]
    plan = plan_apply(drafts, bob, applied=applied, secrets=cap.secrets, blobs=cap.blobs)
    doc = json.loads(read(bob.claude_json))
    bob.claude_json.write_text(json.dumps({**doc, "numStartups": 9}, indent=2))
    result = execute(plan)
    after = json.loads(read(bob.claude_json))
    assert after["numStartups"] == 9 and "github" not in after["mcpServers"]
    assert result.changed_meanwhile == []


def test_a_server_added_while_claude_code_rewrites_the_file_is_spliced_in(
    bob: Machine, restored: tuple[Capture, dict[str, str]]
) -> None:
    """A new member, absent before and still absent after the rewrite, is not a change to
    ours: it lands beside what Claude Code wrote."""
    cap, applied = restored
    new = _server("added", command="added-tool")
    plan = plan_apply(
        [*cap.drafts, new], bob, applied=applied, secrets=cap.secrets, blobs=cap.blobs
    )
    assert [c.draft_id for c in plan.by_action("create")] == ["mcp_server:added"]
    doc = json.loads(read(bob.claude_json))
    bob.claude_json.write_text(json.dumps({**doc, "numStartups": 9}, indent=2))
    result = execute(plan)
    after = json.loads(read(bob.claude_json))
    assert after["numStartups"] == 9 and after["mcpServers"]["added"]["command"] == "added-tool"
    assert result.changed_meanwhile == []


def test_a_file_that_already_holds_what_the_apply_writes_when_its_turn_comes_is_left_as_is(
    bob: Machine, restored: tuple[Capture, dict[str, str]]
) -> None:
    """Claude Code wrote the very bytes this apply would (a second machine's restore, a
    user who added the server by hand): nothing to splice, no temporary file to rename."""
    cap, applied = restored
    new = _server("added", command="added-tool")
    plan = plan_apply(
        [*cap.drafts, new], bob, applied=applied, secrets=cap.secrets, blobs=cap.blobs
    )
    (planned,) = [f for f in plan.files if f.where == str(bob.claude_json)]
    assert planned.new is not None
    bob.claude_json.write_bytes(planned.new)
    names = sorted(bob.home.iterdir())
    result = execute(plan)
    assert read(bob.claude_json) == planned.new.decode()
    assert result.changed_meanwhile == []
    assert sorted(bob.home.iterdir()) == names  # no temporary file left beside it


def test_a_file_removed_with_its_folder_between_plan_and_write_is_reported_not_recreated(
    bob: Machine, restored: tuple[Capture, dict[str, str]]
) -> None:
    """Bob deletes ``~/.claude/rules`` while an update to a rule is being applied: the
    update does not bring the file back; it is reported as changed while applying."""
    cap, applied = restored
    drafts = _edit(cap, "claude_file:user/rules/python.md", text="# rules from the store\n")
    plan = plan_apply(drafts, bob, applied=applied, secrets=cap.secrets, blobs=cap.blobs)
    assert [c.draft_id for c in plan.by_action("update")] == ["claude_file:user/rules/python.md"]
    shutil.rmtree(bob.claude_dir / "rules")
    result = execute(plan)
    assert [c.draft_id for c in result.changed_meanwhile] == ["claude_file:user/rules/python.md"]
    assert not (bob.claude_dir / "rules" / "python.md").exists()


def test_a_file_that_gains_a_secret_value_is_no_longer_readable_by_others(
    bob: Machine, restored: tuple[Capture, dict[str, str]]
) -> None:
    """``~/.claude.json`` left 0640 by hand: kept by an apply that writes no secret; the one
    that writes a secret takes the group's and others' bits away and keeps the owner's."""
    cap, applied = restored
    os.chmod(bob.claude_json, 0o640)
    plain = _server("plain", command="plain-tool")
    plan = plan_apply([*cap.drafts, plain], bob, applied=applied, secrets=cap.secrets)
    applied = {**applied, **execute(plan).applied}
    assert os.stat(bob.claude_json).st_mode & 0o777 == 0o640  # no secret written: as it was
    new = Draft(
        "mcp_server:added",
        "mcp_server",
        {"name": "added", "source": "claude_code_user", "transport": "stdio", "command": "x"}
        | {"env": {"K": "secret://k"}},
        secret_refs=(SecretRef("/env/K", "k"),),
    )
    secrets = {**cap.secrets, "k": "v4lue-secret-xyz"}
    drafts = [*cap.drafts, plain, new]
    execute(plan_apply(drafts, bob, applied=applied, secrets=secrets, blobs=cap.blobs))
    assert os.stat(bob.claude_json).st_mode & 0o777 == 0o600
    assert json.loads(read(bob.claude_json))["mcpServers"]["added"]["env"]["K"] == secrets["k"]


def test_a_json_file_removed_between_plan_and_write_gets_back_only_what_this_apply_adds(
    bob: Machine, restored: tuple[Capture, dict[str, str]]
) -> None:
    """~/.claude.json deleted after the plan: the member we delete is gone as planned, the one
    we add is added; nothing else is written back."""
    cap, applied = restored
    drafts = [d.tombstone() if d.id == "mcp_server:github" else d for d in cap.drafts]
    added = _server("added", command="added-tool")
    plan = plan_apply([*drafts, added], bob, applied=applied, secrets=cap.secrets, blobs=cap.blobs)
    bob.claude_json.unlink()
    result = execute(plan)
    assert json.loads(read(bob.claude_json)) == {
        "mcpServers": {"added": {"type": "stdio", "command": "added-tool"}}
    }
    assert result.changed_meanwhile == []


def test_executing_a_plan_with_conflicts_names_the_first_ten_and_writes_nothing(
    tmp_path: Path,
) -> None:
    """Without skip_conflicts: how many targets changed, the first ten with their reason."""
    m = Machine(tmp_path / "home", "linux", "m-bob")
    rules = m.claude_dir / "rules"
    rules.mkdir(parents=True)
    drafts = []
    for i in range(11):
        (rules / f"r{i:02}.md").write_text("mine\n")
        body = {"path": f"rules/r{i:02}.md", "text": "theirs\n", "mode": 0o644}
        drafts.append(Draft(f"claude_file:user/rules/r{i:02}.md", "claude_file", body))
    drafts.append(Draft("claude_file:user/new.md", "claude_file", {"path": "new.md", "text": "x"}))
    with pytest.raises(TargetChangedError) as caught:
        execute(plan_apply(drafts, m))
    listed = "; ".join(
        f"~/.claude/rules/r{i:02}.md: exists, differs and was never applied here" for i in range(10)
    )
    assert str(caught.value) == (
        f"11 target(s) changed since they were last applied ({listed}); import those changes "
        "first (capture, then merge), or leave them and apply the rest"
    )
    assert not (m.claude_dir / "new.md").exists()
    assert {p.read_text() for p in rules.iterdir()} == {"mine\n"}


def test_a_change_between_plan_and_write_to_our_member_leaves_the_file_alone(
    bob: Machine, restored: tuple[Capture, dict[str, str]]
) -> None:
    """The member we were about to delete was edited meanwhile: that file is not written."""
    cap, applied = restored
    drafts = [d.tombstone() if d.id == "mcp_server:github" else d for d in cap.drafts]
    plan = plan_apply(drafts, bob, applied=applied, secrets=cap.secrets, blobs=cap.blobs)
    _edit_by_hand(bob, "github", url="https://example.com/mcp")
    result = execute(plan)
    assert [c.draft_id for c in result.changed_meanwhile] == ["mcp_server:github"]
    assert json.loads(read(bob.claude_json))["mcpServers"]["github"]["url"].startswith("https://ex")


def test_a_whole_file_changed_between_plan_and_write_is_left_alone(
    bob: Machine, restored: tuple[Capture, dict[str, str]]
) -> None:
    """Only the read just before the rename guards a whole file: it must not be clobbered."""
    cap, applied = restored
    rule = bob.claude_dir / "CLAUDE.md"
    drafts = _edit(cap, "claude_file:user/CLAUDE.md", text="# Ours, newer\n")
    plan = plan_apply(drafts, bob, applied=applied, secrets=cap.secrets, blobs=cap.blobs)
    assert [c.action for c in plan.changes if c.key == str(rule)] == ["update"]
    rule.write_text("# Edited by hand after the plan\n")
    result = execute(plan)
    assert [c.key for c in result.changed_meanwhile] == [str(rule)]
    # counted with the plan's conflicts, which the CLI reports after writing
    assert [(c.label, c.reason) for c in plan.conflicts] == [
        ("~/.claude/CLAUDE.md", "changed while applying")
    ]
    assert rule.read_text() == "# Edited by hand after the plan\n"
    assert result.applied[str(rule)] == applied[str(rule)]
    assert not list(bob.home.rglob("*.tmp"))


def test_a_plan_reads_each_target_once(
    bob: Machine, restored: tuple[Capture, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deciding, building the new text and choosing the mode share one read per file."""
    cap, applied = restored
    opened: list[str] = []
    real_os_open, real_io_open = os.open, io.open

    def os_open(path: Any, *args: Any, **kwargs: Any) -> int:
        opened.append(os.fspath(path))
        return real_os_open(path, *args, **kwargs)

    def io_open(path: Any, *args: Any, **kwargs: Any) -> Any:
        opened.append(os.fspath(path))
        return real_io_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", os_open)
    monkeypatch.setattr(io, "open", io_open)
    drafts = _edit(cap, "claude_file:user/CLAUDE.md", text="# Ours, newer\n")
    plan = plan_apply(drafts, bob, applied=applied, secrets=cap.secrets, blobs=cap.blobs)
    monkeypatch.undo()
    targets = {str(c.unit.path) for c in plan.changes if c.unit}
    ours = [p for p in opened if p.startswith(str(bob.home))]
    assert plan.by_action("update") and sorted(ours) == sorted(targets)


def test_an_invalid_json_target_blocks_its_members_and_is_left_as_it_is(
    alice: Machine, bob: Machine
) -> None:
    """A half-written ~/.claude.json is never replaced by ours."""
    bob.claude_json.parent.mkdir(parents=True, exist_ok=True)
    bob.claude_json.write_text('{"numStartups": 3,')
    cap = capture(alice)
    plan = plan_apply(cap.drafts, bob, secrets=cap.secrets, blobs=cap.blobs)
    blocked = {c.draft_id: c.reason for c in plan.by_action("blocked")}
    assert "is not valid JSON" in blocked["mcp_server:notion"]
    execute(plan)
    assert read(bob.claude_json) == '{"numStartups": 3,'


def test_a_document_with_a_path_outside_its_root_is_refused(bob: Machine) -> None:
    """Documents come from other machines: ../ never escapes ~/.claude."""
    evil = Draft(
        "skill:x", "skill", {"name": "x", "files": [{"path": "../../.bashrc", "text": "x"}]}
    )
    plan = plan_apply([evil], bob)
    [c] = plan.by_action("blocked")
    assert "unsafe path" in c.reason
    execute(plan)
    assert not (bob.home / ".bashrc").exists()


def test_an_executable_bit_set_on_another_machine_follows_on_apply(
    bob: Machine, restored: tuple[Capture, dict[str, str]]
) -> None:
    """Mode-only change: chmod without rewriting the file."""
    cap, applied = restored
    skill = cap.by_id()["skill:pdf-tools"]
    files = [{**f, "mode": 0o755} if f["path"] == "SKILL.md" else f for f in skill.body["files"]]
    drafts = _edit(cap, "skill:pdf-tools", files=files)
    plan = plan_apply(drafts, bob, applied=applied, secrets=cap.secrets, blobs=cap.blobs)
    assert [c.action for c in plan.changes if c.key.endswith("SKILL.md") and "pdf" in c.key] == [
        "chmod"
    ]
    execute(plan)
    assert (bob.claude_dir / "skills/pdf-tools/SKILL.md").stat().st_mode & 0o777 == 0o755


def test_a_write_by_claude_code_just_before_our_rename_is_spliced_not_lost(
    bob: Machine, restored: tuple[Capture, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between preparing the temp files and renaming them, ~/.claude.json changes."""
    cap, applied = restored
    drafts = [d.tombstone() if d.id == "mcp_server:github" else d for d in cap.drafts]
    plan = plan_apply(drafts, bob, applied=applied, secrets=cap.secrets, blobs=cap.blobs)
    real_flush = flush

    def claude_code_writes(folders: Iterable[str]) -> None:
        real_flush(folders)
        doc = json.loads(read(bob.claude_json))
        bob.claude_json.write_text(json.dumps({**doc, "numStartups": 10}, indent=2))

    monkeypatch.setattr("agents.claude.apply.flush", claude_code_writes)
    result = execute(plan)
    after = json.loads(read(bob.claude_json))
    assert after["numStartups"] == 10 and "github" not in after["mcpServers"]
    assert result.changed_meanwhile == []
    assert not list(bob.home.rglob("*.tmp"))


def _doc(path: str, text: str, mode: int = 0o644) -> Draft:
    body = {"path": path, "text": text, "mode": mode}
    return Draft(f"claude_file:user/{path}", "claude_file", body)


def test_the_records_follow_every_write_so_the_next_change_from_the_store_is_no_conflict(
    tmp_path: Path,
) -> None:
    """After an update, a mode change, a file found already equal, a deletion of a file
    already gone and of one never written, the next version from the store applies as an
    update or a create; a deletion refused because the file was edited here stays refused as
    an edit."""
    m = Machine(tmp_path / "home", "linux", "m-bob")
    (m.claude_dir / "rules").mkdir(parents=True)
    (m.claude_dir / "rules" / "same.md").write_text("same\n")  # made here, equal to the store's
    (m.claude_dir / "run.md").write_text("#!/bin/sh\n")  # made here, equal, not executable
    v1 = [_doc("a.md", "a1\n"), _doc("gone.md", "g\n"), _doc("kept.md", "k\n")]
    applied = execute(plan_apply(v1, m)).applied
    (m.claude_dir / "gone.md").unlink()  # deleted here; then deleted in the store too
    (m.claude_dir / "kept.md").write_text("edited here\n")  # edited here, deleted in the store
    v2 = [
        _doc("a.md", "a2\n"),
        _doc("run.md", "#!/bin/sh\n", 0o755),
        _doc("rules/same.md", "same\n"),
        _doc("gone.md", "g\n").tombstone(),
        _doc("never.md", "n\n").tombstone(),
        _doc("kept.md", "k\n").tombstone(),
    ]
    plan = plan_apply(v2, m, applied=applied)
    actions = ["update", "chmod", "unchanged", "unchanged", "unchanged", "conflict"]
    assert [c.action for c in plan.changes] == actions
    applied = execute(plan, skip_conflicts=True).applied
    v3 = [
        _doc("a.md", "a3\n"),
        _doc("run.md", "echo\n", 0o755),
        _doc("rules/same.md", "new\n"),
        _doc("gone.md", "back\n"),
        _doc("kept.md", "k\n").tombstone(),
    ]
    plan = plan_apply(v3, m, applied=applied)
    assert [c.action for c in plan.changes] == ["update", "update", "update", "create", "conflict"]
    assert plan.conflicts[0].reason == "changed since it was last applied"
    result = execute(plan, skip_conflicts=True)
    assert sorted(result.written) == sorted(
        str(m.claude_dir / p) for p in ("a.md", "run.md", "rules/same.md", "gone.md")
    )
    assert (m.claude_dir / "gone.md").read_text() == "back\n"


def test_files_changed_while_applying_are_each_reported_and_the_rest_still_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two files edited between the plan and the write, and one we delete removed meanwhile:
    both edits are reported and kept, every other file is written, the removal is no error."""
    m = Machine(tmp_path / "home", "linux", "m-bob")
    v1 = [_doc(n, f"{n} 1\n") for n in ("a.md", "b.md", "c.md", "d.md")]
    applied = execute(plan_apply(v1, m)).applied
    v2 = [_doc(n, f"{n} 2\n") for n in ("a.md", "b.md", "c.md")] + [v1[3].tombstone()]
    plan = plan_apply(v2, m, applied=applied)
    blocked = Draft("claude_file:user/x", "claude_file", {"path": "../x", "text": ""})
    plan.changes += plan_apply([blocked], m).changes

    def someone_edits(folders: Iterable[str]) -> None:  # after the flush, before the renames
        flush(folders)
        (m.claude_dir / "a.md").write_text("mine\n")
        (m.claude_dir / "b.md").write_text("mine too\n")
        (m.claude_dir / "d.md").unlink()

    monkeypatch.setattr("agents.claude.apply.flush", someone_edits)
    result = execute(plan)
    monkeypatch.undo()
    assert [c.label for c in result.changed_meanwhile] == ["~/.claude/a.md", "~/.claude/b.md"]
    assert [c.label for c in result.skipped] == ["claude_file:user/x"]
    assert sorted(result.written) == [str(m.claude_dir / "c.md"), str(m.claude_dir / "d.md")]
    assert (m.claude_dir / "c.md").read_text() == "c.md 2\n"
    assert (m.claude_dir / "a.md").read_text() == "mine\n"


def test_a_file_entry_kept_as_json_is_written_in_claudes_style_and_one_without_a_mode_0644(
    tmp_path: Path,
) -> None:
    m = Machine(tmp_path / "home", "linux", "m-bob")
    body = {"path": "keybindings.json", "json": {"home": "{{home}}", "é": [1]}}
    execute(plan_apply([Draft("claude_file:user/keybindings.json", "claude_file", body)], m))
    path = m.claude_dir / "keybindings.json"
    assert path.read_text() == f'{{\n  "home": "{m.home}",\n  "é": [\n    1\n  ]\n}}\n'
    assert path.stat().st_mode & 0o777 == 0o644
    empty = Draft("claude_file:user/odd", "claude_file", {"path": "odd"})
    [c] = plan_apply([empty], m).changes
    assert (c.action, c.reason) == ("blocked", "a file entry has neither text, json nor blob")


def test_the_hashes_of_what_is_on_disk_skip_a_document_that_cannot_be_placed(
    alice: Machine,
) -> None:
    """A project not mapped here does not stop the documents after it (an import records
    these as applied)."""
    unmapped = Draft(
        "claude_file:project/x@github.com/n/a",
        "claude_file",
        {"path": "x.md", "text": "x"},
        Scope("project", "github.com/n/a"),
    )
    claude_md = Draft(
        "claude_file:user/CLAUDE.md", "claude_file", {"path": "CLAUDE.md", "text": ""}
    )
    hashes = current_hashes([unmapped, claude_md], alice)
    assert list(hashes) == [str(alice.claude_dir / "CLAUDE.md")]


# (mode here, mode in the store, mode after the apply): the executable bits follow the store,
# the read and write bits stay as this machine has them (0600 made private here stays so).
MODES = [(0o644, 0o755, 0o755), (0o755, 0o644, 0o644), (0o754, 0o755, 0o755), (0o600, 0o744, 0o700)]
MODE_IDS = [f"{here:o} here, {store:o} in the store" for here, store, _ in MODES]


@pytest.mark.parametrize("text", ["v1\n", "v2\n"], ids=["mode only", "content and mode"])
@pytest.mark.parametrize(("here", "store", "expected"), MODES, ids=MODE_IDS)
def test_the_store_sets_a_files_executable_bits_and_this_machine_keeps_its_read_write_bits(
    tmp_path: Path, text: str, here: int, store: int, expected: int
) -> None:
    """With the content unchanged (a chmod) or changed with it (an update)."""
    m = Machine(tmp_path / "home", "linux", "m-bob")
    applied = execute(plan_apply([_doc("run.md", "v1\n")], m)).applied
    path = m.claude_dir / "run.md"
    os.chmod(path, here)
    plan = plan_apply([_doc("run.md", text, store)], m, applied=applied)
    assert [c.action for c in plan.changes] == ["chmod" if text == "v1\n" else "update"]
    execute(plan)
    assert (path.read_text(), path.stat().st_mode & 0o777) == (text, expected)


def test_a_file_whose_server_is_updated_to_carry_a_secret_is_no_longer_readable_by_others(
    tmp_path: Path,
) -> None:
    """An update, not only a create, that writes a secret value takes the group's and others'
    bits away."""
    m = Machine(tmp_path / "home", "linux", "m-bob")
    applied = execute(plan_apply([_server("api", command="api-tool")], m)).applied
    assert os.stat(m.claude_json).st_mode & 0o777 == 0o644
    body = {"command": "api-tool", "env": {"K": "secret://k"}}
    new = replace(_server("api", **body), secret_refs=(SecretRef("/env/K", "k"),))
    plan = plan_apply([new], m, applied=applied, secrets={"k": "v4lue-secret-xyz"})
    assert [c.action for c in plan.changes] == ["update"]
    execute(plan)
    assert os.stat(m.claude_json).st_mode & 0o777 == 0o600
    assert json.loads(read(m.claude_json))["mcpServers"]["api"]["env"] == {"K": "v4lue-secret-xyz"}


def test_deleting_an_executable_file_already_gone_here_plans_nothing(tmp_path: Path) -> None:
    """Not a chmod of a file that is not there."""
    m = Machine(tmp_path / "home", "linux", "m-bob")
    plan = plan_apply([_doc("run.sh", "#!/bin/sh\n", 0o755).tombstone()], m)
    assert [c.action for c in plan.changes] == ["unchanged"]
    assert plan.summary() == "unchanged: 1" and plan.files == []


def test_a_server_named_like_a_skill_leaves_the_skills_files_alone(tmp_path: Path) -> None:
    """Only a skill's own new version removes the files it no longer has; nor does a skill
    version with no files remove the ones written before."""
    m = Machine(tmp_path / "home", "linux", "m-bob")
    files = [{"path": "SKILL.md", "text": "---\nname: x\n---\n", "mode": 0o644}]
    skill = Draft("skill:x", "skill", {"name": "x", "files": files})
    applied = execute(plan_apply([skill], m)).applied
    for draft in (_server("x", command="x-tool"), replace(skill, body={"name": "x", "files": []})):
        plan = plan_apply([draft], m, applied=applied)
        assert plan.by_action("delete") == []
    assert (m.claude_dir / "skills" / "x" / "SKILL.md").exists()


def test_a_binary_file_is_restored_with_its_mode_and_one_whose_blob_is_missing_says_pull_it(
    tmp_path: Path,
) -> None:
    m = Machine(tmp_path / "home", "linux", "m-bob")
    data = b"\x7fELF\x00\x01binary"
    files = [
        {"path": "tool.bin", "blob": {"blob": "b1"}, "mode": 0o755},
        {"path": "data.bin", "blob": {"blob": "b2"}, "mode": 0o644},
    ]
    skill = Draft("skill:bin", "skill", {"name": "bin", "files": files})
    plan = plan_apply([skill], m, blobs={"b1": data})
    assert [(c.action, c.reason) for c in plan.changes] == [
        ("create", ""),
        ("blocked", "blob b2 is not available on this machine; pull it"),
    ]
    execute(plan, skip_conflicts=True)
    tool = m.claude_dir / "skills" / "bin" / "tool.bin"
    assert (tool.read_bytes(), tool.stat().st_mode & 0o777) == (data, 0o755)
    assert not (m.claude_dir / "skills" / "bin" / "data.bin").exists()


def test_a_conflicting_member_is_named_by_its_file_and_its_path_inside_it(
    bob: Machine, restored: tuple[Capture, dict[str, str]]
) -> None:
    cap, applied = restored
    _edit_by_hand(bob, "github", args=["edited", "here"])
    drafts = _edit(cap, "mcp_server:github", args=["from", "the", "store"])
    plan = plan_apply(drafts, bob, applied=applied, secrets=cap.secrets, blobs=cap.blobs)
    assert [c.label for c in plan.conflicts] == ["~/.claude.json#mcpServers/github"]
    assert "conflict: ~/.claude.json#mcpServers/github: changed since" in plan.summary()
