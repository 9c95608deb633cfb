"""The package declares what it imports: a fresh install of it has every module it needs."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def _imported_top_levels() -> dict[str, str]:
    """Every third-party top-level module ``agents/`` imports, with one file importing it."""
    found: dict[str, str] = {}
    for path in sorted((ROOT / "agents").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top != "agents" and top not in sys.stdlib_module_names:
                    found.setdefault(top, str(path.relative_to(ROOT)))
    return found


def _declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = {re.split(r"[\s\[<>=!~;]", d, maxsplit=1)[0] for d in project["dependencies"]}
    return {n.lower().replace("_", "-") for n in names}


def test_every_module_the_package_imports_comes_from_a_declared_runtime_dependency() -> None:
    """A module that only arrives through a dev or transitive dependency is a missing one."""
    owners = packages_distributions()
    declared = _declared()
    missing = {
        module: (where, owners.get(module))
        for module, where in _imported_top_levels().items()
        if not {d.lower().replace("_", "-") for d in owners.get(module, [])} & declared
    }
    assert missing == {}, f"imported by agents/ but not in [project] dependencies: {missing}"
