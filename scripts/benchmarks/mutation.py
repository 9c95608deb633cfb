"""Mutation testing with mutmut: which small changes to the code no test notices.

``scripts/bench mutation TARGET [--max-children N]``; ``scripts/bench mutation`` lists the
targets. Each target is one slice of the code and the tests that cover it, so a run finishes
in minutes on a shared 2-core machine. The run happens in a scratch copy of the repository
(``.bench/mutation/<target>/``), whose ``pyproject.toml`` gets the target's ``[tool.mutmut]``
section; the working tree is never touched. Survivors are printed at the end and kept in
``.bench/mutation/<target>/survivors.txt``; ``mutmut show <name>`` in
``.bench/mutation/<target>`` prints one as a diff. docs/testing.md records the last results.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MUTMUT = Path(sys.executable).with_name("mutmut")

# name: (files to mutate, pytest arguments selecting the tests that cover them)
SYNC_FAST = "not git and not postgres and not azure"
TARGETS: dict[str, tuple[list[str], list[str]]] = {
    "sync-pull": (["agents/sync/pull.py"], ["tests/integration/sync/test_engine.py", "-k", "dir"]),
    "sync-merge": (["agents/sync/merge.py", "agents/sync/text3.py"], ["tests/unit/sync"]),
    "sync-keys": (
        ["agents/sync/keys.py"],
        ["tests/unit/sync", "tests/integration/sync/test_remote_conformance.py", "-k", SYNC_FAST],
    ),
    "sync": (
        ["agents/sync/*.py"],
        ["tests/unit/sync", "tests/integration/sync", "-k", SYNC_FAST],
    ),
    "claude": (["agents/claude/*.py"], ["tests/unit/claude"]),
    "claude-plan": (["agents/claude/plan.py", "agents/claude/machine.py"], ["tests/unit/claude"]),
    "lokka-guard": (["agents/lokka/guard.py"], ["tests/contract/lokka"]),
    "core-server": (["agents/core/server.py"], ["tests/unit/core"]),
}
_SKIP = {".git", ".venv", ".bench", ".mypy_cache", ".ruff_cache", ".pytest_cache", "__pycache__"}


def _config(files: list[str], tests: list[str]) -> str:
    def toml_list(items: list[str]) -> str:
        return "[" + ", ".join(f'"{i}"' for i in items) + "]"

    return (
        "\n[tool.mutmut]\n"
        'source_paths = ["agents"]\n'
        f"only_mutate = {toml_list(files)}\n"
        f"pytest_add_cli_args_test_selection = {toml_list(tests)}\n"
        'pytest_add_cli_args = ["-p", "no:cacheprovider", "-q", "-x"]\n'
        "use_git_change_detection = false\n"
    )


def _scratch(target: str) -> Path:
    """A fresh copy of the source tree with the target's mutmut section."""
    files, tests = TARGETS[target]
    dest = REPO / ".bench" / "mutation" / target
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for name in ("agents", "tests", "pyproject.toml"):
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=lambda _d, ns: {n for n in ns if n in _SKIP})
        else:
            shutil.copy2(src, dest / name)
    with (dest / "pyproject.toml").open("a") as f:
        f.write(_config(files, tests))
    return dest


def main() -> int:
    """Run one target; print its survivors."""
    p = argparse.ArgumentParser(prog="scripts/bench mutation", description=__doc__)
    p.add_argument("target", nargs="?", choices=sorted(TARGETS))
    p.add_argument("--max-children", type=int, default=1, help="parallel test runs (default 1)")
    args = p.parse_args()
    if args.target is None:
        for name, (files, tests) in TARGETS.items():
            print(f"  {name:12} mutates {' '.join(files)}; tests: {' '.join(tests)}")
        return 2
    work = _scratch(args.target)
    env = {**os.environ, "CI": os.environ.get("CI", ""), "PYTHONDONTWRITEBYTECODE": "1"}
    run = [MUTMUT, "run", "--max-children", str(args.max_children)]
    code = subprocess.call(["nice", *map(str, run)], cwd=work, env=env)
    out = subprocess.run(
        [str(MUTMUT), "results"], cwd=work, env=env, capture_output=True, text=True, check=False
    ).stdout
    (work / "survivors.txt").write_text(out)
    print(out)
    survivors = [line for line in out.splitlines() if line.strip().endswith(": survived")]
    print(f"{args.target}: {len(survivors)} surviving mutants (details: {work}/survivors.txt)")
    return code


if __name__ == "__main__":
    sys.exit(main())
