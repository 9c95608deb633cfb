"""``scripts/bench mutation``'s scratch copy: a file added to a target gets mutated."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[3]


def _mutation() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "bench_mutation", ROOT / "scripts" / "benchmarks" / "mutation.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bench_mutation", module)
    spec.loader.exec_module(module)
    return module


def test_a_file_copied_unmutated_before_it_joined_the_target_is_removed_so_mutmut_mutates_it(
    tmp_path: Path,
) -> None:
    """mutmut copies a file outside the target as it is, newer than its source, and later
    takes that copy for already mutated: the copy without mutmut's ``.meta`` goes, the
    mutated files and the files outside the target stay, and mutmut's test map, made while
    the file had no mutants, is emptied so that its next run maps every test again."""
    mutants = tmp_path / "mutants" / "agents" / "claude"
    mutants.mkdir(parents=True)
    for name in ("apply.py", "writes.py", "capture.py"):
        (mutants / name).write_text("# copy\n")
    (mutants / "apply.py.meta").write_text("{}")
    stats = tmp_path / "mutants" / "mutmut-stats.json"
    mapped = {"agents.claude.apply.x_execute": ["tests/unit/claude/test_guard.py::test_a"]}
    hashes = {"agents.claude.apply.x_execute": "ab12"}
    stats.write_text(
        json.dumps(
            {
                "tests_by_mangled_function_name": mapped,
                "duration_by_test": {"tests/unit/claude/test_guard.py::test_a": 0.5},
                "function_hashes": hashes,
            }
        )
    )
    files = ["agents/claude/apply.py", "agents/claude/writes.py", "agents/claude/gone.py"]
    assert _mutation()._forget_unmutated(tmp_path, files) == ["agents/claude/writes.py"]
    assert sorted(p.name for p in mutants.iterdir()) == ["apply.py", "apply.py.meta", "capture.py"]
    # every test is new to mutmut again, so its next run maps them all; its hashes stay
    assert json.loads(stats.read_text()) == {
        "tests_by_mangled_function_name": {},
        "duration_by_test": {},
        "function_hashes": hashes,
    }
    before = stats.read_text()
    assert _mutation()._forget_unmutated(tmp_path, files) == []
    assert stats.read_text() == before
