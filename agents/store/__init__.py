"""The shared context store: documents, revisions, snapshots and audit in one SQLite file per
environment (``context/<env>/store.sqlite`` plus ``blobs/``)."""

from agents.store.config import StoreSettings, open_store, store_dir
from agents.store.envelope import Envelope
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
