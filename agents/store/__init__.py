"""The shared context store: documents, revisions, snapshots and audit in one SQLite file per
environment (``context/<env>/store.sqlite`` plus ``blobs/``).

The names below load on first use (PEP 562), so importing one submodule (a Claude Code hook
reads through :mod:`agents.store.base`) does not pay for pydantic and the schema validator.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agents.store.config import StoreSettings, open_store
    from agents.store.envelope import Envelope
    from agents.store.location import store_dir
    from agents.store.schemas import KINDS, InvalidDocumentError
    from agents.store.store import ContextStore, DocInfo, Revision

__all__ = [
    "KINDS",
    "ContextStore",
    "DocInfo",
    "Envelope",
    "InvalidDocumentError",
    "Revision",
    "StoreSettings",
    "open_store",
    "store_dir",
]

_HOMES = {
    "KINDS": "schemas",
    "InvalidDocumentError": "schemas",
    "ContextStore": "store",
    "DocInfo": "store",
    "Revision": "store",
    "Envelope": "envelope",
    "StoreSettings": "config",
    "open_store": "config",
    "store_dir": "location",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'agents.store' has no attribute {name!r}")
    return getattr(importlib.import_module(f"agents.store.{home}"), name)
