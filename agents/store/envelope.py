"""The document envelope: identity, scope, lineage and hashes around a kind-specific body.

``content_hash`` covers what a document *says* (kind, scope, deleted, body, secret_refs), so two
machines making the same change agree on it. The revision ``hash`` covers the whole envelope,
lineage included, and names the immutable revision (parents are revision hashes).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, replace
from json.encoder import encode_basestring
from typing import Any, Literal

from agents.store.canonical import canonical, canonical_text, sha256_of

__all__ = [
    "DEFAULT_LEVEL",
    "ENVELOPE_SCHEMA",
    "Envelope",
    "Level",
    "canonical_and_content_hash",
    "content_hash_of",
    "scope_for",
    "serialize_first",
]

ENVELOPE_SCHEMA = "ctx/1"
Level = Literal["user", "project", "machine"]

# Runtime records belong to the machine that made them; everything else follows the user.
DEFAULT_LEVEL: dict[str, Level] = {
    "machine_state": "machine",
    "agent_output": "machine",
    "sync_record": "machine",
    "machine_key": "machine",
    "secrets_bundle": "machine",
    "checkpoint": "machine",
    "machine_trust": "machine",
}


def scope_for(
    kind: str, machine_id: str, level: Level | None = None, project_id: str | None = None
) -> dict[str, Any]:
    """The scope object of a new document of ``kind``."""
    lvl: Level = level or ("project" if project_id else DEFAULT_LEVEL.get(kind, "user"))
    return {
        "level": lvl,
        "project_id": project_id if lvl == "project" else None,
        "machine_id": machine_id if lvl == "machine" else None,
    }


def _content_hash(body_text: str, envelope: dict[str, Any]) -> str:
    small = canonical_text({k: envelope[k] for k in ("deleted", "kind", "scope", "secret_refs")})
    return sha256_of(f'{{"body":{body_text},{small[1:]}'.encode())


def _with_body(body_text: str, rest: dict[str, Any]) -> str:
    """Canonical JSON of ``rest`` plus ``"body"`` (already serialized), which sorts first
    among an envelope's keys."""
    return f'{{"body":{body_text},{canonical_text(rest)[1:]}'


def canonical_and_content_hash(envelope: dict[str, Any]) -> tuple[bytes, str]:
    """The canonical bytes of an envelope dict and the content hash of what it says, from one
    serialization of each field (receiving many revisions pays for one, not two).

    Raises:
        ValueError: A field is not JSON.
        KeyError: A content field is missing.
    """
    body = canonical_text(envelope["body"])
    rest = {k: v for k, v in envelope.items() if k != "body"}
    text = _with_body(body, rest) if rest and min(rest) > "body" else canonical_text(envelope)
    return text.encode("utf-8"), _content_hash(body, envelope)


@functools.lru_cache(maxsize=64)
def _first_parts(kind: str, machine: str) -> tuple[str, str, str]:
    """The canonical texts of ``kind``, the scope :func:`scope_for` gives it on ``machine``, and
    ``machine``: what every first revision of ``kind`` made on ``machine`` shares."""
    return (
        encode_basestring(kind),
        canonical_text(scope_for(kind, machine)),
        encode_basestring(machine),
    )


def serialize_first(
    body_text: str, *, doc_id: str, kind: str, machine: str, hlc: str, updated_at: str
) -> tuple[str, str]:
    """The canonical text and content hash of the first revision of ``doc_id`` made on
    ``machine`` (version vector ``{machine: 1}``, no parents, no secret references, the
    default scope of ``kind``), its body given as canonical text: written from their parts
    instead of serializing an envelope dict (every recorded call pays this).

    Raises:
        ValueError: A string is not UTF-8 (a lone surrogate).
    """
    kind_t, scope_t, machine_t = _first_parts(kind, machine)
    digest = sha256_of(
        f'{{"body":{body_text},"deleted":false,"kind":{kind_t},"scope":{scope_t},'
        '"secret_refs":[]}'.encode()
    )
    text = (
        f'{{"body":{body_text},"content_hash":"{digest}","deleted":false,'
        f'"hlc":{encode_basestring(hlc)},"id":{encode_basestring(doc_id)},"kind":{kind_t},'
        f'"origin_machine":{machine_t},"rev":{{"parents":[],"vv":{{{machine_t}:1}}}},'
        f'"schema":"{ENVELOPE_SCHEMA}","scope":{scope_t},"secret_refs":[],'
        f'"updated_at":{encode_basestring(updated_at)}}}'
    )
    return text, digest


def content_hash_of(
    kind: str, scope: dict[str, Any], deleted: bool, body: Any, secret_refs: list[Any]
) -> str:
    """sha256 of the canonical JSON of ``{kind, scope, deleted, body, secret_refs}``."""
    return sha256_of(
        {"kind": kind, "scope": scope, "deleted": deleted, "body": body, "secret_refs": secret_refs}
    )


@dataclass(frozen=True)
class Envelope:
    """One immutable revision of a document."""

    id: str
    kind: str
    scope: dict[str, Any]
    body: Any
    vv: dict[str, int]
    parents: list[str]
    origin_machine: str
    updated_at: str
    hlc: str
    deleted: bool = False
    secret_refs: list[Any] = field(default_factory=list)
    content_hash: str = ""
    schema: str = ENVELOPE_SCHEMA

    def __post_init__(self) -> None:
        if not self.content_hash:
            digest = content_hash_of(
                self.kind, self.scope, self.deleted, self.body, self.secret_refs
            )
            object.__setattr__(self, "content_hash", digest)

    def to_dict(self) -> dict[str, Any]:
        """The envelope as stored and exchanged (docs/context-store.md)."""
        return {
            "schema": self.schema,
            "id": self.id,
            "kind": self.kind,
            "scope": self.scope,
            "rev": {"vv": self.vv, "parents": self.parents},
            "origin_machine": self.origin_machine,
            "updated_at": self.updated_at,
            "hlc": self.hlc,
            "deleted": self.deleted,
            "content_hash": self.content_hash,
            "body": self.body,
            "secret_refs": self.secret_refs,
        }

    def to_bytes(self) -> bytes:
        """Canonical JSON of :meth:`to_dict`; its sha256 is :attr:`hash`."""
        return canonical(self.to_dict())

    @property
    def hash(self) -> str:
        """The revision hash: sha256 of the canonical envelope."""
        return sha256_of(self.to_bytes())

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Envelope:
        """Read an envelope dict (as :meth:`to_dict` writes it)."""
        return cls(
            id=data["id"],
            kind=data["kind"],
            scope=data["scope"],
            body=data["body"],
            vv=data["rev"]["vv"],
            parents=data["rev"]["parents"],
            origin_machine=data["origin_machine"],
            updated_at=data["updated_at"],
            hlc=data["hlc"],
            deleted=data["deleted"],
            secret_refs=data.get("secret_refs", []),
            content_hash=data["content_hash"],
            schema=data.get("schema", ENVELOPE_SCHEMA),
        )

    def same_content(self, other: Envelope) -> bool:
        """True when both say the same thing (lineage aside)."""
        return self.content_hash == other.content_hash

    def evolve(self, **changes: Any) -> Envelope:
        """A copy with ``changes``; the content hash is recomputed."""
        return replace(self, content_hash="", **changes)
