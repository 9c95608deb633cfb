"""Entry points: ``agents``, ``start-all-agents`` and ``stop-all-agents``."""

from __future__ import annotations

import argparse
import sys

from agents import __version__
from agents.cli import (
    claude,
    context,
    continuity,
    logs,
    machines,
    mcp_config,
    restore,
    run,
    skill,
    sync,
)
from agents.core.errors import AgentError

__all__ = ["build_parser", "main", "start_all_agents", "stop_all_agents"]

_MODULES = (run, logs, mcp_config, context, sync, machines, restore, skill)


def build_parser() -> argparse.ArgumentParser:
    """The ``agents`` parser with every verb."""
    parser = argparse.ArgumentParser(prog="agents", description="Supervised MCP agents.")
    parser.add_argument("--version", action="version", version=f"agents {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in _MODULES[:6]:
        module.add_parsers(sub)
    claude.add_parsers(sub, more=[continuity.add_verbs])
    for module in _MODULES[6:]:
        module.add_parsers(sub)
    return parser


def main(argv: list[str] | None = None) -> None:
    """Run one ``agents`` verb; user errors print one clear message and exit 1."""
    args = build_parser().parse_args(argv)
    try:
        code = args.func(args)
    except AgentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
    except BrokenPipeError:  # e.g. `agents status local --json | head`
        sys.stderr.close()
        sys.exit(0)
    sys.exit(code)


def start_all_agents() -> None:
    """``start-all-agents <env>``."""
    main(["start", *sys.argv[1:]])


def stop_all_agents() -> None:
    """``stop-all-agents <env>``."""
    main(["stop", *sys.argv[1:]])
