"""The journal for a date range as the CSV that QuickBooks Online's and Xero's journal imports accept.

    QuickBooks Online (Settings > Import data > Journal entries):
        JournalNo, JournalDate (MM/DD/YYYY), AccountName, Debits, Credits, Description, Name
    Xero (Manual Journals > Import):
        Narration, Date (DD/MM/YYYY), Description, AccountCode, TaxRate, Amount (debit +, credit -)

Both group rows into one journal by its number (QuickBooks) or by narration and date (Xero): the entry's
number is in both. Sales tax is its own line (the sales tax payable account), so Xero's TaxRate is
"Tax Exempt" on every line. Cells are formula-safe (common.csvfile.safe_cell).
"""

import csv
from collections.abc import Iterator
from datetime import date

from common.csvfile import safe_cell

from .models import JournalLine
from .reports import customer_names

QUICKBOOKS_COLUMNS = ["JournalNo", "JournalDate", "AccountName", "Debits", "Credits", "Description", "Name"]
XERO_COLUMNS = ["Narration", "Date", "Description", "AccountCode", "TaxRate", "Amount"]
XERO_TAX_RATE = "Tax Exempt"


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_rows(rows) -> Iterator[str]:
    """Each row as one CSV line (for a StreamingHttpResponse); strings made formula-safe."""
    writer = csv.writer(_Echo())
    for row in rows:
        yield writer.writerow([safe_cell(v) if isinstance(v, str) else v for v in row])


def _lines(start: date, end: date):
    lines = JournalLine.objects.filter(date__gte=start, date__lte=end)
    names = customer_names(lines.exclude(customer_id=None).values_list("customer_id", flat=True).distinct())
    ordered = lines.select_related("entry", "account").order_by("date", "entry_id", "pk")
    return ordered.iterator(chunk_size=2000), names


def _amount(value) -> str:
    return f"{value:.2f}" if value else ""


def quickbooks_rows(*, start: date, end: date) -> Iterator[list]:
    lines, names = _lines(start, end)
    yield QUICKBOOKS_COLUMNS
    for line in lines:
        entry = line.entry
        yield [
            f"HS-{entry.pk}",
            f"{entry.date:%m/%d/%Y}",
            line.account.name,
            _amount(line.debit),
            _amount(line.credit),
            entry.memo,
            names.get(line.customer_id, ""),
        ]


def xero_rows(*, start: date, end: date) -> Iterator[list]:
    lines, names = _lines(start, end)
    yield XERO_COLUMNS
    for line in lines:
        entry = line.entry
        name = names.get(line.customer_id)
        yield [
            f"HS-{entry.pk} {entry.memo}"[:255],
            f"{entry.date:%d/%m/%Y}",
            f"{line.account.name}{f' - {name}' if name else ''}",
            line.account.code,
            XERO_TAX_RATE,
            f"{line.debit - line.credit:.2f}",
        ]
