"""A small ledger posted straight through finance.services (the reports' tests), and the deposits'
payments and slips."""

from datetime import date
from decimal import Decimal

from finance import services as ledger
from finance.models import Account
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


MARCH_5 = date(2026, 3, 5)
NO_FEES = Decimal("0.00")


def received(day: date, key: str, customer_id: int, invoice_id: int, amount: str, role="undeposited"):
    """What finance.subscribers posts for a payment.received milestone (without the milestone)."""
    refs = {"customer_id": customer_id, "invoice_id": invoice_id}
    entry = ledger.entry_post(
        EntryIn(
            date=day,
            memo=f"Payment on invoice {invoice_id}",
            source="payment.received",
            key=key,
            lines=[LineIn(role, debit=D(amount), **refs), LineIn("ar", credit=D(amount), **refs)],
        )
    )
    return entry.lines.get(account__role=role)


def bank() -> Account:
    return Account.objects.get(role="bank")


def deposit(lines, *, day=MARCH_5, key="d1", cleared="undeposited", fees=NO_FEES, actor=None):
    return ledger.deposit_record(
        account=bank(),
        cleared=cleared,
        day=day,
        line_ids=[line.pk for line in lines],
        key=key,
        fees=fees,
        actor=actor,
    )


def slip(lines, *, key="k1", day="2026-03-05", **extra) -> dict:
    data = {"cleared": "undeposited", "account": bank().pk, "date": day, "memo": "", "key": key}
    return data | {"lines": [line.pk for line in lines]} | extra
