"""Mutation testing with mutmut: which small changes to the code no test notices.

``scripts/bench mutation TARGET [--max-children N] [--fresh] [MUTANT ...]``;
``scripts/bench mutation`` lists the targets. Each target is one slice of the code (a module
or a few) and the fast tests that exercise it (unit tests, contract tests against the loopback
fakes, the sync engine over the directory remote), so a run fits a shared 2-core machine.
mutmut's stats pass records which tests call which function, and each mutant runs only those,
fastest first, stopping at the first failure. A mutant whose tests take more than
``(their measured time + 5 s) x 10`` is stopped and counted as a timeout.

The run happens in a scratch copy of the repository (``.bench/mutation/<target>/``) whose
``pyproject.toml`` gets the target's ``[tool.mutmut]`` section; the working tree is never
touched. The scratch copy is kept between runs, so a second run re-checks only what changed
(mutmut compares each function's hash) and new tests; ``--fresh`` starts over. Naming mutants
(``agents.sync.pull.x_merge_base__mutmut_3``, or a glob such as ``'agents.sync.pull.*'``)
re-runs just those, which is how a kill is shown after a test is added. Mutmut always runs
at ``nice -n 19``: the machine is shared.

mutmut keeps a verdict while its function is unchanged, even when a test that kills the mutant
has been added since; ``--recheck`` re-runs by name every mutant the last run did not kill
(survived, timeout, no tests), which is how the tests written for a run's survivors are shown
to kill them.

``--budget MINUTES`` stops a run after that long
(mutmut and its test runs are terminated; each verdict was saved as it arrived): the mutants it
did not reach stay "not checked" and the next run goes on from there.

At the end the counts per status go to ``.bench/mutation/<target>/summary.json`` and every
mutant not killed is listed in ``survivors.txt``; ``mutmut show <name>`` in
``.bench/mutation/<target>`` prints one as a diff. The results: docs/testing.md ("Where it
stands") sums them up per target; docs/mutation-log.md records every run and every
survivor's verdict, the evidence for that summary.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MUTMUT = Path(sys.executable).with_name("mutmut")

# The sync unit tests, and the engine's tests over the directory remote only (no git, PostgreSQL
# or Azurite; not the multi-process ones, which cost seconds each): -k matches the package name
# "unit" too.
SYNC_DIR = "unit or not (git or postgres or azure or m365 or concurrent)"
SYNC_TESTS = [
    "tests/unit/sync",
    "tests/integration/sync/test_engine.py",
    "tests/integration/sync/test_gc.py",
    "tests/integration/sync/test_hostile_remote.py",
    "tests/integration/sync/test_sync_reports.py",
    "tests/integration/sync/test_trust.py",
    "tests/integration/sync/test_remote_conformance.py",
    "-k",
    SYNC_DIR,
]
CLAUDE_TESTS = ["tests/unit/claude", "tests/unit/cli/test_skill.py"]

# name: (files to mutate, pytest arguments selecting the tests that exercise them)
TARGETS: dict[str, tuple[list[str], list[str]]] = {
    # guards and safety code first
    "sync-pull": (["agents/sync/pull.py"], SYNC_TESTS),
    "sync-trust": (
        ["agents/sync/trust.py"],
        ["tests/unit/cli/test_machines_cli.py", *SYNC_TESTS],  # `agents machines` reads trust
    ),
    "sync-keys": (["agents/sync/keys.py"], SYNC_TESTS),
    "sync-limits": (
        ["agents/sync/limits.py", "agents/sync/quarantine.py", "agents/sync/urls.py"],
        SYNC_TESTS,
    ),
    "lokka-guard": (
        ["agents/lokka/guard.py"],
        [
            "tests/unit/lokka/test_guard_targets.py",
            "tests/unit/lokka/test_paths.py",
            "tests/contract/lokka",
        ],
    ),
    "claude-risk": (["agents/claude/risk.py"], CLAUDE_TESTS),
    "claude-approval": (["agents/claude/approval.py"], CLAUDE_TESTS),
    "claude-apply": (
        [
            "agents/claude/plan.py",
            "agents/claude/apply.py",
            "agents/claude/targets.py",
            "agents/claude/writes.py",
        ],
        CLAUDE_TESTS,
    ),
    # the context agent's own routes and their bearer check are tested over HTTP
    "core-server": (
        ["agents/core/server.py"],
        ["tests/unit/core", "tests/integration/test_context_api.py"],
    ),
    # the rest of agents/sync/
    "sync-merge": (
        ["agents/sync/merge.py", "agents/sync/text3.py", "agents/sync/ancestry.py"],
        SYNC_TESTS,
    ),
    "sync-engine": (
        [
            "agents/sync/engine.py",
            "agents/sync/push.py",
            "agents/sync/gc.py",
            "agents/sync/state.py",
            "agents/sync/local.py",
            "agents/sync/loop.py",
        ],
        SYNC_TESTS,
    ),
    "sync-remote": (
        [
            "agents/sync/__init__.py",
            "agents/sync/remote.py",
            "agents/sync/dir_remote.py",
            "agents/sync/audit_remote.py",
            "agents/sync/config.py",
        ],
        [*SYNC_TESTS[:-2], "tests/unit/core/test_envfile.py", "-k", SYNC_DIR],
    ),
    "sync-git": (
        ["agents/sync/git_remote.py", "agents/sync/git_cat.py"],
        [
            "tests/unit/sync/test_open_remote.py",
            "tests/unit/sync/test_git_cat.py",
            "tests/integration/sync/test_git_remote.py",
            "tests/integration/sync/test_remote_conformance.py",
            "tests/integration/sync/test_remote_backends.py",
            "-k",
            "git",
        ],
    ),
    "sync-pg": (
        ["agents/sync/pg_remote.py"],
        [
            "tests/integration/sync/test_postgres_watch.py",
            "tests/integration/sync/test_remote_conformance.py",
            "tests/integration/sync/test_remote_backends.py",
            "-k",
            "postgres",
        ],
    ),
    "sync-azure": (
        ["agents/sync/azure_remote.py"],
        [
            "tests/integration/sync/test_remote_conformance.py",
            "tests/integration/sync/test_remote_backends.py",
            "-k",
            "azure",
        ],
    ),
    "sync-m365": (
        ["agents/sync/m365_remote.py"],
        [
            "tests/integration/sync/test_m365_remote.py",
            "tests/integration/sync/test_remote_conformance.py",
            "-k",
            "m365",
        ],
    ),
    # the rest of agents/claude/
    "claude-machine": (
        ["agents/claude/machine.py", "agents/claude/projects.py", "agents/claude/drafts.py"],
        CLAUDE_TESTS,
    ),
    "claude-capture": (
        [
            "agents/claude/capture.py",
            "agents/claude/scan.py",
            "agents/claude/secrets.py",
            "agents/claude/vault.py",
            "agents/claude/diff.py",
            "agents/claude/jsontext.py",
        ],
        CLAUDE_TESTS,
    ),
    "claude-hooks": (
        [
            "agents/claude/__init__.py",
            "agents/claude/hooks.py",
            "agents/claude/briefing.py",
            "agents/claude/checkpoint.py",
            "agents/claude/identity.py",
            "agents/claude/marketplace.py",
            "agents/claude/transcripts.py",
            "agents/claude/bodies.py",
        ],
        CLAUDE_TESTS,
    ),
    "claude-sharing": (
        ["agents/claude/bridge.py", "agents/claude/sharing.py", "agents/claude/importer.py"],
        [*CLAUDE_TESTS, "tests/integration/sync/test_trust.py", "-k", SYNC_DIR],
    ),
}
_SKIP = {".git", ".venv", ".bench", ".mypy_cache", ".ruff_cache", ".pytest_cache", "__pycache__"}

# Appended to the scratch copy's tests/conftest.py: hypothesis without a wall-clock deadline
# (the machine is loaded; a slow example is not a kill) and with fixed examples, so a verdict
# does not depend on the luck of one run.
_HYPOTHESIS = """

from hypothesis import settings as _mutation_settings

_mutation_settings.register_profile("mutation", deadline=None, derandomize=True, database=None)
_mutation_settings.load_profile("mutation")
"""


def _skip(_dir: str, names: list[str]) -> set[str]:
    return {n for n in names if n in _SKIP}


def _config(files: list[str], tests: list[str]) -> str:
    def toml_list(items: list[str]) -> str:
        return "[" + ", ".join(json.dumps(i) for i in items) + "]"

    return (
        "\n[tool.mutmut]\n"
        'source_paths = ["agents"]\n'
        f"only_mutate = {toml_list(files)}\n"
        f"pytest_add_cli_args_test_selection = {toml_list(tests)}\n"
        'pytest_add_cli_args = ["-p", "no:cacheprovider", "-q", "-x"]\n'
        "timeout_constant = 5.0\n"
        "timeout_multiplier = 10.0\n"
        "use_git_change_detection = false\n"
        'also_copy = ["docs/examples"]\n'
    )


def _scratch(target: str, fresh: bool) -> Path:
    """The target's copy of the source tree with its mutmut section, updated in place."""
    files, tests = TARGETS[target]
    dest = REPO / ".bench" / "mutation" / target
    if fresh and dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("agents", "tests", "docs/examples"):  # the examples: tests read them
        if (dest / name).exists():
            shutil.rmtree(dest / name)
        # copy2 keeps modification times: mutmut re-mutates a file only when it is newer
        shutil.copytree(REPO / name, dest / name, ignore=_skip)
    with (dest / "tests" / "conftest.py").open("a") as f:
        f.write(_HYPOTHESIS)
    _forget_unmutated(dest, files)
    pyproject = (REPO / "pyproject.toml").read_text() + _config(files, tests)
    if not (dest / "pyproject.toml").exists() or (dest / "pyproject.toml").read_text() != pyproject:
        (dest / "pyproject.toml").write_text(pyproject)
    return dest


def _forget_unmutated(dest: Path, files: list[str]) -> list[str]:
    """Remove the plain copies, in the scratch's ``mutants/``, of the target's files that
    mutmut copied while they were not in the target (a module split out of another, or
    added to the target later). Such a copy is newer than its source, so mutmut takes it
    for already mutated and never makes its mutants (it has no ``.meta``); removed, it is
    mutated on the next run. mutmut's map of which tests call which function was made
    while those files had no mutants, so it lists no old test for them: it is emptied too
    (the verdicts and function hashes stay), so that mutmut maps every test again.
    Returns the files removed."""
    gone = []
    for name in files:
        copy = dest / "mutants" / name
        if copy.is_file() and not copy.with_name(copy.name + ".meta").exists():
            copy.unlink()
            gone.append(name)
    stats = dest / "mutants" / "mutmut-stats.json"
    if gone and stats.is_file():
        data = json.loads(stats.read_text())
        data["tests_by_mangled_function_name"], data["duration_by_test"] = {}, {}
        stats.write_text(json.dumps(data))
    return gone


def _summary(work: Path, env: dict[str, str]) -> tuple[Counter[str], list[str]]:
    out = subprocess.run(
        [str(MUTMUT), "results", "--all", "true"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    counts: Counter[str] = Counter()
    others = []
    for line in out.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if not sep:
            continue
        counts[status] += 1
        if status != "killed":
            others.append(f"{name}: {status}")
    return counts, others


def _unkilled(work: Path) -> list[str]:
    """The mutants the last run checked and did not kill, from its ``survivors.txt``."""
    listing = work / "survivors.txt"
    if not listing.exists():
        return []
    names = []
    for line in listing.read_text().splitlines():
        name, sep, status = line.rpartition(": ")
        if sep and status != "not checked":
            names.append(name)
    return names


def main() -> int:
    """Run one target; print its counts and every mutant that was not killed."""
    p = argparse.ArgumentParser(
        prog="scripts/bench mutation",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("target", nargs="?", choices=sorted(TARGETS))
    p.add_argument("mutants", nargs="*", help="re-run only these mutants (names or globs)")
    p.add_argument("--max-children", type=int, default=2, help="parallel test runs (default 2)")
    p.add_argument("--fresh", action="store_true", help="discard earlier results of the target")
    p.add_argument(
        "--recheck",
        action="store_true",
        help="re-run every mutant the last run did not kill (its survivors.txt), by name",
    )
    p.add_argument(
        "--budget",
        type=float,
        metavar="MINUTES",
        help="stop after this long (mutmut keeps what it checked; the rest stays 'not checked')",
    )
    args = p.parse_intermixed_args()
    if args.target is None:
        for name, (files, tests) in TARGETS.items():
            print(f"  {name:16} mutates {' '.join(files)}\n  {'':16} tests: {' '.join(tests)}")
        return 2
    work = _scratch(args.target, args.fresh)
    if args.recheck:
        args.mutants += _unkilled(work)
        if not args.mutants:
            print(f"nothing to re-check: {work}/survivors.txt lists no checked survivor")
            return 0
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    # the tests run in the scratch's copy, which has no .ci/node: name this checkout's Azurite
    azurite = REPO / ".ci" / "node" / "node_modules" / ".bin" / "azurite-blob"
    if "AZURITE_BLOB" not in env and azurite.exists():
        env["AZURITE_BLOB"] = str(azurite)
    # pytest's own temp root, not the shared /tmp/pytest-of-<user>: another pytest cleaning
    # that up meanwhile makes a warning, an error under filterwarnings, and a mutant "killed".
    # Outside this checkout: a test's folder "without a remote" must not be inside a git repo
    temproot = Path(tempfile.gettempdir()) / f"agents-mutation-{args.target}"
    temproot.mkdir(exist_ok=True)
    env.setdefault("PYTEST_DEBUG_TEMPROOT", str(temproot))
    run = ["nice", "-n", "19", str(MUTMUT), "run", "--max-children", str(args.max_children)]
    started = time.monotonic()
    proc = subprocess.Popen([*run, *args.mutants], cwd=work, env=env, start_new_session=True)
    try:
        code = proc.wait(timeout=None if args.budget is None else args.budget * 60)
    except subprocess.TimeoutExpired:
        # mutmut ignores SIGINT while it runs mutants; every verdict is saved as it arrives,
        # so stopping it and its test runs loses only the mutants in flight
        os.killpg(proc.pid, signal.SIGTERM)
        code = proc.wait()
        print(f"stopped after the budget of {args.budget} minutes")
    elapsed = time.monotonic() - started
    counts, others = _summary(work, env)
    (work / "survivors.txt").write_text("".join(f"{line}\n" for line in others))
    summary = {
        "target": args.target,
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": round(elapsed),
        "mutants": sum(counts.values()),
        **dict(sorted(counts.items())),
    }
    (work / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print("\n".join(others))
    print(json.dumps(summary))
    print(f"details: {work}/survivors.txt; mutmut show NAME in {work}")
    return code


if __name__ == "__main__":
    sys.exit(main())
