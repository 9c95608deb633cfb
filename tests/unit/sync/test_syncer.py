"""The Syncer around push and status (agents/sync/engine.py), against a folder remote: a head
that keeps moving, documents gone here, heads signed by a key this machine does not trust."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agents.store.canonical import canonical, now_iso, ulid
from agents.store.identity import Identity, fingerprint
from agents.store.maintenance import compact
from agents.store.store import ContextStore
from agents.sync.dir_remote import DirRemote
from agents.sync.engine import Syncer
from agents.sync.keys import head_key, snapshot_key
from agents.sync.remote import CasConflict, RemoteError
from agents.sync.state import read_heads
from tests.integration.sync.machines import output, pref, trust_siblings


@pytest.fixture(name="remote")
def _remote(tmp_path: Path) -> DirRemote:
    return DirRemote(tmp_path / "remote")


@pytest.fixture(name="stores")
def _stores(tmp_path: Path) -> Iterator[tuple[ContextStore, ContextStore]]:
    with (
        ContextStore(tmp_path / "stores" / "a", machine_id="a", actor="cli") as a,
        ContextStore(tmp_path / "stores" / "b", machine_id="b", actor="cli") as b,
    ):
        yield a, b


def test_a_push_whose_head_keeps_moving_gives_up_after_three_tries_saying_why(
    stores: tuple[ContextStore, ContextStore], remote: DirRemote, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, _ = stores
    a.put("preference:x", "preference", pref(1, "x"))
    tries: list[str | None] = []
    real = remote.cas

    def moved(key: str, data: bytes, expected_etag: str | None) -> str:
        if key != head_key("a"):
            return real(key, data, expected_etag)
        tries.append(expected_etag)  # another copy of this store moved it first, each time
        raise CasConflict(key, "elsewhere", expected_etag)

    monkeypatch.setattr(remote, "cas", moved)
    with pytest.raises(RemoteError) as failed:
        Syncer(a, remote).push()
    assert str(failed.value) == (
        f"{remote.display_url}: heads/a.json keeps moving under this push; is another store "
        "with the same machine id syncing to this remote?"
    )
    assert len(tries) == 3


def test_status_counts_documents_pushed_and_gone_here_as_unpushed(
    stores: tuple[ContextStore, ContextStore], remote: DirRemote
) -> None:
    a, _ = stores
    a.put("agent_output:01JOLD0000000000000000000X", "agent_output", output())
    a.put("preference:x", "preference", pref(1, "x"))
    Syncer(a, remote).push()
    assert Syncer(a, remote).status()["unpushed"] == 0
    gone = compact(a, 0)  # the output and the push's own sync record
    assert (gone.outputs, gone.records) == (1, 1)
    assert Syncer(a, remote).status()["unpushed"] == 2


def test_status_shows_a_head_signed_by_another_key_or_none_as_pending_and_untrusted(
    stores: tuple[ContextStore, ContextStore], remote: DirRemote
) -> None:
    """b trusts a's key. a's head re-signed by another key (a forger's, or a's new key not
    yet trusted here) is pending with that key's fingerprint; an unsigned head with none."""
    a, b = stores
    a.put("preference:x", "preference", pref(1, "x"))
    Syncer(a, remote).push()
    trust_siblings(b)
    head = read_heads(remote)["a"]
    other = Identity.generate()
    remote.cas(head_key("a"), head.to_bytes(other), head.etag)
    unsigned = {
        "format": "ctx-head/1",
        "machine": "u",
        "snapshot": snapshot_key("u", ulid()),
        "seq": 1,
        "updated_at": now_iso(),
        "documents": 0,
    }
    remote.cas(head_key("u"), canonical(unsigned), None)
    status = Syncer(b, remote).status()
    assert status["pending"] == [
        {"machine": "a", "fingerprint": fingerprint(other.public_key)},
        {"machine": "u", "fingerprint": None},
    ]
    assert [(m["machine"], m["trusted"]) for m in status["machines"]] == [
        ("a", False),
        ("u", False),
    ]
    assert status["behind"] == []
