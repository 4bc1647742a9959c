"""Reading an uploaded CSV (its encoding, its delimiter, its header row and its records) and writing
cells a spreadsheet will not run as formulas. Pure: no database. Used by every CSV import (crm's leads and
customers, fsm's pricebook).

Row numbers are the spreadsheet's: the header is row 1 when it is the first line, and blank lines keep
their number, so "row 14" in a report is row 14 in Excel.
"""

import codecs
import csv
import io
import itertools
import re
from dataclasses import dataclass

from common.errors import ApplicationError

DELIMITERS = (",", ";", "\t", "|")
csv.field_size_limit(1024 * 1024)


@dataclass
class Record:
    number: int
    values: list[str]


@dataclass
class Table:
    headers: list[str]
    records: list[Record]  # data rows only, blank lines left out
    encoding: str
    delimiter: str


# What a file that is not text starts with, and what to call it in the message that refuses it.
MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF-", "a PDF document"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old-style Excel or Word file (.xls or .doc)"),
    (b"{\\rtf", "a Rich Text (RTF) document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"SQLite format 3\x00", "an SQLite database"),
)
ZIP_KINDS = ((b"xl/", "an Excel workbook (.xlsx)"), (b"word/", "a Word document (.docx)"))
CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")  # no text file holds these (tab, CR, LF aside)


def binary_kind(raw: bytes) -> str | None:
    """What a file that is not text looks like ("a PNG image", "an Excel workbook (.xlsx)", "a binary
    file"), or None for text: a known signature, NUL bytes outside UTF-16, control characters."""
    for magic, kind in MAGIC:
        if raw.startswith(magic):
            return kind
    if raw.startswith(b"PK\x03\x04"):
        head = raw[: 64 * 1024]
        return next((kind for marker, kind in ZIP_KINDS if marker in head), "a ZIP archive")
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return None
    sample = raw[: 64 * 1024]
    if b"\x00" in sample or len(CONTROL.findall(sample.decode("latin-1"))) > len(sample) // 100:
        return "a binary file"
    return None


def decode(raw: bytes) -> tuple[str, str]:
    """The text and the encoding it was read with: UTF-8 (with or without a BOM), UTF-16, else cp1252;
    an ApplicationError when it is none of them."""
    if raw.startswith(codecs.BOM_UTF8):
        return raw[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace"), "utf-8-sig"
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16"), "utf-16"
    for encoding in ("utf-8", "cp1252"):
        try:
            return raw.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise ApplicationError(
        "The file's text could not be read: it is neither UTF-8 nor Windows-1252 (what Excel writes). "
        "Save it again as CSV UTF-8.",
        field="file",
        code="not_text",
    )


def sniff_delimiter(text: str) -> str:
    """The delimiter the header line uses most (comma, semicolon, tab or pipe); a comma when none."""
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    counts = {d: first_line.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _is_blank(values: list[str]) -> bool:
    return not any(v.strip() for v in values)


def _clean_headers(cells: list[str]) -> list[str]:
    headers, seen = [], set()
    for i, cell in enumerate(cells, start=1):
        name = " ".join(cell.split()) or f"Column {i}"
        base, n = name, 2
        while name.lower() in seen:
            name, n = f"{base} ({n})", n + 1
        seen.add(name.lower())
        headers.append(name)
    return headers


def _looks_like_data(cells: list[str]) -> bool:
    """A first row holding e-mails, phone numbers or amounts is data, not column names."""
    for cell in cells:
        text = cell.strip()
        if "@" in text or len(re.sub(r"\D", "", text)) >= 5 or re.fullmatch(r"[\d.,$/ -]+", text or "x"):
            return True
    return False


def read_table(
    raw: bytes, *, limit: int | None = None, example_headers: str = "First Name, Phone, Email"
) -> Table:
    """Parse the file (its first `limit` data rows) or raise ApplicationError(field="file") saying what
    is wrong with it. `example_headers` shows, in that message, what a header row looks like."""
    if not raw.strip():
        raise ApplicationError("The file is empty.", field="file", code="empty")
    kind = binary_kind(raw)
    if kind:
        raise ApplicationError(
            f"This file is {kind}, not a CSV file (plain text, one row per line). Upload a .csv file with "
            "the column names in its first row: in Excel, File, Save As, CSV UTF-8.",
            field="file",
            code="not_text",
        )
    text, encoding = decode(raw)
    delimiter = sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    numbered = ((i, cells) for i, cells in enumerate(reader, start=1) if not _is_blank(cells))
    try:
        numbered = list(itertools.islice(numbered, None if limit is None else limit + 1))
    except csv.Error as error:
        raise ApplicationError(f"This is not a readable CSV file ({error}).", field="file") from None
    if not numbered:
        raise ApplicationError("The file is empty.", field="file", code="empty")
    _, header_cells = numbered[0]
    if _looks_like_data(header_cells):
        raise ApplicationError(
            f"The first row should name the columns ({example_headers}...); it holds data. "
            "Export the file with its header row.",
            field="file",
            code="no_header",
        )
    headers = _clean_headers(header_cells)
    records = [Record(n, _fit(cells, len(headers))) for n, cells in numbered[1:]]
    if not records:
        raise ApplicationError("The file has column names but no rows.", field="file", code="no_rows")
    return Table(headers=headers, records=records, encoding=encoding, delimiter=delimiter)


def _fit(cells: list[str], width: int) -> list[str]:
    return (cells + [""] * width)[:width]


def safe_cell(value: str) -> str:
    """A spreadsheet would run a cell starting with = or @ as a formula: quote it (phones keep their +)."""
    if value[:1] in ("=", "@", "\t", "\r") or (value[:1] in "+-" and not _numberish(value)):
        return f"'{value}"
    return value


def unquote_cell(value: str) -> str:
    """Undo safe_cell: a file we exported reads back as it was ('=1+2 is =1+2 again)."""
    if value[:1] == "'" and value[1:2] in ("=", "@", "+", "-", "\t", "\r"):
        return value[1:]
    return value


def _numberish(value: str) -> bool:
    return all(c.isdigit() or c in " +-().,/#x" for c in value)
