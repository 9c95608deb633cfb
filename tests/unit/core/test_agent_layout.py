"""Every agent registers its tools one way: area modules define them on the registry of
``app.py``, ``tools.py`` declares them, ``__main__.py`` serves ``tools.SPEC``; no module
of an agent imports one that imports it back."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from agents.catalog import AGENTS

ROOT = Path(__file__).resolve().parents[3] / "agents"


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return found


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph``, or None."""
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for dep in sorted(graph[node]):
            if state.get(dep) == 1:
                return [*path[path.index(dep) :], dep]
            if dep not in state and (found := visit(dep)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


@pytest.mark.parametrize("agent", [a.name for a in AGENTS])
def test_an_agents_modules_import_each_other_without_a_cycle(agent: str) -> None:
    """A module of the agent never imports one that (indirectly) imports it."""
    modules = {f"agents.{agent}.{p.stem}": p for p in (ROOT / agent).glob("*.py")}
    graph = {m: {d for d in _imports(p) if d in modules and d != m} for m, p in modules.items()}
    assert _cycle(graph) is None


def test_the_cycle_finder_finds_a_cycle() -> None:
    """The check above can fail: a two-module loop is reported."""
    assert _cycle({"a": {"b"}, "b": {"a"}, "c": set()}) == ["a", "b", "a"]


@pytest.mark.parametrize("agent", [a.name for a in AGENTS])
def test_an_agent_is_served_from_its_tools_module(agent: str) -> None:
    """``__main__`` serves ``tools.SPEC``, whose registry holds every tool the agent defines."""
    assert f"agents.{agent}.tools.SPEC" in _imports(ROOT / agent / "__main__.py")
    spec = importlib.import_module(f"agents.{agent}.tools").SPEC
    assert spec.name == agent and len(spec.registry) > 0
    defined = {t.fn.__module__ for t in spec.registry}
    assert f"agents.{agent}.app" not in defined and f"agents.{agent}.tools" not in defined
