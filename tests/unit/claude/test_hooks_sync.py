"""What the checkpoint hooks start after writing: the background sync to the environment's
remote, and the opt-in encrypted archive of the session's transcript."""

from __future__ import annotations

import json
import os
import time
import types
from pathlib import Path
from typing import Any

import pytest

from agents.claude import hooks
from agents.claude.bridge import vault_of
from agents.claude.vault import MachineKey, decrypt
from agents.core.layers import load_layers
from agents.store.store import ContextStore
from tests.unit.claude.conftest import SESSION, git_repo, log_of, transcript


def with_env(root: Path, **values: str) -> None:
    env = root / "environments" / ".env.local"
    env.write_text(env.read_text() + "".join(f"{k}={v}\n" for k, v in values.items()))


def entries(root: Path, event: str) -> list[dict[str, Any]]:
    return [e for e in log_of(root) if e["event"] == event]


def test_a_checkpoint_with_a_remote_starts_a_sync_that_outlives_the_hook(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``sync-later`` runs detached with the hook's environment (not the caller's
    ``AGENT_ENV``) and pushes the checkpoint; the hook logs that it started one."""
    remote = tmp_path / "remote"
    with_env(root, CONTEXT_REMOTE=f"dir://{remote}", CONTEXT_HOOK_SYNC_DELAY="0")
    shop = git_repo(tmp_path / "home" / "src" / "shop", "git@github.com:Acme/Shop.git")
    path = transcript(tmp_path / "home" / ".claude" / "projects" / "x" / f"{SESSION}.jsonl", shop)
    payload = {"session_id": SESSION, "transcript_path": str(path), "cwd": str(shop)}
    hooks.run("session-end", json.dumps(payload))
    assert entries(root, "session-end")[-1]["sync"] is True
    deadline = time.monotonic() + 120
    while not entries(root, "sync-later") and time.monotonic() < deadline:
        time.sleep(0.2)
    done = [e for e in entries(root, "sync-later") if "pushed" in e]
    assert done and done[0]["level"] == "info" and done[0]["pushed"] > 0, log_of(root)
    assert any(remote.rglob("*"))


def test_the_background_sync_finds_its_checkout_and_environment_without_the_callers(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Started from a process with no ``AGENTS_HOME`` and another ``AGENT_ENV``, and before
    the store's folder exists."""
    remote = tmp_path / "remote"
    with_env(root, CONTEXT_REMOTE=f"dir://{remote}", CONTEXT_HOOK_SYNC_DELAY="0")
    ctx = hooks.HookContext(load_layers(root, "local"))
    monkeypatch.delenv("AGENTS_HOME")
    monkeypatch.setenv("AGENT_ENV", "production")
    assert not ctx.store_dir.exists()
    assert hooks.schedule_sync(ctx) is True
    assert hooks.schedule_sync(ctx) is True  # the folder exists by now: no error
    deadline = time.monotonic() + 120
    while not entries(root, "sync-later") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert entries(root, "sync-later")[0]["level"] == "info", log_of(root)


def test_no_background_sync_is_started_without_a_remote(root: Path) -> None:
    ctx = hooks.HookContext(load_layers(root, "local"))
    assert hooks.schedule_sync(ctx) is False
    assert not ctx.store_dir.exists()


def test_the_sync_later_hook_logs_what_it_pulled_and_pushed(root: Path, tmp_path: Path) -> None:
    remote = tmp_path / "remote"
    with_env(root, CONTEXT_REMOTE=f"dir://{remote}", CONTEXT_HOOK_SYNC_DELAY="0")
    with ContextStore(root / "context" / "local") as store:
        store.put("project:github.com/acme/shop", "project", {"name": "shop"})
    assert hooks.run("sync-later", "") == ""
    [synced] = entries(root, "sync-later")[:-1]
    assert synced["level"] == "info" and synced["pulled"] == 0 and synced["pushed"] > 0
    assert isinstance(synced["duration_ms"], float) and synced["duration_ms"] > 0
    assert entries(root, "sync-later")[-1]["level"] == "info"
    hooks.run("sync-later", "")
    again = entries(root, "sync-later")[-2]
    assert (again["pulled"], again["pushed"]) == (0, 0)


def test_a_sync_that_cannot_reach_its_remote_is_logged_as_a_warning(root: Path) -> None:
    with_env(root, CONTEXT_REMOTE="nosuchscheme://x", CONTEXT_HOOK_SYNC_DELAY="0")
    ctx = hooks.HookContext(load_layers(root, "local"))
    ctx.store_dir.mkdir(parents=True)
    hooks._sync_once(ctx)
    [entry] = entries(root, "sync-later")
    assert entry["level"] == "warning" and "nosuchscheme" in entry["error"]


def test_with_transcripts_on_the_session_is_archived_encrypted_once_per_content(
    root: Path, tmp_path: Path
) -> None:
    """The archive is sealed to this machine's key, its paths made placeholders; the
    checkpoint names it; an unchanged transcript is not archived again."""
    with_env(root, CONTEXT_TRANSCRIPTS="on")
    shop = git_repo(tmp_path / "home" / "src" / "shop", "git@github.com:Acme/Shop.git")
    (shop / "svc").mkdir()
    path = transcript(
        tmp_path / "home" / ".claude" / "projects" / "x" / f"{SESSION}.jsonl", shop / "svc"
    )
    payload = {"session_id": SESSION, "transcript_path": str(path), "cwd": str(shop / "svc")}
    for _ in range(2):
        hooks.run("session-end", json.dumps(payload))
        assert log_of(root)[-1]["level"] == "info", log_of(root)[-1]
    doc_id = f"transcript_archive:{SESSION}"
    with ContextStore(root / "context" / "local") as store:
        [checkpoint] = store.list("checkpoint")
        archive = store.get(doc_id)
        assert len(store.history(doc_id)) == 1
        sealed = store.blobs.get(archive.body["blob"]["blob"])
        key = MachineKey.load_or_create(vault_of(store))
    assert checkpoint.body["transcript"]["archive"] == doc_id
    assert archive.scope["level"] == "project"
    assert archive.scope["project_id"] == "github.com/acme/shop"
    assert archive.body["subdir"] == "svc" and archive.body["encryption"] == "age"
    assert archive.body["recipients"] == [key.recipient]
    assert archive.body["blob"]["bytes"] == len(sealed) and b"cart" not in sealed
    plain = decrypt(sealed, [key.identity]).decode()
    assert str(shop) not in plain and "{{project:github.com/acme/shop}}/svc" in plain
    assert os.environ["HOME"] not in plain


def test_the_sync_later_hook_pulls_another_machines_documents_and_counts_them(
    root: Path, tmp_path: Path
) -> None:
    """Another of the user's machines (trusted here) pushed a preference: the hook's sync
    brings it in, logs the documents pulled, and audits what it wrote as the sync's."""
    from agents.store import audit
    from agents.store.identity import Identity
    from agents.sync.dir_remote import DirRemote
    from agents.sync.engine import Syncer
    from agents.sync.trust import decide, identity_of

    remote = tmp_path / "remote"
    with_env(root, CONTEXT_REMOTE=f"dir://{remote}", CONTEXT_HOOK_SYNC_DELAY="0")
    with ContextStore(tmp_path / "laptop", machine_id="laptop", actor="cli") as laptop:
        laptop.put("preference:theme", "preference", {"key": "theme", "value": "dark"})
        identity_of(laptop)
        Syncer(laptop, DirRemote(remote)).push()
        key = Identity.load_or_create(laptop.directory).public_key
    with ContextStore(root / "context" / "local", actor="cli") as store:
        decide(store, "laptop", key, trusted=True)
        with store.reading() as conn:
            before = max(e.seq for e in audit.query(conn))
    hooks.run("sync-later", "")
    [synced] = entries(root, "sync-later")[:-1]
    assert synced["level"] == "info", synced
    # the preference and the laptop's record of its push
    assert (synced["pulled"], synced["pushed"] > 0) == (2, True)
    with ContextStore(root / "context" / "local") as store:
        assert store.get("preference:theme").body["value"] == "dark"
        with store.reading() as conn:
            rows = [e for e in audit.query(conn) if e.seq > before]
    assert rows and {e.actor for e in rows} == {"sync"}, [(e.op, e.actor) for e in rows]


def test_the_sync_later_hook_logs_its_duration_in_milliseconds(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    remote = tmp_path / "remote"
    with_env(root, CONTEXT_REMOTE=f"dir://{remote}", CONTEXT_HOOK_SYNC_DELAY="0")
    ctx = hooks.HookContext(load_layers(root, "local"))
    ctx.store_dir.mkdir(parents=True)
    ticks = iter([100.0, 100.25054])
    clock = types.SimpleNamespace(
        monotonic=lambda: next(ticks), strftime=time.strftime, gmtime=time.gmtime
    )
    monkeypatch.setattr(hooks, "time", clock)  # only the hook's own clock
    hooks._sync_once(ctx)
    [entry] = entries(root, "sync-later")
    assert entry["level"] == "info" and entry["duration_ms"] == 250.5


def test_a_transcript_that_grew_is_archived_again_as_the_hooks_write(
    root: Path, tmp_path: Path
) -> None:
    """The session went on after the first checkpoint: the archive's new revision holds the
    new lines, and both revisions are audited as the hook's."""
    from agents.store import audit

    with_env(root, CONTEXT_TRANSCRIPTS="on")
    shop = git_repo(tmp_path / "home" / "src" / "shop", "git@github.com:Acme/Shop.git")
    path = transcript(tmp_path / "home" / ".claude" / "projects" / "x" / f"{SESSION}.jsonl", shop)
    payload = json.dumps({"session_id": SESSION, "transcript_path": str(path), "cwd": str(shop)})
    hooks.run("pre-compact", payload)
    with path.open("a") as fh:
        fh.write(json.dumps({"type": "user", "message": {"content": "now the coupons"}}) + "\n")
    hooks.run("session-end", payload)
    assert log_of(root)[-1]["level"] == "info", log_of(root)[-1]
    doc_id = f"transcript_archive:{SESSION}"
    with ContextStore(root / "context" / "local") as store:
        assert len(store.history(doc_id)) == 2
        sealed = store.blobs.get(store.get(doc_id).body["blob"]["blob"])
        key = MachineKey.load_or_create(vault_of(store))
        with store.reading() as conn:
            actors = [e.actor for e in audit.query(conn, doc_id=doc_id)]
    assert "now the coupons" in decrypt(sealed, [key.identity]).decode()
    assert actors == ["hook", "hook"]
