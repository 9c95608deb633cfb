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
from typing import TYPE_CHECKING, Any

from agents.claude.drafts import Draft, Scope, blob_id, sha256_hex
from agents.claude.identity import locate
from agents.claude.machine import Machine, Placeholders
from agents.claude.projects import slug
from agents.claude.vault import encrypt

if TYPE_CHECKING:
    from agents.claude.capture import Capture

__all__ = ["archive_transcript", "capture_transcripts", "session_cwd"]


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


def _project_of(
    folder: Path, by_slug: Mapping[str, str], machine: Machine
) -> tuple[str, str] | None:
    """(project id, path inside the repository) of a ``~/.claude/projects/<slug>`` folder."""
    if folder.name in by_slug:
        return by_slug[folder.name], ""
    for jsonl in sorted(folder.glob("*.jsonl")):
        cwd = session_cwd(jsonl)
        if cwd and Path(cwd).is_dir():
            ref = locate(Path(cwd), machine.home)
            return (ref.id, ref.subdir) if ref.id else None
    return None


def archive_transcript(
    path: Path,
    project: tuple[str, str],
    placeholders: Placeholders,
    recipients: Sequence[str],
    previous: Draft | None = None,
) -> tuple[Draft, dict[str, bytes]]:
    """The ``transcript_archive`` draft of the session file at ``path`` and its encrypted blob.

    The plaintext has its paths turned into placeholders, then is encrypted with age to
    ``recipients``. ``previous`` (the store's draft) is kept, with no new blob, when neither
    the plaintext nor the recipients changed: age output is random, so re-encrypting would
    make a new revision every time.
    """
    pid, subdir = project
    plain = placeholders.unrender(path.read_bytes().decode("utf-8", errors="surrogateescape"))
    raw = plain.encode("utf-8", errors="surrogateescape")
    plain_hash = sha256_hex(raw)
    wanted = sorted(set(recipients))
    if (
        previous is not None
        and not previous.deleted
        and previous.body.get("plain_hash") == plain_hash
        and previous.body.get("recipients", wanted) == wanted
    ):
        return previous, {}
    sealed = encrypt(raw, wanted)
    bid = blob_id(sealed)
    body: dict[str, Any] = {
        "project_id": pid,
        "session": path.stem,
        "blob": {"blob": bid, "bytes": len(sealed)},
        "plain_hash": plain_hash,
        "encryption": "age",
        "recipients": wanted,
    }
    if subdir:
        body["subdir"] = subdir
    draft = Draft(
        f"transcript_archive:{path.stem}", "transcript_archive", body, Scope("project", pid)
    )
    return draft, {bid: sealed}


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
        project = _project_of(folder, by_slug, machine)
        sessions = sorted(folder.glob("*.jsonl"))
        if project is None:
            if sessions:
                out.warnings.append(
                    f"transcripts in {folder.name}: project unknown (no git remote), not captured"
                )
            continue
        for path in sessions:
            old = previous.get(f"transcript_archive:{path.stem}")
            draft, blobs = archive_transcript(path, project, ph, recipients, old)
            out.drafts.append(draft)
            out.blobs.update(blobs)
