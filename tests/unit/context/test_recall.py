"""search_documents → timeline → get_document, over MCP against a real store."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client

from tests.results import text_of
from tests.unit.context.test_documents import _server, call

pytestmark = pytest.mark.anyio
server = _server


async def test_search_returns_ranked_ids_and_snippets_then_a_timeline_then_the_document(
    server: Any,
) -> None:
    """The small-context pattern: hits carry ids and snippets, not bodies."""
    async with Client(server) as client:
        for key, value in (("db", "postgres with pgbouncer"), ("ci", "github actions")):
            body = {"key": key, "value": value}
            await call(client, "put_document", id=f"preference:{key}", kind="preference", body=body)
        found = await call(client, "search_documents", query="pgbouncer", kind="preference")
        assert [h["id"] for h in found["hits"]] == ["preference:db"]
        assert "[pgbouncer]" in found["hits"][0]["snippet"] and "body" not in found["hits"][0]
        around = await call(client, "timeline", id="preference:db")
        assert [(e["id"], e["anchor"]) for e in around["entries"]] == [
            ("preference:db", True),
            ("preference:ci", False),
        ]
        doc = await call(client, "get_document", id=found["hits"][0]["id"])
        assert doc["body"]["value"] == "postgres with pgbouncer"
        refused = await client.call_tool("search_documents", {"query": "***"})
        assert refused.is_error and "no word" in text_of(refused)
