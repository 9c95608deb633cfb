"""``agents mcp-config <env> --format claude-code|mcp-json|desktop``: client configs."""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from agents.catalog import CatalogEntry, resolve_tokens
from agents.cli.env import EnvContext, load_env
from agents.core.errors import AgentError, ConfigError

__all__ = [
    "add_parsers",
    "approve_project_servers",
    "claude_code_lines",
    "desktop_config",
    "install",
    "mcp_json",
    "server_name",
]


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


CLAUDE_CODE_NPM = "npm install -g @anthropic-ai/claude-code"


def approve_project_servers(root: Path, names: list[str]) -> Path:
    """Record this user's approval of the project's ``.mcp.json`` servers the way Claude Code
    does: their names in ``enabledMcpjsonServers`` of ``.claude/settings.local.json`` (personal,
    not committed). Other settings are kept; the file is replaced atomically.

    Raises:
        ConfigError: The settings file exists but is not a JSON object.
    """
    path = root / ".claude" / "settings.local.json"
    settings: dict[str, Any] = {}
    if path.exists():
        try:
            settings = json.loads(path.read_text() or "{}")
        except ValueError as exc:
            raise ConfigError(f"{path} is not valid JSON ({exc}): fix or remove it") from None
        if not isinstance(settings, dict):
            raise ConfigError(f"{path} is not a JSON object: fix or remove it")
    enabled = [n for n in settings.get("enabledMcpjsonServers", []) if isinstance(n, str)]
    settings["enabledMcpjsonServers"] = enabled + [n for n in names if n not in enabled]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(settings, indent=2) + "\n")
    os.replace(tmp, path)
    return path


def _claude(exe: str, argv: list[str], cwd: Path, secrets: list[str]) -> None:
    proc = subprocess.run(
        [exe, "mcp", *argv], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )
    if proc.returncode != 0:
        said = (proc.stderr or proc.stdout).strip()
        for secret in secrets:  # the CLI may echo the header it was given
            said = said.replace(secret, "***")
        shown = " ".join(a for a in argv[:6] if not a.startswith("Authorization"))
        raise AgentError(f"`claude mcp {shown}` failed (exit {proc.returncode}): {said}")


def install(ctx: EnvContext, scope: str, exe: str | None) -> int:
    """Register every agent with Claude Code through its own CLI (``claude mcp add``).

    ``user``/``local`` scope: in your private ``~/.claude.json``, with the token values.
    ``project`` scope: in ``.mcp.json`` (committed) with ``${VAR}`` references, and the
    servers approved for you in ``.claude/settings.local.json``.
    """
    tokens = resolve_tokens(ctx.layers, ctx.core)
    project = scope == "project"
    if exe is None:
        print(
            "error: the `claude` CLI (Claude Code) is not on PATH, so nothing was registered. "
            f"Install it with `{CLAUDE_CODE_NPM}` and run this again, or run these yourself:",
            file=sys.stderr,
        )
        print("\n".join(claude_code_lines(ctx, inline=False, scope=scope)), file=sys.stderr)
        return 1
    names = []
    for entry, port in ctx.ports:
        name = server_name(entry, ctx.env)
        names.append(name)
        # again is fine: replace what an earlier run (or older port) registered
        subprocess.run(
            [exe, "mcp", "remove", "--scope", scope, name],
            cwd=ctx.root,
            capture_output=True,
            timeout=120,
            check=False,
        )
        header = _bearer(ctx, entry, inline=not project)
        argv = ["add", "--transport", "http", "--scope", scope, name]
        argv += [f"http://127.0.0.1:{port}/mcp", "--header", f"Authorization: {header}"]
        _claude(exe, argv, ctx.root, list(tokens.values()))
        print(f"registered {name} (http://127.0.0.1:{port}/mcp, {scope} scope)")
    if not project:
        print(f"`claude mcp list` checks them; tools appear as mcp__{names[0]}__<tool>")
        return 0
    settings = approve_project_servers(ctx.root, names)
    if not (ctx.root / ".git").exists():
        print(
            f"note: {ctx.root} is not a git checkout; Claude Code reads .claude/ settings at a "
            "repository's root, so here it may still ask you to approve the servers once"
        )
    secrets_file = shlex.quote(str(ctx.layers.secrets_file))
    print(
        f"{ctx.root / '.mcp.json'} lists them for everyone who clones the project; Claude Code "
        "asks each person once to approve a project's servers (until then `claude mcp list` "
        f"says \u23f8 Pending approval). Your approval is recorded in {settings} "
        "(enabledMcpjsonServers; personal, not committed).\n"
        "The file holds ${NAME_AGENT_TOKEN} references, not tokens: Claude Code expands them "
        f"from its environment, so start it with the tokens exported: "
        f"`set -a; . {secrets_file}; set +a; claude`"
    )
    return 0


def cmd_mcp_config(args: argparse.Namespace) -> int:
    """Print the chosen client config to stdout, or register it with ``--install``."""
    ctx = load_env(args.env)
    if args.install:
        return install(ctx, args.scope, shutil.which("claude"))
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
        "--install",
        action="store_true",
        help="register the agents with Claude Code now (`claude mcp add`, --scope user or "
        "project; project also records your approval of .mcp.json)",
    )
    p.add_argument(
        "--inline-secrets",
        action="store_true",
        help="write token values instead of ${VAR} references",
    )
    p.set_defaults(func=cmd_mcp_config)
