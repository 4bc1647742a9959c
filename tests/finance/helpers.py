"""A small ledger posted straight through finance.services (the reports' tests)."""

from datetime import date
from decimal import Decimal

from finance import services as ledger
from finance.services import EntryIn, LineIn

D = Decimal


def post(day: date, key: str, *lines: LineIn, tax: str | None = None, memo: str = "x"):
    return ledger.entry_post(
        EntryIn(
            date=day,
            memo=memo,
            source="test",
            key=key,
            lines=list(lines),
            tax_percent=D(tax) if tax else None,
        )
    )


def invoice(
    day: date,
    key: str,
    customer_id: int,
    invoice_id: int,
    revenue: str,
    tax: str = "0",
    role="service_revenue",
):
    total = D(revenue) + D(tax)
    refs = {"customer_id": customer_id, "invoice_id": invoice_id}
    lines = [LineIn("ar", debit=total, **refs), LineIn(role, credit=D(revenue), **refs)]
    if D(tax):
        lines.append(LineIn("sales_tax", credit=D(tax), **refs))
    return post(day, key, *lines, tax="8.25" if D(tax) else None, memo=f"Invoice {invoice_id}")


def payment(day: date, key: str, customer_id: int, invoice_id: int, amount: str):
    refs = {"customer_id": customer_id, "invoice_id": invoice_id}
    return post(
        day, key, LineIn("undeposited", debit=D(amount), **refs), LineIn("ar", credit=D(amount), **refs)
    )
