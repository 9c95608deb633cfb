"""The hook command itself (``python -m agents.claude.hooks <event>``): its event from the
command line, Claude Code's JSON from stdin up to 1 MiB, and standard streams that fail
never failing the hook."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from agents.claude import hooks
from agents.store.store import ContextStore
from tests.unit.claude.conftest import SESSION, git_repo, log_of, transcript

OTHER = "0c9e1d2f-3a4b-4c5d-8e6f-7a8b9c0d1e2f"


def ended_session(root: Path, tmp_path: Path) -> Path:
    """A checkout of acme/shop with one session ended through the hook; the checkout."""
    shop = git_repo(tmp_path / "home" / "src" / "shop", "git@github.com:Acme/Shop.git")
    path = transcript(tmp_path / "home" / ".claude" / "projects" / "x" / f"{SESSION}.jsonl", shop)
    payload = {"session_id": SESSION, "transcript_path": str(path), "cwd": str(shop)}
    hooks.run("session-end", json.dumps(payload))
    return shop


def checkpoints(root: Path) -> list[str]:
    with ContextStore(root / "context" / "local") as store:
        return [d.id for d in store.list("checkpoint")]


def test_the_hook_command_takes_its_event_from_its_first_argument(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """As Claude Code runs it: ``sys.argv`` is the module's path, then the event."""
    shop = ended_session(root, tmp_path)
    monkeypatch.setattr(sys, "argv", [hooks.__file__, "session-start"])
    monkeypatch.setattr(
        sys, "stdin", io.StringIO(json.dumps({"session_id": OTHER, "cwd": str(shop)}))
    )
    assert hooks.main() == 0
    assert capsys.readouterr().out.startswith("# Context store briefing: github.com/acme/shop\n")
    assert log_of(root)[-1]["event"] == "session-start"


def test_the_sync_later_command_runs_the_sync_without_reading_stdin(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: list[hooks.HookContext] = []
    monkeypatch.setattr(hooks, "sync_later", ran.append)
    monkeypatch.setattr(sys, "stdin", None)  # nothing may read it
    assert hooks.main(["sync-later"]) == 0
    entry = log_of(root)[-1]
    assert len(ran) == 1 and (entry["event"], entry["level"]) == ("sync-later", "info"), entry


@pytest.mark.parametrize("padding", [0, 1], ids=["1 MiB", "a character more"])
def test_the_hook_reads_at_most_1_mib_of_input(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, padding: int
) -> None:
    """Input past the limit is not read: what was read is not JSON, so there is no session
    id and no checkpoint, and the hook still exits 0."""
    payload = {"session_id": SESSION, "cwd": str(tmp_path), "pad": ""}
    size = len(json.dumps(payload))
    raw = json.dumps({**payload, "pad": "x" * (hooks.MAX_INPUT - size + padding)})
    assert len(raw) == hooks.MAX_INPUT + padding
    monkeypatch.setattr(sys, "stdin", io.StringIO(raw))
    assert hooks.main(["session-end"]) == 0
    assert len(checkpoints(root)) == (0 if padding else 1)
    warnings: list[str] = log_of(root)[-1].get("warnings", [])
    assert any(w.startswith("no usable session_id") for w in warnings) == bool(padding)


class Broken:
    """A standard stream that is gone: every call raises ``error``."""

    def __init__(self, error: type[Exception]) -> None:
        self.error = error

    def read(self, *_: Any) -> str:
        raise self.error("stdin is gone")

    def write(self, text: str) -> int:
        raise self.error("stdout is gone")

    def flush(self) -> None:
        raise self.error("stdout is gone")


@pytest.mark.parametrize("error", [BrokenPipeError, ValueError])
def test_a_hook_whose_stdin_cannot_be_read_runs_on_no_input(
    root: Path, monkeypatch: pytest.MonkeyPatch, error: type[Exception]
) -> None:
    """A closed pipe (OSError) or a closed stream (ValueError): the event still runs and is
    logged, as for empty input."""
    monkeypatch.setattr(sys, "stdin", Broken(error))
    assert hooks.main(["session-end"]) == 0
    entry = log_of(root)[-1]
    assert (entry["event"], entry["level"]) == ("session-end", "info"), entry
    assert entry["warnings"] == ["no usable session_id in the hook input ('')"]


@pytest.mark.parametrize("error", [BrokenPipeError, ValueError])
def test_a_briefing_whose_stdout_is_gone_still_exits_0(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: type[Exception]
) -> None:
    shop = ended_session(root, tmp_path)
    monkeypatch.setattr(
        sys, "stdin", io.StringIO(json.dumps({"session_id": OTHER, "cwd": str(shop)}))
    )
    monkeypatch.setattr(sys, "stdout", Broken(error))
    assert hooks.main(["session-start"]) == 0
    entry = log_of(root)[-1]
    assert (entry["event"], entry["level"]) == ("session-start", "info") and entry["bytes"] > 0
