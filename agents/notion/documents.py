"""Local documents → Notion blocks or table rows: Markdown, text, CSV, PDF (pypdf), Excel
(openpyxl)."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Literal

from agents.core.errors import InputError
from agents.notion.imports import ImportPolicy
from agents.notion.markdown import markdown_to_blocks, table_block, text_blocks
from agents.notion.richtext import rich_text

__all__ = ["FORMATS", "Document", "Format", "load_document"]

Format = Literal["markdown", "text", "csv", "pdf", "excel"]
# fmt: off
FORMATS: dict[str, Format] = {
    ".md": "markdown", ".markdown": "markdown", ".txt": "text", ".text": "text",
    ".log": "text", ".csv": "csv", ".tsv": "csv", ".pdf": "pdf", ".xlsx": "excel",
    ".xlsm": "excel",
}
# fmt: on


@dataclass
class Document:
    """A parsed document: its blocks, and its rows when it is a table."""

    format: Format
    title: str
    blocks: list[dict[str, Any]]
    header: list[str] = field(default_factory=list)
    rows: list[list[Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def tabular(self) -> bool:
        """Whether the document is a table (CSV or a spreadsheet)."""
        return self.format in ("csv", "excel")


def load_document(
    raw_path: str, *, fmt: Format | None = None, sheet: str | None = None, policy: ImportPolicy
) -> Document:
    """Read and parse the file at ``raw_path`` (format from its suffix unless ``fmt``), if
    ``policy`` lets it be read (:class:`agents.notion.imports.ImportPolicy`).

    Raises:
        ConfigError: ``NOTION_IMPORT_ROOTS`` is not set.
        InputError: A file the policy refuses, missing or unreadable, of an unknown format,
            or one the parser refuses.
    """
    path, data = policy.read(raw_path)
    kind = fmt or FORMATS.get(path.suffix.lower())
    if kind is None:
        known = ", ".join(sorted(FORMATS))
        raise InputError(f"path: cannot tell the format of {path.name!r}; known suffixes: {known}")
    title = path.stem
    if kind in ("markdown", "text"):
        text = _read_text(data)
        blocks = markdown_to_blocks(text) if kind == "markdown" else text_blocks(text)
        return Document(kind, title, blocks)
    if kind == "pdf":
        return _pdf(path, data, title)
    header, rows = _csv(path, data) if kind == "csv" else _excel(path, data, sheet)
    if not header:
        raise InputError(f"path: {path.name!r} holds no rows")
    return Document(kind, title, [_table(header, rows)], header, rows)


def _read_text(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _csv(path: Path, data: bytes) -> tuple[list[str], list[list[Any]]]:
    text = _read_text(data)
    if path.suffix.lower() == ".tsv":
        dialect: Any = csv.excel_tab
    else:
        try:
            dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|")
        except csv.Error:
            dialect = csv.excel
    rows = [r for r in csv.reader(io.StringIO(text), dialect) if any(c.strip() for c in r)]
    return (_header(rows[0]), rows[1:]) if rows else ([], [])


def _header(row: list[Any]) -> list[str]:
    names = [
        str(c).strip() if c not in (None, "") else f"Column {i + 1}" for i, c in enumerate(row)
    ]
    while names and names[-1].startswith("Column ") and row[len(names) - 1] in (None, ""):
        names.pop()
    return names


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return "" if value is None else value


def _excel(path: Path, data: bytes, sheet: str | None) -> tuple[list[str], list[list[Any]]]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, OSError, KeyError, ValueError) as exc:
        raise InputError(f"path: {path.name!r} is not a readable .xlsx workbook ({exc})") from None
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise InputError(f"sheet: no sheet {sheet!r}; the sheets are {book.sheetnames}")
        ws = book[sheet] if sheet is not None else book.worksheets[0]
        rows = [
            [_cell(v) for v in row]
            for row in ws.iter_rows(values_only=True)
            if any(v not in (None, "") for v in row)
        ]
    finally:
        book.close()
    if not rows:
        return [], []
    header = _header(rows[0])
    return header, [r[: len(header)] for r in rows[1:]]


def _pdf(path: Path, data: bytes, title: str) -> Document:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    warnings: list[str] = []
    blocks: list[dict[str, Any]] = []
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise InputError(f"path: {path.name!r} is encrypted with a password")
        meta_title = reader.metadata.title if reader.metadata else None
        for number, page in enumerate(reader.pages, start=1):
            text = page.extract_text() or ""
            if not text.strip():
                warnings.append(f"page {number} has no extractable text (a scanned image?)")
                continue
            for paragraph in _paragraphs(text):
                blocks.extend(text_blocks(paragraph))
    except PdfReadError as exc:
        raise InputError(f"path: {path.name!r} is not a readable PDF ({exc})") from None
    return Document("pdf", meta_title or title, blocks, warnings=warnings)


def _paragraphs(text: str) -> list[str]:
    """Re-flow PDF lines: a short line ending a sentence ends its paragraph."""
    lines = [line.rstrip() for line in text.splitlines()]
    width = max((len(line) for line in lines), default=0)
    paragraphs: list[str] = []
    current: list[str] = []
    for line in lines:
        if not line.strip():
            if current:
                paragraphs.append(" ".join(current))
                current = []
            continue
        current.append(line.strip())
        if re.search(r"[.!?:]$", line) and len(line) < 0.8 * width:
            paragraphs.append(" ".join(current))
            current = []
    if current:
        paragraphs.append(" ".join(current))
    return paragraphs


def _table(header: list[str], rows: list[list[Any]]) -> dict[str, Any]:
    width = len(header)
    cells = [[rich_text(str(v)) for v in row[:width]] for row in [header, *rows]]
    return table_block([c + [[]] * (width - len(c)) for c in cells])
