"""``agents machines`` and restore's trust question, through the real argument parser: the
question shows each machine's fingerprint and trusts only what the person answers; a wrong
fingerprint trusts nobody."""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path
from typing import Any

import pytest

from agents.cli.machines import choose_trust
from agents.cli.main import main
from agents.core.errors import InputError
from agents.store.store import ContextStore
from agents.sync.engine import Syncer
from agents.sync.trust import identity_of, trusted_set
from agents.sync.urls import open_remote


def pushed(tmp_path: Path, name: str, url: str) -> ContextStore:
    store = ContextStore(tmp_path / name, machine_id=name)
    store.put("preference:x", "preference", {"key": "x", "value": name})
    Syncer(store, open_remote(url)).push()
    return store


def ask(monkeypatch: pytest.MonkeyPatch, answer: str, **flags: Any) -> tuple[Any, list[str]]:
    """A terminal (the seam: isatty and input) that answers ``answer``."""
    shown: list[str] = []
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)

    def ask(prompt: str) -> str:
        shown.append(prompt)
        return answer

    monkeypatch.setattr("builtins.input", ask)
    args = argparse.Namespace(trust=None, json=False, yes=False, **flags)
    return args, shown


def test_restore_asks_which_machines_to_trust_showing_their_fingerprints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"dir://{tmp_path / 'remote'}"
    laptop, desk = pushed(tmp_path, "laptop", url), pushed(tmp_path, "desk", url)
    new = ContextStore(tmp_path / "new", machine_id="new")
    args, prompts = ask(monkeypatch, "laptop")
    choose_trust(args, new, open_remote(url), url)
    out = capsys.readouterr().out
    assert identity_of(laptop).fingerprint in out and identity_of(desk).fingerprint in out
    assert prompts and "Trust which?" in prompts[0]
    trust = trusted_set(new)
    assert trust.trusts("laptop", identity_of(laptop).public_key) and not trust.trusts("desk")
    # an empty answer trusts nobody more; an unknown id trusts nobody and says so
    args, _ = ask(monkeypatch, "")
    choose_trust(args, new, open_remote(url), url)
    assert not trusted_set(new).trusts("desk")
    args, _ = ask(monkeypatch, "desk stranger")
    with pytest.raises(InputError, match="stranger"):
        choose_trust(args, new, open_remote(url), url)
    assert not trusted_set(new).trusts("desk")


def test_yes_never_trusts_and_trust_checks_the_fingerprint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"dir://{tmp_path / 'remote'}"
    laptop = pushed(tmp_path, "laptop", url)
    root = tmp_path / "project"
    (root / "environments").mkdir(parents=True)
    (root / "environments" / ".env.local").write_text(f"CONTEXT_REMOTE={url}\n")
    monkeypatch.setenv("AGENTS_HOME", str(root))
    for name in ("AGENT_ENV", "CONTEXT_REMOTE"):
        monkeypatch.delenv(name, raising=False)

    def agents(*argv: str, code: int = 0) -> str:
        with pytest.raises(SystemExit) as done:
            main(list(argv))
        out, err = capsys.readouterr()
        assert done.value.code == code, (out, err)
        return out + err

    rows = {r["id"]: r for r in json.loads(agents("machines", "list", "--json"))}
    assert set(rows["laptop"]) == {"id", "fingerprint", "trusted", "this", "last_seen"}
    assert rows["laptop"]["fingerprint"] == identity_of(laptop).fingerprint
    assert rows["laptop"]["trusted"] is False and rows["laptop"]["last_seen"]
    assert [r["this"] for r in rows.values()].count(True) == 1
    wrong = "AAAA-BBBB-CCCC-DDDD"
    assert "nothing was trusted" in agents(
        "machines", "trust", "laptop", "--fingerprint", wrong, code=1
    )
    assert "no machine 'ghost'" in agents("machines", "trust", "ghost", code=1)
    done = json.loads(agents("machines", "trust", "laptop", "--json"))
    assert done["trusted"] and done["pull"]["pull"]["fast_forwarded"] >= 1
    rows = {r["id"]: r for r in json.loads(agents("machines", "list", "--json"))}
    assert rows["laptop"]["trusted"] is True
    assert "revoked laptop" in agents("machines", "revoke", "laptop")
    assert "pending" in agents("sync", "pull")
