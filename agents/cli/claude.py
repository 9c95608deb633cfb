"""``agents claude import|apply|secrets``: this machine's Claude files and the context store.

``import`` captures Claude Code's and Claude Desktop's files into documents (secrets out,
``{{home}}``/``{{project:…}}`` placeholders in); ``apply`` writes documents back under the
changed-since-applied guard; both show a dry-run diff first and write only after ``--yes``
(or a "y" at the prompt). ``secrets`` shares secret values between machines with age.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agents.cli.common import common_parser, emit
from agents.core.errors import InputError, NotFoundError
from agents.core.settings import find_root, load_layers
from agents.store.config import open_store

if TYPE_CHECKING:
    from agents.claude.drafts import Draft
    from agents.claude.machine import Machine
    from agents.claude.plan import ApplyPlan
    from agents.store.store import ContextStore

__all__ = ["add_parsers", "confirm", "plan_for", "run_apply"]


@contextlib.contextmanager
def _store(args: argparse.Namespace) -> Iterator[ContextStore]:
    with open_store(load_layers(find_root(), args.env), actor="cli") as store:
        yield store


def _home(args: argparse.Namespace) -> Path | None:
    return Path(args.home).expanduser() if args.home else None


def confirm(args: argparse.Namespace, question: str) -> bool:
    """True with ``--yes``; asks on a terminal; refuses (saying how) otherwise."""
    if args.yes:
        return True
    if args.dry_run:
        return False
    if sys.stdin.isatty() and not args.json:
        return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")
    raise InputError(f"{question} Nothing was written: add --yes to go ahead (or --dry-run)")


def _blobs(store: ContextStore) -> Callable[[str], bytes | None]:
    def get(ref: str) -> bytes | None:
        try:
            return store.blobs.get(ref)
        except NotFoundError:
            return None

    return get


def plan_for(
    store: ContextStore,
    machine: Machine,
    *,
    extra: list[Draft] | None = None,
    secrets: Callable[[str], str | None] | None = None,
) -> ApplyPlan:
    """The dry run of applying the store's Claude documents (plus ``extra``) to ``machine``."""
    from agents.claude.apply import plan_apply
    from agents.claude.bridge import applied_records, drafts_of, vault_of
    from agents.claude.vault import MachineKey

    vault = vault_of(store)
    drafts = drafts_of(store)
    drafts.update({d.id: d for d in extra or []})
    return plan_apply(
        drafts.values(),
        machine,
        applied=applied_records(store),
        secrets=secrets or vault.get,
        blobs=_blobs(store),
        identities=[MachineKey.load_or_create(vault).identity],
    )


def run_apply(
    args: argparse.Namespace, store: ContextStore, plan: ApplyPlan, question: str
) -> dict[str, Any]:
    """Show ``plan``, ask, carry it out (never over a changed file), record what was written."""
    from agents.claude.apply import execute
    from agents.claude.bridge import import_capture, save_applied, vault_of

    if plan.conflicts and getattr(args, "import_first", False):
        from agents.claude.capture import capture

        cap = capture(plan.machine)
        import_capture(store, cap, vault_of(store), plan.machine, only=plan.conflict_ids)
        plan = plan_for(store, plan.machine)
    writes = plan.by_action("create", "update", "delete", "chmod")
    if not args.json:
        if plan.diff():
            print(plan.diff(), end="")
        print(plan.summary() or "nothing to apply")
    result: dict[str, Any] = {
        "actions": {
            "create": len(plan.by_action("create")),
            "update": len(plan.by_action("update")),
            "delete": len(plan.by_action("delete")),
            "chmod": len(plan.by_action("chmod")),
        },
        "conflicts": [{"target": c.label, "reason": c.reason} for c in plan.conflicts],
        "blocked": [{"target": c.label, "reason": c.reason} for c in plan.by_action("blocked")],
        "missing_secrets": sorted(plan.missing_secrets),
        "env_refs": sorted(plan.env_refs),
        "written": [],
    }
    if writes and confirm(args, question):
        done = execute(plan, skip_conflicts=True)
        save_applied(store, done.applied)
        result["written"] = [str(p) for p in done.written]
        result["changed_meanwhile"] = [c.label for c in done.changed_meanwhile]
    if plan.conflicts and not args.json:
        print(
            f"{len(plan.conflicts)} file(s) changed here since they were last written from the "
            "store and were left alone: `agents claude import` them first (or apply "
            "--import-first), then apply again"
        )
    return result


def cmd_import(args: argparse.Namespace) -> int:
    """Capture this machine's Claude files into the store (dry-run diff first)."""
    from agents.catalog import AGENTS
    from agents.claude.bridge import drafts_of, import_capture, machine_for, publish_key, vault_of
    from agents.claude.capture import capture
    from agents.claude.diff import diff_drafts

    with _store(args) as store:
        machine = machine_for(store, _home(args))
        vault = vault_of(store)
        recipients = [publish_key(store, vault)] if args.transcripts else None
        old = drafts_of(store)
        cap = capture(machine, transcripts_to=recipients, previous=old)
        # this environment's agents (any env suffix): their port and token are per machine
        ours = tuple(f"mcp_server:{e.server_name}" for e in AGENTS)
        drafts = [
            d
            for d in cap.drafts
            if not d.id.startswith(ours) and (not args.only or d.id in args.only)
        ]
        changed = [
            d for d in drafts if d.id not in old or old[d.id].content_hash() != d.content_hash()
        ]
        if not args.json:
            print(diff_drafts(old, changed) or "nothing to import: the store already agrees")
            for warning in cap.warnings:
                print(f"warning: {warning}")
        data: dict[str, Any] = {
            "changed": [d.id for d in changed],
            "warnings": cap.warnings,
            "written": [],
        }
        if changed and confirm(args, f"Import {len(changed)} document(s) into the store?"):
            res = import_capture(store, cap, vault, machine, only=[d.id for d in changed])
            data.update(written=res.written, secrets=res.secrets, blobs=res.blobs)
            if not args.json:
                print(
                    f"imported {len(res.written)} document(s); {res.secrets} secret value(s) "
                    f"kept in {vault.where}, none in the store"
                )
    if args.json:
        emit(args, data)
    return 0


def cmd_apply(args: argparse.Namespace) -> int:
    """Write the store's documents into this machine's Claude files (dry-run diff first)."""
    from agents.claude.bridge import machine_for

    with _store(args) as store:
        plan = plan_for(store, machine_for(store, _home(args)))
        result = run_apply(args, store, plan, "Write these changes to your Claude files?")
    if args.json:
        emit(args, result)
    return 0


def cmd_secrets(args: argparse.Namespace) -> int:
    """share | receive | list: secret values between this user's machines, with age."""
    from agents.claude.bridge import publish_key, receive_secrets, share_secrets, vault_of

    with _store(args) as store:
        vault = vault_of(store)
        if args.secrets_verb == "share":
            data = share_secrets(store, vault)
            text = (
                f"sealed {data['secrets']} secret(s) to {data['recipients']} machine key(s); "
                "push to send them (`agents sync push`)"
            )
        elif args.secrets_verb == "receive":
            data = receive_secrets(store, vault)
            text = f"added: {', '.join(data['added']) or 'none'}"
            if data["waiting"]:
                text += (
                    f"\nnot sealed to this machine yet: {', '.join(data['waiting'])}; run "
                    "`agents claude secrets share` there, then pull"
                )
        else:
            data = {"names": vault.names(), "where": vault.where, "key": publish_key(store, vault)}
            text = "\n".join(
                [
                    f"{len(data['names'])} secret(s) in {vault.where}",
                    f"this machine's age key: {data['key']}",
                    *data["names"],
                ]
            )
    emit(args, data, text)
    return 0


def add_parsers(sub: Any) -> None:
    """Register ``claude`` and its verbs."""
    common = common_parser()
    common.add_argument("--home", help="act on this home directory instead of yours")
    common.add_argument("--dry-run", action="store_true", help="only show what would change")
    common.add_argument("--yes", "-y", action="store_true", help="write without asking")
    top = sub.add_parser("claude", help="this machine's Claude files <-> the context store")
    verbs = top.add_subparsers(dest="verb", required=True, metavar="VERB")
    p = verbs.add_parser("import", help="capture Claude files into the store", parents=[common])
    p.add_argument("--only", action="append", help="only this document id (repeatable)")
    p.add_argument(
        "--transcripts", action="store_true", help="also session transcripts, age-encrypted"
    )
    p.set_defaults(func=cmd_import)
    p = verbs.add_parser("apply", help="write the store into Claude files", parents=[common])
    p.add_argument(
        "--import-first", action="store_true", help="import files changed here, then apply"
    )
    p.set_defaults(func=cmd_apply)
    p = verbs.add_parser("secrets", help="share secret values between machines (age)")
    p.add_argument("secrets_verb", choices=["share", "receive", "list"])
    p.add_argument("--env", "-e", default=common.get_default("env"))
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_secrets)
