"""Secrets shared between this user's machines: sealed only to trusted machines' signed age
keys, opened only from trusted machines' signed bundles, never overwriting a value this machine
already holds. Documents are relayed between stores by hand (the sync tests cover the remote)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from agents.claude.bridge import machine_for, record_path, vault_of
from agents.claude.sharing import (
    publish_key,
    receive_secrets,
    recipients,
    reseal,
    share_secrets,
)
from agents.claude.vault import MachineKey
from agents.core.errors import NotFoundError
from agents.store import audit
from agents.store.identity import fingerprint
from agents.store.store import ContextStore
from agents.sync.trust import decide, identity_of
from tests.unit.claude.conftest import alice_home, git_repo


@pytest.fixture(name="machines")
def _machines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, ContextStore]]:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    with ExitStack() as stack:
        yield {
            name: stack.enter_context(ContextStore(tmp_path / name, machine_id=name, actor="cli"))
            for name in "abcdef"
        }


def relay(src: ContextStore, dst: ContextStore, doc_id: str, *, blob: bool = True) -> None:
    """``doc_id`` (and its blob) as a sync would bring it from ``src`` to ``dst``."""
    env = src.get(doc_id)
    dst.put(doc_id, env.kind, env.body, actor="sync")
    if blob and "blob" in env.body:
        dst.blobs.put(src.blobs.get(env.body["blob"]["blob"]))


def trust(store: ContextStore, other: ContextStore) -> None:
    decide(store, other.machine_id, identity_of(other).public_key, trusted=True)


def test_a_machine_opens_only_trusted_bundles_sealed_to_it_and_keeps_its_own_values(
    machines: dict[str, ContextStore],
) -> None:
    """b and c are trusted and sealed to a; e sealed only to itself; f's blob has not
    arrived; d is not trusted though its bundle is well signed; a's own bundle is skipped.
    Each is listed before the good ones, so none stops the others being read."""
    a, b, c, d, e, f = (machines[k] for k in "abcdef")
    vault_of(a).set("X", "a-x")
    vault_of(b).update({"X": "b-x", "Y": "b-y"})
    vault_of(c).update({"X": "c-x", "Z": "c-z"})
    for other in (d, e, f):
        vault_of(other).set("W", f"{other.machine_id}-w")
    publish_key(a, vault_of(a))
    for other in (b, c, d, f):
        relay(a, other, "machine_key:a")
        trust(other, a)
    for other in (b, c, e, f):
        trust(a, other)
    for other in (b, c, d, e, f, a):
        share_secrets(other, vault_of(other))
    for other in (b, c, d, e):  # newest is listed first: the good ones come last
        relay(other, a, f"secrets_bundle:{other.machine_id}")
    relay(f, a, "secrets_bundle:f", blob=False)
    share_secrets(a, vault_of(a))
    got = receive_secrets(a, vault_of(a))
    assert got == {"added": ["Y", "Z"], "waiting": ["e", "f"], "refused": ["d"]}
    assert vault_of(a).values() == {
        "X": "a-x",
        "Y": "b-y",
        "Z": "c-z",
        **{k: v for k, v in vault_of(a).values().items() if k not in "XYZ"},
    }
    assert vault_of(a).get("W") is None


def test_a_bundle_under_another_machines_id_is_refused(
    machines: dict[str, ContextStore],
) -> None:
    a, b = machines["a"], machines["b"]
    vault_of(b).set("Y", "b-y")
    publish_key(a, vault_of(a))
    relay(a, b, "machine_key:a")
    trust(b, a)
    trust(a, b)
    share_secrets(b, vault_of(b))
    body = b.get("secrets_bundle:b").body
    a.put("secrets_bundle:c", "secrets_bundle", body, actor="sync")
    a.blobs.put(b.blobs.get(body["blob"]["blob"]))
    assert receive_secrets(a, vault_of(a))["refused"] == ["b"]
    assert vault_of(a).get("Y") is None


def test_the_machine_key_is_published_once_and_again_when_it_changes(
    machines: dict[str, ContextStore],
) -> None:
    a = machines["a"]
    vault = vault_of(a)
    first = publish_key(a, vault)
    assert publish_key(a, vault) == first == MachineKey.load_or_create(vault).recipient
    assert len(a.history("machine_key:a")) == 1
    vault.delete("age/identity")  # a new identity is made
    second = publish_key(a, vault)
    assert second != first and a.get("machine_key:a").body["recipient"] == second
    assert len(a.history("machine_key:a")) == 2
    with a.reading() as conn:
        assert {e.actor for e in audit.query(conn, doc_id="machine_key:a")} == {"cli"}


def test_a_machine_key_whose_signature_does_not_check_is_published_again(
    machines: dict[str, ContextStore],
) -> None:
    a = machines["a"]
    key = publish_key(a, vault_of(a))
    body = dict(a.get("machine_key:a").body)
    body["host"] = "elsewhere"  # breaks the signature
    a.put("machine_key:a", "machine_key", body, actor="sync")
    assert publish_key(a, vault_of(a)) == key
    assert a.get("machine_key:a").body["host"] != "elsewhere"


def test_sharing_names_each_recipient_with_its_fingerprint_and_who_was_left_out(
    machines: dict[str, ContextStore],
) -> None:
    a, b, c = machines["a"], machines["b"], machines["c"]
    vault_of(a).update({"X": "1", "Y": "2"})
    for other in (b, c):
        publish_key(other, vault_of(other))
        relay(other, a, f"machine_key:{other.machine_id}")
    trust(a, b)
    a.put("machine_key:z", "machine_key", a.get("machine_key:c").body, actor="sync")
    shared = share_secrets(a, vault_of(a))
    keys = {m.machine_id: MachineKey.load_or_create(vault_of(m)).recipient for m in (a, b)}
    assert shared == {
        "recipients": [
            {"id": m, "fingerprint": fingerprint(identity_of(s).public_key), "recipient": keys[m]}
            for m, s in (("a", a), ("b", b))
        ],
        "left_out": {
            "c": "not trusted (`agents machines trust c` first)",
            "machine_key:z": "its id names another machine",
        },
        "secrets": 2,
    }
    bundle = a.get("secrets_bundle:a").body
    assert bundle["blob"]["media_type"] == "application/age" and bundle["names"] == ["X", "Y"]
    with a.reading() as conn:
        assert {e.actor for e in audit.query(conn, doc_id="secrets_bundle:a")} == {"cli"}
    chosen, left_out = recipients(a)
    assert [r.machine for r in chosen] == ["a", "b"] and set(left_out) == {"c", "machine_key:z"}


def test_sharing_an_empty_vault_says_where_it_looked(machines: dict[str, ContextStore]) -> None:
    a = machines["a"]
    with pytest.raises(NotFoundError, match=r"no secrets in .*vault.* to share; import first"):
        share_secrets(a, vault_of(a))


def test_reseal_without_a_bundle_does_nothing(machines: dict[str, ContextStore]) -> None:
    assert reseal(machines["a"], vault_of(machines["a"])) is None


def test_the_vault_lives_in_the_stores_folder(machines: dict[str, ContextStore]) -> None:
    a = machines["a"]
    vault_of(a).set("X", "1")
    assert (a.directory / "vault").is_dir()


@pytest.mark.parametrize(
    ("pid", "name"),
    [
        ("github.com/acme/shop", "shop"),
        ("~/notes/", "notes"),
        ("gitlab.com/a/b/c", "c"),
        ("~/ProjectX", "ProjectX"),
    ],
)
def test_a_project_document_is_named_after_its_id_and_keeps_every_machines_path(
    machines: dict[str, ContextStore], pid: str, name: str
) -> None:
    a, b = machines["a"], machines["b"]
    record_path(a, pid, Path("/home/a/shop"), actor="hook")
    relay(a, b, f"project:{pid}")
    record_path(b, pid, Path("/Users/b/shop"))
    body = b.get(f"project:{pid}").body
    assert body == {"name": name, "paths": {"a": "/home/a/shop", "b": "/Users/b/shop"}}
    with a.reading() as conn:
        assert {e.actor for e in audit.query(conn, doc_id=f"project:{pid}")} == {"hook"}
    with b.reading() as conn:  # the default actor: the command line
        assert {e.actor for e in audit.query(conn, doc_id=f"project:{pid}")} == {"sync", "cli"}


def test_every_machine_key_and_bundle_is_read_not_only_the_first_fifty(
    machines: dict[str, ContextStore],
) -> None:
    """Sixty machines' documents (none trusted here): each one is reported."""
    a = machines["a"]
    vault_of(a).set("X", "1")
    share_secrets(a, vault_of(a))
    key, bundle = a.get("machine_key:a").body, a.get("secrets_bundle:a").body
    for n in range(60):
        a.put(f"machine_key:z{n}", "machine_key", {**key, "machine_id": f"z{n}"}, actor="sync")
        body = {**bundle, "machine_id": f"z{n}"}
        a.put(f"secrets_bundle:z{n}", "secrets_bundle", body, actor="sync")
    assert len(recipients(a)[1]) == 60
    assert len(receive_secrets(a, vault_of(a))["refused"]) == 60


def test_this_machines_project_paths_come_from_the_store_then_claude_code_then_its_clones(
    machines: dict[str, ContextStore], tmp_path: Path
) -> None:
    """A path the store records wins; a project Claude Code opened here is found through
    ``~/.claude.json``, one only cloned through the home; what is found is recorded; with
    ``discover=False`` nothing is looked for."""
    a = machines["a"]
    home = alice_home(tmp_path / "machine").home  # opened in Claude Code: ~/src/api
    cloned = git_repo(home / "work" / "shop", "git@github.com:Acme/Shop.git")
    kept = git_repo(home / "elsewhere" / "tools", "https://github.com/acme/tools")
    for pid in ("github.com/acme/api", "github.com/acme/shop", "github.com/acme/tools"):
        a.put(f"project:{pid}", "project", {"name": pid.rsplit("/", 1)[-1]}, actor="sync")
    record_path(a, "github.com/acme/tools", kept)
    assert machine_for(a, home, discover=False).project_paths == {"github.com/acme/tools": kept}
    paths = machine_for(a, home).project_paths
    assert paths == {
        "github.com/acme/api": home / "src" / "api",
        "github.com/acme/shop": cloned,
        "github.com/acme/tools": kept,
    }
    assert a.get("project:github.com/acme/shop").body["paths"] == {"a": str(cloned)}
    assert machine_for(a, home).project_paths == paths
