"""`agents skill install` and the shipped context-sync skill."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from agents.claude.bodies import front_matter
from agents.claude.capture import capture_skill
from agents.claude.machine import Machine
from agents.cli.main import main

SHIPPED = Path(__file__).resolve().parents[3] / "agents/claude/plugin/skills/context-sync/SKILL.md"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_:
        main(list(argv))
    out = capsys.readouterr()
    return int(exit_.value.code or 0), out.out, out.err


def test_the_skill_has_the_front_matter_claude_code_loads() -> None:
    """YAML front matter with name (= directory) and a description saying when to use it."""
    text = SHIPPED.read_text()
    assert text.startswith("---\n")
    meta = yaml.safe_load(text.split("---\n")[1])
    assert meta["name"] == "context-sync" == SHIPPED.parent.name
    assert len(meta["description"]) <= 1024
    for word in ("pull", "save the session", "push", "new machine"):
        assert word in meta["description"]
    assert front_matter(text) == meta


@pytest.mark.parametrize(
    "verb",
    [
        "agents sync pull",
        "agents sync push",
        "agents sync status",
        "agents context session save",
        "agents context session restore",
        "agents context session list",
        "agents context diff",
        "agents restore --from <remote>",
    ],
)
def test_the_skill_says_how_to_use_each_verb(verb: str) -> None:
    """Pull, push, status, diff, session save/restore/list, restore on a new machine."""
    assert verb in SHIPPED.read_text()


def test_install_puts_the_skill_under_claude_skills_byte_for_byte(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Then a second install is a no-op."""
    code, out, _ = _run(capsys, "skill", "install", "--home", str(tmp_path))
    installed = tmp_path / ".claude/skills/context-sync/SKILL.md"
    assert code == 0 and "installed" in out
    assert installed.read_bytes() == SHIPPED.read_bytes()
    code, out, _ = _run(capsys, "skill", "install", "--home", str(tmp_path))
    assert code == 0 and "already up to date" in out


def test_an_edited_copy_is_not_replaced_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The error shows the diff; --force replaces it; --dry-run writes nothing."""
    _run(capsys, "skill", "install", "--home", str(tmp_path))
    installed = tmp_path / ".claude/skills/context-sync/SKILL.md"
    installed.write_text(installed.read_text() + "my note\n")
    code, _, err = _run(capsys, "skill", "install", "--home", str(tmp_path))
    assert code == 1 and "--force" in err and "-my note" in err
    assert installed.read_text().endswith("my note\n")
    code, out, _ = _run(capsys, "skill", "install", "--home", str(tmp_path), "--force", "--dry-run")
    assert code == 0 and "-my note" in out and installed.read_text().endswith("my note\n")
    code, _, _ = _run(capsys, "skill", "install", "--home", str(tmp_path), "--force")
    assert code == 0 and installed.read_bytes() == SHIPPED.read_bytes()


def test_an_unknown_skill_name_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Names the choices."""
    code, _, err = _run(capsys, "skill", "install", "nope", "--home", str(tmp_path))
    assert code == 1 and "choose one of context-sync" in err


def test_the_shipped_skill_captures_without_false_secret_hits(tmp_path: Path) -> None:
    """Its own mentions of secret:// and ${VAR} are not mistaken for secrets."""
    cap = capture_skill(SHIPPED.parent, Machine(tmp_path))
    [draft] = cap.drafts
    assert cap.secrets == {} and draft.secret_refs == ()
    assert draft.body["allowed_tools"][0] == "Bash(agents sync:*)"
