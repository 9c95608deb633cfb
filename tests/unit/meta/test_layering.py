"""The package layering: each package of ``agents`` imports only packages below it, and no
modules import each other in a circle.

Imports inside functions count too: a lazy import is still a dependency. Imports under
``if TYPE_CHECKING:`` do not (they never run), nor does a module's import of its own parent
packages (Python imports those first anyway).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

# Top to bottom; packages in one row are independent of each other.
LAYERS: list[set[str]] = [
    {"cli"},
    {"supervisor"},
    {"context", "claude"},
    {"sync"},
    {"notion", "fizzy", "lokka"},
    {"launch"},  # an agent process's composition root: core + catalog + the store recorder
    {"store"},
    {"catalog"},
    {"core"},
]
# Module cycles not removed yet: none. A new one fails the test below; do not add it here.
MODULE_CYCLES_PENDING: list[set[str]] = []


def _module_of(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def module_imports() -> dict[str, set[str]]:
    """Every ``agents`` module and the ``agents`` modules it imports (resolved to modules)."""
    paths = {_module_of(p): p for p in (ROOT / "agents").rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for mod, path in paths.items():
        package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        found: set[str] = set()
        tree = ast.parse(path.read_text(), str(path))
        typing_only = {
            id(n)
            for block in ast.walk(tree)
            if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
            for stmt in block.body
            for n in ast.walk(stmt)
        }
        for node in ast.walk(tree):
            if id(node) in typing_only:
                continue
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*up, base] if base else up)
                targets = [f"{base}.{a.name}" for a in node.names] + [base]
            else:
                continue
            for target in targets:
                while target and target not in paths:
                    target = target.rpartition(".")[0]
                if target.startswith("agents.") and not mod.startswith(f"{target}."):
                    found.add(target)
        found.discard(mod)
        graph[mod] = found
    return graph


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _rank(package: str) -> int:
    for i, row in enumerate(LAYERS):
        if package in row:
            return i
    raise AssertionError(f"agents.{package} is in no layer of LAYERS: place it")


def test_each_package_imports_only_packages_in_lower_layers() -> None:
    """core knows nothing of the store or the catalog; sync nothing of the CLI; and so on."""
    wrong = sorted(
        f"{mod} imports {target}"
        for mod, targets in module_imports().items()
        for target in targets
        if _package(mod)
        and _package(target)
        and _package(mod) != _package(target)
        and _rank(_package(mod)) >= _rank(_package(target))
    )
    assert wrong == []


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return out


def test_no_modules_import_each_other_in_a_circle() -> None:
    """No import cycles but the known ones, and those do not grow."""
    found = [
        c for c in cycles(module_imports()) if not any(set(c) <= p for p in MODULE_CYCLES_PENDING)
    ]
    assert found == []


def test_the_cycle_finder_finds_a_circle_and_the_layer_check_a_wrong_way_import() -> None:
    """The checks above can fail: a two-module circle is found, a chain is not."""
    assert cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]
    assert cycles({"a": {"b"}, "b": {"c"}}) == []
    assert _rank("core") > _rank("store") > _rank("sync") > _rank("cli")
