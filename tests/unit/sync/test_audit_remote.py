"""``agents context audit verify --remote`` (agents.sync.audit_remote.verify_remote) over a
folder remote: what an intact remote audit reports, and each way a chunk can be broken or
forged named once, in full, without the check stopping."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agents.store import audit
from agents.store.audit import AuditEntry
from agents.store.canonical import canonical
from agents.store.identity import Identity
from agents.store.store import ContextStore
from agents.sync.audit_remote import verify_remote
from agents.sync.dir_remote import DirRemote
from agents.sync.engine import Syncer
from agents.sync.keys import audit_key
from agents.sync.trust import identity_of

MISSING = object()


@pytest.fixture(name="mac")
def _mac(tmp_path: Path) -> Iterator[ContextStore]:
    """Machine ``mac`` with nine audit rows (three puts, each pushed)."""
    with ContextStore(tmp_path / "mac", machine_id="mac", actor="cli") as store:
        remote = DirRemote(tmp_path / "pushed")
        for n in range(3):
            store.put(f"preference:p{n}", "preference", {"key": f"p{n}", "value": n})
            Syncer(store, remote).push()
        yield store


@pytest.fixture(name="remote")
def _remote(tmp_path: Path) -> DirRemote:
    return DirRemote(tmp_path / "remote")


def rows_of(store: ContextStore) -> list[AuditEntry]:
    with store.reading() as conn:
        return audit.after(conn, 0)


def key_of(first: int, machine: str = "mac") -> str:
    return audit_key(machine, f"{first:026d}")


def publish(
    remote: DirRemote,
    store: ContextStore,
    rows: list[AuditEntry],
    *,
    lines: list[bytes] | None = None,
    signer: Identity | None = None,
    **checkpoint: Any,
) -> str:
    """Write ``rows`` as one chunk, as a push does: the rows' lines (or ``lines`` instead),
    then the checkpoint of those bytes signed by ``store``'s key (or ``signer``), with
    ``checkpoint`` members changed before signing."""
    body = b"".join(line + b"\n" for line in lines or [canonical(r.as_dict()) for r in rows])
    identity = identity_of(store)
    signed = audit.checkpoint(identity, rows, body)
    signed = (signer or identity).sign(audit.CHECKPOINT, {**signed, **checkpoint})
    key = key_of(rows[0].seq)
    overwrite(remote, key, body + canonical(signed) + b"\n")
    return key


def overwrite(remote: DirRemote, key: str, data: bytes) -> None:
    """What anyone who can write to the folder can do."""
    path = remote.root / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def replace_line(remote: DirRemote, key: str, index: int, data: bytes) -> None:
    """Put ``data`` in place of line ``index`` of the chunk at ``key`` (nothing re-signed)."""
    lines = remote.get(key).data.splitlines()  # type: ignore[union-attr]
    lines[index] = data
    overwrite(remote, key, b"\n".join(lines) + b"\n")


def line(row: dict[str, Any]) -> bytes:
    return json.dumps(row).encode()


def rechained(rows: list[AuditEntry], prev: str) -> list[AuditEntry]:
    """``rows`` linked from ``prev`` instead, each hash recomputed (what a key holder can do)."""
    out = []
    for row in rows:
        entry = AuditEntry(**{**row.__dict__, "prev_hash": prev})
        entry.entry_hash = prev = audit.entry_hash_of(entry.as_dict())
        out.append(entry)
    return out


def test_an_intact_remote_audit_is_counted_and_an_untrusted_machines_chunks_only_named(
    mac: ContextStore, remote: DirRemote
) -> None:
    """Every chunk and row of the trusted machine is counted; another machine's chunks
    (``bob``, listed first) are named as not checked, and the check goes on past them."""
    rows = rows_of(mac)
    for chunk in (rows[:3], rows[3:6], rows[6:]):
        publish(remote, mac, chunk)
    overwrite(remote, key_of(1, "bob"), remote.get(key_of(1)).data)  # type: ignore[union-attr]
    report = verify_remote(mac, remote)
    assert report.as_dict() == {
        "ok": True,
        "chunks": 3,
        "rows": 9,
        "machines": ["mac"],
        "untrusted": ["bob"],
        "problems": [],
    }


def test_what_a_push_uploads_verifies(mac: ContextStore, tmp_path: Path) -> None:
    """The chunks :func:`upload_audit` wrote in the fixture, three pushes of three rows."""
    report = verify_remote(mac, DirRemote(tmp_path / "pushed"))
    assert (report.ok, report.chunks, report.rows) == (True, 3, 9)


@pytest.mark.parametrize("position", [0, 1], ids=["first", "second"])
@pytest.mark.parametrize(
    "damage",
    [b"", b"not json\n", b"[]\n", b'{"format": "something else"}\n'],
    ids=["empty", "not-json", "an-array", "not-a-checkpoint"],
)
def test_a_chunk_without_a_signed_checkpoint_is_named_and_the_next_is_checked_alone(
    mac: ContextStore, remote: DirRemote, damage: bytes, position: int
) -> None:
    """An empty, truncated or foreign last line: one problem; the chunk after it, which
    starts right after it, is not compared with a checkpoint that was never read."""
    rows = rows_of(mac)
    keys = [publish(remote, mac, chunk) for chunk in (rows[:1], rows[1:3], rows[3:6])]
    overwrite(remote, keys[position], damage)
    report = verify_remote(mac, remote)
    assert report.problems == [
        f"{keys[position]}: no signed checkpoint (unsigned or truncated chunk)"
    ]
    assert (report.chunks, report.rows) == (3, [5, 4][position])


@pytest.mark.parametrize(
    ("broken", "problem"),
    [
        ({"signer": Identity.generate()}, "its checkpoint is not signed by the machine's key"),
        ({"lines": [b"{not json"]}, "a row is not JSON"),
    ],
    ids=["another-key", "a-row-not-json"],
)
def test_a_chunk_signed_by_another_key_or_with_a_row_not_json_is_named_and_the_next_alone(
    mac: ContextStore, remote: DirRemote, broken: dict[str, Any], problem: str
) -> None:
    """The chunk after it, which starts right after it, is not compared with it."""
    rows = rows_of(mac)
    first = publish(remote, mac, rows[:1], **broken)
    publish(remote, mac, rows[1:3])
    assert verify_remote(mac, remote).problems == [f"{first}: {problem}"]


def test_rows_out_of_order_are_named_each_with_the_row_it_follows(
    mac: ContextStore, remote: DirRemote
) -> None:
    """Rows 4, 6, 5 under a checkpoint of exactly those bytes (signed: only the order is
    wrong)."""
    rows = rows_of(mac)
    publish(remote, mac, rows[:3])
    a, b, c = (canonical(r.as_dict()) for r in rows[3:6])
    key = publish(remote, mac, rows[3:6], lines=[a, c, b])
    report = verify_remote(mac, remote)
    assert report.problems == [
        f"{key}: row 6 does not follow row 4",
        f"{key}: row 5 does not follow row 6",
        f"{key}: the rows end elsewhere than the signed checkpoint says",
    ]
    assert report.rows == 6


def test_a_row_relinked_with_its_hash_recomputed_is_named_twice(
    mac: ContextStore, remote: DirRemote
) -> None:
    """Whoever holds the folder changes row 5's link and its hash: the checkpoint no longer
    matches, row 5 no longer follows row 4, and row 6 no longer follows row 5."""
    rows = rows_of(mac)
    publish(remote, mac, rows[:3])
    key = publish(remote, mac, rows[3:6])
    forged = {**rows[4].as_dict(), "prev_hash": audit.GENESIS}
    forged["entry_hash"] = audit.entry_hash_of(forged)
    replace_line(remote, key, 1, line(forged))
    assert verify_remote(mac, remote).problems == [
        f"{key}: its rows are not the rows the checkpoint signed",
        f"{key}: row 5 does not follow row 4",
        f"{key}: row 6 does not follow row 5",
    ]


def test_a_row_edited_in_place_is_named_by_its_seq(mac: ContextStore, remote: DirRemote) -> None:
    rows = rows_of(mac)
    key = publish(remote, mac, rows[:3])
    edited = {**rows[1].as_dict(), "actor": "someone-else"}
    replace_line(remote, key, 1, line(edited))
    assert verify_remote(mac, remote).problems == [
        f"{key}: its rows are not the rows the checkpoint signed",
        f"{key}: row 2 was edited",
    ]


def test_a_chunk_that_does_not_link_to_the_chunk_before_it_is_named(
    mac: ContextStore, remote: DirRemote
) -> None:
    """Rows 4-6 re-chained from elsewhere and signed that way (what the machine's key can
    do): each chunk holds together, but the second does not continue the first."""
    rows = rows_of(mac)
    publish(remote, mac, rows[:3])
    key = publish(remote, mac, rechained(rows[3:6], audit.GENESIS))
    publish(remote, mac, rows[6:])
    assert verify_remote(mac, remote).problems == [
        f"{key}: does not link to the chunk before it",
        f"{key_of(7)}: does not link to the chunk before it",
    ]


def test_a_remote_whose_first_chunks_are_gone_verifies_from_the_first_one_left(
    mac: ContextStore, remote: DirRemote
) -> None:
    """Nothing links the earliest chunk left to rows no longer there."""
    rows = rows_of(mac)
    publish(remote, mac, rows[3:6])
    publish(remote, mac, rows[6:])
    report = verify_remote(mac, remote)
    assert (report.problems, report.chunks, report.rows) == ([], 2, 6)


def test_a_chunk_listed_but_unreadable_is_named_and_the_next_chunk_checked(
    mac: ContextStore, remote: DirRemote
) -> None:
    """A chunk over the remote's size limit is left unread: named, and the chunks after it
    are checked."""
    rows = rows_of(mac)
    first = publish(remote, mac, rows[:3])
    publish(remote, mac, rows[3:4])
    remote.max_bytes = len(remote.get(key_of(4)).data)  # type: ignore[union-attr]
    report = verify_remote(mac, remote)
    assert report.problems == [f"{first}: listed but cannot be read"]
    assert (report.chunks, report.rows) == (1, 1)


def test_the_check_stops_after_the_limit_of_problems_and_says_so(
    mac: ContextStore, remote: DirRemote
) -> None:
    """50 problems by default; the line saying so is the last."""
    keys = [key_of(n) for n in range(1, 61)]
    for key in keys:
        overwrite(remote, key, b"")
    problem = "{}: no signed checkpoint (unsigned or truncated chunk)"
    stop = "… stopped after too many problems"
    assert verify_remote(mac, remote, max_problems=3).problems == [
        *(problem.format(k) for k in keys[:3]),
        stop,
    ]
    assert verify_remote(mac, remote).problems == [*(problem.format(k) for k in keys[:50]), stop]


@pytest.mark.parametrize(
    ("hostile", "problem"),
    [
        (b"[]", "a row is not a JSON object"),
        (b"7", "a row is not a JSON object"),
        (b"[" * 100_000, "a row is not JSON"),
    ],
    ids=["an-array", "a-number", "nested-too-deep"],
)
def test_a_row_no_machine_wrote_is_named_and_the_check_goes_on(
    mac: ContextStore, remote: DirRemote, hostile: bytes, problem: str
) -> None:
    """Whoever holds the folder puts something else in place of row 2: named (it crashed
    the check before), and the chunk after it is checked."""
    rows = rows_of(mac)
    key = publish(remote, mac, rows[:3])
    publish(remote, mac, rows[3:6])
    replace_line(remote, key, 1, hostile)
    report = verify_remote(mac, remote)
    assert report.problems == [
        f"{key}: its rows are not the rows the checkpoint signed",
        f"{key}: {problem}",
    ]
    assert (report.chunks, report.rows) == (2, 4)


@pytest.mark.parametrize("seq", [MISSING, None, [2], "2", 2.5])
def test_a_row_without_an_integer_seq_is_named_and_the_rows_after_it_still_follow(
    mac: ContextStore, remote: DirRemote, seq: Any
) -> None:
    """Row 2's ``seq`` removed, or made another type: named (``null`` and a list crashed the
    check before); row 2 is taken as the row it should be, so row 3 follows it."""
    rows = rows_of(mac)
    key = publish(remote, mac, rows[:3])
    forged = {k: v for k, v in rows[1].as_dict().items() if k != "seq"}
    if seq is not MISSING:
        forged["seq"] = seq
    replace_line(remote, key, 1, line(forged))
    shown = None if seq is MISSING else seq
    assert verify_remote(mac, remote).problems == [
        f"{key}: its rows are not the rows the checkpoint signed",
        f"{key}: row {shown} does not follow row 1",
        f"{key}: row {shown} was edited",
    ]


def test_a_checkpoint_nested_too_deep_is_named_not_a_crash(
    mac: ContextStore, remote: DirRemote
) -> None:
    rows = rows_of(mac)
    key = publish(remote, mac, rows[:3])
    replace_line(remote, key, -1, b"[" * 100_000)
    assert verify_remote(mac, remote).problems == [
        f"{key}: no signed checkpoint (unsigned or truncated chunk)"
    ]


def test_files_under_audit_that_are_no_chunk_are_named_after_the_chunks_are_checked(
    mac: ContextStore, remote: DirRemote
) -> None:
    """A file outside the key layout, and one named by a ULID rather than the first seq a
    push names its chunk by: each named (they stopped the whole check before)."""
    rows = rows_of(mac)
    publish(remote, mac, rows[:3])
    publish(remote, mac, rows[3:6])
    strays = [f"audit/mac/{'01ARZ3NDEKTSV4RRFFQ69G5FAV'}.jsonl", "audit/notes.txt"]
    for stray in strays:
        overwrite(remote, stray, b"{}\n")
    report = verify_remote(mac, remote)
    assert report.problems == [
        f"{k}: not an audit chunk (a name outside the key layout)" for k in strays
    ]
    assert (report.chunks, report.rows) == (2, 6)
    limited = verify_remote(mac, remote, max_problems=1).problems
    assert limited == [report.problems[0], "… stopped after too many problems"]


@pytest.mark.parametrize("end", [6, 4], ids=["three-rows", "one-row"])
def test_a_chunk_removed_between_two_others_is_named(
    mac: ContextStore, remote: DirRemote, end: int
) -> None:
    """Whoever holds the folder deletes the chunk of rows 4 to ``end`` (one row, as a push
    with one new row makes, or three): the two left each check, and the rows missing between
    them are named."""
    rows = rows_of(mac)
    publish(remote, mac, rows[:3])
    publish(remote, mac, rows[3:end])
    last = publish(remote, mac, rows[end:])
    remote.delete(key_of(4))
    assert verify_remote(mac, remote).problems == [
        f"{last}: rows 4-{end} before it are not on the remote (a chunk was removed, or the "
        "machine pruned them before it pushed)"
    ]


def test_a_signed_chunk_copied_under_another_name_is_named_and_not_chained(
    mac: ContextStore, remote: DirRemote
) -> None:
    """Whoever holds the folder copies the chunk of rows 1-3 to the names of rows 0 and 4
    in place of rows 4-6: the signature holds, the name does not. Neither copy is chained:
    rows 7-9 are checked on their own, as after any chunk named broken."""
    rows = rows_of(mac)
    first = publish(remote, mac, rows[:3])
    publish(remote, mac, rows[3:6])
    publish(remote, mac, rows[6:])
    data = remote.get(first).data  # type: ignore[union-attr]
    overwrite(remote, key_of(0), data)
    overwrite(remote, key_of(4), data)
    assert verify_remote(mac, remote).problems == [
        f"{key_of(0)}: its checkpoint signs rows from 1, not from 0 as its name says (a chunk "
        "copied under another name)",
        f"{key_of(4)}: its checkpoint signs rows from 1, not from 4 as its name says (a chunk "
        "copied under another name)",
    ]
    assert verify_remote(mac, remote).rows == 3 + 3


def test_files_outside_the_layout_share_the_limit_with_the_problems_named_before_them(
    mac: ContextStore, remote: DirRemote
) -> None:
    """A broken chunk and two stray files: with room for all three no stop line; with room
    for two, the second stray is left out and the stop line says so."""
    publish(remote, mac, rows_of(mac)[:3])
    overwrite(remote, key_of(4), b"")
    strays = ["audit/mac/notes.txt", "audit/notes.txt"]
    for stray in strays:
        overwrite(remote, stray, b"{}\n")
    broken = f"{key_of(4)}: no signed checkpoint (unsigned or truncated chunk)"
    named = [f"{k}: not an audit chunk (a name outside the key layout)" for k in strays]
    assert verify_remote(mac, remote, max_problems=3).problems == [broken, *named]
    assert verify_remote(mac, remote, max_problems=2).problems == [
        broken,
        named[0],
        "… stopped after too many problems",
    ]
