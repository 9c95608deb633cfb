"""``agents logs <env> [agent] [-f]``: the agents' JSON lines, pretty-printed."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from agents.catalog import by_name
from agents.cli.env import load_env
from agents.supervisor.control import tail_lines

__all__ = ["add_parsers", "format_line"]


def format_line(line: str, renderer: Any) -> str:
    """One log line for humans: JSON lines through structlog's console renderer, others as is."""
    try:
        event = json.loads(line)
    except ValueError:
        return line
    if not isinstance(event, dict) or "event" not in event:
        return line
    level = str(event.get("level", "info"))
    return str(renderer(None, level, event))


class _Follower:
    """Follows one file across rotation (supervisord renames it to .1 and starts afresh)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fh: TextIO | None = None
        self.inode: int | None = None
        self.skip_existing = True  # history was already printed; after a rotation, read all

    def read(self) -> list[str]:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            self.skip_existing = False
            return []
        if self.fh is None or st.st_ino != self.inode or st.st_size < self.fh.tell():
            if self.fh is not None:
                self.fh.close()
            self.fh = self.path.open(errors="replace")
            self.inode = st.st_ino
            if self.skip_existing:
                self.fh.seek(0, os.SEEK_END)
            self.skip_existing = False
        return [line.rstrip("\n") for line in self.fh.readlines()]


def cmd_logs(args: argparse.Namespace) -> int:
    """Print the last lines of each agent's log, then follow with ``-f``."""
    ctx = load_env(args.env)
    programs = ["health", "sync"]  # supervised beside the agents
    if args.agent in programs:
        names = [args.agent]
    elif args.agent:
        names = [by_name(args.agent).name]
    else:
        names = [e.name for e, _ in ctx.ports] + programs
    import structlog

    renderer = structlog.dev.ConsoleRenderer(colors=sys.stdout.isatty())
    paths = [ctx.paths.log_of(n) for n in names]
    recent: list[tuple[str, str]] = []
    for path in paths:
        for line in tail_lines(path, args.lines):
            try:
                ts = str(json.loads(line).get("timestamp", ""))
            except (ValueError, AttributeError):
                ts = ""
            recent.append((ts, line))
    recent.sort(key=lambda item: item[0])
    for _, line in recent[-args.lines :]:
        print(format_line(line, renderer), flush=True)
    if not args.follow:
        return 0
    followers = [_Follower(p) for p in paths]
    try:
        while True:
            for f in followers:
                for line in f.read():
                    print(format_line(line, renderer), flush=True)
            time.sleep(0.25)
    except KeyboardInterrupt:
        return 0


def add_parsers(sub: Any) -> None:
    """Register ``logs``."""
    p = sub.add_parser("logs", help="pretty-print agent logs; -f follows")
    p.add_argument("env")
    p.add_argument("agent", nargs="?", help="one agent (default: all, plus the health listener)")
    p.add_argument("-f", "--follow", action="store_true")
    p.add_argument("-n", "--lines", type=int, default=40, help="lines of history (default 40)")
    p.set_defaults(func=cmd_logs)
