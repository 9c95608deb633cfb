"""parse_document against the fake: Markdown, text, CSV, PDF and Excel into pages, blocks, rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.contract.notion.conftest import Agent, call, fail
from tests.fakes.documents import write_pdf, write_xlsx
from tests.fakes.notion import FakeNotion

pytestmark = [pytest.mark.anyio, pytest.mark.contract]

COLUMNS: dict[str, Any] = {"Name": {"title": {}}, "Qty": {"number": {}}, "Done": {"checkbox": {}}}


async def test_a_markdown_file_becomes_a_page_named_after_the_file(
    fake: FakeNotion, agent: Agent, tmp_path: Path
) -> None:
    """Headings, lists and code arrive as Notion blocks under the parent."""
    root = fake.add_root_page("Root")
    path = tmp_path / "meeting-notes.md"
    path.write_text("# Agenda\n\n- one\n- [ ] two\n\n```py\nx = 1\n```\n")
    async with agent(NOTION_IMPORT_ROOTS=str(tmp_path)) as client:
        result = await call(client, "parse_document", path=str(path), parent_page_id=root)
    page = fake.ws.pages[result["page_id"]]
    assert page["properties"]["title"]["title"][0]["plain_text"] == "meeting-notes"
    kinds = [b["type"] for b in fake.children(result["page_id"])]
    assert kinds == ["heading_1", "bulleted_list_item", "to_do", "code"]
    assert fake.children(result["page_id"])[3]["code"]["language"] == "python"
    assert (result["format"], result["blocks_written"]) == ("markdown", 4)


async def test_a_text_file_is_appended_as_paragraphs_without_markdown_parsing(
    fake: FakeNotion, agent: Agent, tmp_path: Path
) -> None:
    """target=blocks appends to page_id; '# x' in a .txt stays literal text."""
    root = fake.add_root_page("Root", [])
    path = tmp_path / "log.txt"
    path.write_text("# not a heading\nsame paragraph\n\nsecond *plain*\n")
    async with agent(NOTION_IMPORT_ROOTS=str(tmp_path)) as client:
        await call(client, "parse_document", path=str(path), target="blocks", page_id=root)
    texts = [b["paragraph"]["rich_text"][0]["plain_text"] for b in fake.children(root)]
    assert texts == ["# not a heading\nsame paragraph", "second *plain*"]


async def test_a_csv_file_becomes_database_rows_checked_before_any_write(
    fake: FakeNotion, agent: Agent, tmp_path: Path
) -> None:
    """Each row is a page in the data source; a bad cell aborts before the first create."""
    root = fake.add_root_page("Root")
    _, ds = fake.add_database(root, "Stock", COLUMNS)
    good = tmp_path / "stock.csv"
    good.write_text("Name;Qty;Done\napples;3;yes\npears;;no\n")
    bad = tmp_path / "bad.csv"
    bad.write_text("Name,Qty\nplums,2\nfigs,lots\n")
    async with agent(NOTION_IMPORT_ROOTS=str(tmp_path)) as client:
        message = await fail(client, "parse_document", path=str(bad), target="rows", database_id=ds)
        result = await call(client, "parse_document", path=str(good), target="rows", database_id=ds)
    assert message == "row 3['Qty']: 'lots' is not a number"
    creates = [s.body["properties"] for s in fake.calls("POST", "/v1/pages")]
    assert creates == [
        {
            "Name": {"title": [{"type": "text", "text": {"content": "apples"}}]},
            "Qty": {"number": 3},
            "Done": {"checkbox": True},
        },
        {
            "Name": {"title": [{"type": "text", "text": {"content": "pears"}}]},
            "Qty": {"number": None},
            "Done": {"checkbox": False},
        },
    ]
    assert result["rows_created"] == 2


async def test_an_excel_sheet_becomes_a_table_block_or_rows(
    fake: FakeNotion, agent: Agent, tmp_path: Path
) -> None:
    """As a page: one table with a header row; as rows: values by column type."""
    root = fake.add_root_page("Root")
    _, ds = fake.add_database(root, "Stock", COLUMNS)
    path = write_xlsx(
        tmp_path / "stock.xlsx", [["Name", "Qty"], ["kiwi", 4], ["lime", 2.0]], sheet="Fruit"
    )
    async with agent(NOTION_IMPORT_ROOTS=str(tmp_path)) as client:
        page = await call(
            client, "parse_document", path=str(path), parent_page_id=root, title="Fruit stock"
        )
        rows = await call(
            client, "parse_document", path=str(path), target="rows", database_id=ds, sheet="Fruit"
        )
        missing = await fail(
            client, "parse_document", path=str(path), parent_page_id=root, sheet="Veg"
        )
    table = fake.children(page["page_id"])[0]
    assert table["type"] == "table" and table["table"]["table_width"] == 2
    cells = [
        [c[0]["plain_text"] for c in r["table_row"]["cells"]] for r in fake.children(table["id"])
    ]
    assert cells == [["Name", "Qty"], ["kiwi", "4"], ["lime", "2"]]
    assert rows["rows_created"] == 2
    assert missing == "sheet: no sheet 'Veg'; the sheets are ['Fruit']"


async def test_a_pdf_becomes_paragraphs_and_names_pages_without_text(
    fake: FakeNotion, agent: Agent, tmp_path: Path
) -> None:
    """Text is re-flowed into paragraphs; the PDF title names the page; empty pages warn."""
    root = fake.add_root_page("Root")
    path = write_pdf(
        tmp_path / "r.pdf",
        [
            [
                "A long first line of the report that wraps onto",
                "the next line here.",
                "Second paragraph.",
            ],
            [],
        ],
        title="Quarterly report",
    )
    async with agent(NOTION_IMPORT_ROOTS=str(tmp_path)) as client:
        result = await call(client, "parse_document", path=str(path), parent_page_id=root)
    texts = [b["paragraph"]["rich_text"][0]["plain_text"] for b in fake.children(result["page_id"])]
    assert texts == [
        "A long first line of the report that wraps onto the next line here.",
        "Second paragraph.",
    ]
    assert fake.ws.pages[result["page_id"]]["properties"]["title"]["title"][0]["plain_text"] == (
        "Quarterly report"
    )
    assert result["warnings"] == ["page 2 has no extractable text (a scanned image?)"]


async def test_parse_document_refuses_bad_paths_naming_the_parameter(
    agent: Agent, tmp_path: Path
) -> None:
    """Relative, missing, unknown-format and secrets-like paths are input errors."""
    (tmp_path / "x.bin").write_bytes(b"\0")
    (tmp_path / ".env.local.secrets").write_text("NOTION_TOKEN=x\n")
    async with agent(NOTION_IMPORT_ROOTS=str(tmp_path)) as client:
        relative = await fail(client, "parse_document", path="notes.md", parent_page_id="x")
        missing = await fail(client, "parse_document", path=str(tmp_path / "no.md"))
        unknown = await fail(client, "parse_document", path=str(tmp_path / "x.bin"))
        secret = await fail(client, "parse_document", path=str(tmp_path / ".env.local.secrets"))
    assert relative == "path: 'notes.md' is relative; pass an absolute path"
    assert missing.endswith("does not exist or is not a file")
    assert unknown.startswith("path: cannot tell the format of 'x.bin'")
    assert "looks like a secrets file" in secret


async def test_import_roots_confine_which_files_can_be_imported(
    fake: FakeNotion, agent: Agent, tmp_path: Path
) -> None:
    """With NOTION_IMPORT_ROOTS set, a file outside those folders is refused."""
    inside = tmp_path / "docs"
    inside.mkdir()
    (inside / "ok.md").write_text("ok\n")
    (tmp_path / "outside.md").write_text("no\n")
    root = fake.add_root_page("Root")
    async with agent(NOTION_IMPORT_ROOTS=str(inside)) as client:
        await call(client, "parse_document", path=str(inside / "ok.md"), parent_page_id=root)
        message = await fail(
            client, "parse_document", path=str(tmp_path / "outside.md"), parent_page_id=root
        )
    assert "is outside NOTION_IMPORT_ROOTS" in message


async def test_a_table_longer_than_100_rows_is_written_in_parts(
    fake: FakeNotion, agent: Agent, tmp_path: Path
) -> None:
    """The table is created with its first 100 rows; the rest are appended to the table."""
    root = fake.add_root_page("Root")
    path = tmp_path / "long.csv"
    path.write_text("n,sq\n" + "".join(f"{i},{i * i}\n" for i in range(150)))
    async with agent(NOTION_IMPORT_ROOTS=str(tmp_path)) as client:
        result = await call(client, "parse_document", path=str(path), parent_page_id=root)
    table = fake.children(result["page_id"])[0]
    rows = fake.children(table["id"])
    assert len(rows) == 151 and rows[-1]["table_row"]["cells"][1][0]["plain_text"] == "22201"
    appends = fake.calls("PATCH", f"/v1/blocks/{table['id']}/children")
    assert [len(a.body["children"]) for a in appends] == [51]
    assert result["blocks_written"] == 152
