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
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agents.cli.common import common_parser, emit
from agents.core.errors import InputError, NotFoundError
from agents.core.settings import find_root, load_layers
from agents.store.config import open_store

if TYPE_CHECKING:
    from agents.claude.approval import RiskDecision
    from agents.claude.drafts import Draft
    from agents.claude.importer import ImportResult
    from agents.claude.machine import Machine
    from agents.claude.plan import ApplyPlan, Change
    from agents.claude.risk import Approvals, OriginTrusted
    from agents.store.store import ContextStore

__all__ = ["add_parsers", "blobs_of", "confirm", "home_of", "plan_for", "run_apply", "store_of"]


@contextlib.contextmanager
def store_of(args: argparse.Namespace) -> Iterator[ContextStore]:
    with open_store(load_layers(find_root(), args.env), actor="cli") as store:
        yield store


def home_of(args: argparse.Namespace) -> Path | None:
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


def blobs_of(store: ContextStore) -> Callable[[str], bytes | None]:
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
    heads: dict[str, str] = {}
    drafts = drafts_of(store, heads=heads)
    drafts.update({d.id: d for d in extra or []})
    plan = plan_apply(
        drafts.values(),
        machine,
        applied=applied_records(store),
        secrets=secrets or vault.get,
        blobs=blobs_of(store),
        identities=[MachineKey.load_or_create(vault).identity],
    )
    plan.heads = heads
    return plan


def _ours() -> tuple[str, ...]:
    """Ids of this environment's own agents (any env suffix): their port and token are per
    machine, so they are never imported."""
    from agents.catalog import AGENTS

    return tuple(f"mcp_server:{e.server_name}" for e in AGENTS)


def run_apply(
    args: argparse.Namespace,
    store: ContextStore,
    plan: ApplyPlan,
    question: str,
    *,
    secrets_line: bool = True,
    trusted: OriginTrusted | None = None,
) -> dict[str, Any]:
    """Show ``plan``, ask, carry it out (never over a changed file), record what was written.

    ``secrets_line``: False when the caller ends with its own note on missing secrets.
    ``trusted``: which machines' content may be approved when it runs code or carries
    credentials (default: this machine only, until machine trust decides).
    """
    from agents.claude.apply import execute
    from agents.claude.approval import remember
    from agents.claude.bridge import vault_of
    from agents.claude.importer import plan_import, run_import, save_applied, set_file_bases

    imported = None
    if plan.conflicts and getattr(args, "import_first", False) and not args.dry_run:
        # this machine's edits of those files, merged with the store (or listed as conflicts)
        todo = plan_import(store, plan.machine, only=plan.conflict_ids, exclude=_ours())
        imported = run_import(store, todo, vault_of(store))
        plan = plan_for(store, plan.machine)
    approvals, decision = _settle_risky(args, store, plan, trusted)
    writes = plan.by_action("create", "update", "delete", "chmod")
    if not args.json:
        if plan.diff():
            print(plan.diff(), end="")
        print(plan.summary(secrets=secrets_line) or "nothing to apply")
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
        "held": decision.as_dict(),
    }
    if imported is not None:
        result["imported"] = _import_report(imported)
    if writes and confirm(args, question):
        done = execute(plan, skip_conflicts=True)
        remember(approvals, decision, done.changed_meanwhile)
        save_applied(store, done.applied, bases=plan.settled(done.changed_meanwhile))
        result["written"] = [str(p) for p in done.written]
        result["changed_meanwhile"] = [c.label for c in done.changed_meanwhile]
    elif not writes and not args.dry_run and plan.settled():
        with store.transaction() as conn:  # files that already agree: remember it
            set_file_bases(conn, plan.settled())
    if not args.json:
        if imported is not None and (imported.merged or imported.conflicts):
            print(_import_text(imported, applying=True))
        if plan.conflicts:
            print(
                f"{len(plan.conflicts)} file(s) changed here since they were last written from "
                "the store and were left alone: `agents claude apply --import-first` merges "
                "them with the store first (see `agents sync conflicts` for any that overlap)"
            )
    return result


def origin_trust(store: ContextStore) -> OriginTrusted:
    """Whose content may be approved when it runs code or carries credentials: the machines
    this one trusts (``agents machines list``), itself included."""
    from agents.sync.trust import trusted_set

    trust = trusted_set(store)
    return lambda machine: machine == store.machine_id or trust.trusts(machine)


def _settle_risky(
    args: argparse.Namespace,
    store: ContextStore,
    plan: ApplyPlan,
    trusted: OriginTrusted | None,
) -> tuple[Approvals, RiskDecision]:
    """Show the section of writes that run code or carry credentials and decide them: its
    own question on a terminal, ``--allow-exec``, never ``--yes`` alone."""
    from agents.claude.approval import pending, section, settle
    from agents.claude.risk import Approvals

    approvals = Approvals(store.directory / "approvals.json")
    trust = trusted or origin_trust(store)
    needed = pending(plan, approvals)
    if needed and not args.json:
        print(section(needed, trust), end="")
    ask = None
    if not args.yes and not args.dry_run and not args.json and sys.stdin.isatty():

        def ask(changes: list[Change]) -> bool:
            question = f"Write these {len(changes)} change(s) that run code or carry credentials?"
            return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")

    decision = settle(
        plan, approvals, allow=bool(getattr(args, "allow_exec", False)), trusted=trust, ask=ask
    )
    if decision.held and not args.json:
        print(
            f"{len(decision.held)} change(s) that run code or carry credentials are held and "
            "left as they are on disk (the rest is written): review them above, then run again "
            "with --allow-exec (only content from trusted machines can be approved)"
        )
    return approvals, decision


def _import_report(res: ImportResult) -> dict[str, Any]:
    return {"written": res.written, "merged": res.merged, "conflicts": res.conflicts}


def _import_text(res: ImportResult, *, applying: bool = False) -> str:
    lines = []
    if res.merged:
        then = "" if applying else " (run `agents claude apply` to write the merged result)"
        lines.append(f"merged with other machines' edits: {', '.join(res.merged)}{then}")
    if res.conflicts:
        lines.append(
            f"edited here and on another machine, overlapping: {', '.join(res.conflicts)}; "
            "your file is kept as it is and both versions are in the store: "
            "`agents sync conflicts` lists them, `agents sync resolve ID --take local|remote` "
            "settles one"
        )
    return "\n".join(lines)


def cmd_import(args: argparse.Namespace) -> int:
    """Capture this machine's Claude files into the store (dry-run diff first)."""
    from agents.claude.bridge import machine_for, machine_recipients, vault_of
    from agents.claude.importer import plan_import, run_import

    with store_of(args) as store:
        machine = machine_for(store, home_of(args))
        vault = vault_of(store)
        recipients = machine_recipients(store, vault) if args.transcripts else None
        todo = plan_import(
            store, machine, only=args.only, exclude=_ours(), transcripts_to=recipients
        )
        if not args.json:
            print(
                todo.diff()
                or "nothing to import: no Claude file changed here since the last import or apply"
            )
            for warning in todo.cap.warnings:
                print(f"warning: {warning}")
        data: dict[str, Any] = {
            "changed": [d.id for d in todo.changed],
            "deleted": [d.id for d in todo.gone],
            "warnings": todo.cap.warnings,
            "written": [],
        }
        if todo.count and confirm(args, f"Import {todo.count} document(s) into the store?"):
            res = run_import(store, todo, vault)
            data.update(
                written=res.written,
                merged=res.merged,
                conflicts=res.conflicts,
                secrets=res.secrets,
                blobs=res.blobs,
            )
            if not args.json:
                print(
                    f"imported {len(res.written) + len(res.merged) + len(res.conflicts)} "
                    f"document(s); {res.secrets} secret value(s) kept in {vault.where}, none in "
                    "the store"
                )
                if res.merged or res.conflicts:
                    print(_import_text(res))
    if args.json:
        emit(args, data)
    return 0


def cmd_apply(args: argparse.Namespace) -> int:
    """Write the store's documents into this machine's Claude files (dry-run diff first)."""
    from agents.claude.bridge import machine_for

    with store_of(args) as store:
        plan = plan_for(store, machine_for(store, home_of(args)))
        result = run_apply(args, store, plan, "Write these changes to your Claude files?")
    if args.json:
        emit(args, result)
    return 0


def cmd_secrets(args: argparse.Namespace) -> int:
    """share | receive | list: secret values between this user's machines, with age."""
    from agents.claude.bridge import publish_key, receive_secrets, share_secrets, vault_of

    with store_of(args) as store:
        vault = vault_of(store)
        if args.secrets_verb == "share":
            from agents.claude.sharing import recipients

            publish_key(store, vault)
            chosen, _ = recipients(store)
            if not args.json:  # who gets them, before anything is sealed
                print(f"sealing to {len(chosen)} trusted machine(s):")
                for r in chosen:
                    print(f"  {r.machine}  {r.fingerprint}")
            data = share_secrets(store, vault)
            lines = [f"  not {m}: {why}" for m, why in sorted(data["left_out"].items())]
            text = "\n".join(
                [
                    *(["left out:", *lines] if lines else []),
                    f"sealed {data['secrets']} secret(s) to {len(data['recipients'])} machine(s); "
                    "push to send them (`agents sync push`)",
                ]
            )
        elif args.secrets_verb == "receive":
            data = receive_secrets(store, vault)
            text = f"added: {', '.join(data['added']) or 'none'}"
            if data["waiting"]:
                text += (
                    f"\nnot sealed to this machine yet: {', '.join(data['waiting'])}; run "
                    "`agents machines trust <this machine>` there if it is not trusted yet, then "
                    "`agents claude secrets share` and `agents sync push` there, then pull here"
                )
            if data["refused"]:
                text += (
                    f"\nrefused bundles (from machines not trusted here, or badly signed): "
                    f"{', '.join(data['refused'])}; `agents machines list` shows who is trusted"
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


def add_parsers(sub: Any, *, more: Sequence[Callable[[Any, Any], None]] = ()) -> None:
    """Register ``claude`` and its verbs; each of ``more`` adds verbs of its own, given the
    verbs' subparsers and their common options (the continuity verbs come in this way, so
    that this module need not import theirs)."""
    common = common_parser()
    common.add_argument("--home", help="act on this home directory instead of yours")
    common.add_argument("--dry-run", action="store_true", help="only show what would change")
    common.add_argument("--yes", "-y", action="store_true", help="write without asking")
    common.add_argument(
        "--allow-exec",
        action="store_true",
        help="also write what runs code or carries credentials (hooks, MCP servers, env, "
        "permissions, plugins, executables); --yes alone never does",
    )
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
    for add in more:
        add(verbs, common)
