"""Reading an uploaded CSV: its encoding, its delimiter, its header row and its records. Pure: no database.

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


def decode(raw: bytes) -> tuple[str, str]:
    """The text and the encoding it was read with: UTF-8 (with or without a BOM), UTF-16, else cp1252."""
    if raw.startswith(codecs.BOM_UTF8):
        return raw[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace"), "utf-8-sig"
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16"), "utf-16"
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace"), "cp1252"


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


def read_table(raw: bytes, *, limit: int | None = None) -> Table:
    """Parse the file (its first `limit` data rows) or raise ApplicationError(field="file") saying what
    is wrong with it."""
    if not raw.strip():
        raise ApplicationError("The file is empty.", field="file", code="empty")
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
            "The first row should name the columns (First Name, Phone, Email...); it holds data. "
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
