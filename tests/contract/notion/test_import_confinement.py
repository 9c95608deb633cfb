"""parse_document is confined (issue 15): it reads nothing until NOTION_IMPORT_ROOTS is set,
and inside the roots never a dotfile, a dot-folder, /proc, /sys, /dev, /etc, the project's
environments/ or context/, nor a symlink or '..' that leads out. Nothing refused is uploaded."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from agents.core.settings import EnvLayers
from agents.notion.app import connect
from agents.notion.imports import ImportPolicy
from agents.notion.tools import SPEC
from tests.contract.notion.conftest import call, fail, layers_for
from tests.fakes.notion import FakeNotion
from tests.unit.core.util import server_for

pytestmark = [pytest.mark.anyio, pytest.mark.contract]


@asynccontextmanager
async def agent_in(fake: FakeNotion, root: Path, **env: str) -> AsyncIterator[Any]:
    """The Notion agent of a project at ``root`` (so environments/ and context/ exist)."""
    layers = layers_for(fake, **env)
    layers = EnvLayers(root=root, env="test", values=layers.values)
    notion = connect(layers)
    try:
        async with Client(server_for(SPEC.registry, client=notion)) as client:
            yield client
    finally:
        await notion.aclose()


def writes(fake: FakeNotion) -> list[Any]:
    return [s for s in fake.requests if s.method != "GET"]


async def test_without_import_roots_no_file_is_read_and_the_error_names_the_setting_and_file(
    fake: FakeNotion, tmp_path: Path
) -> None:
    """The default (empty) NOTION_IMPORT_ROOTS read any file, /etc/shadow included."""
    note = tmp_path / "notes.md"
    note.write_text("# hi\n")
    root = fake.add_root_page("Root")
    async with agent_in(fake, tmp_path) as client:
        for path in (str(note), "/etc/passwd", "/proc/self/environ"):
            text = await fail(client, "parse_document", path=path, parent_page_id=root)
            assert "NOTION_IMPORT_ROOTS" in text and "environments/.env.test" in text, text
    assert writes(fake) == []


@pytest.mark.parametrize(
    "relative",
    [".notes.md", ".ssh/id_rsa", ".config/agents/key.txt", "docs/.git/config.md", "a/.b/c.csv"],
)
async def test_dotfiles_and_dot_folders_inside_a_root_are_refused(
    fake: FakeNotion, tmp_path: Path, relative: str
) -> None:
    home = tmp_path / "home"
    target = home / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("PRIVATE KEY\n")
    page = fake.add_root_page("Root")
    async with agent_in(fake, tmp_path, NOTION_IMPORT_ROOTS=str(home)) as client:
        text = await fail(client, "parse_document", path=str(target), parent_page_id=page)
    assert "dotfile or inside a dot-folder" in text
    assert writes(fake) == []


@pytest.mark.parametrize(
    "path",
    ["/etc/passwd", "/etc/hostname", "/proc/self/environ", "/sys/kernel/osrelease", "/dev/zero"],
)
async def test_system_folders_are_refused_even_when_a_root_covers_them(
    fake: FakeNotion, tmp_path: Path, path: str
) -> None:
    page = fake.add_root_page("Root")
    async with agent_in(fake, tmp_path, NOTION_IMPORT_ROOTS="/") as client:
        text = await fail(client, "parse_document", path=path, parent_page_id=page)
    assert f"is in /{path.split('/')[1]}" in text and "never imports" in text
    assert writes(fake) == []


@pytest.mark.parametrize("folder", ["environments", "context", "elsewhere-store"])
async def test_the_projects_environments_and_context_store_are_refused(
    fake: FakeNotion, tmp_path: Path, folder: str
) -> None:
    """Env files and the store (whose vault holds the age key), also where CONTEXT_DIR points."""
    (tmp_path / folder / "test").mkdir(parents=True)
    secret = tmp_path / folder / "test" / "vault.txt"
    secret.write_text("AGE-SECRET-KEY-1XYZ\n")
    page = fake.add_root_page("Root")
    env = {"NOTION_IMPORT_ROOTS": str(tmp_path), "CONTEXT_DIR": str(tmp_path / "elsewhere-store")}
    async with agent_in(fake, tmp_path, **env) as client:
        text = await fail(client, "parse_document", path=str(secret), parent_page_id=page)
    assert "the project's settings or context store" in text
    assert writes(fake) == []


async def test_symlink_and_dot_dot_escapes_are_refused(fake: FakeNotion, tmp_path: Path) -> None:
    """A link inside the root to a file outside it, or to a dotfile inside it; '..' out."""
    docs, outside = tmp_path / "docs", tmp_path / "outside"
    docs.mkdir()
    outside.mkdir()
    (outside / "secret.md").write_text("secret\n")
    (docs / ".hidden.md").write_text("hidden\n")
    (docs / "link.md").symlink_to(outside / "secret.md")
    (docs / "dir").symlink_to(outside, target_is_directory=True)
    (docs / "innocent.md").symlink_to(docs / ".hidden.md")
    page = fake.add_root_page("Root")
    async with agent_in(fake, tmp_path, NOTION_IMPORT_ROOTS=str(docs)) as client:
        for path in (docs / "link.md", docs / "dir" / "secret.md", f"{docs}/../outside/secret.md"):
            text = await fail(client, "parse_document", path=str(path), parent_page_id=page)
            assert "is outside NOTION_IMPORT_ROOTS" in text, text
        text = await fail(
            client, "parse_document", path=str(docs / "innocent.md"), parent_page_id=page
        )
        assert "dotfile" in text
        (docs / "fine.md").write_text("# Fine\n")
        await call(client, "parse_document", path=str(docs / "fine.md"), parent_page_id=page)
    assert len([w for w in writes(fake) if w.path == "/v1/pages"]) == 1


def test_a_path_swapped_for_a_symlink_after_the_check_is_not_followed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file is opened with O_NOFOLLOW and checked through its descriptor."""
    (tmp_path / "real.md").write_text("ok\n")
    (tmp_path / "secret.md").write_text("secret\n")
    policy = ImportPolicy((tmp_path,))
    swapped = tmp_path / "swapped.md"
    swapped.symlink_to(tmp_path / "secret.md")
    monkeypatch.setattr(ImportPolicy, "check", lambda self, raw: swapped)  # the race, won
    with pytest.raises(Exception, match="cannot be opened"):
        policy.read(str(tmp_path / "real.md"))
    monkeypatch.undo()
    assert policy.read(str(tmp_path / "real.md"))[1] == b"ok\n"
    assert os.path.islink(swapped)
