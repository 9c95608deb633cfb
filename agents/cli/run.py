"""Run-time verbs: render, start, stop, status, restart."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from agents.catalog import resolve_tokens
from agents.cli.env import EnvContext, load_env
from agents.core.errors import AgentError, ConfigError
from agents.core.settings import ENV_NAME, find_root
from agents.supervisor.control import AgentStatus, Supervisor
from agents.supervisor.render import EnvPaths, render_conf, write_conf

__all__ = ["add_parsers", "print_table"]


def _cell(value: Any, width: int = 120) -> str:
    """One line of a table: a multi-line value (an error with a traceback, a quoted body) shows
    its first line and a mark, never breaking the rows; ``--json`` has it whole."""
    if value is None:
        return "-"
    lines = [" ".join(line.split()) for line in str(value).splitlines() if line.strip()]
    text = (lines[0] + (" ⏎…" if len(lines) > 1 else "")) if lines else ""
    return text if len(text) <= width else f"{text[: width - 1]}…"


def print_table(rows: list[dict[str, Any]], columns: list[str]) -> None:
    """Print ``rows`` as an aligned text table, one line per row."""
    cells = [[_cell(r.get(c)) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    print("  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


def _show(rows: list[AgentStatus], as_json: bool, ctx: EnvContext | None = None) -> None:
    if as_json:
        json.dump([r.as_dict() for r in rows], sys.stdout, indent=2)
        print()
        return
    table = [dict(r.as_dict(), ready="yes" if r.ready else "no") for r in rows]
    print_table(table, ["agent", "state", "pid", "port", "url", "ready"])
    for r in rows:
        if not r.ready and r.reason:
            print(f"  {r.agent}: {r.reason}")
    sync = ctx.supervisor.program("sync") if ctx else None
    if ctx is not None and sync is not None:
        print(
            f"sync: {sync['statename']}, pid {sync['pid'] or '-'} "
            f"(`agents logs {ctx.env} sync`, `agents sync status --env {ctx.env}`)"
        )


def render(ctx: EnvContext, *, new_instance: bool = False) -> bool:
    """Make sure tokens exist, then write the conf; return whether it changed.

    ``new_instance``: supervisord is about to start, so its agents get a fresh nonce.
    """
    ctx.layers.refuse_committed_secrets()
    resolve_tokens(ctx.layers, ctx.core)
    instance = ctx.paths.instance(new=new_instance)
    return write_conf(ctx.paths, render_conf(ctx.paths, ctx.layers, ctx.core, instance=instance))


def cmd_render(args: argparse.Namespace) -> int:
    """``agents render <env>``."""
    ctx = load_env(args.env)
    changed = render(ctx)
    print(f"{ctx.paths.conf} {'written' if changed else 'unchanged'}")
    return 0


def cmd_start(args: argparse.Namespace) -> int:
    """``start-all-agents <env>``: render, start supervisord if needed, wait, show the table."""
    ctx = load_env(args.env)
    sup = ctx.supervisor
    running = sup.is_running()
    changed = render(ctx, new_instance=not running)
    sup.preflight(ctx.ports, ctx.layers)
    if running:
        if changed:
            sup.apply_conf()
        sup.start_agents()
    else:
        sup.launch()
    rows = sup.wait_answering(ctx.ports, ctx.core.ready_timeout, _tokens(ctx))
    _show(rows, args.json, ctx)
    not_ready = [r for r in rows if not r.ready]
    if args.strict and not_ready:
        for r in not_ready:
            print(f"error: --strict: {r.agent} is not ready: {r.reason}", file=sys.stderr)
        return 1
    return 0


def cmd_stop(args: argparse.Namespace) -> int:
    """``stop-all-agents <env>``."""
    # only the paths: a broken env file must never keep you from stopping what runs
    if not ENV_NAME.match(args.env):
        raise ConfigError(f"environment name {args.env!r} is invalid")
    sup = Supervisor(EnvPaths(find_root(), args.env))
    if not sup.is_running() and sup.pid() is None:
        print(f"{args.env}: not running")
        return 0
    pid = sup.shutdown()
    print(f"{args.env}: stopped supervisord (pid {pid}) and its agents")
    return 0


def _tokens(ctx: EnvContext) -> dict[str, str | None]:
    """The agents' bearer tokens as set (none generated), so /readyz says why one is not
    ready: without its token an agent says only ready or not."""
    return {e.name: ctx.layers.get(e.token_var) for e, _ in ctx.ports}


def cmd_status(args: argparse.Namespace) -> int:
    """``agents status <env>``: exit 0 when every agent answers, 1 otherwise."""
    ctx = load_env(args.env)
    rows = ctx.supervisor.status(ctx.ports, _tokens(ctx))
    _show(rows, args.json, ctx)
    return 0 if all(r.answering for r in rows) else 1


def cmd_restart(args: argparse.Namespace) -> int:
    """``agents restart <env> [agent...]``."""
    ctx = load_env(args.env)
    sup = ctx.supervisor
    if not sup.is_running():
        raise AgentError(f"{ctx.env} is not running: run `start-all-agents {ctx.env}`")
    ctx.layers.refuse_committed_secrets()
    selected = ctx.select(args.agent)
    names = [e.name for e, _ in selected]
    sup.stop_agents(names)
    sup.preflight(selected, ctx.layers)
    sup.start_agents(names)
    _show(sup.wait_answering(selected, ctx.core.ready_timeout, _tokens(ctx)), args.json)
    return 0


def add_parsers(sub: Any) -> None:
    """Register the run-time verbs."""
    p = sub.add_parser("render", help="write supervisor.d/<env>/supervisord.conf")
    p.add_argument("env")
    p.set_defaults(func=cmd_render)

    p = sub.add_parser("start", help="start every agent of <env> and wait until they answer")
    p.add_argument("env")
    p.add_argument("--json", action="store_true", help="print the status as JSON")
    p.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 unless every agent is ready (upstream configured)",
    )
    p.set_defaults(func=cmd_start)

    p = sub.add_parser("stop", help="stop supervisord and every agent of <env>")
    p.add_argument("env")
    p.set_defaults(func=cmd_stop)

    p = sub.add_parser("status", help="state, pid, port and readiness of each agent")
    p.add_argument("env")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("restart", help="restart agents and wait until they answer")
    p.add_argument("env")
    p.add_argument("agent", nargs="*", help="agents to restart (default: all)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_restart)
