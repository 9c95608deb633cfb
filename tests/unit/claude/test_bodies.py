"""Document bodies to and from what Claude's files hold: MCP server entries, file entries and
SKILL.md front matter."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agents.claude.bodies import file_entry, front_matter, server_body, server_config, split_tools
from agents.claude.drafts import blob_id
from agents.store.schemas import check_body

BASE = {"name": "api", "source": "claude_code_user", "project_id": None}
ODD: dict[str, Any] = {  # only the command has a known key and the right type
    "type": "websocket",
    "command": "srv",
    "args": ["--port", 8080],
    "env": {"PORT": 8080},
    "headers": "X-Key: k",
    "url": 5,
    "cwd": "/srv",
    "alwaysAllow": ["read"],
    "meta": {"team": "infra"},
    "timeout": 30,
}


@pytest.mark.parametrize(
    ("config", "fields", "extra"),
    [
        (
            {"type": "http", "url": "https://mcp.example.com/mcp", "headers": {"X-Key": "k"}},
            {"transport": "http", "url": "https://mcp.example.com/mcp", "headers": {"X-Key": "k"}},
            None,
        ),
        (
            {"command": "npx", "args": ["-y", "pkg"], "env": {"TOKEN": "t"}},
            {"command": "npx", "args": ["-y", "pkg"], "env": {"TOKEN": "t"}},
            None,
        ),
        (ODD, {"command": "srv"}, {k: v for k, v in ODD.items() if k != "command"}),
    ],
)
def test_a_servers_known_fields_of_the_right_type_are_its_own_and_the_rest_kept_under_extra(
    config: dict[str, Any], fields: dict[str, Any], extra: dict[str, Any] | None
) -> None:
    """So the body always passes the ``mcp_server`` schema and the secret scrubbing finds the
    URL, env and headers where it looks for them."""
    body = server_body("api", config, "claude_code_user", None)
    assert body == {**BASE, **fields, **({"extra": extra} if extra else {})}
    check_body("mcp_server", body)
    assert server_config(body) == config


_KEYS = st.sampled_from(["type", "command", "args", "env", "url", "headers", "cwd", "x"])
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.sampled_from(["stdio", "http", "sse", "a"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=6,
)


@given(config=st.dictionaries(_KEYS, _JSON | st.text(max_size=4), max_size=8))
def test_a_server_entry_comes_back_whole_with_the_known_keys_first(config: dict[str, Any]) -> None:
    back = server_config(server_body("api", config, "claude_code_user", None))
    assert back == config
    known = [k for k in ("type", "command", "args", "env", "url", "headers") if k in config]
    assert list(back) == known + [k for k in config if k not in known]


def test_a_file_is_text_when_utf8_without_nul_else_a_blob_and_keeps_its_mode_either_way() -> None:
    assert file_entry("héllo\n".encode(), 0o644) == ({"text": "héllo\n", "mode": 0o644}, None)
    for data in (b"a\x00b", b"\xff\xfe"):
        entry, blob = file_entry(data, 0o755)
        assert entry == {"blob": {"blob": blob_id(data), "bytes": len(data)}, "mode": 0o755}
        assert blob == data


@pytest.mark.parametrize(
    ("text", "meta"),
    [
        (
            "---\ndescription: Fill PDFs\nallowed-tools: Read\n---\n# PDF\n\n---\n\nMore.\n",
            {"description": "Fill PDFs", "allowed-tools": "Read"},
        ),
        ("---\n---\nname: body\n---\n", {}),  # empty front matter, a later rule
        ("---\n- a\n- b\n---\n", {}),  # not a mapping
        ("---\nname: [unclosed\n---\n", {}),  # not YAML
        ("---\nname: unclosed\n", {}),
        ("# No front matter\n", {}),
    ],
)
def test_front_matter_is_the_mapping_up_to_the_first_closing_line(
    text: str, meta: dict[str, Any]
) -> None:
    assert front_matter(text) == meta


@pytest.mark.parametrize(
    ("value", "tools"),
    [
        (["Read", "Bash(git add:*)"], ["Read", "Bash(git add:*)"]),
        ("Read, Bash(git add, git commit), Write", ["Read", "Bash(git add, git commit)", "Write"]),
        ("Read,, ", ["Read"]),
        (5, []),
        (["Read", 5], []),
    ],
)
def test_allowed_tools_are_a_yaml_list_or_a_comma_list_keeping_commas_inside_brackets(
    value: Any, tools: list[str]
) -> None:
    assert split_tools(value) == tools
