"""The merge base of two revisions: their nearest common ancestor held in this store (a
breadth-first walk of ``rev.parents``), else the revision last integrated from that machine.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator

from agents.core.errors import NotFoundError
from agents.store.envelope import Envelope
from agents.store.store import ContextStore

__all__ = ["find_base"]


def _parents(conn: sqlite3.Connection, digest: str) -> list[str]:
    row = conn.execute(
        "SELECT json_extract(envelope, '$.rev.parents') FROM revisions WHERE hash = ?", (digest,)
    ).fetchone()
    if row is None or row[0] is None:
        return []
    return [str(p) for p in json.loads(row[0])]


def _ancestry(conn: sqlite3.Connection, start: str | None, limit: int = 5000) -> Iterator[str]:
    """``start`` and its ancestors held here, nearest first."""
    if start is None:
        return
    seen, queue = {start}, [start]
    while queue and len(seen) <= limit:
        digest = queue.pop(0)
        yield digest
        for parent in _parents(conn, digest):
            if parent not in seen:
                seen.add(parent)
                queue.append(parent)


def find_base(
    store: ContextStore, conn: sqlite3.Connection, local: str, remote: str, hint: str | None
) -> Envelope | None:
    """The nearest common ancestor of two revisions held here; else ``hint`` (the revision
    last integrated from that machine, an ancestor of both by construction)."""
    mine = set(_ancestry(conn, local))
    for digest in (*_ancestry(conn, remote), *_ancestry(conn, hint)):
        if digest in mine or digest == hint:
            try:
                return store.revision(digest, conn)
            except NotFoundError:
                continue
    return None
