"""The Graph fake rejects what Graph rejects (issue 15), seen through the agent's real SDK."""

from __future__ import annotations

import pytest

from tests.contract.lokka.conftest import Agent
from tests.fakes.graph import FakeGraph
from tests.fakes.graph_data import ADA

pytestmark = [pytest.mark.anyio, pytest.mark.contract]


async def test_an_empty_group_create_is_rejected_naming_the_required_property(
    agent: Agent, graph: FakeGraph
) -> None:
    before = len(graph.data["groups"])
    text = await agent.error("graph_request", method="POST", path="/groups", body={}, confirm=True)
    assert "400" in text and "A value is required for property 'displayName'" in text
    assert len(graph.data["groups"]) == before


async def test_a_user_update_that_overwrites_id_is_rejected(agent: Agent, graph: FakeGraph) -> None:
    new_id = "99999999-0000-0000-0000-000000000000"
    text = await agent.error(
        "graph_request", method="PATCH", path=f"/users/{ADA}", body={"id": new_id}, confirm=True
    )
    assert "400" in text and "Property 'id' is read-only" in text
    assert any(u["id"] == ADA for u in graph.data["users"])
    assert not any(u["id"] == new_id for u in graph.data["users"])
