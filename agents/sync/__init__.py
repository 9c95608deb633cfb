"""Cross-machine sync of the context store: remotes (dir, git, PostgreSQL, Azure Blob).

``open_remote(url)`` opens the remote named by ``CONTEXT_REMOTE``; ``agents.sync.keys`` holds
the key layout every backend shares. See ``docs/sync-remotes.md``.
"""

from agents.sync.remote import (
    CasConflict,
    Entry,
    ObjectConflict,
    Remote,
    RemoteError,
    redact_url,
)
from agents.sync.urls import open_remote

__all__ = [
    "CasConflict",
    "Entry",
    "ObjectConflict",
    "Remote",
    "RemoteError",
    "open_remote",
    "redact_url",
]
