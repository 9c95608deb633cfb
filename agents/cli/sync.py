"""``agents sync …``: the context store against its remote (``CONTEXT_REMOTE``).

push, pull, sync (pull then push), status, conflicts, resolve, quarantine, gc, and ``run``
(the periodic loop supervisord runs when ``SYNC_INTERVAL`` is set). Every verb takes
``--json``; pushes and pulls of many documents show progress bars on a terminal.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

from agents.cli.common import common_parser, emit, table
from agents.core.errors import AgentError
from agents.core.settings import EnvLayers, find_root, load_layers
from agents.store.config import open_store
from agents.store.conflicts import conflicts
from agents.store.store import ContextStore
from agents.sync.config import SyncSettings, open_configured_remote
from agents.sync.engine import Syncer, SyncReport, pending_hint, resolve
from agents.sync.gc import gc
from agents.sync.pull import Progress, no_progress
from agents.sync.quarantine import quarantined
from agents.sync.remote import Remote, Watch

__all__ = ["add_parsers", "progress_bars"]

PROGRESS_MIN = 200  # fewer items than this finish too fast for a bar to help


def progress_bars(enabled: bool) -> Progress:
    """tqdm bars on stderr for phases of at least ``PROGRESS_MIN`` items, when ``enabled``."""
    if not enabled:
        return no_progress

    @contextlib.contextmanager
    def bars(phase: str, total: int) -> Iterator[Callable[[int], None]]:
        if total < PROGRESS_MIN:
            yield lambda n: None
            return
        from tqdm import tqdm

        with tqdm(total=total, desc=phase, unit="doc", file=sys.stderr, leave=False) as bar:

            def advance(n: int) -> None:
                bar.update(n)

            yield advance

    return bars


@contextlib.contextmanager
def _opened(args: argparse.Namespace) -> Iterator[tuple[EnvLayers, ContextStore, Remote]]:
    layers = load_layers(find_root(), args.env)
    remote = open_configured_remote(layers, getattr(args, "remote", None))
    try:
        with open_store(layers, actor="sync") as store:
            yield layers, store, remote
    finally:
        remote.close()


def _syncer(args: argparse.Namespace, store: ContextStore, remote: Remote) -> Syncer:
    show = not args.json and not args.no_progress and sys.stderr.isatty()
    return Syncer(store, remote, progress=progress_bars(show))


def _operation(name: str) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        with _opened(args) as (_, store, remote):
            syncer = _syncer(args, store, remote)
            report = getattr(syncer, name)()
            if report.pull is not None and _reseal(store):  # a revocation came in
                report.notes.append(
                    "re-sealed this machine's secrets without the machines no longer trusted"
                )
                if name == "sync":
                    report.push = syncer.push().push
                else:
                    report.notes.append("`agents sync push` publishes the re-sealed bundle")
        emit(args, report.as_dict(), report.summary())
        return 0

    return run


def _reseal(store: ContextStore) -> bool:
    """Seal this machine's secrets bundle again if it is sealed to a machine no longer
    trusted (a revocation pulled from another machine); True when it was."""
    from agents.claude.bridge import vault_of
    from agents.claude.sharing import reseal

    return reseal(store, vault_of(store)) is not None


def cmd_status(args: argparse.Namespace) -> int:
    """Local against remote heads, unpushed changes, open conflicts."""
    with _opened(args) as (_, store, remote):
        data = Syncer(store, remote).status()
    if args.json:
        emit(args, data)
        return 0
    print(f"remote: {data['remote']}  (this machine: {data['machine']})")
    print(f"documents: {data['documents']}, not pushed yet: {data['unpushed']}")
    print(f"conflicts needing review: {data['conflicts']}")
    if data["machines"]:
        rows = [
            {**m, "machine": m["machine"] + (" (this)" if m["this"] else "")}
            for m in data["machines"]
        ]
        table(args, rows, ["machine", "trusted", "seq", "updated_at", "documents", "integrated"])
    if data.get("pending"):
        print(pending_hint({p["machine"]: p["fingerprint"] or "unsigned" for p in data["pending"]}))
    if data.get("behind"):
        print(f"behind: {', '.join(data['behind'])}; run `agents sync pull`")
    for bad in data.get("damaged", []):
        print(f"damaged head {bad['key']} (set aside, the others sync on): {bad['reason']}")
    if data.get("quarantined"):
        print(f"quarantined: {data['quarantined']} item(s); `agents sync quarantine` lists them")
    return 0


def cmd_quarantine(args: argparse.Namespace) -> int:
    """What pulls set aside: revisions, heads and snapshots that were damaged or hostile."""
    layers = load_layers(find_root(), args.env)
    with open_store(layers, actor="sync") as store:
        rows = quarantined(store, args.limit)
    if not rows and not args.json:
        print("nothing quarantined")
        return 0
    table(args, rows, ["id", "received_at", "source", "error"])
    return 0


def cmd_conflicts(args: argparse.Namespace) -> int:
    """Conflicts waiting for review (``--all``: auto-resolved and resolved ones too)."""
    layers = load_layers(find_root(), args.env)
    with open_store(layers, actor="sync") as store:
        found = conflicts(store, None if args.all else "needs_review")
    rows = [
        {**c.as_dict(), "local": c.local_hash[7:19], "remote": c.remote_hash[7:19]} for c in found
    ]
    table(args, rows, ["id", "doc_id", "policy", "status", "local", "remote", "detected_at"])
    return 0


def cmd_resolve(args: argparse.Namespace) -> int:
    """Settle a document's conflicts by taking one side (or any revision)."""
    layers = load_layers(find_root(), args.env)
    with open_store(layers, actor="cli") as store:
        written = resolve(store, args.doc, args.take)
    emit(
        args,
        {"doc_id": args.doc, "revision": written.hash, "took": args.take},
        f"{args.doc}: resolved with {args.take} as {written.hash[7:19]}; push to share it",
    )
    return 0


def cmd_gc(args: argparse.Namespace) -> int:
    """Remove orphans and snapshots past retention from the remote."""
    with _opened(args) as (layers, store, remote):
        keep = args.keep or layers.model(SyncSettings).keep_snapshots
        report = gc(store, remote, keep=keep, grace=args.grace, dry_run=args.dry_run)
    emit(
        args,
        report.as_dict(),
        f"{report.keys} keys, {report.garbage} garbage: {report.deleted} deleted, "
        f"{report.waiting} marked (deleted by a gc at least {args.grace:g}s later)"
        + (
            f"; {report.foreign} keys outside the key layout left alone: "
            + ", ".join(map(repr, report.foreign_keys))
            + (" …" if report.foreign > len(report.foreign_keys) else "")
            if report.foreign
            else ""
        ),
    )
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """Sync every ``SYNC_INTERVAL`` seconds until SIGTERM (the supervised ``sync`` program)."""
    from agents.core.logs import configure_logging
    from agents.sync.loop import run_loop

    layers = load_layers(find_root(), args.env)
    interval = args.interval or layers.model(SyncSettings).interval
    if not interval:
        raise AgentError(
            f"SYNC_INTERVAL is not set in {layers.rel(layers.public_file)}; set it (seconds, "
            "at least 10) or pass --interval"
        )
    configure_logging(agent="sync", env=args.env)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())

    def once() -> SyncReport:
        with _opened(args) as (_, store, remote):
            return Syncer(store, remote).sync()

    def watch() -> Watch | None:
        with _opened(args) as (_, store, remote):
            return remote.watch(store.machine_id)

    run_loop(once, interval=interval, stop=stop, watch=watch)
    return 0


def add_parsers(sub: Any) -> None:
    """Register ``sync`` and its verbs."""
    common = common_parser()
    common.add_argument("--remote", help="a remote URL instead of CONTEXT_REMOTE")
    common.add_argument("--no-progress", action="store_true", help="no progress bars")
    top = sub.add_parser(
        "sync",
        help="sync the context store with its remote (CONTEXT_REMOTE)",
        description="Without a verb: pull, then push (the same as `agents sync sync`).",
        parents=[common],
    )
    top.set_defaults(func=_operation("sync"))
    verbs = top.add_subparsers(dest="verb", required=False, metavar="VERB")

    def verb(name: str, func: Any, help: str) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = verbs.add_parser(name, help=help, parents=[common])
        p.set_defaults(func=func)
        return p

    verb("push", _operation("push"), "publish this machine's documents")
    verb("pull", _operation("pull"), "bring in the other machines' documents")
    verb("sync", _operation("sync"), "pull, then push")
    verb("status", cmd_status, "this machine against the remote")
    p = verb("conflicts", cmd_conflicts, "conflicts waiting for review")
    p.add_argument("--all", action="store_true", help="auto-resolved and resolved ones too")
    p = verb("resolve", cmd_resolve, "settle a document's conflicts")
    p.add_argument("doc", help="the document id")
    p.add_argument(
        "--take", required=True, help="local, remote, or a revision hash (8+ hex digits)"
    )
    p = verb("quarantine", cmd_quarantine, "what pulls set aside as damaged or hostile")
    p.add_argument("--limit", type=int, default=200, help="newest N (200)")
    p = verb("gc", cmd_gc, "remove orphans and old snapshots from the remote")
    p.add_argument("--keep", type=int, help="snapshots kept per machine (SYNC_KEEP_SNAPSHOTS)")
    p.add_argument(
        "--grace",
        type=float,
        default=3600.0,
        help="delete only garbage marked at least this many seconds ago (0: now)",
    )
    p.add_argument("--dry-run", action="store_true", help="only report")
    p = verb("run", cmd_run, "sync every SYNC_INTERVAL seconds (what supervisord runs)")
    p.add_argument("--interval", type=float, help="seconds between syncs")
