"""Machine trust through a real remote (a folder and a bare git repository): a new machine
joins, is trusted, gets secrets, is revoked and loses them; and an attacker who can write
to the remote forges heads, snapshots, documents, machine keys and audit rows. The victim's
store stays intact, the bad data is reported, and it keeps syncing with its trusted machines.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agents.claude.bridge import vault_of
from agents.claude.sharing import (
    publish_key,
    receive_secrets,
    recipients,
    reseal,
    share_secrets,
)
from agents.store import audit
from agents.store.canonical import canonical, now_iso, sha256_of
from agents.store.envelope import Envelope, scope_for
from agents.store.identity import Identity, fingerprint
from agents.store.store import ContextStore
from agents.sync.audit_remote import verify_remote
from agents.sync.engine import Syncer
from agents.sync.keys import head_key, object_key, snapshot_key
from agents.sync.state import HEAD_FORMAT, SNAPSHOT_FORMAT, read_heads
from agents.sync.trust import decide, identity_of, machines, trusted_set
from tests.integration.sync.conftest import make_target
from tests.integration.sync.machines import pref
from tests.integration.sync.workers import Target

pytestmark = pytest.mark.integration


@pytest.fixture(name="target", params=["dir", "git"])
def _target(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Target:
    return make_target(request.param, request, tmp_path_factory)


def store(target: Target, name: str) -> ContextStore:
    return ContextStore(Path(target.scratch, "own", name), machine_id=name, actor="cli")


def run(target: Target, s: ContextStore, operation: str = "sync") -> Any:
    with target.open(s.machine_id) as remote:
        return getattr(Syncer(s, remote), operation)()


def introduce(target: Target, s: ContextStore, other: str) -> None:
    """``agents machines trust OTHER`` on ``s``: its key as its head on the remote presents."""
    with target.open(s.machine_id) as remote:
        key = read_heads(remote)[other].signing_key
    assert key is not None
    decide(s, other, key, trusted=True)


def value(s: ContextStore, doc: str) -> Any:
    return s.get(doc).body["value"] if s.head_info(doc) else None


@pytest.fixture(name="three")
def _three(target: Target) -> Iterator[tuple[ContextStore, ContextStore, ContextStore]]:
    a, b, c = store(target, "a"), store(target, "b"), store(target, "c")
    with a, b, c:
        yield a, b, c


def test_three_machines_join_trust_revoke_and_reseal(
    target: Target, three: tuple[ContextStore, ContextStore, ContextStore]
) -> None:
    a, b, c = three
    # a and b: one person's machines, trusted both ways; a holds a secret
    vault_of(a).set("claude-code/env/API_TOKEN", "tok-1234567890")
    publish_key(a, vault_of(a))
    run(target, a)
    run(target, b)
    introduce(target, a, "b")
    introduce(target, b, "a")
    a.put("preference:shared", "preference", pref(1, "shared"))
    b.put("preference:from-b", "preference", pref(2, "from-b"))
    run(target, a)
    run(target, b)
    run(target, a)
    assert value(b, "preference:shared") == 1 and value(a, "preference:from-b") == 2

    # c joins (`agents restore --trust a`): it learns b from a's decision
    c.put("preference:from-c", "preference", pref(3, "from-c"))
    run(target, c)  # publishes c's head; trusts nobody yet, so pulls nothing
    assert value(c, "preference:shared") is None
    introduce(target, c, "a")
    run(target, c)
    assert value(c, "preference:shared") == 1 and value(c, "preference:from-b") == 2
    publish_key(c, vault_of(c))
    run(target, c)

    # a sees c pending: nothing of it merged, no secret sealed to it
    report = run(target, a).pull
    assert "c" in report.pending and value(a, "preference:from-c") is None
    rows = {r.id: r for r in machines(a)}
    assert not rows["c"].trusted and rows["c"].fingerprint == identity_of(c).fingerprint
    assert [r.machine for r in recipients(a)[0]] == ["a"]

    # `agents machines trust c` on a: merged, sealed to, and b follows a's decision
    introduce(target, a, "c")
    run(target, a)
    assert value(a, "preference:from-c") == 3
    shared = share_secrets(a, vault_of(a))
    assert [r["id"] for r in shared["recipients"]] == ["a", "c"]  # b published no age key
    run(target, a)
    run(target, c)
    assert receive_secrets(c, vault_of(c))["added"] == ["claude-code/env/API_TOKEN"]
    run(target, b)
    assert trusted_set(b).trusts("c") and value(b, "preference:from-c") == 3
    vault_of(b).set("claude-code/env/B_TOKEN", "b-secret-123456")
    assert [r["id"] for r in share_secrets(b, vault_of(b))["recipients"]] == ["a", "b", "c"]

    # `agents machines revoke c` on a: re-sealed without c; nobody merges c any more
    decide(a, "c", identity_of(c).public_key, trusted=False)
    resealed = share_secrets(a, vault_of(a))
    assert [r["id"] for r in resealed["recipients"]] == ["a"]
    assert "c" in resealed["left_out"]
    run(target, a)
    c.put("preference:from-c", "preference", pref(4, "from-c"))
    run(target, c)
    run(target, b)
    run(target, a)
    assert not trusted_set(b).trusts("c")
    again = reseal(b, vault_of(b))  # what `agents sync` does after a pull
    assert again is not None and [r["id"] for r in again["recipients"]] == ["a", "b"]
    assert reseal(b, vault_of(b)) is None
    assert value(a, "preference:from-c") == 3 and value(b, "preference:from-c") == 3
    bundle = a.get("secrets_bundle:a").body
    c_key = c.get("machine_key:c").body["recipient"]
    assert c_key not in bundle["recipients"]
    assert "c" in run(target, b).pull.pending


# --- an attacker with write access to the remote ----------------------------------------------

EVIL = Identity.generate()


def _write(target: Target, key: str, data: bytes, *, mutable: bool = False) -> None:
    with target.open("evil") as remote, remote.batch():
        if mutable:
            current = remote.get(key)
            remote.cas(key, data, current.etag if current else None)
        else:
            remote.put_many([(key, data)])


def _forged_snapshot(machine: str, docs: dict[str, str], signer: Identity) -> tuple[str, bytes]:
    key = snapshot_key(machine, "01J00000000000000000000001")
    body = {
        "format": SNAPSHOT_FORMAT,
        "machine": machine,
        "seq": 99,
        "parent": None,
        "created_at": now_iso(),
        "docs": docs,
        "signing_key": signer.public_key,
    }
    return key, canonical(signer.sign(SNAPSHOT_FORMAT, body))


def _forged_head(machine: str, snapshot: str, signer: Identity, **extra: Any) -> bytes:
    body = {
        "format": HEAD_FORMAT,
        "machine": machine,
        "snapshot": snapshot,
        "seq": 99,
        "updated_at": now_iso(),
        "documents": 1,
        "signing_key": signer.public_key,
        **extra,
    }
    return canonical(signer.sign(HEAD_FORMAT, body))


def _forged_revision(doc: str, body: Any, kind: str = "preference", machine: str = "b") -> bytes:
    env = Envelope(
        id=doc,
        kind=kind,
        scope=scope_for(kind, machine),
        body=body,
        vv={machine: 50},
        parents=[],
        origin_machine=machine,
        updated_at=now_iso(),
        hlc=f"{now_iso()}/0000/{machine}",
    )
    return env.to_bytes()


@pytest.fixture(name="pair")
def _pair(target: Target) -> Iterator[tuple[ContextStore, ContextStore]]:
    """The victim (a) and its trusted friend (b), in sync."""
    a, b = store(target, "a"), store(target, "b")
    with a, b:
        a.put("preference:mine", "preference", pref("mine", "mine"))
        b.put("preference:friend", "preference", pref(1, "friend"))
        run(target, a)
        run(target, b)
        introduce(target, a, "b")
        introduce(target, b, "a")
        run(target, a)
        run(target, b)
        run(target, a)
        assert value(a, "preference:friend") == 1
        yield a, b


def _friend_still_syncs(target: Target, a: ContextStore, b: ContextStore, n: int) -> None:
    b.put("preference:friend", "preference", pref(n, "friend"))
    run(target, b)  # b overwrites a clobbered head of its own, if any
    run(target, a)
    assert value(a, "preference:friend") == n


def test_a_forged_head_of_a_trusted_machine_is_refused_and_the_victim_keeps_syncing(
    target: Target, pair: tuple[ContextStore, ContextStore]
) -> None:
    """Each forged head is set aside once, a second one too, and the friend keeps syncing."""
    a, b = pair
    raw = _forged_revision("preference:friend", pref(666, "friend"))
    before = a.heads(exclude={"sync_record"})
    snap, data = _forged_snapshot("b", {"preference:friend": sha256_of(raw)}, EVIL)
    _write(target, object_key(sha256_of(raw)), raw)
    _write(target, snap, data)
    _write(target, head_key("b"), _forged_head("b", snap, EVIL), mutable=True)
    report = run(target, a, "pull").pull
    assert value(a, "preference:friend") == 1
    assert a.heads(exclude={"sync_record"}) == before
    [q] = report.quarantined
    assert q["machine"] == "b" and "not by its trusted key" in q["reason"]
    assert fingerprint(EVIL.public_key) in q["reason"]
    # another forged head, refused for the same reason, is set aside again: new evidence
    _write(target, head_key("b"), _forged_head("b", snap, EVIL, documents=2), mutable=True)
    [again] = run(target, a, "pull").pull.quarantined
    assert (again["machine"], again["reason"]) == ("b", q["reason"])
    _friend_still_syncs(target, a, b, 2)


def test_a_head_claiming_the_trusted_key_without_its_signature_is_refused(
    target: Target, pair: tuple[ContextStore, ContextStore]
) -> None:
    a, b = pair
    with target.open("a") as remote:
        real = read_heads(remote)["b"]
    assert real.raw is not None
    forged = {**real.raw, "seq": real.seq + 5, "documents": 0}  # the old signature, new fields
    _write(target, head_key("b"), canonical(forged), mutable=True)
    report = run(target, a, "pull").pull
    assert any("bad signature" in q["reason"] for q in report.quarantined)
    _friend_still_syncs(target, a, b, 3)


def test_an_overwritten_snapshot_of_a_trusted_machine_is_refused(
    target: Target, pair: tuple[ContextStore, ContextStore]
) -> None:
    """The attacker swaps a document's revision in the friend's newest snapshot, keeping the
    friend's key in it but unable to sign it."""
    a, b = pair
    b.put("preference:friend", "preference", pref(5, "friend"))
    run(target, b)
    with target.open("a") as remote:
        head = read_heads(remote)["b"]
        manifest = json.loads(remote.get(head.snapshot).data)  # type: ignore[union-attr]
    raw = _forged_revision("preference:friend", pref(666, "friend"))
    _write(target, object_key(sha256_of(raw)), raw)
    manifest["docs"]["preference:friend"] = sha256_of(raw)
    if target.backend == "dir":
        path = Path(target.url.removeprefix("dir://"), head.snapshot)
        path.chmod(0o600)
        path.write_bytes(canonical(manifest))
    else:
        with target.open("evil") as remote:  # a rewrite of the tree: two commits
            remote.delete(head.snapshot)
            remote.put_many([(head.snapshot, canonical(manifest))])
    report = run(target, a, "pull").pull
    assert value(a, "preference:friend") == 1
    assert any("not signed by b's trusted key" in q["reason"] for q in report.quarantined)
    _friend_still_syncs(target, a, b, 6)


def test_an_old_head_replayed_is_refused(
    target: Target, pair: tuple[ContextStore, ContextStore]
) -> None:
    a, b = pair
    with target.open("a") as remote:
        old = remote.get(head_key("b"))
    assert old is not None
    _friend_still_syncs(target, a, b, 7)
    _write(target, head_key("b"), old.data, mutable=True)
    report = run(target, a, "pull").pull
    assert any("old head replayed" in q["reason"] for q in report.quarantined)
    assert value(a, "preference:friend") == 7


def test_an_untrusted_machine_waits_as_pending_and_nothing_of_it_is_merged(
    target: Target, pair: tuple[ContextStore, ContextStore]
) -> None:
    """A well-signed stranger: its documents, its trust decisions and its machine key stay
    out; sync status and machines list show it with its fingerprint and when it last pushed."""
    a, b = pair
    raw = _forged_revision("preference:mine", pref("evil", "mine"), machine="evil")
    decision = EVIL.sign(
        "ctx-trust/1",
        {
            "machine_id": "evil",
            "signing_key": EVIL.public_key,
            "trusted": True,
            "decided_by": "b",
            "decided_at": now_iso(),
        },
    )
    trust_doc = _forged_revision("machine_trust:b/evil", decision, "machine_trust", "b")
    docs = {"preference:mine": sha256_of(raw), "machine_trust:b/evil": sha256_of(trust_doc)}
    snap, data = _forged_snapshot("evil", docs, EVIL)
    for blob in (raw, trust_doc):
        _write(target, object_key(sha256_of(blob)), blob)
    _write(target, snap, data)
    _write(target, head_key("evil"), _forged_head("evil", snap, EVIL), mutable=True)
    report = run(target, a).pull
    assert report.pending == {"evil": fingerprint(EVIL.public_key)}
    assert value(a, "preference:mine") == "mine" and a.head_info("machine_trust:b/evil") is None
    with target.open("a") as remote:
        status = Syncer(a, remote).status()
    assert status["pending"] == [{"machine": "evil", "fingerprint": fingerprint(EVIL.public_key)}]
    assert "evil" not in status["behind"]
    with target.open("a") as remote:
        seen = read_heads(remote)["evil"]
    row = {r.id: r for r in machines(a)}["evil"]  # as the pull noted it
    assert (row.trusted, row.fingerprint, row.last_seen) == (
        False,
        fingerprint(EVIL.public_key),
        seen.updated_at,
    )
    _friend_still_syncs(target, a, b, 8)


def test_an_unsigned_head_of_an_unknown_machine_waits_as_pending_marked_unsigned(
    target: Target, pair: tuple[ContextStore, ContextStore]
) -> None:
    """A head with no signing key (an old version, or anyone who can write to the remote)
    is listed as pending, ``unsigned``, and the pull goes on: it is not a crash."""
    a, b = pair
    head = {
        "format": HEAD_FORMAT,
        "machine": "stranger",
        "snapshot": snapshot_key("stranger", "01J00000000000000000000001"),
        "seq": 1,
        "updated_at": now_iso(),
        "documents": 0,
    }
    _write(target, head_key("stranger"), canonical(head), mutable=True)
    report = run(target, a).pull
    assert report.pending == {"stranger": "unsigned"}
    _friend_still_syncs(target, a, b, 9)


def test_a_forged_machine_key_document_receives_no_secret(
    target: Target, pair: tuple[ContextStore, ContextStore]
) -> None:
    """A machine_key:b naming the attacker's age key, even inside the victim's store (relayed
    by a buggy trusted machine), is left out: it is not signed by b's signing key."""
    a, b = pair
    vault_of(a).set("claude-code/env/API_TOKEN", "tok-1234567890")
    publish_key(b, vault_of(b))
    run(target, b)
    run(target, a)
    attacker_age = "age1" + "q" * 58
    forged = {
        "machine_id": "b",
        "recipient": attacker_age,
        "signing_key": EVIL.public_key,
    }
    a.put("machine_key:b", "machine_key", EVIL.sign("ctx-machine-key/1", forged), actor="sync")
    shared = share_secrets(a, vault_of(a))
    assert [r["id"] for r in shared["recipients"]] == ["a"]
    assert "not signed by its trusted signing key" in shared["left_out"]["b"]
    assert attacker_age not in a.get("secrets_bundle:a").body["recipients"]


def test_a_bundle_not_signed_by_a_trusted_machine_is_not_opened(
    target: Target, pair: tuple[ContextStore, ContextStore]
) -> None:
    a, b = pair
    vault_of(b).set("claude-code/env/API_TOKEN", "real-value-123456")
    publish_key(a, vault_of(a))
    run(target, a)
    run(target, b)
    share_secrets(b, vault_of(b))
    run(target, b)
    run(target, a)
    body = dict(a.get("secrets_bundle:b").body)
    body["names"] = [*body["names"], "extra"]  # any change breaks b's signature
    a.put("secrets_bundle:b", "secrets_bundle", body, actor="sync")
    got = receive_secrets(a, vault_of(a))
    assert got["refused"] == ["b"] and got["added"] == []
    assert vault_of(a).get("claude-code/env/API_TOKEN") is None


def test_rewritten_and_rechained_audit_rows_fail_verify(
    target: Target, pair: tuple[ContextStore, ContextStore]
) -> None:
    """Rows edited and every hash after them recomputed: the local chain and the remote
    chunks still link, but no longer match the checkpoints a's key signed."""
    a, _ = pair
    with a.reading() as conn:
        assert audit.verify(conn, public_key=identity_of(a).public_key).ok
    with target.open("a") as remote:
        assert verify_remote(a, remote).ok
    # locally: rewrite row 1's actor and re-chain everything after it
    db = sqlite3.connect(a.path)
    rows = db.execute("SELECT * FROM audit ORDER BY seq").fetchall()
    cols = [d[0] for d in db.execute("SELECT * FROM audit LIMIT 1").description]
    prev = audit.GENESIS
    for row in rows:
        entry = dict(zip(cols, row, strict=True))
        if entry["seq"] == 1:
            entry["actor"] = "someone-else"
        entry["prev_hash"] = prev
        entry["detail"] = json.loads(entry["detail"]) if entry["detail"] else None
        prev = audit.entry_hash_of(entry)
        db.execute(
            "UPDATE audit SET actor = ?, prev_hash = ?, entry_hash = ? WHERE seq = ?",
            (entry["actor"], entry["prev_hash"], prev, entry["seq"]),
        )
    db.execute("UPDATE meta SET value = ? WHERE key = 'audit_head'", (f"{rows[-1][0]} {prev}",))
    db.commit()
    db.close()
    with a.reading() as conn:
        local = audit.verify(conn, public_key=identity_of(a).public_key)
    assert not local.ok and any("signed checkpoint" in p for p in local.problems)
    # on the remote: rewrite a's first chunk the same way, keeping its checkpoint line
    with target.open("a") as remote:
        [first, *_] = sorted(k for k in remote.list("audit/a/"))
        lines = remote.get(first).data.splitlines()  # type: ignore[union-attr]
    prev, out = audit.GENESIS, []
    for line in lines[:-1]:
        row = json.loads(line)
        if row["seq"] == 1:
            row["actor"] = "someone-else"
        row["prev_hash"] = prev
        row["entry_hash"] = prev = audit.entry_hash_of(row)
        out.append(canonical(row))
    data = b"\n".join([*out, lines[-1]]) + b"\n"
    if target.backend == "dir":
        path = Path(target.url.removeprefix("dir://"), first)
        path.chmod(0o600)
        path.write_bytes(data)
    else:
        with target.open("evil") as remote:
            remote.delete(first)
            remote.put_many([(first, data)])
    with target.open("a") as remote:
        found = verify_remote(a, remote)
    assert not found.ok
    assert any("not the rows the checkpoint signed" in p for p in found.problems)
