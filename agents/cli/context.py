"""``agents context …``: the context store from the shell (the MCP tools' verbs, plus
snapshot, log, diff, rollback, audit, compact and check). Every verb takes ``--json``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from agents.cli.common import common_parser, emit, table
from agents.cli.context_search import add_verbs as add_search_verbs
from agents.core.errors import InputError, NotFoundError
from agents.core.settings import find_root, load_layers
from agents.store import audit, maintenance, sessions, snapshots, views
from agents.store.config import open_store
from agents.store.store import ContextStore

__all__ = ["add_parsers"]


def _store(args: argparse.Namespace) -> ContextStore:
    return open_store(load_layers(find_root(), args.env), actor="cli")


def _short(digest: str | None) -> str | None:
    return digest[7:19] if digest else digest


def cmd_info(args: argparse.Namespace, store: ContextStore) -> int:
    """Where the store is, whose it is, what it holds."""
    data = (
        maintenance.check(store)
        if args.verify
        else {
            "path": str(store.path),
            "machine_id": store.machine_id,
            "documents": store.counts(),
        }
    )
    emit(args, data, "\n".join(f"{k}: {v}" for k, v in data.items()))
    return 0 if data.get("ok", True) else 1


def cmd_get(args: argparse.Namespace, store: ContextStore) -> int:
    """One document."""
    envelope = store.get(args.id, args.at, deleted=args.at is not None)
    doc = views.document(envelope)
    body = json.dumps(envelope.body, indent=2, ensure_ascii=False)
    emit(
        args,
        doc,
        f"{doc['id']} ({doc['kind']}) revision {doc['revision']}\n"
        f"updated {doc['updated_at']} on {doc['origin_machine']}\n{body}",
    )
    return 0


def cmd_list(args: argparse.Namespace, store: ContextStore) -> int:
    """Documents, newest first."""
    found = store.list(
        args.kind,
        prefix=args.prefix,
        exclude=set() if args.kind else {"agent_output"},
        limit=args.limit,
    )
    rows = [dict(views.summary(e), revision=_short(e.hash)) for e in found]
    if args.json:
        rows = [views.summary(e) for e in found]
    table(args, rows, ["id", "kind", "title", "updated_at", "revision"])
    return 0


def _read_body(args: argparse.Namespace) -> Any:
    if args.body is not None:
        source, text = "--body", args.body
    elif args.file == "-" or args.file is None:
        source, text = "standard input", sys.stdin.read()
    else:
        source, text = args.file, Path(args.file).read_text()
    try:
        return json.loads(text)
    except ValueError as exc:
        raise InputError(f"the body from {source} is not JSON: {exc}") from None


def cmd_put(args: argparse.Namespace, store: ContextStore) -> int:
    """Create or replace a document."""
    envelope = store.put(args.id, args.kind, _read_body(args), expect_head=args.expect)
    emit(args, views.summary(envelope), f"{envelope.id} -> {envelope.hash}")
    return 0


def cmd_delete(args: argparse.Namespace, store: ContextStore) -> int:
    """Tombstone a document."""
    envelope = store.delete(args.id)
    emit(args, views.summary(envelope), f"{envelope.id} deleted (revision {envelope.hash})")
    return 0


def cmd_history(args: argparse.Namespace, store: ContextStore) -> int:
    """Every revision of a document."""
    revisions = store.history(args.id)
    rows = [r.as_dict() for r in revisions]
    if not args.json:
        rows = [
            dict(r, hash=_short(r["hash"]), parents=",".join(str(_short(p)) for p in r["parents"]))
            for r in rows
        ]
    table(args, rows, ["hash", "created_at", "head", "deleted", "origin_machine", "parents"])
    return 0


def cmd_snapshot(args: argparse.Namespace, store: ContextStore) -> int:
    """Record the current heads."""
    snap = snapshots.create_snapshot(store, args.label)
    emit(args, snap.as_dict(), f"snapshot {snap.id} ({len(snap.manifest)} documents)")
    return 0


def cmd_log(args: argparse.Namespace, store: ContextStore) -> int:
    """Snapshots, newest first."""
    rows = [s.as_dict() for s in snapshots.log(store, args.limit)]
    if not args.json:
        rows = [dict(r, id=_short(r["id"])) for r in rows]
    table(args, rows, ["seq", "id", "created_at", "documents", "label"])
    return 0


def cmd_diff(args: argparse.Namespace, store: ContextStore) -> int:
    """Document-level diff between two points."""
    found = snapshots.diff(
        store, args.a, args.b, kinds=set(args.kind) or None, ids=set(args.id) or None
    )
    if args.json:
        emit(args, [dict(d.as_dict(), text=d.text) for d in found])
    elif not found:
        print(f"no differences between {args.a} and {args.b}")
    else:
        for d in found:
            print(f"{d.status:8} {d.id} ({d.kind})")
            print(d.text, end="\n\n")
    return 0


def cmd_rollback(args: argparse.Namespace, store: ContextStore) -> int:
    """Forward-only rollback to a snapshot or a time: shows what changes, asks, writes."""
    from agents.cli.claude import confirm

    kinds, ids = set(args.kind) or None, set(args.id) or None
    plan = snapshots.rollback_preview(store, args.target, kinds=kinds, ids=ids)
    if not plan.restored and not plan.deleted:
        emit(args, plan.as_dict(), f"nothing to roll back: the store already says {plan.target}")
        return 0
    if not args.json:
        print(f"rollback to {plan.target} writes a new revision of each of these:")
        for doc_id in plan.restored:
            print(f"  restore  {doc_id}")
        for doc_id in plan.deleted:
            print(f"  delete   {doc_id}")
    count = len(plan.restored) + len(plan.deleted)
    if not confirm(args, f"Roll back {count} document(s)?"):
        emit(args, {**plan.as_dict(), "written": False}, "nothing written")
        return 0
    result = snapshots.rollback(store, args.target, kinds=kinds, ids=ids)
    emit(
        args,
        {**result.as_dict(), "written": True},
        f"rolled back to {result.target}: {len(result.restored)} restored, "
        f"{len(result.deleted)} deleted; undo with "
        f"`agents context rollback {result.before_snapshot[7:19]}`",
    )
    return 0


def cmd_audit_verify(args: argparse.Namespace, store: ContextStore) -> int:
    """Walk the hash chain and check it against the signed checkpoints; with ``--remote``,
    check every trusted machine's audit chunks on the remote too."""
    from agents.sync.trust import identity_of

    with store.reading() as conn:
        report = audit.verify(conn, public_key=identity_of(store).public_key)
    data: dict[str, Any] = report.as_dict()
    text = (
        f"audit chain intact: {report.rows} rows, {report.checkpoints} signed checkpoint(s)"
        if report.ok
        else "audit chain BROKEN:\n" + "\n".join(f"  {p}" for p in report.problems)
    )
    ok = report.ok
    if args.remote is not None:
        from agents.core.settings import find_root, load_layers
        from agents.sync.audit_remote import verify_remote
        from agents.sync.config import open_configured_remote

        remote = open_configured_remote(load_layers(find_root(), args.env), args.remote or None)
        try:
            found = verify_remote(store, remote)
        finally:
            remote.close()
        data["remote"] = found.as_dict()
        ok = ok and found.ok
        text += f"\nremote audit of {', '.join(found.machines) or 'no machine'}: " + (
            f"intact, {found.chunks} signed chunk(s), {found.rows} rows"
            if found.ok
            else "BROKEN:\n" + "\n".join(f"  {p}" for p in found.problems)
        )
        if found.untrusted:
            text += f"\nnot checked (not trusted here): {', '.join(found.untrusted)}"
    emit(args, data, text)
    return 0 if ok else 1


def cmd_audit_list(args: argparse.Namespace, store: ContextStore) -> int:
    """Recent audit rows."""
    with store.reading() as conn:
        rows = [
            e.as_dict()
            for e in audit.query(
                conn,
                doc_id=args.doc,
                actor=args.actor,
                op=args.op,
                since=args.since,
                limit=args.limit,
            )
        ]
    if not args.json:
        rows = [dict(r, new_hash=_short(r["new_hash"])) for r in rows]
    table(args, rows, ["seq", "ts", "actor", "op", "doc_id", "new_hash", "result"])
    return 0


def cmd_compact(args: argparse.Namespace, store: ContextStore) -> int:
    """Retention."""
    result = maintenance.compact(store, args.keep_days, prune_audit=args.prune_audit)
    data = result.as_dict()
    emit(args, data, ", ".join(f"{k}: {v}" for k, v in data.items()))
    return 0


def cmd_session_save(args: argparse.Namespace, store: ContextStore) -> int:
    """Create or update a session."""
    fields = {
        "title": args.title,
        "status": args.status,
        "summary": args.summary,
        "key_decisions": args.decision,
        "current_tasks": args.task,
        "references": args.ref,
        "tags": args.tag,
        "notes": args.notes,
        "priority": args.priority,
        "project": {"name": args.project} if args.project else None,
        "environment": args.env,
        "interface": "cli" if not args.id else None,
    }
    envelope = sessions.save_session(store, fields, ref=args.id, append=args.append)
    emit(args, views.document(envelope), f"saved {envelope.id}")
    return 0


def cmd_session_restore(args: argparse.Namespace, store: ContextStore) -> int:
    """Print a session to continue from."""
    envelope = sessions.find_session(store, args.id)
    emit(args, views.document(envelope), sessions.render_session(envelope).rstrip())
    return 0


def cmd_session_list(args: argparse.Namespace, store: ContextStore) -> int:
    """Saved sessions."""
    where = {"status": args.status} if args.status else None
    found = store.list("session", where=where, limit=args.limit)
    rows = [dict(views.summary(e), status=e.body["status"]) for e in found]
    table(args, rows, ["id", "title", "status", "updated_at"])
    return 0


def cmd_outputs(args: argparse.Namespace, store: ContextStore) -> int:
    """Recent agent tool calls."""
    where = {
        k: v
        for k, v in (("agent", args.agent), ("status", args.status), ("handler", args.tool))
        if v
    }
    rows = [views.output_view(e) for e in store.list("agent_output", where=where, limit=args.limit)]
    table(args, rows, ["started_at", "agent", "tool", "status", "duration_ms", "error"])
    return 0


# how to find what was not found, in this CLI's words (the agent names its tools)
_HINTS = {
    "document": "`agents context list` shows what exists",
    "snapshot": "`agents context log` lists them",
    "session": "save one with `agents context session save --title …`",
}


def _run(func: Any) -> Any:
    def runner(args: argparse.Namespace) -> int:
        with _store(args) as store:
            try:
                code: int = func(args, store)
            except NotFoundError as exc:
                raise exc.hinted(_HINTS) from None
            return code

    return runner


def add_parsers(sub: Any) -> None:
    """Register ``context`` and its verbs."""
    common = common_parser()
    top = sub.add_parser(
        "context", help="the shared context store: documents, sessions, snapshots, audit"
    )
    verbs = top.add_subparsers(dest="verb", required=True, metavar="VERB")

    def verb(name: str, func: Any, help: str, parent: Any = verbs) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = parent.add_parser(name, help=help, parents=[common])
        p.set_defaults(func=_run(func))
        return p

    p = verb("info", cmd_info, "where the store is and what it holds")
    p.add_argument("--verify", action="store_true", help="also run SQLite and audit checks")
    verb("check", cmd_info, "integrity check and audit verification").set_defaults(verify=True)
    p = verb("get", cmd_get, "show one document")
    p.add_argument("id")
    p.add_argument("--at", help="a snapshot, a revision hash or a time (2h, 2026-05-01T12:00Z)")
    p = verb("list", cmd_list, "list documents")
    p.add_argument("--prefix")
    p.add_argument("--kind")
    p.add_argument("--limit", type=int, default=50)
    add_search_verbs(verb)
    p = verb("put", cmd_put, "create or replace a document (JSON body)")
    p.add_argument("id")
    p.add_argument("--kind", required=True)
    p.add_argument("--body", help="the body as JSON")
    p.add_argument("--file", help="read the body from a file ('-': standard input)")
    p.add_argument("--expect", help="only if the head is still this revision hash")
    verb("delete", cmd_delete, "delete a document (tombstone)").add_argument("id")
    verb("history", cmd_history, "every revision of a document").add_argument("id")
    verb("snapshot", cmd_snapshot, "snapshot the current heads").add_argument("--label")
    verb("log", cmd_log, "list snapshots").add_argument("--limit", type=int, default=20)
    p = verb("diff", cmd_diff, "differences between two points (snapshot, time, working)")
    p.add_argument("a")
    p.add_argument("b", nargs="?", default="working")
    back = verb("rollback", cmd_rollback, "forward-only rollback to a snapshot or time")
    back.add_argument("--yes", "-y", action="store_true", help="write without asking")
    back.add_argument("--dry-run", action="store_true", help="only show what would change")
    back.add_argument("target", help="a snapshot (id, label, latest) or a time (2h, ISO)")
    for parser in (p, back):
        parser.add_argument("--kind", action="append", default=[], help="only this kind")
        parser.add_argument("--id", action="append", default=[], help="only this document")
    audit_p = verbs.add_parser("audit", help="the hash-chained audit log")
    audit_verbs = audit_p.add_subparsers(dest="audit_verb", required=True, metavar="VERB")
    p = verb("verify", cmd_audit_verify, "detect edited, removed or re-chained rows", audit_verbs)
    p.add_argument(
        "--remote",
        nargs="?",
        const="",
        metavar="URL",
        help="also check the audit chunks on the remote (default: CONTEXT_REMOTE)",
    )
    p = verb("list", cmd_audit_list, "recent audit rows", audit_verbs)
    for flag in ("--doc", "--actor", "--op", "--since"):
        p.add_argument(flag)
    p.add_argument("--limit", type=int, default=50)
    p = verb("compact", cmd_compact, "drop agent outputs older than N days")
    p.add_argument("--keep-days", type=float, required=True)
    p.add_argument(
        "--prune-audit",
        action="store_true",
        help="also drop older audit rows (the chain stays verifiable)",
    )
    session_p = verbs.add_parser("session", help="save, restore and list sessions")
    session_verbs = session_p.add_subparsers(dest="session_verb", required=True, metavar="VERB")
    p = verb("save", cmd_session_save, "create or update a session", session_verbs)
    p.add_argument("--id", help="update this session (default: a new one)")
    for flag in ("--title", "--summary", "--notes", "--project"):
        p.add_argument(flag)
    p.add_argument("--status", choices=["active", "paused", "completed", "archived"])
    p.add_argument("--priority", choices=["low", "medium", "high", "critical"])
    for flag in ("--decision", "--task", "--ref", "--tag"):
        p.add_argument(flag, action="append", help="repeatable")
    p.add_argument("--append", action="store_true", help="add to the lists, not replace")
    p = verb("restore", cmd_session_restore, "print a session to continue from", session_verbs)
    p.add_argument("id", nargs="?", default="latest")
    p = verb("list", cmd_session_list, "list sessions", session_verbs)
    p.add_argument("--status", choices=["active", "paused", "completed", "archived"])
    p.add_argument("--limit", type=int, default=20)
    p = verb("outputs", cmd_outputs, "recent agent tool calls")
    for flag in ("--agent", "--tool"):
        p.add_argument(flag)
    p.add_argument("--status", choices=["ok", "error"])
    p.add_argument("--limit", type=int, default=20)
