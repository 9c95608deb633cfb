"""``agents mcp-config <env> --format claude-code|mcp-json|desktop``: client configs."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from typing import Any

from agents.catalog import CatalogEntry
from agents.cli.env import EnvContext, load_env

__all__ = ["add_parsers", "claude_code_lines", "desktop_config", "mcp_json", "server_name"]


def server_name(entry: CatalogEntry, env: str) -> str:
    """The name a client registers the agent under (non-local environments get a suffix)."""
    return entry.server_name if env == "local" else f"{entry.server_name}-{env}"


def _bearer(ctx: EnvContext, entry: CatalogEntry, inline: bool) -> str:
    if inline:
        return f"Bearer {ctx.layers.get(entry.token_var) or ''}"
    return f"Bearer ${{{entry.token_var}}}"


def claude_code_lines(ctx: EnvContext, *, inline: bool = False, scope: str = "user") -> list[str]:
    """``claude mcp add`` commands, one per agent."""
    lines = []
    if not inline:
        lines.append(
            f"# Claude Code expands ${{VAR}} in headers when it connects: export the tokens from "
            f"{ctx.layers.rel(ctx.layers.secrets_file)} first, e.g. "
            f"`set -a; . {shlex.quote(str(ctx.layers.secrets_file))}; set +a`"
        )
    for entry, port in ctx.ports:
        argv = [
            "claude",
            "mcp",
            "add",
            "--transport",
            "http",
            "--scope",
            scope,
            server_name(entry, ctx.env),
            f"http://127.0.0.1:{port}/mcp",
            "--header",
            f"Authorization: {_bearer(ctx, entry, inline)}",
        ]
        lines.append(" ".join(shlex.quote(a) for a in argv))
    return lines


def mcp_json(ctx: EnvContext, *, inline: bool = False) -> dict[str, Any]:
    """A project ``.mcp.json`` with one HTTP entry per agent; tokens as ``${VAR}`` references."""
    return {
        "mcpServers": {
            server_name(entry, ctx.env): {
                "type": "http",
                "url": f"http://127.0.0.1:{port}/mcp",
                "headers": {"Authorization": _bearer(ctx, entry, inline)},
            }
            for entry, port in ctx.ports
        }
    }


def desktop_config(ctx: EnvContext, python: str | None = None) -> dict[str, Any]:
    """``claude_desktop_config.json`` entries: Desktop takes stdio servers only, so each entry
    runs the agent itself in stdio mode (no token: the process belongs to Desktop)."""
    py = python or sys.executable
    return {
        "mcpServers": {
            server_name(entry, ctx.env): {
                "command": py,
                "args": ["-m", entry.module, "--env", ctx.env, "--transport", "stdio"],
                "env": {"AGENTS_HOME": str(ctx.root)},
            }
            for entry, _ in ctx.ports
        }
    }


def cmd_mcp_config(args: argparse.Namespace) -> int:
    """Print the chosen client config to stdout."""
    ctx = load_env(args.env)
    if args.format == "claude-code":
        print("\n".join(claude_code_lines(ctx, inline=args.inline_secrets, scope=args.scope)))
    elif args.format == "mcp-json":
        print(json.dumps(mcp_json(ctx, inline=args.inline_secrets), indent=2))
    else:
        print(json.dumps(desktop_config(ctx), indent=2))
    return 0


def add_parsers(sub: Any) -> None:
    """Register ``mcp-config``."""
    p = sub.add_parser("mcp-config", help="print client configs for Claude Code or Desktop")
    p.add_argument("env")
    p.add_argument(
        "--format", choices=["claude-code", "mcp-json", "desktop"], default="claude-code"
    )
    p.add_argument(
        "--scope",
        choices=["local", "project", "user"],
        default="user",
        help="claude mcp add --scope (claude-code format)",
    )
    p.add_argument(
        "--inline-secrets",
        action="store_true",
        help="write token values instead of ${VAR} references",
    )
    p.set_defaults(func=cmd_mcp_config)
