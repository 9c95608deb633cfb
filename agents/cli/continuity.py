"""``agents claude resume`` and ``agents claude plugin``: continuity of Claude Code sessions.

``resume`` writes archived session transcripts (opt-in, age-encrypted) under this machine's
checkout of their project, so ``claude --resume <id>`` and ``claude --continue`` find them;
``plugin`` installs the context-sync plugin with Claude Code's own plugin commands.
"""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path
from typing import Any

from agents.cli.common import emit
from agents.core.errors import NotFoundError

__all__ = ["add_verbs"]


def cmd_resume(args: argparse.Namespace) -> int:
    """Restore archived session transcripts under this machine's checkouts, so `claude
    --resume <id>` and `claude --continue` find them here."""
    from agents.claude.apply import plan_apply
    from agents.claude.bridge import applied_records, drafts_of, machine_for, vault_of
    from agents.claude.vault import MachineKey
    from agents.cli import claude

    with claude.store_of(args) as store:
        machine = machine_for(store, claude.home_of(args))
        wanted = [
            d
            for d in drafts_of(store, ("transcript_archive",)).values()
            if not d.deleted and (not args.session or d.body["session"] in args.session)
        ]
        if args.session and not wanted:
            raise NotFoundError(
                f"no archived transcript for {', '.join(args.session)}: on the machine that ran "
                "it, set CONTEXT_TRANSCRIPTS=true (or `agents claude import --transcripts`), "
                "then sync"
            )
        plan = plan_apply(
            wanted,
            machine,
            applied=applied_records(store),
            blobs=claude.blobs_of(store),
            identities=[MachineKey.load_or_create(vault_of(store)).identity],
        )
        result = claude.run_apply(args, store, plan, "Restore these session transcripts?")
    sessions = []
    for change in plan.changes:
        if change.unit is not None and change.action in ("create", "update", "unchanged"):
            path = change.unit.path
            sessions.append({"session": path.stem, "cwd": _session_cwd(path), "file": str(path)})
    result["sessions"] = sessions
    if args.json:
        emit(args, result)
    elif sessions and (result["written"] or not plan.by_action("create", "update")):
        print("resume with:")
        for s in sessions:
            where = f"cd {shlex.quote(s['cwd'])} && " if s["cwd"] else ""
            print(f"  {where}claude --resume {s['session']}")
    return 0


def _session_cwd(path: Path) -> str | None:
    from agents.claude.transcripts import session_cwd

    return session_cwd(path) if path.is_file() else None


def cmd_plugin(args: argparse.Namespace) -> int:
    """install | status | uninstall: the context-sync plugin, through Claude Code's commands."""
    from agents.claude.marketplace import (
        PLUGIN_ID,
        find_claude,
        install_plugin,
        plugin_status,
        uninstall_plugin,
    )

    claude = find_claude(args.claude)
    if args.plugin_verb == "install":
        status = install_plugin(claude, scope=args.scope)
        text = "\n".join(
            [*status.steps, f"{PLUGIN_ID} {status.version}: installed and enabled ({status.scope})"]
        )
        text += "\nstart a new Claude Code session to load its hooks, skill and MCP server"
        emit(args, status.as_dict(), text)
    elif args.plugin_verb == "uninstall":
        uninstall_plugin(claude, scope=args.scope)
        emit(args, {"plugin": PLUGIN_ID, "installed": False}, f"{PLUGIN_ID}: uninstalled")
    else:
        status = plugin_status(claude)
        state = "not installed"
        if status.installed:
            state = (
                f"{status.version} ({status.scope}), {'enabled' if status.enabled else 'disabled'}"
            )
        emit(args, status.as_dict(), f"{PLUGIN_ID}: {state}")
    return 0


def add_verbs(verbs: Any, common: argparse.ArgumentParser) -> None:
    """Register ``resume`` and ``plugin`` under ``agents claude``."""
    p = verbs.add_parser(
        "resume",
        help="restore archived session transcripts here, for claude --resume",
        parents=[common],
    )
    p.add_argument("session", nargs="*", help="session ids (default: every archived one)")
    p.set_defaults(func=cmd_resume)
    p = verbs.add_parser("plugin", help="the context-sync Claude Code plugin")
    p.add_argument("plugin_verb", choices=["install", "status", "uninstall"])
    p.add_argument("--claude", help="the claude executable (default: claude on PATH)")
    p.add_argument(
        "--scope", choices=["user", "project", "local"], default="user", help="plugin scope"
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_plugin)
