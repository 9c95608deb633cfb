"""Every tool call of an agent becomes one agent_output, durable when the call returns."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Annotated, Any

import anyio
import pytest
from mcp import Client
from pydantic import Field

from agents.core.recorder import annotate_call
from agents.core.redact import mask
from agents.core.registry import ToolRegistry
from agents.store import audit
from agents.store.recorder import CHECKPOINT_EVERY, MOVE_AFTER, MOVE_EVERY, StoreRecorder
from agents.store.store import ContextStore
from tests.results import text_of
from tests.unit.core.util import server_for
from tests.unit.store.conftest import moment_passed

pytestmark = pytest.mark.anyio


def registry() -> ToolRegistry:
    reg = ToolRegistry("notion")

    @reg.tool()
    async def create_page(
        title: Annotated[str, Field(description="Title")],
        api_key: Annotated[str, Field(description="A secret")] = "",
    ) -> dict[str, Any]:
        """Create."""
        annotate_call(write=True, target=f"page:{title}")
        return {"id": "p1", "title": title, "client_secret": "s3cr3t-value"}

    @reg.tool()
    async def export(size: Annotated[int, Field(description="Bytes")]) -> str:
        """A large output."""
        return "x" * size

    @reg.tool()
    async def fail() -> str:
        """A user-fixable failure."""
        from agents.core.errors import NotFoundError

        raise NotFoundError("page 'p9' not found")

    return reg


@pytest.fixture(name="recorder")
def _recorder(store: ContextStore) -> StoreRecorder:
    return StoreRecorder(store, "notion", blob_threshold=2048, state_interval=60)


async def test_each_call_writes_one_agent_output_with_redacted_input_and_meta(
    store: ContextStore, recorder: StoreRecorder
) -> None:
    """agent, tool, status, duration, redacted input, output, and the call's annotations."""
    async with Client(server_for(registry(), recorder=recorder)) as client:
        await client.call_tool("create_page", {"title": "Plan", "api_key": "sk-live-123"})
        await client.call_tool("fail", {})
    failed, ok = store.list("agent_output")
    body = ok.body
    assert (body["agent"], body["handler"], body["status"], body["outcome"]) == (
        "notion",
        "create_page",
        "ok",
        "ok",
    )
    assert body["input"] == {"title": "Plan", "api_key": "[redacted]"}
    assert body["output"]["id"] == "p1" and body["output"]["client_secret"] == "[redacted]"
    assert body["meta"] == {"write": True, "target": "page:Plan"}
    assert body["duration_ms"] >= 0 and body["started_at"] <= ok.updated_at
    assert ok.scope == {"level": "machine", "project_id": None, "machine_id": "m-test"}
    assert (failed.body["status"], failed.body["error"]) == ("error", "page 'p9' not found")
    text = json.dumps([e.to_dict() for e in store.list("agent_output")])
    assert "sk-live-123" not in text and "s3cr3t-value" not in text
    with store.reading() as conn:
        actors = {r[0] for r in conn.execute("SELECT actor FROM audit")}
        assert actors == {"agent:notion"} and audit.verify(conn).ok


async def test_a_large_output_goes_to_a_content_addressed_blob(
    store: ContextStore, recorder: StoreRecorder, tmp_path: Path
) -> None:
    """The row keeps a pointer and a preview; the blob holds the whole output."""
    async with Client(server_for(registry(), recorder=recorder)) as client:
        await client.call_tool("export", {"size": 10_000})
        await client.call_tool("export", {"size": 10_000})
    first, second = store.list("agent_output")
    ref = first.body["output_ref"]
    assert "output" not in first.body and ref == second.body["output_ref"]
    assert ref["bytes"] > 10_000 and first.body["output_preview"].startswith('{"result":"xxx')
    assert json.loads(store.blobs.get(ref["blob"])) == {"result": "x" * 10_000}
    assert store.blobs.path_of(ref["blob"]).stat().st_mode & 0o777 == 0o600


async def test_a_record_that_cannot_be_stored_fails_the_call_visibly(
    store: ContextStore, recorder: StoreRecorder
) -> None:
    """Losing the record silently is not an option."""
    store.close()
    async with Client(server_for(registry(), recorder=recorder)) as client:
        result = await client.call_tool("create_page", {"title": "x"})
    assert result.is_error and "could not be stored" in text_of(result)


@pytest.mark.parametrize(
    ("output", "inline"),
    [
        ("x" * 2046, True),  # '"xx…"' is 2048 bytes: the threshold itself stays inline
        ("x" * 2047, False),
        ("é" * 1023, True),  # bytes, not characters: 2 + 2046
        ("é" * 1024, False),
        ({"n": (1, 2), 7: "int key", "s": "\u2028\x00"}, True),
    ],
)
def test_an_output_is_inline_up_to_the_threshold_in_bytes_and_stored_as_the_text_checked(
    store: ContextStore, recorder: StoreRecorder, output: Any, inline: bool
) -> None:
    """The blob threshold counts the output's bytes (a large input does not push a small
    output out); what is stored is the canonical JSON of what was checked, hashes intact."""
    from agents.core.recorder import ToolCall
    from agents.store.canonical import sha256_of
    from agents.store.envelope import content_hash_of

    written = recorder.write(
        ToolCall("notion", "local", "search", {"query": "q" * 5000}, "ok", 1.0, output=output)
    )
    got = store.get(written.id)
    plain = json.loads(json.dumps(output))
    if inline:
        assert got.body["output"] == plain and "output_ref" not in got.body
    else:
        assert "output" not in got.body
        assert json.loads(store.blobs.get(got.body["output_ref"]["blob"])) == plain
    with store.reading() as conn:
        text, head = conn.execute(
            "SELECT r.envelope, d.head FROM docs d JOIN revisions r ON r.hash = d.head "
            "WHERE d.id = ?",
            (written.id,),
        ).fetchone()
    assert head == sha256_of(text.encode()) == got.hash and text.encode() == got.to_bytes()
    assert got.content_hash == content_hash_of(got.kind, got.scope, False, got.body, [])
    assert written.content_hash == got.content_hash


def test_compaction_drops_old_outputs_and_their_unreferenced_blobs(
    store: ContextStore, recorder: StoreRecorder
) -> None:
    """keep-days 0 removes every output; the audit chain still verifies."""
    from agents.core.recorder import ToolCall
    from agents.store import maintenance

    recorder.write(ToolCall("notion", "local", "export", {}, "ok", 1.0, output="y" * 5000))
    recorder.write(ToolCall("notion", "local", "search", {}, "ok", 1.0, output="small"))
    store.put("preference:theme", "preference", {"key": "theme", "value": 1})
    kept = maintenance.compact(store, 30)
    assert (kept.outputs, kept.blobs) == (0, 0)
    import agents.store.maintenance as m

    moment_passed(store)
    m._BLOB_GRACE_SECONDS, grace = -1.0, m._BLOB_GRACE_SECONDS
    try:
        result = maintenance.compact(store, 0)
    finally:
        m._BLOB_GRACE_SECONDS = grace
    assert (result.outputs, result.revisions, result.blobs) == (2, 2, 1)
    assert store.list("agent_output") == [] and store.counts() == {"preference": 1}
    with store.reading() as conn:
        assert audit.verify(conn).ok


def test_secret_named_keys_are_masked_in_outputs_and_others_kept() -> None:
    """Graph's secretText, camelCase and snake_case key names; keywords are not secrets."""
    masked = mask(
        {
            "secretText": "a",
            "accessToken": "b",
            "private_key": "c",
            "keywords": ["k"],
            "items": [{"password": "d", "name": "n"}],
            "primaryKey": "id-1",
        }
    )
    assert masked == {
        "secretText": "[redacted]",
        "accessToken": "[redacted]",
        "private_key": "[redacted]",
        "keywords": ["k"],
        "items": [{"password": "[redacted]", "name": "n"}],
        "primaryKey": "id-1",
    }


def test_agents_record_with_their_own_synchronous_setting_and_people_write_with_full(
    tmp_path: Path,
) -> None:
    """CONTEXT_RECORD_SYNCHRONOUS (NORMAL) for agent records, CONTEXT_SYNCHRONOUS (FULL) else."""
    from agents.core.settings import EnvLayers
    from agents.store.config import open_store
    from agents.store.recorder import open_store_recorder

    layers = EnvLayers(root=tmp_path, env="dev", values={"CONTEXT_DIR": str(tmp_path / "ctx")})
    recorder = open_store_recorder(layers, "notion")
    assert recorder is not None and recorder.on_loop
    cli = open_store(layers)
    try:
        with recorder.store.reading() as conn:
            assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
        with cli.reading() as conn:
            assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    finally:
        recorder.store.close()
        cli.close()
    layers.values["CONTEXT_RECORD_SYNCHRONOUS"] = "FULL"
    full = open_store_recorder(layers, "notion")
    assert full is not None and not full.on_loop
    full.store.close()


async def test_the_wal_is_checkpointed_on_its_own_thread_not_in_a_calls_commit(
    tmp_path: Path, store: ContextStore, recorder: StoreRecorder
) -> None:
    """Recording with synchronous=NORMAL, the connection never checkpoints in a commit;
    every CHECKPOINT_EVERY records a thread copies the WAL into the database, and every
    record stays readable. With FULL, SQLite's own checkpoint is left alone."""
    with store.reading() as conn:  # FULL
        assert conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000
    normal = ContextStore(tmp_path / "normal", machine_id="m-test", synchronous="NORMAL")
    rec = StoreRecorder(normal, "notion", blob_threshold=2048, state_interval=60)
    with normal.reading() as conn:
        assert conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
    database = normal.path.stat().st_size
    async with Client(server_for(registry(), recorder=rec)) as client:
        for i in range(CHECKPOINT_EVERY + 3):
            await client.call_tool("create_page", {"title": f"Plan {i}"})
        for _ in range(300):  # the thread runs once the 50th record is written
            if rec._checkpoints.done:
                break
            await anyio.sleep(0.05)
    assert rec._checkpoints.done == 1
    assert normal.path.stat().st_size > database  # pages copied into the database file
    await rec.aclose()
    with ContextStore(normal.directory) as again:
        assert len(again.list("agent_output", limit=100)) == CHECKPOINT_EVERY + 3


def _call(n: int) -> Any:
    from agents.core.recorder import ToolCall

    return ToolCall("notion", "local", "search", {"query": f"q{n}"}, "ok", 1.0, output={"n": n})


def _in_store(store: ContextStore) -> int:
    """Recorded calls in the store proper (raw SQLite: reading moves nothing)."""
    with sqlite3.connect(store.path) as conn:
        row = conn.execute("SELECT count(*) FROM docs WHERE kind = 'agent_output'").fetchone()
        return int(row[0])


def _committed(store: ContextStore) -> int:
    """Recorded calls another connection sees committed (raw SQLite, which moves nothing): in
    the store, or still in its inbox."""
    with sqlite3.connect(store.path) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM docs WHERE kind = 'agent_output') + "
            "(SELECT count(*) FROM inbox WHERE kind = 'agent_output')"
        ).fetchone()
        return int(row[0])


async def _recorded(store: ContextStore, calls: int, *, after: float = 3600) -> StoreRecorder:
    """A recorder on ``store`` that moves its inbox ``after`` seconds after a call (or with
    MOVE_EVERY waiting), once it has recorded ``calls`` calls."""
    recorder = StoreRecorder(store, "notion", blob_threshold=2048, state_interval=60)
    recorder._mover.after = after
    for n in range(calls):
        await recorder.record(_call(n))
        assert _committed(store) == n + 1  # committed when record() returns
    return recorder


async def _until_in_store(store: ContextStore, calls: int) -> None:
    with anyio.fail_after(10):
        while _in_store(store) < calls:
            await anyio.sleep(0.01)


async def test_a_lone_call_is_committed_to_the_inbox_on_the_event_loop_before_record_returns(
    store: ContextStore,
) -> None:
    """With the lock free, no thread is involved in the call: its record is committed (visible
    to another connection) when record() returns, and moved into the store a moment later."""
    recorder = await _recorded(store, 3, after=MOVE_AFTER)
    assert recorder._group.batches == 0 and recorder._group._thread is None
    await _until_in_store(store, 3)
    assert recorder._mover.moves >= 1 and _committed(store) == 3
    await recorder.aclose()


async def test_calls_recorded_in_a_run_are_moved_together_once_enough_wait(
    store: ContextStore,
) -> None:
    """A run of MOVE_EVERY calls is moved at once, without waiting MOVE_AFTER."""
    recorder = await _recorded(store, MOVE_EVERY)
    await _until_in_store(store, MOVE_EVERY)
    await recorder.aclose()


async def test_closing_a_recorder_moves_every_call_it_staged_into_the_store(
    store: ContextStore,
) -> None:
    recorder = await _recorded(store, 3)
    assert _in_store(store) == 0
    await recorder.aclose()
    assert _in_store(store) == 3 and _committed(store) == 3


async def test_a_recorder_moves_what_a_killed_run_left_in_the_inbox_when_it_starts(
    tmp_path: Path,
) -> None:
    killed = ContextStore(tmp_path / "ctx")
    await _recorded(killed, 1)
    killed.close()  # no aclose: the process died
    with ContextStore(tmp_path / "ctx") as store:
        assert _in_store(store) == 0
        again = StoreRecorder(store, "notion", blob_threshold=2048, state_interval=60)
        assert _in_store(store) == 1
        await again.aclose()


async def test_a_lone_call_finding_the_lock_held_elsewhere_waits_for_it_in_the_writer(
    store: ContextStore,
) -> None:
    """Another connection holds the write lock: the call neither fails nor returns early; its
    record goes to the group writer, which commits it once the lock is free."""
    recorder = StoreRecorder(store, "notion", blob_threshold=2048, state_interval=60)
    other = sqlite3.connect(store.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    done = anyio.Event()

    async def call() -> None:
        await recorder.record(_call(1))
        done.set()

    try:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(call)
            with anyio.fail_after(10):
                while recorder._group.idle:  # queued for the writer thread
                    await anyio.sleep(0.005)
            assert not done.is_set() and _committed(store) == 0
            other.execute("COMMIT")
            with anyio.fail_after(20):
                await done.wait()
        assert _committed(store) == 1 and recorder._group.batches == 1
    finally:
        other.close()
        await recorder.aclose()


@pytest.mark.parametrize(
    "bad",
    [
        {"arguments": {"ratio": float("nan")}},
        {"output": {"at": object()}},
        {"output": {"x": float("inf")}},
    ],
)
async def test_a_record_that_is_not_json_fails_its_call_alone_with_a_store_error(
    store: ContextStore, bad: dict[str, Any]
) -> None:
    """The call gets the store's refusal (an AgentError, so the tool answers "could not be
    stored"), nothing is written for it, and the next call records as usual."""
    from agents.core.errors import AgentError
    from agents.core.recorder import ToolCall

    recorder = StoreRecorder(store, "notion", blob_threshold=2048, state_interval=60)
    fields: dict[str, Any] = {"arguments": {}, "output": None, **bad}
    args, output = fields["arguments"], fields["output"]
    call = ToolCall("notion", "local", "search", args, "ok", 1.0, output=output)
    with pytest.raises(AgentError, match="not JSON"):
        await recorder.record(call)
    assert _committed(store) == 0
    await recorder.record(_call(1))
    assert _committed(store) == 1
