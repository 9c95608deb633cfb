"""The trusted set (agents.sync.trust.compute) as a guard: for any decisions, signed or forged,
a machine is trusted only through a chain of valid decisions from this machine, with the key
those decisions name; forged decisions change nothing; the latest decision wins."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pytest_mock import MockerFixture

from agents.core.errors import InputError, NotFoundError
from agents.store.identity import Identity, fingerprint
from agents.store.store import ContextStore
from agents.sync import trust
from agents.sync.trust import (
    KIND,
    PURPOSE,
    compute,
    decide,
    known_key,
    machines,
    note_seen,
    trusted_set,
)

NAMES = ["me", "m1", "m2", "m3", "m4"]
KEYS = {n: Identity.generate() for n in [*NAMES, "attacker"]}


def decision(
    decider: str, subject: str, trusted: bool, at: int, signer: str, key: str = ""
) -> dict[str, Any]:
    body = {
        "machine_id": subject,
        "signing_key": key or KEYS[subject].public_key,
        "trusted": trusted,
        "decided_by": decider,
        "decided_at": f"2026-01-01T00:00:{at:02d}Z",
    }
    return KEYS[signer].sign(PURPOSE, body)


decisions = st.lists(
    st.tuples(
        st.sampled_from(NAMES),
        st.sampled_from(NAMES),
        st.booleans(),
        st.integers(0, 59),
        st.booleans(),  # forged: signed by the attacker instead of the decider
    ),
    max_size=12,
)


def build(spec: list[tuple[str, str, bool, int, bool]]) -> list[dict[str, Any]]:
    return [
        decision(d, s, t, at, "attacker" if forged else d) for d, s, t, at, forged in spec if d != s
    ]


@settings(max_examples=150, deadline=None)
@given(decisions)
def test_every_trusted_machine_has_a_valid_decision_by_a_trusted_machine(spec: Any) -> None:
    made = build(spec)
    trust = compute("me", KEYS["me"].public_key, made)
    assert trust.keys["me"] == KEYS["me"].public_key
    for machine, key in trust.keys.items():
        if machine == "me":
            continue
        assert key == KEYS[machine].public_key
        assert any(
            d["machine_id"] == machine
            and d["trusted"]
            and d["decided_by"] in trust.keys
            and not forged
            for d, (_, _, _, _, forged) in zip(made, [x for x in spec if x[0] != x[1]], strict=True)
        )


@settings(max_examples=150, deadline=None)
@given(decisions)
def test_forged_decisions_change_nothing(spec: Any) -> None:
    honest = [x for x in spec if not x[4]]
    with_forged = compute("me", KEYS["me"].public_key, build(spec))
    without = compute("me", KEYS["me"].public_key, build(honest))
    assert with_forged == without


def test_the_latest_decision_wins_and_a_revocation_wins_a_tie() -> None:
    own = KEYS["me"].public_key
    trusted = decision("me", "m1", True, 1, "me")
    revoked = decision("me", "m1", False, 2, "me")
    assert compute("me", own, [trusted, revoked]).keys == {"me": own}
    again = decision("me", "m1", True, 3, "me")
    assert compute("me", own, [trusted, revoked, again]).trusts("m1")
    tie = decision("me", "m1", False, 3, "me")
    assert not compute("me", own, [again, tie]).trusts("m1")
    # newest first, as the store lists them: the same answers
    assert compute("me", own, [revoked, trusted]).keys == {"me": own}
    assert compute("me", own, [again, revoked, trusted]).trusts("m1")
    assert not compute("me", own, [tie, again]).trusts("m1")


def test_decisions_of_the_same_time_that_name_different_keys_trust_neither() -> None:
    """Two trusted machines vouching at the same instant for two keys of one machine: which
    one a machine read first must not decide, or two machines would trust different keys;
    neither is trusted until a later decision settles it. Agreeing decisions still count."""
    own = KEYS["me"].public_key
    chain = [decision("me", "m1", True, 1, "me"), decision("me", "m2", True, 1, "me")]
    theirs = decision("m1", "m3", True, 5, "m1")
    other = decision("m2", "m3", True, 5, "m2", key=KEYS["attacker"].public_key)
    for order in ([theirs, other], [other, theirs]):
        assert not compute("me", own, [*chain, *order]).trusts("m3")
    agreed = decision("m2", "m3", True, 5, "m2")
    assert compute("me", own, [*chain, theirs, agreed]).trusts("m3", KEYS["m3"].public_key)
    settled = decision("me", "m3", True, 6, "me")
    assert compute("me", own, [*chain, theirs, other, settled]).trusts("m3", KEYS["m3"].public_key)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(NAMES[:3]),
            st.sampled_from(NAMES[1:4]),
            st.booleans(),
            st.integers(0, 1),
            st.booleans(),
        ),
        max_size=12,
    ),
    st.randoms(use_true_random=False),
)
def test_the_order_decisions_are_read_in_changes_nothing_when_they_name_other_keys(
    spec: Any, rnd: Any
) -> None:
    """As above, among few machines and times, some decisions naming a second key of their
    subject: ties between different keys are common, and still every order agrees."""
    made = [
        decision(d, s, t, at, d, key=KEYS["attacker"].public_key if other else "")
        for d, s, t, at, other in spec
        if d != s
    ]
    own = KEYS["me"].public_key
    expected = compute("me", own, made)
    assert compute("me", own, made[::-1]) == expected
    assert compute("me", own, rnd.sample(made, len(made))) == expected


def test_a_cycle_of_decisions_that_undo_each_other_settles_on_the_machines_still_supported(
    mocker: MockerFixture,
) -> None:
    """m4, trusted only through m3, revokes m3 later than m2 trusted it: trusting m3 untrusts
    it, so no round settles. The set shrinks step by step (here two) to the members the rest
    still supports, never growing: me, m1 and m2. It settles: a pull never hangs on it."""
    real_round, rounds = trust._round, list[int]()

    def counted(*args: Any) -> dict[str, str]:
        rounds.append(len(rounds))
        assert len(rounds) <= trust._ROUNDS + 10, "the trusted set never settles"
        return real_round(*args)

    mocker.patch("agents.sync.trust._round", side_effect=counted)
    own = KEYS["me"].public_key
    made = [
        decision("me", "m1", True, 1, "me"),
        decision("m1", "m2", True, 2, "m1"),
        decision("m2", "m3", True, 3, "m2"),
        decision("m3", "m4", True, 4, "m3"),
        decision("m4", "m3", False, 5, "m4"),
    ]
    trusted = compute("me", own, made)
    assert trusted.keys == {m: KEYS[m].public_key for m in ("me", "m1", "m2")}
    assert len(rounds) == trust._ROUNDS + 3  # two rounds that shrink it, one that settles


@settings(max_examples=150, deadline=None)
@given(decisions, st.randoms(use_true_random=False))
def test_the_order_decisions_are_read_in_changes_nothing(spec: Any, rnd: Any) -> None:
    """The store lists decisions newest first, a remote in any order: the trusted set is the
    same for every order."""
    made = build(spec)
    shuffled = rnd.sample(made, len(made))
    own = KEYS["me"].public_key
    assert compute("me", own, shuffled) == compute("me", own, made)


def test_no_decision_changes_the_key_this_machine_trusts_itself_with() -> None:
    """A trusted machine's decision naming another key for this machine (a machine gone bad,
    vouching for an impostor) leaves this machine trusted with its own key only."""
    own = KEYS["me"].public_key
    impostor = decision("m1", "me", True, 9, "m1", key=KEYS["attacker"].public_key)
    trust = compute("me", own, [decision("me", "m1", True, 1, "me"), impostor])
    assert trust.keys["me"] == own and trust.trusts("m1")


def test_trust_reaches_through_trusted_machines_and_stops_at_revoked_ones() -> None:
    own = KEYS["me"].public_key
    chain = [decision("me", "m1", True, 1, "me"), decision("m1", "m2", True, 2, "m1")]
    assert set(compute("me", own, chain).keys) == {"me", "m1", "m2"}
    revoked = [*chain, decision("me", "m1", False, 3, "me")]
    assert set(compute("me", own, revoked).keys) == {"me"}
    about_me = [decision("m1", "me", False, 9, "m1"), *chain]
    assert compute("me", own, about_me).trusts("me", own)


def test_every_decision_in_the_store_counts_however_many_machines_were_trusted(
    tmp_path: Path,
) -> None:
    """Sixty machines trusted one after another all stay trusted: an old decision is never
    dropped from the trusted set for being old."""
    with ContextStore(tmp_path / "me", machine_id="me", actor="cli") as store:
        keys = {f"m{i:02d}": Identity.generate().public_key for i in range(60)}
        for machine, key in keys.items():
            decide(store, machine, key, trusted=True)
        trust = trusted_set(store)
        assert all(trust.trusts(machine, key) for machine, key in keys.items())


def test_machines_list_shows_trust_with_the_key_each_machine_presents(tmp_path: Path) -> None:
    """`agents machines list`: a machine trusted but never seen shows its trusted key; one
    whose head presents another key than the trusted one is shown untrusted, with the key it
    presents; a revoked machine never seen has no key; this machine is marked as such."""
    k1, k2, k3 = (Identity.generate().public_key for _ in range(3))
    with ContextStore(tmp_path / "me", machine_id="me", actor="cli") as store:
        decide(store, "quiet", k1, trusted=True)
        decide(store, "swapped", k2, trusted=True)
        note_seen(store, "swapped", k3, "2026-12-01T00:00:00Z")
        decide(store, "gone", k1, trusted=False)
        rows = {r.id: r.as_dict() for r in machines(store)}
    assert set(rows) == {"me", "quiet", "swapped", "gone"}
    assert rows["quiet"] == {
        "id": "quiet",
        "fingerprint": fingerprint(k1),
        "trusted": True,
        "this": False,
        "last_seen": None,
    }
    assert rows["swapped"] == {
        "id": "swapped",
        "fingerprint": fingerprint(k3),
        "trusted": False,
        "this": False,
        "last_seen": "2026-12-01T00:00:00Z",
    }
    assert rows["gone"]["fingerprint"] is None and rows["gone"]["trusted"] is False
    assert rows["me"]["this"] and rows["me"]["trusted"]


def test_a_decision_about_this_machine_is_refused_saying_it_always_trusts_itself(
    tmp_path: Path,
) -> None:
    with ContextStore(tmp_path / "me", machine_id="me", actor="cli") as store:
        with pytest.raises(InputError, match="me is this machine: a machine always trusts"):
            decide(store, "me", Identity.generate().public_key, trusted=False)
        assert trusted_set(store).trusts("me")


def test_a_machine_not_seen_here_presents_the_key_its_latest_decision_names(
    tmp_path: Path,
) -> None:
    """`agents machines trust` and `revoke` of a machine whose head was never seen here take
    the key of the decision about it decided last (not the one written here last), never a
    key named for another machine; once its head is seen, the key it presented wins; a
    machine neither seen nor named is not found, and the error says how to find it."""
    with ContextStore(tmp_path / "me", machine_id="me", actor="cli") as store:
        for body in (
            decision("m1", "m2", True, 30, "m1"),  # the latest about m2, written first
            decision("m3", "m2", True, 10, "m3", key=KEYS["m4"].public_key),
            decision("m1", "m3", True, 50, "m1"),  # the latest of all, about another machine
        ):
            store.put(f"machine_trust:{body['decided_by']}/{body['machine_id']}", KIND, body)
        assert known_key(store, "m2") == KEYS["m2"].public_key
        note_seen(store, "m2", KEYS["attacker"].public_key, "2026-12-01T00:00:00Z")
        assert known_key(store, "m2") == KEYS["attacker"].public_key
        with pytest.raises(NotFoundError, match=r"no machine 'm5'.*run `agents machines list`"):
            known_key(store, "m5")
