"""Three machines edit Claude files and sync in any order: the model behind the file-level
property test (tests/integration/claude/test_file_sync_property.py) and the "sync accuracy"
figure (scripts/bench accuracy).

Each machine has its own checkout of this project (so its own context store), its own home,
and one shared folder remote. Steps drive the real ``agents`` command in process. Every edit
writes a unique token into one *slot* (a CLAUDE.md line, a settings key, a line of a skill
file, an MCP server's argument); the model tracks which tokens an import took in and which a
later edit on the same machine replaced (it saw them, so they are superseded, not lost).

The invariant, after every machine has imported, synced and applied: each token ever
imported and not superseded is in its file on every machine, or in a revision of a conflict
some machine lists (``agents sync conflicts --all``).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agents.cli.main import main
from agents.store.store import ContextStore
from tests.servers import trust_each_other

CLAUDE_LINES = 5
SKILL_LINES = 3
KEYS = ("model", "theme")
TOKEN = re.compile(r"t\d+x")
OPS = (
    "edit_claude",
    "set_key",
    "edit_skill",
    "edit_mcp",
    "delete_claude",
    "import",
    "apply",
    "apply_import_first",
    "pull",
    "push",
    "restore",
)
# files each kind of slot lives in, relative to the home
FILES = {
    "claude": ".claude/CLAUDE.md",
    "key": ".claude/settings.json",
    "skill": ".claude/skills/demo/notes.md",
    "mcp": ".claude.json",
}
DOCS = {
    "claude": "claude_file:user/CLAUDE.md",
    "skill": "skill:demo",
    "mcp": "mcp_server:tool",
}


def agents(root: Path, *argv: str) -> Any:
    """Run ``agents ARGV --json`` in process for the machine at ``root``; its JSON output."""
    out = io.StringIO()
    old = os.environ.get("AGENTS_HOME")
    os.environ["AGENTS_HOME"] = str(root)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()) as err:
            try:
                main([*argv, "--json"])
            except SystemExit as done:
                if done.code not in (0, None):
                    raise AssertionError(f"agents {' '.join(argv)}: {err.getvalue()}") from None
    finally:
        if old is None:
            os.environ.pop("AGENTS_HOME", None)
        else:
            os.environ["AGENTS_HOME"] = old
    text = out.getvalue()
    return json.loads(text) if text.strip() else None


@dataclass
class Machine:
    """One simulated machine."""

    name: str
    root: Path
    home: Path

    def agents(self, *argv: str) -> Any:
        return agents(self.root, *argv)

    def claude(self, verb: str, *argv: str) -> Any:
        return self.agents("claude", verb, "--home", str(self.home), *argv)

    def path(self, slot: str) -> Path:
        return self.home / FILES[slot]

    def text(self, slot: str) -> str:
        try:
            return self.path(slot).read_text()
        except FileNotFoundError:
            return ""


@dataclass
class Tally:
    """What a run did and found, for the figure."""

    runs: int = 0
    steps: int = 0
    edits: int = 0
    imported: int = 0
    lost: int = 0
    in_conflicts: int = 0
    failures: list[str] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        self.runs += other.runs
        self.steps += other.steps
        self.edits += other.edits
        self.imported += other.imported
        self.lost += other.lost
        self.in_conflicts += other.in_conflicts
        self.failures += other.failures


class World:
    """Three machines, one folder remote, and the model of every edit."""

    def __init__(self, scratch: Path, machines: int = 3) -> None:
        self.remote = self_remote(scratch)
        (scratch / "remote").mkdir(parents=True)
        self.machines = [self._machine(scratch, i) for i in range(machines)]
        stores = [ContextStore(m.root / "context" / "local") for m in self.machines]
        trust_each_other(*stores)  # one person's machines, trusted on each other
        for store in stores:
            store.close()
        self.counter = 0
        self.slot_of: dict[str, str] = {}  # token -> slot kind
        self.imported: set[str] = set()
        self.superseded: set[str] = set()
        self.tally = Tally(runs=1)
        self._seed(self.machines[0])
        first = self.machines[0]
        first.claude("import", "--yes")
        first.agents("sync", "push")
        for m in self.machines[1:]:
            self.step("restore", m.name)

    def _machine(self, scratch: Path, i: int) -> Machine:
        name = "abc"[i] if i < 3 else f"m{i}"
        root, home = machine_dirs(scratch, name, self.remote, 9100 + 10 * i)
        return Machine(name, root, home)

    def _seed(self, m: Machine) -> None:
        m.path("claude").write_text("".join(f"line {i}\n" for i in range(CLAUDE_LINES)))
        m.path("key").write_text(json.dumps({k: f"{k}-0" for k in KEYS}, indent=2) + "\n")
        skill = m.path("skill").parent
        skill.mkdir(parents=True)
        (skill / "SKILL.md").write_text("---\nname: demo\ndescription: a demo skill\n---\nDemo.\n")
        m.path("skill").write_text("".join(f"note {i}\n" for i in range(SKILL_LINES)))
        servers = {"tool": {"type": "stdio", "command": "echo", "args": ["arg-0"]}}
        m.path("mcp").write_text(json.dumps({"mcpServers": servers}, indent=2) + "\n")

    # --- steps -------------------------------------------------------------------------

    def token(self, slot: str) -> str:
        self.counter += 1
        t = f"t{self.counter}x"
        self.slot_of[t] = slot
        self.tally.edits += 1
        return t

    def _replace_line(self, m: Machine, slot: str, index: int) -> None:
        text = m.text(slot)
        if not text:
            return  # deleted here: nothing to edit
        lines = text.splitlines(keepends=True)
        i = index % len(lines)
        self.superseded.update(TOKEN.findall(lines[i]))
        lines[i] = f"{lines[i].split()[0]} {self.token(slot)}\n"
        m.path(slot).write_text("".join(lines))

    def step(self, op: str, name: str, arg: int = 0) -> None:
        """Carry out one step on machine ``name``."""
        m = next(x for x in self.machines if x.name == name)
        self.tally.steps += 1
        if op == "edit_claude":
            self._replace_line(m, "claude", arg)
        elif op == "edit_skill":
            self._replace_line(m, "skill", arg)
        elif op == "set_key":
            data = json.loads(m.text("key") or "{}")
            key = KEYS[arg % len(KEYS)]
            self.superseded.update(TOKEN.findall(str(data.get(key, ""))))
            data[key] = self.token("key")
            m.path("key").write_text(json.dumps(data, indent=2) + "\n")
        elif op == "edit_mcp":
            data = json.loads(m.text("mcp") or "{}")
            entry = (data.get("mcpServers") or {}).get("tool")
            if entry is None:
                return
            self.superseded.update(TOKEN.findall(json.dumps(entry)))
            entry["args"] = [self.token("mcp")]
            m.path("mcp").write_text(json.dumps(data, indent=2) + "\n")
        elif op == "delete_claude":
            self.superseded.update(TOKEN.findall(m.text("claude")))
            m.path("claude").unlink(missing_ok=True)
        elif op == "import":
            self._mark_imported(m)
            m.claude("import", "--yes")
        elif op == "apply":
            m.claude("apply", "--yes", "--allow-exec")  # MCP servers need their own approval
        elif op == "apply_import_first":
            self._mark_imported(m)
            m.claude("apply", "--import-first", "--yes", "--allow-exec")
        elif op in ("pull", "push"):
            m.agents("sync", op)
        elif op == "restore":
            m.agents(
                "restore",
                "--from",
                self.remote,
                "--home",
                str(m.home),
                "--yes",
                "--allow-exec",
                "--no-register",
            )
        else:
            raise ValueError(op)

    def _mark_imported(self, m: Machine) -> None:
        for slot in FILES:
            self.imported.update(t for t in TOKEN.findall(m.text(slot)) if t in self.slot_of)

    def settle(self) -> None:
        """Bring every machine to the end state: import its edits, sync, apply."""
        for _ in range(2):
            for m in self.machines:
                self.step("apply_import_first", m.name)
                self.step("pull", m.name)
                self.step("push", m.name)
        for m in self.machines:
            self.step("pull", m.name)
            self.step("apply", m.name)

    # --- the invariant -------------------------------------------------------------------

    def conflict_tokens(self) -> set[str]:
        """Tokens in any revision of any conflict some machine lists."""
        found: set[str] = set()
        for m in self.machines:
            for c in m.agents("sync", "conflicts", "--all"):
                for key in ("local_hash", "remote_hash", "resolved_hash"):
                    if c.get(key):
                        doc = m.agents("context", "get", c["doc_id"], "--at", c[key])
                        found.update(TOKEN.findall(json.dumps(doc)))
        return found

    def check(self) -> Tally:
        """Count lost edits; ``tally.failures`` names each."""
        listed = self.conflict_tokens()
        for t in sorted(self.imported - self.superseded):
            slot = self.slot_of[t]
            missing = [m.name for m in self.machines if t not in m.text(slot)]
            if not missing:
                continue
            if t in listed:
                self.tally.in_conflicts += 1
                continue
            self.tally.lost += 1
            self.tally.failures.append(f"{t} ({slot}) missing on {missing}, in no conflict")
        self.tally.imported = len(self.imported)
        return self.tally


def machine_dirs(scratch: Path, name: str, remote: str, port: int) -> tuple[Path, Path]:
    """A machine's checkout of this project (its own store, syncing to ``remote``) and its
    home with an empty ~/.claude."""
    root = scratch / f"repo-{name}"
    (root / "environments").mkdir(parents=True)
    (root / "environments" / ".env.local").write_text(
        f"AGENTS_PORT_BASE={port}\nCONTEXT_REMOTE={remote}\n"
    )
    home = scratch / "homes" / name
    (home / ".claude").mkdir(parents=True)
    return root, home


def self_remote(scratch: Path) -> str:
    return f"dir://{scratch / 'remote'}"
