"""``agents restore --from <remote>``: a new machine picks up where the last one was.

Pull everything, open the secrets other machines sealed to this one, write the Claude files
(dry-run diff first; never over a file changed here), register the MCP servers (the synced
ones and this environment's own agents), publish this machine, and end with what changed and
which secrets are still needed.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from agents.catalog import AGENTS
from agents.cli.claude import plan_for, run_apply
from agents.cli.common import common_parser, emit
from agents.cli.env import EnvContext, load_env
from agents.cli.mcp_config import server_name
from agents.core.errors import AgentError, InputError
from agents.core.settings import ensure_tokens

__all__ = ["add_parsers", "agent_drafts"]


def agent_drafts(ctx: EnvContext) -> list[Any]:
    """Claude Code (user scope) registrations of this environment's agents, tokens as
    ``secret://agents/<env>/<VAR>`` references resolved from the secrets file on apply."""
    from agents.claude.drafts import Draft, SecretRef

    out = []
    for entry, port in ctx.ports:
        name = server_name(entry, ctx.env)
        ref = SecretRef("/headers/Authorization", f"agents/{ctx.env}/{entry.token_var}", "uri")
        body = {
            "name": name,
            "source": "claude_code_user",
            "project_id": None,
            "transport": "http",
            "url": f"http://127.0.0.1:{port}/mcp",
            "headers": {"Authorization": f"Bearer {ref.ref}"},
        }
        out.append(Draft(f"mcp_server:{name}", "mcp_server", body, secret_refs=(ref,)))
    return out


def cmd_restore(args: argparse.Namespace) -> int:
    """Pull, receive secrets, apply, register, publish; then say what is left to do."""
    from agents.claude.bridge import machine_for, publish_key, receive_secrets, vault_of
    from agents.cli.machines import choose_trust, join_notes
    from agents.cli.sync import progress_bars
    from agents.store.config import open_store
    from agents.sync.config import open_configured_remote
    from agents.sync.engine import Syncer
    from agents.sync.remote import redact_url
    from agents.sync.trust import identity_of

    ctx = load_env(args.env)
    raw_url = args.from_ or ctx.layers.get("CONTEXT_REMOTE") or ""
    url = redact_url(raw_url)  # shown in messages: never a password
    remote = open_configured_remote(ctx.layers, args.from_)
    notes: list[str] = []
    try:
        with open_store(ctx.layers, actor="cli") as store:
            show = not args.json and sys.stderr.isatty()
            syncer = Syncer(store, remote, progress=progress_bars(show))
            choose_trust(args, store, remote, url)
            pulled = syncer.pull()
            if not args.json:
                print(pulled.summary())
            vault = vault_of(store)
            publish_key(store, vault)
            secrets = receive_secrets(store, vault)
            extra = []
            if not args.no_register:
                if ctx.env == "local":
                    ensure_tokens(ctx.layers, [e.token_var for e in AGENTS])
                extra = agent_drafts(ctx)
            prefix = f"agents/{ctx.env}/"

            def lookup(name: str) -> str | None:
                if name.startswith(prefix):
                    return ctx.layers.get(name.removeprefix(prefix)) or None
                return vault.get(name)

            machine = machine_for(store, _home(args))
            plan = plan_for(store, machine, extra=extra, secrets=lookup)
            pulled_here = (
                f"{_pulled_count(pulled)} document(s) from {url} are now in this machine's "
                f"store ({store.directory})"
            )
            try:
                # the missing secrets are named once, in the notes below, with what to do
                applied = run_apply(
                    args, store, plan, "Write these files and registrations?", secrets_line=False
                )
            except InputError as exc:
                raise InputError(f"{pulled_here}; no file was written. {exc}") from None
            if args.dry_run:
                notes.append(f"{pulled_here}; dry run: no file was written")
            elif not args.no_push:  # publish this machine (and its key) even if nothing was written
                try:
                    syncer.push()
                except AgentError as exc:  # a read-only remote still restores
                    notes.append(f"not pushed ({exc}); other machines learn this one later")
            this_machine = store.machine_id
            this_fingerprint = identity_of(store).fingerprint
            trust_notes = join_notes(store, pulled.pull.pending if pulled.pull else {}, url)
    finally:
        remote.close()
    needed = applied["missing_secrets"]
    if needed:
        flag = "" if ctx.layers.get("CONTEXT_REMOTE") == raw_url else f" --remote {url}"
        notes.append(
            "secrets still needed: "
            + ", ".join(needed)
            + f". This machine is {this_machine} (fingerprint {this_fingerprint}). On a machine "
            f"that has them run `agents sync pull{flag} && agents machines trust {this_machine}"
            f"{flag} && agents claude secrets share && agents sync push{flag}` (check the "
            f"fingerprint there with `agents machines list`), then here "
            f"`agents restore --from {url}` again"
        )
    notes += [n for n in trust_notes if not (needed and n.startswith("this machine is"))]
    if secrets["refused"]:
        notes.append(
            "secret bundles refused (not from a machine trusted here, or badly signed): "
            + ", ".join(secrets["refused"])
        )
    if secrets["waiting"]:
        notes.append(
            "secret bundles not sealed to this machine yet: " + ", ".join(secrets["waiting"])
        )
    blocked = [b["reason"] for b in applied["blocked"] if "project" in b["reason"]]
    if blocked:
        notes.append(
            f"{len(blocked)} document(s) wait for a project to be cloned here: "
            + "; ".join(sorted(set(blocked))[:5])
        )
    if not ctx.layers.get("CONTEXT_REMOTE") and args.from_:
        notes.append(
            f"to keep syncing, add CONTEXT_REMOTE={url} to "
            f"{ctx.layers.rel(ctx.layers.public_file)} (a URL with a password: the .secrets file)"
        )
    data = {
        "pull": pulled.pull.as_dict() if pulled.pull else {},
        "apply": applied,
        "secrets_received": secrets["added"],
        "registered": [d.body["name"] for d in extra],
        "notes": notes,
    }
    emit(args, data, "\n".join(notes) if notes else "restored: nothing left to do")
    return 0


def _pulled_count(report: Any) -> int:
    p = report.pull
    return int(p.fast_forwarded + p.merged) if p is not None else 0


def _home(args: argparse.Namespace) -> Any:
    from pathlib import Path

    return Path(args.home).expanduser() if args.home else None


def add_parsers(sub: Any) -> None:
    """Register ``restore``."""
    p = sub.add_parser(
        "restore",
        help="restore this machine's Claude context from a remote",
        parents=[common_parser()],
    )
    p.add_argument(
        "--from", dest="from_", metavar="REMOTE", help="remote URL (default: CONTEXT_REMOTE)"
    )
    p.add_argument("--home", help="restore into this home directory instead of yours")
    p.add_argument("--dry-run", action="store_true", help="pull and show, write no file")
    p.add_argument("--yes", "-y", action="store_true", help="write without asking")
    p.add_argument(
        "--allow-exec",
        action="store_true",
        help="also write what runs code or carries credentials (hooks, MCP servers, env, "
        "permissions, plugins, executables) from trusted machines; --yes alone never does",
    )
    p.add_argument(
        "--no-register", action="store_true", help="do not register this environment's agents"
    )
    p.add_argument("--no-push", action="store_true", help="do not publish this machine afterwards")
    p.add_argument(
        "--trust",
        action="append",
        metavar="ID",
        help="trust this machine on the remote (repeatable; compare its fingerprint first)",
    )
    p.set_defaults(func=cmd_restore)
