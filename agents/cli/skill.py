"""``agents skill install [--home PATH]``: install the Claude skills shipped with this repo."""

from __future__ import annotations

import argparse
from importlib.resources import as_file, files
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agents.core.errors import AgentError, InputError

if TYPE_CHECKING:
    from agents.claude.machine import Machine

__all__ = ["SKILLS", "add_parsers", "install_skill"]

SKILLS = ("context-sync",)


def install_skill(
    name: str, machine: Machine, *, force: bool = False, dry_run: bool = False
) -> str:
    """Install skill ``name`` into ``machine``'s ``~/.claude/skills/``; returns what happened.

    Raises:
        InputError: Unknown skill.
        AgentError: The installed copy differs (edited by hand, or another version) and
            ``force`` is not set; the message carries the diff.
    """
    # imported here: every `agents` verb loads this module, only this one needs them
    from agents.claude.apply import execute, plan_apply
    from agents.claude.capture import capture_skill
    from agents.claude.targets import current_hashes

    if name not in SKILLS:
        raise InputError(f"unknown skill {name!r}: choose one of {', '.join(SKILLS)}")
    with as_file(files("agents.claude") / "plugin" / "skills" / name) as root:
        cap = capture_skill(Path(root), machine, name)
    # --force: treat what is installed as ours, so the guard lets us replace it
    applied = current_hashes(cap.drafts, machine) if force else {}
    plan = plan_apply(cap.drafts, machine, applied=applied, blobs=cap.blobs)
    target = machine.claude_dir / "skills" / name
    if plan.conflicts:
        raise AgentError(
            f"{target} differs from the shipped {name} skill (edited, or another version); "
            f"run again with --force to replace it:\n{plan.diff()}"
        )
    if not plan.by_action("create", "update", "delete", "chmod"):
        return f"{name}: already up to date in {target}"
    if dry_run:
        return plan.diff()
    execute(plan)
    return f"{name}: installed in {target}"


def cmd_install(args: argparse.Namespace) -> int:
    """Install each named skill and say what happened."""
    from agents.claude.machine import Machine

    machine = Machine.current() if args.home is None else Machine(Path(args.home).expanduser())
    for name in args.names or SKILLS:
        print(install_skill(name, machine, force=args.force, dry_run=args.dry_run))
    return 0


def add_parsers(sub: Any) -> None:
    """Register ``skill install``."""
    p = sub.add_parser("skill", help="Claude skills shipped with this repository")
    verbs = p.add_subparsers(dest="skill_verb", required=True, metavar="VERB")
    inst = verbs.add_parser("install", help="install skills into ~/.claude/skills/")
    inst.add_argument("names", nargs="*", metavar="NAME", help=f"default: {', '.join(SKILLS)}")
    inst.add_argument("--home", help="the home directory to install into (default: yours)")
    inst.add_argument("--force", action="store_true", help="replace a copy that differs")
    inst.add_argument("--dry-run", action="store_true", help="print the diff, write nothing")
    inst.set_defaults(func=cmd_install)
