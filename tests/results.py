"""Reading MCP tool results in tests."""

from __future__ import annotations

from mcp.types import CallToolResult, TextContent

__all__ = ["text_of"]


def text_of(result: CallToolResult, index: int = 0) -> str:
    """The text of content block ``index`` (failing the test when it is not text)."""
    block = result.content[index]
    assert isinstance(block, TextContent), f"content[{index}] is {type(block).__name__}"
    return block.text
