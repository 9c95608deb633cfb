"""Document bodies in the store's per-kind shapes, and back to what Claude's files hold.

One module for both directions, so capture and apply cannot drift apart:
- an MCP server entry (``{"type", "command", "args", "env", "url", "headers", …}``) <->
  an ``mcp_server`` body (``transport``, ``command``, …, unknown keys under ``extra``);
- a file's bytes <-> a file entry (``text`` or a ``blob`` reference, plus ``mode``);
- SKILL.md front matter -> the skill body's ``description`` and ``allowed_tools``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

from agents.claude.drafts import blob_id

__all__ = [
    "SOURCES",
    "file_entry",
    "front_matter",
    "server_body",
    "server_config",
    "split_tools",
]

# mcp_server "source": which client file the entry lives in
SOURCES = {
    "claude_code_user": "~/.claude.json mcpServers",
    "claude_code_local": "~/.claude.json projects[<path>].mcpServers",
    "claude_code_project": "<project>/.mcp.json mcpServers",
    "claude_desktop": "claude_desktop_config.json mcpServers",
}
_TRANSPORTS = ("stdio", "http", "sse")
_ORDER = ("type", "command", "args", "env", "url", "headers")


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _string_map(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(v, str) for v in value.values())


def server_body(
    name: str, config: Mapping[str, Any], source: str, project_id: str | None
) -> dict[str, Any]:
    """An ``mcp_server`` body for one entry of a client's ``mcpServers``."""
    body: dict[str, Any] = {"name": name, "source": source, "project_id": project_id}
    extra: dict[str, Any] = {}
    for key, value in config.items():
        if key == "type" and value in _TRANSPORTS:
            body["transport"] = value
        elif (
            (key in ("command", "url") and isinstance(value, str))
            or (key == "args" and _strings(value))
            or (key in ("env", "headers") and _string_map(value))
        ):
            body[key] = value
        else:
            extra[key] = value
    if extra:
        body["extra"] = extra
    return body


def server_config(body: Mapping[str, Any]) -> dict[str, Any]:
    """The ``mcpServers`` entry an ``mcp_server`` body stands for."""
    merged: dict[str, Any] = dict(body.get("extra") or {})
    if "transport" in body:
        merged["type"] = body["transport"]
    for key in _ORDER[1:]:
        if key in body:
            merged[key] = body[key]
    ordered = {k: merged[k] for k in _ORDER if k in merged}
    ordered.update({k: v for k, v in merged.items() if k not in ordered})
    return ordered


def file_entry(data: bytes, mode: int) -> tuple[dict[str, Any], bytes | None]:
    """A file entry for ``data``, and the bytes to keep as a blob when it is not UTF-8 text."""
    try:
        text = data.decode("utf-8")
        if "\x00" not in text:
            return {"text": text, "mode": mode}, None
    except UnicodeDecodeError:
        pass
    return {"blob": {"blob": blob_id(data), "bytes": len(data)}, "mode": mode}, data


# libyaml's safe loader where PyYAML was built with it (the same documents; its speed is in
# docs/performance.md), the pure-Python one otherwise
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def front_matter(text: str) -> dict[str, Any]:
    """The YAML front matter of a Markdown file (``---`` … ``---``), or ``{}``."""
    if not text.startswith("---"):
        return {}
    end = text.find("\n---", 3)
    if end < 0:
        return {}
    try:
        data = yaml.load(text[3:end], Loader=_YAML_LOADER)
    except yaml.YAMLError:
        return {}
    return data if isinstance(data, dict) else {}


def split_tools(value: Any) -> list[str]:
    """``allowed-tools`` as a list: YAML list, or a comma list (commas inside ``()`` kept)."""
    if _strings(value):
        return list(value)
    if not isinstance(value, str):
        return []
    out, depth, cur = [], 0, ""
    for ch in value:
        depth += (ch == "(") - (ch == ")")
        if ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    out.append(cur.strip())
    return [t for t in out if t]
