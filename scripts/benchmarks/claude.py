"""`scripts/bench claude`: capture and restore a realistic Claude home (about 200 files, 20
skills, MCP servers with secrets, three projects) divided by `cp -r` of the same files.

Restore = plan (render placeholders, resolve secrets, the changed-since-applied guard) plus
execute (splice JSON members, atomic writes) into an empty home on the same disk.

Restore from a remote = what `agents restore` does on a new machine: pull every document from
a git remote into an empty store (fresh clone), then plan and apply into an empty home and
record what was applied. The new machine's vault already holds the secret values (as after
receiving a secrets bundle)."""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from statistics import median

from _common import figure

from agents.claude.apply import execute, plan_apply
from agents.claude.bridge import vault_of
from agents.claude.capture import capture
from agents.claude.importer import import_capture, save_applied
from agents.claude.machine import Machine
from agents.claude.projects import slug
from agents.cli.claude import plan_for
from agents.store.store import ContextStore
from agents.sync.engine import Syncer
from agents.sync.trust import decide, identity_of
from agents.sync.urls import open_remote
from tests.servers import bare_git_repo

PNG = bytes(range(256)) * 8


def _write(path: Path, data: str | bytes, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    os.chmod(path, mode)


def build_home(home: Path) -> int:
    """A home like a heavy user's; returns the number of files Claude-related files."""
    c = home / ".claude"
    _write(c / "CLAUDE.md", f"# Me\n\n- Code lives in {home}/src.\n" + "- A rule.\n" * 80)
    for i in range(10):
        _write(c / "rules" / f"rule{i}.md", f"# Rule {i}\n\n" + "Be precise.\n" * 30)
    for i in range(30):
        _write(
            c / "agents" / f"agent{i}.md",
            f"---\nname: agent{i}\ndescription: A{i}\n---\n" + "Do.\n" * 40,
        )
        _write(c / "commands" / f"cmd{i}.md", f"---\ndescription: C{i}\n---\n" + "Run it.\n" * 20)
    for i in range(20):
        s = c / "skills" / f"skill{i:02d}"
        _write(
            s / "SKILL.md",
            f"---\nname: skill{i:02d}\ndescription: Skill {i}\n---\n" + "Step.\n" * 60,
        )
        _write(s / "scripts" / "run.py", "import sys\n" * 50, 0o755)
        _write(s / "scripts" / "helper.sh", f'#!/bin/sh\nexec {home}/bin/tool "$@"\n', 0o755)
        _write(s / "reference.md", "Reference text.\n" * 200)
        _write(s / "examples" / "example.md", "Example.\n" * 50)
        _write(s / "assets" / "logo.png", PNG)
    env = {f"VAR_{i}": f"value-{i}" for i in range(10)}
    env["ANTHROPIC_API_KEY"] = "sk-ant-api03-" + "x1Y2z3" * 15
    settings = {
        "model": "claude-sonnet-4-5",
        "permissions": {"allow": [f"Bash(tool{i}:*)" for i in range(40)]},
        "env": env,
        "hooks": {
            "PostToolUse": [
                {"matcher": "Edit", "hooks": [{"type": "command", "command": f"{home}/h.sh"}]}
            ]
        },
    }
    _write(c / "settings.json", json.dumps(settings, indent=2) + "\n")
    projects = {}
    for i in range(3):
        p = home / "src" / f"proj{i}"
        _write(
            p / ".git" / "config", f'[remote "origin"]\n\turl = git@github.com:acme/proj{i}.git\n'
        )
        servers = {
            f"s{j}": {
                "command": "npx",
                "args": ["-y", f"pkg{j}"],
                "env": {"TOKEN": f"t{i}{j}-secret-value"},
            }
            for j in range(3)
        }
        _write(p / ".mcp.json", json.dumps({"mcpServers": servers}, indent=2) + "\n")
        projects[str(p)] = {
            "allowedTools": [],
            "history": [{"display": "x"}] * 50,
            "mcpServers": {
                "pg": {
                    "command": "uvx",
                    "args": ["pg"],
                    "env": {"PGPASSWORD": f"pw-{i}-long-enough"},
                }
            },
        }
        mem = c / "projects" / slug(str(p)) / "memory"  # the product's own naming rule
        _write(mem / "MEMORY.md", "- A fact.\n" * 100)
    servers = {
        f"server{i}": {
            "type": "stdio",
            "command": "npx",
            "args": ["-y", f"@acme/mcp-{i}"],
            "env": {"API_KEY": f"key-{i}-0123456789"},
        }
        for i in range(12)
    }
    doc = {
        "numStartups": 500,
        "oauthAccount": {"emailAddress": "a@b.c"},
        "mcpServers": servers,
        "projects": projects,
        "cachedChangelog": "x" * 50_000,
    }
    _write(home / ".claude.json", json.dumps(doc, indent=2), 0o600)
    desktop = {
        "mcpServers": {
            f"d{i}": {
                "command": "npx",
                "args": ["-y", f"d{i}"],
                "env": {"SECRET": f"desk-{i}-0123456789"},
            }
            for i in range(5)
        }
    }
    _write(
        home / ".config" / "Claude" / "claude_desktop_config.json", json.dumps(desktop, indent=2)
    )
    return sum(1 for p in home.rglob("*") if p.is_file() and ".git" not in p.parts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument(
        "--profile",
        choices=("restore", "capture"),
        help="instead of the figures: cProfile of --runs rounds of one side (docs/performance.md)",
    )
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        alice = Machine(root / "alice", "linux", "m-alice")
        files = build_home(alice.home)
        cap = capture(alice)
        paths = {pid: root / "bob" / "work" / pid.rsplit("/", 1)[-1] for pid in cap.projects}
        n = 0
        profiler = cProfile.Profile()  # enabled around the timed part of the side profiled

        def clock(side: str, start: bool) -> float:
            if side == args.profile:
                (profiler.enable if start else profiler.disable)()
            return time.perf_counter()

        def restore() -> float:
            nonlocal n
            n += 1
            bob = Machine(
                root / f"bob{n}",
                "linux",
                "m-bob",
                {k: root / f"bob{n}" / v.name for k, v in paths.items()},
            )
            t0 = clock("restore", True)
            plan = plan_apply(cap.drafts, bob, secrets=cap.secrets, blobs=cap.blobs)
            execute(plan)
            took = clock("restore", False) - t0
            assert not plan.conflicts and not plan.by_action("blocked"), plan.summary()
            shutil.rmtree(bob.home)
            return took

        url = bare_git_repo(root / "ctx.git")
        with ContextStore(root / "store-alice", machine_id="m-alice") as source:
            import_capture(source, cap, vault_of(source), alice)
            Syncer(source, open_remote(url, cache_dir=root / "cache-alice")).push()
            alice_key = identity_of(source).public_key

        def from_remote() -> float:
            nonlocal n
            n += 1
            home = root / f"carol{n}"
            with ContextStore(root / f"store-carol{n}", machine_id="m-carol") as store:
                decide(store, "m-alice", alice_key, trusted=True)  # restore --trust m-alice
                vault_of(store).update(cap.secrets)
                for pid, path in paths.items():
                    (home / path.name).mkdir(parents=True)
                    store.put(
                        f"project:{pid}",
                        "project",
                        {"name": path.name, "paths": {"m-carol": str(home / path.name)}},
                    )
                t0 = time.perf_counter()
                remote = open_remote(url, cache_dir=root / f"cache-carol{n}")
                Syncer(store, remote).pull()
                bob = Machine(home, "linux", "m-carol").with_projects(
                    {pid: home / p.name for pid, p in paths.items()}
                )
                plan = plan_for(store, bob)
                done = execute(plan)
                save_applied(store, done.applied)
                took = time.perf_counter() - t0
            assert not plan.conflicts and not plan.by_action("blocked"), plan.summary()
            shutil.rmtree(home)
            return took

        def capture_once() -> float:
            t0 = clock("capture", True)
            capture(alice)
            return clock("capture", False) - t0

        def cp_r() -> float:
            # timed by the shell around cp itself: starting a child from this (growing)
            # Python process costs more each run, which is not cp's time
            dst = root / "copy"
            out = subprocess.run(
                ["bash", "-c", 'TIMEFORMAT=%R; time cp -r "$0" "$1"', str(alice.home), str(dst)],
                check=True,
                capture_output=True,
                text=True,
            )
            shutil.rmtree(dst)
            return float(out.stderr.strip().splitlines()[-1])

        if args.profile:
            side = restore if args.profile == "restore" else capture_once
            took = [side() for _ in range(args.runs)]
            print(f"{args.profile}: {args.runs} rounds under cProfile, median {median(took):.3f} s")
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
            pstats.Stats(profiler).sort_stats("tottime").print_stats(15)
            return
        # interleaved, so load from other processes hits both sides alike
        runs = [(cp_r(), restore(), capture_once(), from_remote()) for _ in range(args.runs)]
    base = [r[0] for r in runs]
    print(f"claude context, {files} files ({len(cap.drafts)} documents), {args.runs} rounds")
    for name, i, goal in (
        ("restore (plan + apply)", 1, "<= 1.5"),
        ("capture", 2, "<= 2"),
        ("restore from git remote", 3, "-"),
    ):
        print(figure(f"{name} / cp -r", [r[i] for r in runs], base, "s", goal))


if __name__ == "__main__":
    main()
