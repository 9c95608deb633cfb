"""Document drafts: what capture produces and apply consumes, before the store wraps them.

A draft is the storage-independent part of a store envelope (docs/context-store.md): ``id``,
``kind``, ``scope``, ``body`` and ``secret_refs``. The store adds revision, hashes and clocks.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "KINDS",
    "Draft",
    "Scope",
    "SecretRef",
    "blob_id",
    "canonical_json",
    "sha256_hex",
]

# The kinds this package reads and writes; names match the store's kinds (docs/context-store.md).
# The kinds this package reads and writes; names and body shapes follow the store's schemas.
KINDS = (
    "preference",  # one top-level key of ~/.claude/settings.json: pref:<key>
    "claude_file",  # a whole file: claude_file:user/CLAUDE.md, …/agents/x.md, …/commands/y.md
    "skill",  # ~/.claude/skills/<name>/: skill:<name>
    "mcp_server",  # one entry of one client's mcpServers (see capture.mcp_server_id)
    "project",  # identity + per-machine paths: project:<project id>
    "transcript_archive",  # opt-in, encrypted: transcript_archive:<session id>
)

Level = Literal["user", "project", "machine"]
RefStyle = Literal["env", "uri"]


def canonical_json(value: Any) -> str:
    """Sorted keys, no insignificant whitespace, UTF-8 text: the form every hash is taken of."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256_hex(data: bytes | str) -> str:
    """``sha256:<hex>`` of bytes, or of a string's UTF-8 encoding."""
    raw = data.encode() if isinstance(data, str) else data
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def blob_id(data: bytes) -> str:
    """The content address of a blob (``sha256:<hex>``)."""
    return sha256_hex(data)


@dataclass(frozen=True)
class Scope:
    """Who a document belongs to: the user, one project (by project id) or one machine."""

    level: Level = "user"
    project_id: str | None = None
    machine_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The envelope's ``scope`` object."""
        return {"level": self.level, "project_id": self.project_id, "machine_id": self.machine_id}


@dataclass(frozen=True)
class SecretRef:
    """A secret taken out of a body: where it was, its vault name and how it is referenced.

    ``style="env"`` is written as ``${NAME}`` and left for Claude Code to expand (``.mcp.json``);
    ``style="uri"`` is written as ``secret://NAME`` and resolved from the vault on apply.
    """

    path: str  # JSON pointer into the body
    name: str
    style: RefStyle = "uri"

    @property
    def ref(self) -> str:
        """The reference text as it appears in the body."""
        return f"${{{self.name}}}" if self.style == "env" else f"secret://{self.name}"

    def to_json(self) -> dict[str, str]:
        """The envelope's ``secret_refs`` entry."""
        return {"path": self.path, "ref": self.ref}


@dataclass(frozen=True)
class Draft:
    """One document as captured from (or to be applied to) a machine's Claude files."""

    id: str
    kind: str
    body: dict[str, Any]
    scope: Scope = field(default_factory=Scope)
    secret_refs: tuple[SecretRef, ...] = ()
    deleted: bool = False
    # the machine whose revision this is (None: made here, now); not part of the content
    origin: str | None = field(default=None, compare=False)

    def content_hash(self) -> str:
        """SHA-256 over canonical JSON of kind, scope, deleted, body and secret refs."""
        return sha256_hex(
            canonical_json(
                {
                    "kind": self.kind,
                    "scope": self.scope.to_json(),
                    "deleted": self.deleted,
                    "body": self.body,
                    "secret_refs": [r.to_json() for r in self.secret_refs],
                }
            )
        )

    def to_json(self) -> dict[str, Any]:
        """The envelope fields this package owns; the store adds rev, hlc and timestamps."""
        return {
            "id": self.id,
            "kind": self.kind,
            "scope": self.scope.to_json(),
            "deleted": self.deleted,
            "body": self.body,
            "secret_refs": [r.to_json() for r in self.secret_refs],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Draft:
        """Rebuild a draft from an envelope (or :meth:`to_json`)."""
        scope = data.get("scope") or {}
        refs = []
        for r in data.get("secret_refs") or []:
            text = r["ref"]
            if text.startswith("${") and text.endswith("}"):
                refs.append(SecretRef(r["path"], text[2:-1], "env"))
            else:
                refs.append(SecretRef(r["path"], text.removeprefix("secret://"), "uri"))
        return cls(
            id=data["id"],
            kind=data["kind"],
            body=data.get("body") or {},
            scope=Scope(
                scope.get("level", "user"), scope.get("project_id"), scope.get("machine_id")
            ),
            secret_refs=tuple(refs),
            deleted=bool(data.get("deleted", False)),
        )

    def tombstone(self) -> Draft:
        """The same document marked deleted (apply removes what it manages)."""
        return Draft(self.id, self.kind, self.body, self.scope, self.secret_refs, deleted=True)
