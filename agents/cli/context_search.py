"""``agents context search | timeline | reindex``: ranked recall from the command line."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from agents.cli.common import table
from agents.store import search
from agents.store.store import ContextStore
from agents.store.timeref import require_time

__all__ = ["add_verbs", "cmd_reindex", "cmd_search", "cmd_timeline"]

_NOISE = {"agent_output"}


def _time(value: str | None) -> str | None:
    return require_time(value) if value else None


def cmd_search(args: argparse.Namespace, store: ContextStore) -> int:
    """Documents ranked by relevance (BM25), with a snippet each."""
    hits = search.search(
        store,
        args.text,
        kind=args.kind,
        project=args.project,
        machine=args.machine,
        since=_time(args.since),
        until=_time(args.until),
        exclude=set() if args.outputs else _NOISE,
        limit=args.limit,
    )
    table(args, [h.as_dict() for h in hits], ["id", "kind", "updated_at", "snippet"])
    return 0


def cmd_timeline(args: argparse.Namespace, store: ContextStore) -> int:
    """What changed around a document (or a time)."""
    entries = search.timeline(
        store,
        args.id,
        at=_time(args.at),
        before=args.before,
        after=args.after,
        kind=args.kind,
        project=args.project,
        machine=args.machine,
        exclude=set() if args.outputs else _NOISE,
    )
    rows = [dict(e.as_dict(), mark="*" if e.anchor else "") for e in entries]
    table(args, rows, ["mark", "updated_at", "id", "kind", "title", "machine"])
    return 0


def cmd_reindex(args: argparse.Namespace, store: ContextStore) -> int:
    """Rebuild the search index from the documents."""
    count = search.reindex(store)
    table(args, [{"indexed": count}], ["indexed"])
    return 0


def add_verbs(verb: Callable[..., argparse.ArgumentParser]) -> None:
    """Add the recall verbs through ``verb(name, func, help)`` of ``agents context``."""

    def filters(p: argparse.ArgumentParser) -> None:
        p.add_argument("--kind", help="only this kind (session, preference, claude_file…)")
        p.add_argument("--project", help="only this project id")
        p.add_argument("--machine", help="only documents from this machine id")
        p.add_argument(
            "--outputs", action="store_true", help="include recorded agent calls (agent_output)"
        )

    p = verb("search", cmd_search, "ranked full-text search (BM25) with snippets")
    p.add_argument("text", help='words, or "a phrase"; every word must match')
    filters(p)
    p.add_argument("--since", help="changed at or after (2h, 7d, 2026-05-01T12:00Z)")
    p.add_argument("--until", help="changed before")
    p.add_argument("--limit", type=int, default=10)
    p = verb("timeline", cmd_timeline, "what changed just before and after a document")
    p.add_argument("id", nargs="?", help="the document at the centre (default: now)")
    p.add_argument("--at", help="centre on this time instead (2h, 2026-05-01T12:00Z)")
    p.add_argument("--before", type=int, default=5)
    p.add_argument("--after", type=int, default=5)
    filters(p)
    verb("reindex", cmd_reindex, "rebuild the search index from the documents")
