"""The context-sync plugin's Claude Code hooks: ``python -m agents.claude.hooks <event>``.

- ``session-start``: prints the briefing (:mod:`agents.claude.briefing`) for the working
  directory's project; Claude Code adds a hook's standard output to the session's context.
- ``pre-compact`` and ``session-end``: save this machine's checkpoint of the session
  (:mod:`agents.claude.checkpoint`), archive the transcript when ``CONTEXT_TRANSCRIPTS`` is on,
  then start a debounced background sync when a remote is configured.
- ``sync-later``: that background sync (one at a time; requests made while one waits or runs
  are folded into it).

A hook never gets in Claude's way: it reads its input from stdin as Claude Code sends it
(``session_id``, ``transcript_path``, ``cwd``, ``hook_event_name``, ``source``/``trigger``/
``reason``), always exits 0, writes nothing to stdout but the briefing, logs errors to
``<store>/hooks.log`` (never to the session), and gives up after its time budget
(``CONTEXT_HOOK_BUDGET_MS`` for the briefing, ``CONTEXT_CHECKPOINT_BUDGET_MS`` for a
checkpoint). The SessionStart path imports only the standard library, python-dotenv and the
store's read layer: no pydantic, jsonschema, mcp or vendor SDK.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from agents.core.layers import EnvLayers, find_root, load_layers
from agents.store.location import store_dir

__all__ = ["EVENTS", "HookContext", "main"]

EVENTS = ("session-start", "pre-compact", "session-end", "sync-later")
MAX_INPUT = 1024 * 1024
LOG_MAX = 1024 * 1024
DEFAULTS = {
    "CONTEXT_BRIEFING_TOKENS": 1500,
    "CONTEXT_HOOK_BUDGET_MS": 300,
    "CONTEXT_CHECKPOINT_BUDGET_MS": 5000,
    "CONTEXT_HOOK_SYNC_DELAY": 15,
}


class _OutOfTimeError(Exception):
    pass


class HookContext:
    """The environment a hook runs in: its layers, store directory and log."""

    def __init__(self, layers: EnvLayers) -> None:
        self.layers = layers
        self.store_dir = store_dir(layers)
        self.warnings: list[str] = []

    @classmethod
    def load(cls) -> HookContext:
        """``$AGENTS_HOME`` (else the checkout this package runs from) and ``$AGENT_ENV``."""
        env = os.environ.get("AGENT_ENV") or "local"
        return cls(load_layers(find_root(), env))

    def number(self, name: str) -> int:
        """Integer setting ``name`` (a bad value is logged and the default used)."""
        raw = (self.layers.get(name) or "").strip()
        if not raw:
            return DEFAULTS[name]
        try:
            value = int(raw)
            if value < 0:
                raise ValueError(raw)
        except ValueError:
            self.warnings.append(
                f"{name}={raw!r} is not a whole number ≥ 0; using {DEFAULTS[name]}"
            )
            return DEFAULTS[name]
        return value

    def flag(self, name: str) -> bool:
        """Boolean setting ``name`` (true/1/yes/on)."""
        return (self.layers.get(name) or "").strip().lower() in ("1", "true", "yes", "on")

    def log(self, event: str, **fields: Any) -> None:
        """Append one JSON line to ``<store>/hooks.log`` (kept under 1 MiB, one old file)."""
        log(self.store_dir / "hooks.log", event, **fields)


def log(path: Path, event: str, **fields: Any) -> None:
    """Append one JSON line to ``path``; a failure to log is itself ignored."""
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists() and path.stat().st_size > LOG_MAX:
            os.replace(path, path.with_name(path.name + ".1"))
        line = {"ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "event": event}
        line.update(fields)
        with path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(line, default=str) + "\n")


@contextlib.contextmanager
def deadline(ms: int) -> Iterator[None]:
    """Raise :class:`_OutOfTimeError` inside the block after ``ms`` milliseconds (0: no limit)."""
    if ms <= 0 or not hasattr(signal, "setitimer"):
        yield
        return

    def expire(*_: Any) -> None:
        raise _OutOfTimeError

    old = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, ms / 1000)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _payload(raw: str) -> dict[str, Any]:
    try:
        data = json.loads(raw) if raw.strip() else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _cwd(payload: dict[str, Any]) -> Path:
    cwd = payload.get("cwd") or os.environ.get("CLAUDE_PROJECT_DIR") or os.getcwd()
    return Path(str(cwd))


def session_start(ctx: HookContext, payload: dict[str, Any]) -> str:
    """The briefing for the session's working directory ('' when the store is empty)."""
    from agents.claude.briefing import build_briefing
    from agents.claude.identity import locate
    from agents.store.base import DB_NAME, StoreBase

    if not (ctx.store_dir / DB_NAME).is_file():
        return ""  # no store yet: nothing to brief, and a hook never creates one
    project = locate(_cwd(payload), Path.home())
    tokens = ctx.number("CONTEXT_BRIEFING_TOKENS")
    with StoreBase(ctx.store_dir, actor="hook", busy_timeout=0.2) as store:
        current = str(payload.get("session_id") or "") or None
        return build_briefing(store, project, tokens=tokens, current=current).text


def save_checkpoint(ctx: HookContext, payload: dict[str, Any], trigger: str) -> str | None:
    """Write this machine's checkpoint of the session; the document id, or None without a
    session id."""
    from agents.claude.checkpoint import (
        SessionFacts,
        checkpoint_body,
        checkpoint_id,
        read_session,
        scrub,
    )
    from agents.claude.identity import locate
    from agents.claude.machine import Machine
    from agents.store.canonical import now_iso
    from agents.store.config import open_store

    session = str(payload.get("session_id") or "")
    if not session or len(session) > 128 or not session.replace("-", "").isalnum():
        ctx.warnings.append(f"no usable session_id in the hook input ({session[:40]!r})")
        return None
    project = locate(_cwd(payload), Path.home())
    machine = Machine.current(project_paths={project.id: project.root} if project.id else {})
    transcript = _transcript(ctx, payload, machine.claude_dir / "projects")
    facts = read_session(transcript, session) if transcript else SessionFacts(session)
    with open_store(ctx.layers, actor="hook") as store:
        machine = Machine.current(machine_id=store.machine_id, project_paths=machine.project_paths)
        archive = None
        if project.id and transcript:
            _remember_path(store, project.id, project.root)
            if ctx.flag("CONTEXT_TRANSCRIPTS"):
                archive = _archive(store, transcript, (project.id, project.subdir), machine)
        body = checkpoint_body(
            facts,
            machine_id=store.machine_id,
            project=project,
            transcript=transcript,
            placeholders=machine.placeholders(),
            trigger=trigger,
            reason=str(payload.get("reason") or payload.get("trigger") or "") or None,
            now=now_iso(),
            archive=archive,
        )
        body = scrub(body, _known_secrets(ctx, store))
        doc = checkpoint_id(store.machine_id, session)
        store.put(doc, "checkpoint", body, actor="hook")
    return doc


def _transcript(ctx: HookContext, payload: dict[str, Any], projects: Path) -> Path | None:
    """The session file named in the hook input, if it is one: a ``.jsonl`` file under
    Claude Code's ``projects/`` folder (nothing else is read, let alone archived)."""
    raw = str(payload.get("transcript_path") or "")
    if not raw:
        return None
    path = Path(raw)
    try:
        inside = path.resolve().is_relative_to(projects.resolve())
    except (OSError, ValueError):
        inside = False
    if not inside or path.suffix != ".jsonl" or not path.is_file():
        ctx.warnings.append(f"transcript_path {raw[:200]!r} is not a session file under {projects}")
        return None
    return path


def _known_secrets(ctx: HookContext, store: Any) -> dict[str, str]:
    """This machine's secret values (to redact them), or none if the vault cannot be read."""
    from agents.claude.bridge import vault_of
    from agents.core.errors import AgentError

    try:
        return vault_of(store).values()
    except AgentError as exc:
        ctx.warnings.append(f"secrets vault unreadable, token shapes redacted only: {exc}")
        return {}


def _remember_path(store: Any, pid: str, root: Path) -> None:
    """Record this machine's checkout of ``pid`` in its project document, once."""
    from agents.claude.bridge import record_path

    head = store.head_info(f"project:{pid}")
    if head is not None and not head.deleted:
        paths = store.get(f"project:{pid}").body.get("paths") or {}
        if paths.get(store.machine_id) == str(root):
            return
    record_path(store, pid, root, actor="hook")


def _archive(store: Any, transcript: Path, project: tuple[str, str], machine: Any) -> str:
    """Archive the transcript, age-encrypted to every machine's key; its document id."""
    from agents.claude.bridge import drafts_of, machine_recipients, vault_of
    from agents.claude.transcripts import archive_transcript

    recipients = machine_recipients(store, vault_of(store))
    doc = f"transcript_archive:{transcript.stem}"
    previous = drafts_of(store, ("transcript_archive",)).get(doc)
    draft, blobs = archive_transcript(
        transcript, project, machine.placeholders(), recipients, previous
    )
    for data in blobs.values():
        store.blobs.put(data)
    if previous is None or draft is not previous:
        store.put(
            doc,
            "transcript_archive",
            draft.body,
            level="project",
            project_id=project[0],
            actor="hook",
        )
    return doc


def schedule_sync(ctx: HookContext) -> bool:
    """Start ``sync-later`` in the background when the environment has a remote; True if
    started. It is double-forked (``sh`` starts it and exits at once), so it is nobody's child
    and outlives both this hook and Claude Code, whatever process tree they clean up."""
    if not ctx.layers.get("CONTEXT_REMOTE"):
        return False
    env = {**os.environ, "AGENTS_HOME": str(ctx.layers.root), "AGENT_ENV": ctx.layers.env}
    ctx.store_dir.mkdir(parents=True, exist_ok=True)
    script = '"$0" -m agents.claude.hooks sync-later </dev/null >>"$1" 2>&1 &'
    subprocess.run(
        ["/bin/sh", "-c", script, sys.executable, str(ctx.store_dir / "hooks.log")],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        start_new_session=True,
        check=True,
        timeout=10,
    )
    return True


def sync_later(ctx: HookContext) -> None:
    """Wait ``CONTEXT_HOOK_SYNC_DELAY`` seconds, then sync; runs once per burst of requests.

    A request marks ``hooks-sync.pending``; the process holding ``hooks-sync.lock`` syncs while
    marks keep arriving, so N checkpoints in a burst make one or two syncs, never N. (The
    sync engine's own ``sync.lock`` is another file: it serialises syncs of any origin.)
    """
    pending = ctx.store_dir / "hooks-sync.pending"
    pending.touch()
    with (ctx.store_dir / "hooks-sync.lock").open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return  # one is waiting or running: it will see the mark
        delay = ctx.number("CONTEXT_HOOK_SYNC_DELAY")
        while pending.exists():
            time.sleep(delay)
            pending.unlink(missing_ok=True)
            _sync_once(ctx)


def _sync_once(ctx: HookContext) -> None:
    from agents.core.errors import AgentError
    from agents.store.config import open_store
    from agents.sync.config import open_configured_remote
    from agents.sync.engine import Syncer

    started = time.monotonic()
    try:
        remote = open_configured_remote(ctx.layers)
        try:
            with open_store(ctx.layers, actor="sync") as store:
                report = Syncer(store, remote).sync()
        finally:
            remote.close()
    except AgentError as exc:
        ctx.log("sync-later", level="warning", error=str(exc))
        return
    ctx.log(
        "sync-later",
        level="info",
        pulled=report.pull.changed if report.pull else 0,
        pushed=report.push.changed if report.push and report.push.pushed else 0,
        duration_ms=round((time.monotonic() - started) * 1000, 1),
    )


def run(event: str, raw: str) -> str:
    """Run hook ``event`` on input ``raw``; the text for stdout. Never raises."""
    started = time.monotonic()
    ctx: HookContext | None = None
    out = ""
    fields: dict[str, Any] = {}
    try:
        ctx = HookContext.load()
        payload = _payload(raw)
        if event == "session-start":
            with deadline(ctx.number("CONTEXT_HOOK_BUDGET_MS")):
                out = session_start(ctx, payload)
            fields["bytes"] = len(out.encode())
        elif event in ("pre-compact", "session-end"):
            trigger = "pre_compact" if event == "pre-compact" else "session_end"
            with deadline(ctx.number("CONTEXT_CHECKPOINT_BUDGET_MS")):
                fields["doc"] = save_checkpoint(ctx, payload, trigger)
            fields["sync"] = schedule_sync(ctx)
        elif event == "sync-later":
            sync_later(ctx)
        else:
            fields["error"] = f"unknown hook event {event!r}; expected one of {', '.join(EVENTS)}"
    except _OutOfTimeError:
        out = ""
        fields["error"] = "over its time budget: gave up (nothing was written to the session)"
    except Exception as exc:  # a hook must never fail the session
        out = ""
        fields["error"] = f"{type(exc).__name__}: {exc}"
    fields["duration_ms"] = round((time.monotonic() - started) * 1000, 1)
    level = "error" if "error" in fields else "info"
    if ctx is not None:
        if ctx.warnings:
            fields["warnings"] = ctx.warnings
        ctx.log(event, level=level, **fields)
    elif os.environ.get("CLAUDE_PLUGIN_DATA"):  # no store to log next to: the plugin's folder
        log(Path(os.environ["CLAUDE_PLUGIN_DATA"]) / "hooks.log", event, level=level, **fields)
    else:
        with contextlib.suppress(OSError, ValueError):
            print(f"context-sync {event}: {fields.get('error', 'done')}", file=sys.stderr)
    return out


def main(argv: list[str] | None = None) -> int:
    """Entry point: the event name as the only argument, Claude Code's JSON on stdin."""
    args = sys.argv[1:] if argv is None else argv
    event = args[0] if args else ""
    raw = ""
    if event != "sync-later":
        with contextlib.suppress(OSError, ValueError):
            raw = sys.stdin.read(MAX_INPUT)
    out = run(event, raw)
    if out:
        with contextlib.suppress(OSError, ValueError):
            sys.stdout.write(out)
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
