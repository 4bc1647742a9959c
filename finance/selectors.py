"""Reads of the ledger for the owner's figures. Posted means on a journal line: what fsm's money
milestones became (finance.subscribers), reversals included. Every function here is one query; the
ranges are calendar days [start, end] on the entry's date (the business's day the document posted on).

    posted revenue  credits minus debits on the revenue accounts (service, equipment and materials revenue,
                    less discounts given and refunds), so a void's reversal and a credit note take it back
    cash collected  debits to cash, undeposited funds and card clearing from payment entries
    AR              the receivable's debits minus credits up to a day, per invoice
"""

from datetime import date
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum

from .models import Account, JournalLine

ZERO = Decimal("0.00")
CASH_ROLES = ("cash", "undeposited", "card_clearing")


def _in_range(start: date, end: date) -> Q:
    return Q(entry__date__gte=start, entry__date__lte=end)


def revenue_lines(*, start: date, end: date) -> QuerySet[JournalLine]:
    return JournalLine.objects.filter(_in_range(start, end), account__kind=Account.Kind.REVENUE).order_by()


def _net(row: dict) -> Decimal:
    return (row["c"] or ZERO) - (row["d"] or ZERO)


def _net_by(field: str, *, start: date, end: date) -> dict[int | None, Decimal]:
    rows = revenue_lines(start=start, end=end).values(field).annotate(c=Sum("credit"), d=Sum("debit"))
    return {row[field]: _net(row) for row in rows}


def revenue_total(*, start: date, end: date) -> Decimal:
    return _net(revenue_lines(start=start, end=end).aggregate(c=Sum("credit"), d=Sum("debit")))


def revenue_by_lead(*, start: date, end: date) -> dict[int, Decimal]:
    """Posted revenue of the jobs each crm lead became (lines carry the job's origin lead); None: the
    revenue of work that came from no lead."""
    return _net_by("lead_id", start=start, end=end)


def revenue_by_job(*, start: date, end: date) -> dict[int | None, Decimal]:
    """Posted revenue per job; None: invoices on no job."""
    return _net_by("job_id", start=start, end=end)


def revenue_by_day(*, start: date, end: date) -> dict[date, Decimal]:
    rows = revenue_lines(start=start, end=end).values("entry__date").annotate(c=Sum("credit"), d=Sum("debit"))
    return {row["entry__date"]: _net(row) for row in rows}


def tickets(*, start: date, end: date) -> int:
    """Invoices whose issue posted revenue in the range (the average ticket's divisor)."""
    return (
        revenue_lines(start=start, end=end)
        .filter(entry__source="invoice.issued", invoice_id__isnull=False)
        .aggregate(n=Count("invoice_id", distinct=True))["n"]
    )


def _cash_lines(start: date, end: date) -> QuerySet[JournalLine]:
    return JournalLine.objects.filter(
        _in_range(start, end), account__role__in=CASH_ROLES, entry__source="payment.received"
    ).order_by()


def cash_collected(*, start: date, end: date) -> Decimal:
    return _cash_lines(start, end).aggregate(d=Sum("debit"))["d"] or ZERO


def cash_by_day(*, start: date, end: date) -> dict[date, Decimal]:
    rows = _cash_lines(start, end).values("entry__date").annotate(d=Sum("debit"))
    return {row["entry__date"]: row["d"] or ZERO for row in rows}


def ar_by_invoice(*, as_of: date) -> dict[int, Decimal]:
    """What each invoice still owed at the end of `as_of`, per the ledger (those owing nothing left out)."""
    rows = (
        JournalLine.objects.filter(entry__date__lte=as_of, account__role="ar", invoice_id__isnull=False)
        .order_by()
        .values("invoice_id")
        .annotate(d=Sum("debit"), c=Sum("credit"))
    )
    owed = {row["invoice_id"]: (row["d"] or ZERO) - (row["c"] or ZERO) for row in rows}
    return {invoice_id: amount for invoice_id, amount in owed.items() if amount}
