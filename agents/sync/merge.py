"""How two revisions of one document are reconciled (docs/sync.md): pure functions, no I/O.

:func:`reconcile` compares the local and the remote head by version vector: a descendant
wins outright (fast-forward or keep); concurrent revisions go to their kind's policy:

- ``single_writer`` (machine_state, sync_record, machine_key, secrets_bundle, checkpoint,
  machine_trust): the owning machine's revision, then the later HLC;
- ``append_only`` (agent_output, transcript_archive): immutable records; the later HLC, the
  other kept;
- ``json3`` (preference, mcp_server, project, session, JSON claude_file): field-level 3-way
  merge, the later HLC where both sides changed a field;
- ``text3`` (markdown and text claude_file): line 3-way merge; a conflict keeps the local
  head and needs review;
- ``skill``: per file, text files 3-way; other files must not both change.

An automatic resolution is a **merge revision** built deterministically from the two inputs
(vector = pointwise max, parents = both hashes sorted, clock fields of the later side), so
two machines settling the same pair write the same revision and converge at once. Deleted
against modified: the modification wins.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from agents.store.canonical import canonical
from agents.store.clock import Hlc, vv_compare, vv_merge
from agents.store.envelope import Envelope
from agents.sync.text3 import merge3

__all__ = [
    "POLICIES",
    "Resolution",
    "merge_envelope",
    "merge_json",
    "policy_of",
    "reconcile",
    "settle",
]

Action = Literal["same", "fast_forward", "keep", "merge", "conflict"]
Status = Literal["auto_resolved", "needs_review"]

POLICIES: dict[str, str] = {
    "machine_state": "single_writer",
    "sync_record": "single_writer",
    "machine_key": "single_writer",
    "secrets_bundle": "single_writer",
    "checkpoint": "single_writer",
    "machine_trust": "single_writer",
    "agent_output": "append_only",
    "transcript_archive": "append_only",
    "skill": "skill",
}
_ABSENT: Any = object()


def policy_of(envelope: Envelope) -> str:
    """The concurrent-edit policy of ``envelope``'s kind (and format, for claude_file)."""
    if envelope.kind == "claude_file" and isinstance(envelope.body, dict):
        return "json3" if envelope.body.get("format") == "json" else "text3"
    return POLICIES.get(envelope.kind, "json3")


@dataclass(frozen=True)
class Resolution:
    """What to do with the local head given a remote head.

    ``merged`` is the new head for ``merge``; ``status`` says whether the decision must be
    recorded as a conflict (``auto_resolved``: settled by a rule, the loser kept;
    ``needs_review``: nothing settled, local kept); ``fields`` are the paths a tiebreak
    decided.
    """

    action: Action
    policy: str
    merged: Envelope | None = None
    status: Status | None = None
    fields: tuple[str, ...] = field(default_factory=tuple)


def _later(a: Envelope, ha: str, b: Envelope, hb: str) -> bool:
    """True when ``a`` is the later of two revisions (HLC, then hash: a total order)."""
    return (Hlc.parse(a.hlc), ha) >= (Hlc.parse(b.hlc), hb)


def merge_envelope(
    a: Envelope, ha: str, b: Envelope, hb: str, body: Any, *, deleted: bool
) -> Envelope:
    """The merge revision of ``a`` and ``b`` with ``body``: the same whichever side is local."""
    newer = a if _later(a, ha, b, hb) else b
    refs = {canonical(r): r for r in (*a.secret_refs, *b.secret_refs) if _ref_in(body, r)}
    return Envelope(
        id=a.id,
        kind=a.kind,
        scope=newer.scope,
        body=body,
        vv=vv_merge(a.vv, b.vv),
        parents=sorted({ha, hb}),
        origin_machine=newer.origin_machine,
        updated_at=newer.updated_at,
        hlc=newer.hlc,
        deleted=deleted,
        secret_refs=[refs[k] for k in sorted(refs)],
    )


def _ref_in(body: Any, ref: Any) -> bool:
    """True when the JSON pointer of secret ref ``ref`` still holds its reference in ``body``."""
    node = body
    for raw in str(ref.get("path", "")).split("/")[1:]:
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False
    return isinstance(node, str) and str(ref.get("ref", "")) in node


# --- JSON ------------------------------------------------------------------------------------


def _same(x: Any, y: Any) -> bool:
    if x is _ABSENT or y is _ABSENT:
        return x is y
    return x == y and canonical(x) == canonical(y)


def merge_json(base: Any, a: Any, b: Any, *, a_later: bool) -> tuple[Any, list[str]]:
    """Field-level 3-way merge of JSON values; returns the merge and the paths where both
    sides changed a value differently (settled for the later side, ``a`` if ``a_later``)."""
    ties: list[str] = []
    merged = _merge_value(base, a, b, a_later, "", ties)
    return (None if merged is _ABSENT else merged), ties


def _merge_value(base: Any, a: Any, b: Any, a_later: bool, path: str, ties: list[str]) -> Any:
    if _same(a, b):
        return a
    if _same(a, base):
        return b
    if _same(b, base):
        return a
    if isinstance(a, dict) and isinstance(b, dict):
        old = base if isinstance(base, dict) else {}
        out = {}
        for key in sorted(a.keys() | b.keys()):
            value = _merge_value(
                old.get(key, _ABSENT),
                a.get(key, _ABSENT),
                b.get(key, _ABSENT),
                a_later,
                f"{path}/{key}",
                ties,
            )
            if value is not _ABSENT:
                out[key] = value
        return out
    if isinstance(a, list) and isinstance(b, list):
        older, newer = (b, a) if a_later else (a, b)
        return _merge_list(base if isinstance(base, list) else [], older, newer)
    if a is _ABSENT:  # deleted on one side, modified on the other: the modification wins
        return b
    if b is _ABSENT:
        return a
    ties.append(path or "/")
    return a if a_later else b


def _merge_list(base: list[Any], older: list[Any], newer: list[Any]) -> list[Any]:
    """Lists as collections: an item removed on either side goes, an item added on either
    side stays; the later side's order first, then the earlier side's additions."""
    key = canonical
    in_base = {key(x) for x in base}
    dropped_by_older = in_base - {key(x) for x in older}
    out = [x for x in newer if key(x) not in dropped_by_older]
    present = {key(x) for x in out}
    for x in older:
        k = key(x)
        if k not in in_base and k not in present:
            out.append(x)
            present.add(k)
    return out


# --- per policy --------------------------------------------------------------------------------


def _body(envelope: Envelope | None) -> Any:
    return _ABSENT if envelope is None or envelope.deleted else envelope.body


def _text_merge(base: Any, a: Any, b: Any) -> tuple[Any, bool]:
    """3-way merge of two text claude_file (or skill file) bodies' ``text``; (merge, clean)."""
    if not (isinstance(a, dict) and isinstance(b, dict)):
        return None, False
    if _same(a, b):
        return a, True
    if "text" not in a or "text" not in b:
        return None, False
    old = base if isinstance(base, dict) and "text" in base else None
    if old is None:
        return None, False
    text = merge3(old["text"], a["text"], b["text"])
    if not text.clean:
        return None, False
    rest, ties = merge_json(
        {k: v for k, v in old.items() if k != "text"},
        {k: v for k, v in a.items() if k != "text"},
        {k: v for k, v in b.items() if k != "text"},
        a_later=True,
    )
    if ties:
        return None, False
    return {**rest, "text": text.text}, True


def _skill_merge(base: Any, a: Any, b: Any, a_later: bool) -> tuple[Any, list[str], bool]:
    """Skills: top fields by JSON merge, files by path (text files 3-way)."""
    old = base if isinstance(base, dict) else {}
    by_path = [{f["path"]: f for f in d.get("files", [])} for d in (old, a, b)]
    files: list[Any] = []
    for path in sorted(by_path[1].keys() | by_path[2].keys() | by_path[0].keys()):
        fz, fa, fb = (m.get(path, _ABSENT) for m in by_path)
        if _same(fa, fb) or _same(fb, fz):
            chosen = fa
        elif _same(fa, fz):
            chosen = fb
        elif fa is _ABSENT or fb is _ABSENT:
            chosen = fb if fa is _ABSENT else fa
        else:
            chosen, clean = _text_merge(fz, fa, fb)
            if not clean:
                return None, [], False
        if chosen is not _ABSENT:
            files.append(chosen)
    top, ties = merge_json(
        {k: v for k, v in old.items() if k != "files"},
        {k: v for k, v in a.items() if k != "files"},
        {k: v for k, v in b.items() if k != "files"},
        a_later=a_later,
    )
    return {**(top or {}), "files": files}, ties, True


def reconcile(
    local: Envelope | None,
    local_hash: str | None,
    remote: Envelope,
    remote_hash: str,
    base: Envelope | None,
) -> Resolution:
    """Decide between the local head (None: unknown here) and a remote head of one document,
    given their common ancestor ``base`` (None when unknown)."""
    policy = policy_of(remote if local is None else local)
    if local is None or local_hash is None:
        return Resolution("fast_forward", policy)
    if local_hash == remote_hash:
        return Resolution("same", policy)
    order = vv_compare(local.vv, remote.vv)
    if order == "before":
        return Resolution("fast_forward", policy)
    if order == "after":
        return Resolution("keep", policy)
    return settle(local, local_hash, remote, remote_hash, base)


def settle(
    local: Envelope,
    local_hash: str,
    remote: Envelope,
    remote_hash: str,
    base: Envelope | None,
) -> Resolution:
    """Two revisions known to be concurrent (neither descends from the other), settled by
    their kind's policy against their common ancestor ``base`` (None when unknown: then only
    identical or JSON-mergeable content settles without review)."""
    policy = policy_of(local)
    local_later = _later(local, local_hash, remote, remote_hash)

    def merged(
        body: Any, status: Status | None = None, ties: list[str] | None = None
    ) -> Resolution:
        deleted = body is _ABSENT
        env = merge_envelope(
            local, local_hash, remote, remote_hash, {} if deleted else body, deleted=deleted
        )
        return Resolution("merge", policy, env, status, tuple(ties or ()))

    if local.content_hash == remote.content_hash:
        return merged(_body(local))
    a, b, z = _body(local), _body(remote), _body(base)
    if a is _ABSENT or b is _ABSENT:  # deleted against modified: the modification wins
        return merged(b if a is _ABSENT else a, "auto_resolved")
    if policy in ("single_writer", "append_only"):
        owner = (local.scope or {}).get("machine_id")
        if policy == "single_writer" and owner in (local.origin_machine, remote.origin_machine):
            local_wins = local.origin_machine == owner and (
                remote.origin_machine != owner or local_later
            )
        else:
            local_wins = local_later
        return merged(a if local_wins else b, "auto_resolved")
    if policy == "text3":
        body, clean = _text_merge(z, a, b)
        if not clean:
            return Resolution("conflict", policy, status="needs_review")
        return merged(body)
    if policy == "skill":
        body, ties, clean = _skill_merge(z, a, b, local_later)
        if not clean:
            return Resolution("conflict", policy, status="needs_review")
        return merged(body, "auto_resolved" if ties else None, ties)
    body, ties = merge_json(z, a, b, a_later=local_later)
    return merged(body, "auto_resolved" if ties else None, ties)
