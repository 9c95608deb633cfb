"""Which document kinds a remote caller may write: the one rule for the context agent's MCP
tools and any later door into the store (a REST API).

A remote caller is Claude, and Claude reads untrusted text: a prompt-injected call must not
plant an MCP server command, a Claude settings file with hooks, a skill, a machine key or a
secrets bundle, which every other machine would then run or trust. Those kinds are written
on the machine, through the CLI, by the person who owns it. The agents and the sync engine
write their own records (agent outputs, machine state, sync records, transcript archives);
nobody forges those. What is left is plain data: sessions, preferences, projects.
"""

from __future__ import annotations

from agents.core.errors import InputError
from agents.store.base import StoreBase
from agents.store.schemas import KINDS

__all__ = [
    "CODE_OR_KEY_KINDS",
    "REMOTE_WRITABLE_KINDS",
    "RemoteWriteRefusedError",
    "check_remote_delete",
    "check_remote_write",
]

REMOTE_WRITABLE_KINDS = frozenset({"session", "preference", "project"})
CODE_OR_KEY_KINDS = frozenset(
    {"mcp_server", "machine_key", "secrets_bundle", "skill", "claude_file"}
)


class RemoteWriteRefusedError(InputError):
    """A remote caller asked to write a kind only the machine's owner may write."""


def check_remote_write(doc_id: str, kind: str) -> None:
    """Refuse unless a remote caller may write a document of ``kind`` under ``doc_id`` (both
    the kind and a kind named by the id's prefix must be plain). Unknown kinds pass through,
    for the store's own "unknown kind" error.

    Raises:
        RemoteWriteRefusedError: The kind runs code, carries keys, or belongs to the agents.
    """
    prefix = doc_id.partition(":")[0]
    for named in dict.fromkeys((kind, prefix)):
        if named in REMOTE_WRITABLE_KINDS or named not in KINDS:
            continue
        plain = ", ".join(sorted(REMOTE_WRITABLE_KINDS))
        if named in CODE_OR_KEY_KINDS:
            raise RemoteWriteRefusedError(
                f"kind {named!r} runs code or carries keys on every machine, so it is not "
                f"written over MCP: use the CLI on this machine, `agents context put {doc_id} "
                f"--kind {named} --file <body.json>` (or `agents claude import` for Claude "
                f"files); over MCP you may write {plain}"
            )
        raise RemoteWriteRefusedError(
            f"kind {named!r} is written by the agents and the sync engine themselves, never "
            f"over MCP; over MCP you may write {plain}"
        )


def check_remote_delete(store: StoreBase, doc_id: str) -> None:
    """Refuse unless a remote caller may delete ``doc_id`` (deleting is writing a tombstone).

    Raises:
        RemoteWriteRefusedError: The document is of a kind :func:`check_remote_write` refuses.
    """
    head = store.head_info(doc_id)
    check_remote_write(doc_id, head.kind if head else doc_id.partition(":")[0])
