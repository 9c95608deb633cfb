"""Content that runs code or carries credentials: what apply writes only with its own approval.

A document from another machine can make Claude Code run a command (a hook, ``statusLine``,
``apiKeyHelper``, a stdio MCP server, a skill's script, any executable file), send your
traffic or keys elsewhere (``env.ANTHROPIC_BASE_URL``, ``HTTPS_PROXY``, an http MCP server's
url and headers), loosen what Claude may do without asking (``permissions.defaultMode``,
``allow`` rules), install plugins or marketplaces, or replace your login
(``.credentials.json``). :func:`classify` names the risk of one unit's change; the plan puts
such changes in their own section, and ``--yes`` alone never writes them.

:class:`Approvals` remembers what was approved per unit and content hash, so an unchanged
entry is not asked about again.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from agents.claude.vault import write_private_json

__all__ = [
    "COMMAND_SETTINGS",
    "PLUGIN_SETTINGS",
    "Approvals",
    "OriginTrusted",
    "classify",
    "risky_env_names",
    "this_machine_only",
]

OriginTrusted = Callable[[str], bool]

# settings.json keys whose value is a command Claude Code runs
COMMAND_SETTINGS = frozenset(
    {
        "hooks",
        "statusLine",
        "apiKeyHelper",
        "awsAuthRefresh",
        "awsCredentialExport",
        "otelHeadersHelper",
        "fileSuggestion",
        "forceLoginMethod",
        "disableAllHooks",
    }
)
PLUGIN_SETTINGS = frozenset({"enabledPlugins", "extraKnownMarketplaces", "plugins"})
_RISKY_ENV = re.compile(
    r"(_BASE_URL|_PROXY|_ENDPOINT|_HOST|_URL)$|^(PATH|NODE_OPTIONS|NODE_PATH|NODE_EXTRA_CA_CERTS|"
    r"PYTHONPATH|PYTHONSTARTUP|PYTHONHOME|BASH_ENV|ENV|SHELL|PROMPT_COMMAND|SSL_CERT_FILE|"
    r"SSL_CERT_DIR|REQUESTS_CA_BUNDLE|CURL_CA_BUNDLE|GIT_SSH|GIT_SSH_COMMAND|GIT_ASKPASS|"
    r"EDITOR|VISUAL|PAGER|CLAUDE_CODE_USE_BEDROCK|CLAUDE_CODE_USE_VERTEX|.*HELPER.*)$|"
    r"^(LD_|DYLD_)",
    re.I,
)
_SCRIPT_SUFFIXES = frozenset(
    {".sh", ".bash", ".zsh", ".fish", ".py", ".js", ".mjs", ".cjs", ".ts", ".rb", ".pl", ".ps1",
     ".bat", ".cmd", ".exe", ".bin", ".so", ".dylib"}
)  # fmt: skip
_RISKY_FILES = frozenset({".credentials.json", "settings.json", "settings.local.json"})


def this_machine_only(machine_id: str) -> OriginTrusted:
    """The trust seam's default until machine trust exists: only this machine's content."""
    return lambda origin: origin == machine_id


def risky_env_names(desired: Any, current: Any) -> list[str]:
    """The ``env`` entries that would be added or changed and can redirect or run code."""
    if not isinstance(desired, Mapping):
        return []
    now = current if isinstance(current, Mapping) else {}
    return sorted(
        k for k, v in desired.items() if _RISKY_ENV.search(str(k)) and now.get(k, object()) != v
    )


def _permissions(desired: Any, current: Any) -> str | None:
    if not isinstance(desired, Mapping):
        return None
    now = current if isinstance(current, Mapping) else {}
    out = []
    if desired.get("defaultMode") != now.get("defaultMode") and desired.get("defaultMode"):
        out.append(f"defaultMode {desired.get('defaultMode')}")
    for rule in ("allow", "additionalDirectories"):
        new = desired.get(rule)
        added = sorted(
            str(r) for r in (new if isinstance(new, list) else []) if r not in (now.get(rule) or [])
        )
        if added:
            out.append(f"{rule} {', '.join(added)[:120]}")
    return "permissions: " + "; ".join(out) if out else None


def _server(desired: Any) -> str:
    if not isinstance(desired, Mapping):
        return "MCP server"
    if desired.get("command"):
        command = " ".join(str(a) for a in [desired["command"], *(desired.get("args") or [])])
        return f"MCP server runs `{command}`"[:160] + (
            " with env " + ", ".join(sorted(desired["env"])) if desired.get("env") else ""
        )
    return f"MCP server at {str(desired.get('url'))[:120]}" + (
        " with headers " + ", ".join(sorted(desired["headers"])) if desired.get("headers") else ""
    )


def classify(
    path: Path,
    pointer: tuple[str, ...],
    desired: Any,
    current: Any,
    *,
    settings: Path,
    skills: Path,
    mode: int | None = None,
) -> str | None:
    """Why writing ``desired`` over ``current`` at this unit runs code or carries
    credentials, or ``None`` when it does neither.

    ``settings`` is this machine's ``settings.json``, ``skills`` its skills folder.
    """
    if pointer:
        if "mcpServers" in pointer:
            return _server(desired)
        if path == settings and len(pointer) == 1:
            key = pointer[0]
            if key in COMMAND_SETTINGS or key.endswith(("Helper", "Command")):
                return f"settings {key} runs a command"
            if key in PLUGIN_SETTINGS:
                return f"settings {key}: plugins and marketplaces"
            if key == "env":
                names = risky_env_names(desired, current)
                return f"env {', '.join(names)}" if names else None
            if key == "permissions":
                return _permissions(desired, current)
        return None
    name = path.name
    if name in _RISKY_FILES:
        return f"{name}: credentials or settings as a whole file"
    if mode is not None and mode & 0o111:
        return "an executable file"
    if "plugins" in path.parts or "hooks" in path.parts:
        return "a plugin or hook file"
    if skills in path.parents:
        text = desired if isinstance(desired, bytes) else b""
        if path.suffix.lower() in _SCRIPT_SUFFIXES or text.startswith(b"#!"):
            return "a skill script"
    return None


class Approvals:
    """Which content was approved for which unit: ``{unit key: [content hashes]}`` in a 0600
    JSON file of the store (``approvals.json``), written atomically."""

    KEEP = 8  # hashes remembered per unit

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            data = {}
        except (OSError, ValueError):
            data = {}  # unreadable: ask again (never approve by accident)
        self.data: dict[str, list[str]] = {
            str(k): [str(h) for h in v] for k, v in data.items() if isinstance(v, list)
        } if isinstance(data, dict) else {}  # fmt: skip

    def approved(self, key: str, digest: str | None) -> bool:
        """Whether ``digest`` was approved for ``key`` before."""
        return digest is not None and digest in self.data.get(key, [])

    def remember(self, items: Iterable[tuple[str, str | None]]) -> None:
        """Remember each (key, hash) as approved, and save."""
        changed = False
        for key, digest in items:
            if digest is None or self.approved(key, digest):
                continue
            self.data[key] = [*self.data.get(key, []), digest][-self.KEEP :]
            changed = True
        if changed:
            self._save()

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_private_json(self.path, self.data)
