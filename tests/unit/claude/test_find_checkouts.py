"""How a new machine finds the projects it has cloned but not yet opened in Claude Code: git
checkouts under home, by project id, within a depth and a number of folders."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agents.claude.projects import find_checkouts


def checkout(path: Path, remote: str | None = None) -> Path:
    """A folder git would take for a checkout: ``.git`` with ``origin`` set to ``remote``."""
    (path / ".git").mkdir(parents=True)
    if remote:
        (path / ".git" / "config").write_text(f'[remote "origin"]\n\turl = {remote}\n')
    return path


SHOP = "github.com/acme/shop"


def test_the_shallowest_checkout_of_a_project_wins(tmp_path: Path) -> None:
    """Two clones of one project: the one nearer home is the project's path, whatever else
    is still wanted."""
    near = checkout(tmp_path / "src" / "shop", "git@github.com:acme/shop.git")
    checkout(tmp_path / "deep" / "er" / "shop", "https://github.com/acme/shop")
    assert find_checkouts(tmp_path, [SHOP, "github.com/acme/gone"]) == {SHOP: near}


def test_checkouts_side_by_side_are_all_found(tmp_path: Path) -> None:
    a = checkout(tmp_path / "src" / "a", "https://github.com/acme/a")
    b = checkout(tmp_path / "src" / "b", "https://github.com/acme/b")
    found = find_checkouts(tmp_path, ["github.com/acme/a", "github.com/acme/b"])
    assert found == {"github.com/acme/a": a, "github.com/acme/b": b}


def test_a_checkout_without_a_remote_is_found_by_its_path_under_home(tmp_path: Path) -> None:
    notes = checkout(tmp_path / "notes")
    assert find_checkouts(tmp_path, ["~/notes"]) == {"~/notes": notes}


def test_hidden_and_dependency_folders_are_not_searched(tmp_path: Path) -> None:
    checkout(tmp_path / ".cache" / "shop", f"https://{SHOP}")
    checkout(tmp_path / "node_modules" / "shop", f"https://{SHOP}")
    assert find_checkouts(tmp_path, [SHOP]) == {}


def test_a_symlink_is_not_followed(tmp_path: Path) -> None:
    """A link may lead out of home, or back into it (a loop)."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "shop").symlink_to(checkout(tmp_path / "elsewhere" / "shop", f"https://{SHOP}"))
    (home / "loop").symlink_to(home)
    assert find_checkouts(home, [SHOP]) == {}


def test_the_search_goes_four_folders_deep_by_default(tmp_path: Path) -> None:
    four = checkout(tmp_path / "a" / "b" / "c" / "shop", f"https://{SHOP}")
    assert find_checkouts(tmp_path, [SHOP]) == {SHOP: four}
    five = tmp_path / "more"
    checkout(five / "x" / "a" / "b" / "c" / "shop", f"https://{SHOP}")
    assert find_checkouts(five, [SHOP]) == {}


@pytest.mark.parametrize(("limit", "found"), [(4, True), (3, False)])
def test_the_search_stops_after_its_number_of_folders(
    tmp_path: Path, limit: int, found: bool
) -> None:
    """Folders are counted as they are looked at, in name order: the fourth is the checkout."""
    for name in ("a", "b", "c"):
        (tmp_path / name).mkdir()
    shop = checkout(tmp_path / "d", f"https://{SHOP}")
    assert find_checkouts(tmp_path, [SHOP], limit=limit) == ({SHOP: shop} if found else {})


def test_a_folder_that_cannot_be_listed_is_passed_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """(Root lists any folder, so the refusal is made at ``Path.iterdir``.)"""
    closed = tmp_path / "a"
    closed.mkdir()
    shop = checkout(tmp_path / "b" / "shop", f"https://{SHOP}")
    listing = Path.iterdir

    def iterdir(self: Path) -> Iterator[Path]:
        if self == closed:
            raise PermissionError(13, "Permission denied", str(self))
        return listing(self)

    monkeypatch.setattr(Path, "iterdir", iterdir)
    assert find_checkouts(tmp_path, [SHOP]) == {SHOP: shop}
