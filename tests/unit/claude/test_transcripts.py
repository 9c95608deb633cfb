"""Opt-in transcripts: encrypted blobs, paths remapped to the new machine's checkout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from agents.claude.apply import execute, plan_apply
from agents.claude.capture import capture
from agents.claude.machine import Machine
from agents.claude.projects import slug
from agents.claude.scan import scan
from agents.claude.transcripts import session_cwd
from tests.unit.claude.conftest import HOME_SESSION, machine_key

SESSION = HOME_SESSION


def test_transcripts_are_encrypted_and_resume_on_another_machine_at_its_own_slug(
    alice: Machine, bob: Machine
) -> None:
    """The session file lands under bob's slug for his checkout, with his paths inside."""
    a, b = machine_key(alice), machine_key(bob)
    cap = capture(alice, transcripts_to=[a.recipient, b.recipient])
    draft = cap.by_id()[f"transcript_archive:{SESSION}"]
    assert draft.body["project_id"] == "github.com/acme/api"
    blob = cap.blobs[draft.body["blob"]["blob"]]
    assert b"why does login fail" not in blob and scan(blob) == []
    plan = plan_apply(
        cap.drafts, bob, secrets=cap.secrets, blobs=cap.blobs, identities=[b.identity]
    )
    execute(plan)
    api = bob.project_paths["github.com/acme/api"]
    path = bob.claude_dir / "projects" / slug(str(api)) / f"{SESSION}.jsonl"
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    assert [x["cwd"] for x in lines] == [str(api), str(api)]
    assert f"{api}/auth.py" in lines[1]["message"]["content"][0]["text"]
    assert path.stat().st_mode & 0o777 == 0o600


def test_without_this_machines_key_the_transcript_is_blocked_not_garbled(
    alice: Machine, bob: Machine
) -> None:
    """Encrypted only to alice: bob's apply says it cannot decrypt."""
    cap = capture(alice, transcripts_to=[machine_key(alice).recipient])
    plan = plan_apply(cap.drafts, bob, blobs=cap.blobs, identities=[machine_key(bob).identity])
    [c] = [c for c in plan.changes if c.draft_id.startswith("transcript_archive:")]
    assert c.action == "blocked" and "not a recipient" in c.reason


def test_an_unchanged_transcript_keeps_its_encrypted_blob(alice: Machine) -> None:
    """age output is random; reusing the old body avoids a new revision per capture."""
    key = machine_key(alice)
    first = capture(alice, transcripts_to=[key.recipient])
    again = capture(alice, transcripts_to=[key.recipient], previous=first.by_id())
    id = f"transcript_archive:{SESSION}"
    assert again.by_id()[id] == first.by_id()[id]
    assert first.by_id()[id].body["blob"]["blob"] not in again.blobs


def test_a_session_folder_of_a_subfolder_is_found_by_the_cwd_its_sessions_record(
    alice: Machine,
) -> None:
    """Claude Code names the folder after the working directory: a session started in a
    subfolder of the checkout is that project's, with the subfolder; a folder whose sessions
    ran outside any checkout is reported and skipped, and the folders after it still read."""
    from agents.claude.transcripts import capture_transcripts

    key = machine_key(alice)
    svc = alice.home / "src" / "api" / "svc"
    svc.mkdir()
    projects = alice.claude_dir / "projects"
    sub = projects / slug(str(svc))
    sub.mkdir()
    entry = {"type": "user", "cwd": str(svc), "message": {"role": "user", "content": "hi"}}
    (sub / "11111111-2222-3333-4444-555555555555.jsonl").write_text(json.dumps(entry) + "\n")
    loose = projects / "-aaa-scratch"  # sorts first
    loose.mkdir()
    (loose / "66666666-7777-8888-9999-000000000000.jsonl").write_text(
        json.dumps({**entry, "cwd": str(alice.home.parent)}) + "\n"
    )
    nocwd = projects / "-aab-nocwd"  # its sessions record no working directory
    nocwd.mkdir()
    (nocwd / "77777777-7777-8888-9999-000000000000.jsonl").write_text('{"type": "x"}\n')
    machine = alice.with_projects({"github.com/acme/api": alice.home / "src" / "api"})
    out = capture(machine, code=False, desktop=False)
    capture_transcripts(machine, out, [key.recipient], {})
    found = {d.id: d for d in out.drafts if d.kind == "transcript_archive"}
    sub_draft = found["transcript_archive:11111111-2222-3333-4444-555555555555"]
    assert sub_draft.body["project_id"] == "github.com/acme/api"
    assert sub_draft.body["subdir"] == "svc"
    assert (sub_draft.scope.level, sub_draft.scope.project_id) == ("project", "github.com/acme/api")
    assert f"transcript_archive:{SESSION}" in found
    assert "transcript_archive:66666666-7777-8888-9999-000000000000" not in found
    assert out.warnings == [
        f"transcripts in {name}: project unknown (no git remote), not captured"
        for name in ("-aaa-scratch", "-aab-nocwd")
    ]


def test_a_transcript_with_bytes_that_are_not_utf8_is_archived_and_restored_byte_for_byte(
    alice: Machine, bob: Machine
) -> None:
    """Latin-1 text and a stray byte survive the placeholders both ways: on bob, the same
    bytes with his home in place of alice's."""
    from agents.claude.transcripts import archive_transcript
    from agents.claude.vault import decrypt

    key, bobs = machine_key(alice), machine_key(bob)
    path = alice.claude_dir / "projects" / "odd.jsonl"
    line = '{"type": "user", "cwd": "%s", "message": {"content": "caf\xe9 \xff"}}\n'
    path.write_bytes((line % alice.home).encode("latin-1"))
    project = ("github.com/acme/api", "")
    recipients = [key.recipient, bobs.recipient]
    draft, blobs = archive_transcript(path, project, alice.placeholders(), recipients)
    assert decrypt(blobs[draft.body["blob"]["blob"]], [key.identity]) == (line % "{{home}}").encode(
        "latin-1"
    )
    execute(plan_apply([draft], bob, blobs=blobs, identities=[bobs.identity]))
    api = bob.project_paths["github.com/acme/api"]
    restored = bob.claude_dir / "projects" / slug(str(api)) / "odd.jsonl"
    assert restored.read_bytes() == (line % bob.home).encode("latin-1")


def test_a_transcript_is_sealed_again_when_a_machine_joins(alice: Machine, bob: Machine) -> None:
    """Same plaintext, one more recipient: a new blob that the new machine can open."""
    a, b = machine_key(alice), machine_key(bob)
    first = capture(alice, transcripts_to=[a.recipient])
    again = capture(alice, transcripts_to=[a.recipient, b.recipient], previous=first.by_id())
    draft = again.by_id()[f"transcript_archive:{SESSION}"]
    assert draft.body["recipients"] == sorted([a.recipient, b.recipient])
    assert draft.body["blob"]["blob"] in again.blobs


@pytest.mark.parametrize(
    "before",
    [
        b"{not json\n",  # a line cut short
        b'["user"]\n',  # JSON, not an object
        b'{"cwd": 7}\n{"cwd": ["/elsewhere"]}\n{"cwd": ""}\n{"cwd": null}\n',
        b'{"type": "user", "message": {"content": "caf\xe9 \xff"}}\n',  # not UTF-8
        b'{"type": "summary"}\n' * 49,
    ],
    ids=["not JSON", "not an object", "not a path", "not UTF-8", "49 lines without"],
)
def test_a_transcripts_working_directory_is_its_first_cwd_that_is_a_path(
    tmp_path: Path, before: bytes
) -> None:
    """Lines before it that say nothing usable are passed over, whatever they hold."""
    path = tmp_path / "session.jsonl"
    path.write_bytes(before + b'{"type": "user", "cwd": "/home/al/src/api"}\n{"cwd": "/x"}\n')
    assert session_cwd(path) == "/home/al/src/api"


def test_a_transcripts_working_directory_is_read_as_utf8_whatever_the_locale(
    tmp_path: Path,
) -> None:
    """Claude Code writes UTF-8; a hook run in the plain C locale (Python's UTF-8 coercion off,
    so the locale's encoding is ASCII) still reads a checkout path that is not ASCII."""
    path = tmp_path / "session.jsonl"
    path.write_text(json.dumps({"cwd": "/home/zoë/src/café"}, ensure_ascii=False) + "\n")
    code = (
        "import sys; from pathlib import Path;"
        "from agents.claude.transcripts import session_cwd;"
        "sys.stdout.buffer.write(session_cwd(Path(sys.argv[1])).encode())"
    )
    env = {**os.environ, "LC_ALL": "C", "PYTHONCOERCECLOCALE": "0", "PYTHONUTF8": "0"}
    out = subprocess.run(
        [sys.executable, "-X", "utf8=0", "-c", code, str(path)],
        capture_output=True,
        env=env,
        timeout=60,
        check=True,
    )
    assert out.stdout.decode() == "/home/zoë/src/café"
