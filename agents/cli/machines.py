"""``agents machines list|trust|revoke``: which of this user's machines this one trusts.

Only trusted machines are merged from, applied from and sealed secrets to; a machine whose
head is on the remote but is not trusted is pending. Trust decisions are signed documents that
sync among trusted machines (docs/security.md).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator
from typing import Any

from agents.cli.common import common_parser, emit, table
from agents.core.errors import AgentError, InputError
from agents.core.settings import find_root, load_layers
from agents.store.config import open_store
from agents.store.identity import fingerprint
from agents.store.store import ContextStore

__all__ = ["add_parsers", "choose_trust", "join_notes", "refresh_seen"]


@contextlib.contextmanager
def _store(args: argparse.Namespace) -> Iterator[ContextStore]:
    with open_store(load_layers(find_root(), args.env), actor="cli") as store:
        yield store


def refresh_seen(store: ContextStore, remote: Any) -> None:
    """Note what every head on ``remote`` presents (its machine's key, when it last pushed);
    reads only, merges nothing."""
    from agents.sync.state import read_heads
    from agents.sync.trust import note_seen

    for machine, head in read_heads(remote).items():
        if machine != store.machine_id:
            note_seen(store, machine, head.signing_key, head.updated_at)


def choose_trust(args: argparse.Namespace, store: ContextStore, remote: Any, url: str) -> None:
    """Before a restore pulls: trust the machines named by ``--trust`` (each must have a head
    on the remote), or on a terminal show the untrusted machines with their fingerprints and
    ask which to trust. Nothing is trusted otherwise (``--yes`` never trusts).

    Raises:
        InputError: A ``--trust`` id has no head on the remote.
    """
    from agents.sync.state import read_heads
    from agents.sync.trust import decide, note_seen, trusted_set

    heads = {m: h for m, h in read_heads(remote).items() if m != store.machine_id}
    for machine, head in heads.items():
        note_seen(store, machine, head.signing_key, head.updated_at)
    trust = trusted_set(store)
    unknown = {m: h for m, h in heads.items() if not trust.trusts(m, h.signing_key)}
    wanted = list(dict.fromkeys(getattr(args, "trust", None) or []))
    for machine in wanted:
        if machine not in heads:
            there = ", ".join(sorted(heads)) or "none"
            raise InputError(
                f"--trust {machine}: no machine {machine} on {url} (machines: {there})"
            )
    if not wanted and unknown and sys.stdin.isatty() and not args.json and not args.yes:
        print(f"machines on {url} (compare each fingerprint with `agents machines list` there):")
        for machine, head in sorted(unknown.items()):
            shown = fingerprint(head.signing_key) if head.signing_key else "unsigned"
            print(f"  {machine}  {shown}  last pushed {head.updated_at}")
        answer = input("Trust which? (ids separated by spaces, 'all', Enter for none) ").split()
        wanted = sorted(unknown) if answer == ["all"] else answer
        for machine in wanted:
            if machine not in unknown:
                raise InputError(f"{machine!r} is not one of the machines listed; nothing pulled")
    for machine in wanted:
        key = heads[machine].signing_key
        if not key:
            raise InputError(f"{machine}'s head is unsigned (an older agents): upgrade it first")
        if not trust.trusts(machine, key):
            decide(store, machine, key, trusted=True)


def join_notes(store: ContextStore, pending: dict[str, str], url: str) -> list[str]:
    """What a restore says about trust: the machines it did not pull from, and what the
    other machines must do before they merge from or share secrets with this one."""
    from agents.sync.trust import identity_of, machines

    notes = []
    if pending:
        names = ", ".join(f"{m} ({fp})" for m, fp in sorted(pending.items()))
        notes.append(
            f"not trusted here, nothing pulled from: {names}. If they are yours, compare "
            f"fingerprints and run `agents restore --from {url} --trust ID` (or `agents "
            "machines trust ID`, then `agents sync`)"
        )
    others = [r.id for r in machines(store) if not r.this]
    if others:
        me, shown = store.machine_id, identity_of(store).fingerprint
        notes.append(
            f"this machine is {me}, fingerprint {shown}. The other machines do not merge from "
            f"it or share secrets with it until you trust it there: on one of them run "
            f"`agents machines trust {me}` (check the fingerprint), then `agents claude secrets "
            f"share && agents sync push` there, then `agents restore --from {url}` here again"
        )
    return notes


def cmd_list(args: argparse.Namespace) -> int:
    """Every machine known here: id, fingerprint, trusted, this, last_seen."""
    from agents.sync.config import open_configured_remote
    from agents.sync.trust import machines

    layers = load_layers(find_root(), args.env)
    note = None
    with open_store(layers, actor="cli") as store:
        if args.remote or layers.get("CONTEXT_REMOTE"):
            try:
                remote = open_configured_remote(layers, args.remote)
                try:
                    refresh_seen(store, remote)
                finally:
                    remote.close()
            except AgentError as exc:
                note = f"(the remote could not be read, shown as last seen: {exc})"
        rows = [r.as_dict() for r in machines(store)]
    if args.json:
        emit(args, rows)
        return 0
    shown = [
        {
            **r,
            "id": r["id"] + (" (this)" if r["this"] else ""),
            "trusted": "yes" if r["trusted"] else "PENDING",
            "last_seen": r["last_seen"] or "-",
        }
        for r in rows
    ]
    table(args, shown, ["id", "fingerprint", "trusted", "last_seen"])
    if note:
        print(note)
    pending = [r["id"] for r in rows if not r["trusted"]]
    if pending:
        print(
            "pending machines are not merged from and get no secrets. Compare a fingerprint "
            "with `agents machines list` on that machine, then `agents machines trust ID`"
        )
    return 0


def cmd_trust(args: argparse.Namespace) -> int:
    """Trust a machine's signing key (after comparing its fingerprint), then pull from it."""
    from agents.sync.config import open_configured_remote
    from agents.sync.engine import Syncer
    from agents.sync.trust import decide, known_key

    layers = load_layers(find_root(), args.env)
    pulled = None
    with open_store(layers, actor="cli") as store:
        key = known_key(store, args.id)
        shown = fingerprint(key)
        if args.fingerprint and args.fingerprint.strip().upper() != shown:
            raise InputError(
                f"{args.id} presents fingerprint {shown}, not {args.fingerprint}: nothing was "
                "trusted. Check the id, and the fingerprint on that machine's screen"
            )
        decide(store, args.id, key, trusted=True)
        me = store.machine_id
        if args.remote or layers.get("CONTEXT_REMOTE"):  # merge what it published, at once
            remote = open_configured_remote(layers, args.remote)
            try:
                pulled = Syncer(store, remote).pull()
            finally:
                remote.close()
    text = f"trusted {args.id} ({shown})."
    if pulled is not None:
        text += f" {pulled.summary()}."
    text += (
        " `agents sync push` publishes this decision to your other machines. To share secrets "
        f"with {args.id}: `agents claude secrets share && agents sync push` here ({me})"
    )
    emit(
        args,
        {
            "id": args.id,
            "fingerprint": shown,
            "trusted": True,
            "pull": pulled.as_dict() if pulled is not None else None,
        },
        text,
    )
    return 0


def cmd_revoke(args: argparse.Namespace) -> int:
    """Stop trusting a machine; re-seal this machine's secrets without it."""
    from agents.claude.bridge import vault_of
    from agents.claude.sharing import reseal
    from agents.sync.trust import decide, known_key, trusted_set

    with _store(args) as store:
        trust = trusted_set(store)
        key = trust.keys.get(args.id) or known_key(store, args.id)
        decide(store, args.id, key, trusted=False)
        resealed = reseal(store, vault_of(store))
    text = f"revoked {args.id} ({fingerprint(key)}): it is no longer merged from or shared to."
    if resealed is not None:
        names = ", ".join(r["id"] for r in resealed["recipients"])
        text += f" Re-sealed {resealed['secrets']} secret(s) to: {names}."
    text += (
        " `agents sync push` publishes the revocation (and the re-sealed bundle); rotate any "
        f"secret {args.id} already had at its source"
    )
    emit(
        args,
        {"id": args.id, "fingerprint": fingerprint(key), "trusted": False, "resealed": resealed},
        text,
    )
    return 0


def add_parsers(sub: Any) -> None:
    """Register ``machines`` and its verbs."""
    common = common_parser()
    top = sub.add_parser("machines", help="which of your machines this one trusts")
    verbs = top.add_subparsers(dest="verb", required=True, metavar="VERB")
    p = verbs.add_parser("list", help="machines, fingerprints, trust", parents=[common])
    p.add_argument("--remote", help="read heads from this remote URL instead of CONTEXT_REMOTE")
    p.set_defaults(func=cmd_list)
    p = verbs.add_parser(
        "trust", help="trust a machine (compare its fingerprint first)", parents=[common]
    )
    p.add_argument("id", help="the machine id")
    p.add_argument("--fingerprint", help="refuse unless the machine presents this fingerprint")
    p.add_argument("--remote", help="pull from this remote URL instead of CONTEXT_REMOTE")
    p.set_defaults(func=cmd_trust)
    p = verbs.add_parser(
        "revoke", help="stop trusting a machine; re-seal secrets without it", parents=[common]
    )
    p.add_argument("id", help="the machine id")
    p.set_defaults(func=cmd_revoke)
