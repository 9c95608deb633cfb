"""The merge base of two heads: their nearest common ancestor held in this store."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.store.canonical import iso_ms
from agents.store.clock import Hlc
from agents.store.envelope import Envelope
from agents.store.store import ContextStore
from agents.sync.ancestry import _ancestry, find_base

DOC = "preference:theme"
T0 = 1_780_000_000_000
USER = {"level": "user", "project_id": None, "machine_id": None}


@pytest.fixture
def store(tmp_path: Path) -> ContextStore:
    return ContextStore(tmp_path / "s", machine_id="mine", actor="cli")


def revision(n: int, parents: list[str]) -> Envelope:
    """Revision ``n`` of the document, on top of ``parents``."""
    return Envelope(
        id=DOC,
        kind="preference",
        scope=USER,
        body={"key": "theme", "value": n},
        vv={"mine": n},
        parents=sorted(parents),
        origin_machine="mine",
        updated_at=iso_ms(T0 + n),
        hlc=str(Hlc(T0 + n, 0, "mine")),
    )


def hold(store: ContextStore, *envelopes: Envelope) -> None:
    with store.transaction() as conn:
        for env in envelopes:
            store.apply(conn, env, None, force=True)


def test_a_common_ancestor_no_longer_held_is_passed_over_for_the_next_one(
    store: ContextStore,
) -> None:
    """The nearest common ancestor was compacted away; the next one, held here, is the base,
    not none at all (which would send the pair to review)."""
    root = revision(1, [])
    gone = revision(2, [root.hash])  # compacted: never stored here
    other = revision(3, [root.hash])
    local = revision(4, [gone.hash, root.hash])
    remote = revision(5, [gone.hash, other.hash])
    hold(store, root, other, local, remote)
    with store.transaction() as conn:
        base = find_base(store, conn, local.hash, remote.hash, None)
    assert base is not None and base.hash == root.hash


def test_a_history_of_merges_is_walked_once_per_revision(store: ContextStore) -> None:
    """Each revision reached by two paths is listed once, nearest first."""
    tip = revision(0, [])
    chain = [tip]
    for level in range(1, 6):
        left = revision(10 * level + 1, [tip.hash])
        right = revision(10 * level + 2, [tip.hash])
        tip = revision(10 * level + 3, [left.hash, right.hash])
        chain += [left, right, tip]
    hold(store, *chain)
    with store.transaction() as conn:
        walked = list(_ancestry(conn, tip.hash))
    assert len(walked) == len(set(walked)) == len(chain)
    assert walked[0] == tip.hash and walked[-1] == chain[0].hash
