"""Opt-in session transcripts: ``~/.claude/projects/<slug>/<session>.jsonl``, age-encrypted.

Transcripts hold every message and tool output, so they may hold anything: they are captured
only when the caller passes recipients, and then only as encrypted blobs. The plaintext has its
paths turned into placeholders before encryption, so a session resumed on another machine
points at that machine's checkout. Slugs are remapped through the project id: the directory
name is derived from the working directory, which differs per machine.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from agents.claude.drafts import Draft, Scope, blob_id, sha256_hex
from agents.claude.machine import Machine
from agents.claude.projects import project_id, slug
from agents.claude.vault import encrypt

if TYPE_CHECKING:
    from agents.claude.capture import Capture

__all__ = ["capture_transcripts", "session_cwd"]


def session_cwd(path: Path, max_lines: int = 50) -> str | None:
    """The working directory recorded in a transcript (the ``cwd`` field of its lines)."""
    try:
        with path.open(encoding="utf-8", errors="replace") as fh:
            for _, line in zip(range(max_lines), fh, strict=False):
                try:
                    cwd = json.loads(line).get("cwd")
                except (ValueError, AttributeError):
                    continue
                if isinstance(cwd, str) and cwd:
                    return cwd
    except OSError:
        return None
    return None


def _project_of(folder: Path, by_slug: Mapping[str, str], machine: Machine) -> str | None:
    if folder.name in by_slug:
        return by_slug[folder.name]
    for jsonl in sorted(folder.glob("*.jsonl")):
        cwd = session_cwd(jsonl)
        if cwd and Path(cwd).is_dir():
            return project_id(Path(cwd), machine.home)
    return None


def capture_transcripts(
    machine: Machine, out: Capture, recipients: Sequence[str], previous: Mapping[str, Draft]
) -> None:
    """Add one ``transcript_archive`` draft per session file to ``out``.

    Args:
        machine: The machine, with its project path map.
        out: The capture to add drafts, blobs and warnings to.
        recipients: age public keys to encrypt to.
        previous: The store's drafts; a session whose plaintext is unchanged keeps its body.
    """
    root = machine.claude_dir / "projects"
    if not root.is_dir():
        return
    ph = machine.placeholders()
    by_slug = {slug(str(p)): pid for pid, p in machine.project_paths.items()}
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        pid = _project_of(folder, by_slug, machine)
        sessions = sorted(folder.glob("*.jsonl"))
        if pid is None:
            if sessions:
                out.warnings.append(
                    f"transcripts in {folder.name}: project unknown (no git remote), not captured"
                )
            continue
        for path in sessions:
            plain = ph.unrender(path.read_bytes().decode("utf-8", errors="surrogateescape"))
            raw = plain.encode("utf-8", errors="surrogateescape")
            plain_hash = sha256_hex(raw)
            id = f"transcript_archive:{path.stem}"
            old = previous.get(id)
            if old is not None and old.body.get("plain_hash") == plain_hash:
                out.drafts.append(old)
                continue
            sealed = encrypt(raw, recipients)
            bid = blob_id(sealed)
            out.blobs[bid] = sealed
            body = {
                "project_id": pid,
                "session": path.stem,
                "blob": {"blob": bid, "bytes": len(sealed)},
                "plain_hash": plain_hash,
                "encryption": "age",
            }
            out.drafts.append(Draft(id, "transcript_archive", body, Scope("project", pid)))
