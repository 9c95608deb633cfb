"""What the context agent's tools return (typed, so clients get output schemas)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

__all__ = [
    "ApiError",
    "ConflictEntry",
    "ConflictList",
    "Diff",
    "Deleted",
    "DiffEntry",
    "Document",
    "DocumentList",
    "DocumentSummary",
    "History",
    "HistoryEntry",
    "MachineHead",
    "OutputList",
    "OutputSummary",
    "SaveSession",
    "SessionView",
    "SnapshotInfo",
    "SnapshotList",
    "SyncOutcome",
    "SyncRequest",
    "SyncStatus",
    "WriteDocument",
]


class DocumentSummary(BaseModel):
    """A document's identity and current revision."""

    id: str
    kind: str
    title: str = Field(description="Short label from the body (title, name, key, path)")
    revision: str = Field(description="Revision hash (sha256 of the envelope)")
    updated_at: str
    origin_machine: str
    scope: str = Field(description="user, project or machine")
    deleted: bool


class Document(DocumentSummary):
    """A whole document: lineage and body."""

    content_hash: str
    vv: dict[str, int] = Field(description="Version vector: machine id -> revision count")
    parents: list[str] = Field(description="Parent revision hashes")
    hlc: str = Field(description="Hybrid logical clock stamp")
    scope_detail: dict[str, Any]
    body: Any
    secret_refs: list[Any]


class DocumentList(BaseModel):
    """Documents, newest first."""

    documents: list[DocumentSummary]


class SessionView(BaseModel):
    """A session, as data and as the Markdown to continue from."""

    id: str
    revision: str
    markdown: str
    session: dict[str, Any]

    @classmethod
    def of(cls, envelope: Any) -> SessionView:
        """The view of a session revision (an :class:`agents.store.envelope.Envelope`)."""
        from agents.store.sessions import render_session

        return cls(
            id=envelope.id,
            revision=envelope.hash,
            markdown=render_session(envelope),
            session=envelope.body,
        )


class OutputSummary(BaseModel):
    """One recorded tool call of an agent."""

    id: str
    agent: str
    tool: str
    status: str
    outcome: str
    started_at: str
    duration_ms: float
    input: dict[str, Any] = Field(description="Arguments, redacted")
    output: Any = None
    output_ref: dict[str, Any] | None = Field(default=None, description="Blob of a large output")
    output_preview: str | None = None
    error: str | None = None
    meta: dict[str, Any] = Field(default_factory=dict)


class OutputList(BaseModel):
    """Recorded tool calls, newest first."""

    outputs: list[OutputSummary]


class HistoryEntry(BaseModel):
    """One revision of a document."""

    hash: str
    created_at: str
    head: bool
    content_hash: str
    vv: dict[str, int]
    parents: list[str]
    origin_machine: str
    hlc: str
    deleted: bool


class History(BaseModel):
    """Every revision of one document, oldest first."""

    id: str
    revisions: list[HistoryEntry]


class DiffEntry(BaseModel):
    """How one document differs between two points."""

    id: str
    kind: str
    status: str = Field(description="added, removed or modified")
    old_hash: str | None
    new_hash: str | None
    changes: list[dict[str, Any]] = Field(description="Field changes by JSON pointer")
    text: str = Field(description="Unified diff of the bodies, one field per line")


class Diff(BaseModel):
    """Document-level differences between two points."""

    a: str
    b: str
    documents: list[DiffEntry]


class SnapshotInfo(BaseModel):
    """One snapshot (a manifest of document -> revision)."""

    id: str
    seq: int
    machine: str
    parent: str | None
    created_at: str
    label: str | None
    documents: int


class SnapshotList(BaseModel):
    """Snapshots, newest first."""

    snapshots: list[SnapshotInfo]


class MachineHead(BaseModel):
    """One machine's newest snapshot on the remote."""

    machine: str
    this: bool = Field(description="True for this machine")
    seq: int
    updated_at: str
    documents: int
    integrated: bool = Field(description="True when this machine has pulled that snapshot")
    trusted: bool = Field(
        default=True,
        description="False: pending, never merged until `agents machines trust` on this machine",
    )


class SyncStatus(BaseModel):
    """This machine against the remote."""

    remote: str = Field(description="The remote, with any password hidden")
    machine: str
    documents: int
    unpushed: int = Field(description="Documents changed here since the last push")
    conflicts: int = Field(description="Conflicts waiting for review")
    machines: list[MachineHead]
    behind: list[str] = Field(default_factory=list, description="Machines not pulled yet")


class SyncOutcome(BaseModel):
    """What a pull, push or sync did."""

    operation: str
    summary: str = Field(description="What happened, in words")
    pulled: int = Field(description="Documents whose head moved here")
    merged: int
    needs_review: list[str] = Field(description="Documents left in conflict for review")
    pushed: int = Field(description="Documents published")
    snapshot: str | None
    record: str | None = Field(description="The sync_record document of this operation")


class ConflictEntry(BaseModel):
    """Two concurrent revisions of one document."""

    id: int
    doc_id: str
    policy: str
    status: str = Field(description="needs_review, auto_resolved or resolved")
    local_hash: str
    remote_hash: str
    base_hash: str | None
    detected_at: str
    resolved_hash: str | None


class ConflictList(BaseModel):
    """Conflicts, oldest first."""

    conflicts: list[ConflictEntry]


# --- the HTTP API's request and error bodies (agents/context/api.py) -----------------


class WriteDocument(BaseModel):
    """The body of ``PUT /documents/{id}``."""

    kind: str = Field(description="session, preference or project")
    body: dict[str, Any] = Field(description="The document body (checked by the kind's schema)")
    expect_revision: str | None = Field(
        default=None, description="Write only if the head is still this revision (else 409)"
    )


class SaveSession(BaseModel):
    """The body of ``POST /sessions``: a new session, or ``session_id`` to update one."""

    session_id: str | None = None
    title: str | None = None
    status: str | None = Field(default=None, pattern="^(active|paused|completed|archived)$")
    summary: str | None = None
    key_decisions: list[str] | None = None
    current_tasks: list[str] | None = None
    references: list[str] | None = None
    project: str | None = None
    append: bool = Field(default=False, description="Add to the lists instead of replacing")


class SyncRequest(BaseModel):
    """The body of ``POST /sync``."""

    direction: str = Field(default="sync", pattern="^(sync|pull|push)$")


class ApiError(BaseModel):
    """Every error answer."""

    error: dict[str, str]


class Deleted(BaseModel):
    """What ``DELETE /documents/{id}`` wrote: a tombstone revision."""

    document: DocumentSummary
