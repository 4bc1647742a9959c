"""Reads of the ledger for the owner's figures. Posted means on a journal line: what fsm's money
milestones became (finance.subscribers), reversals included. Each figure is one aggregate query (after
looking up the accounts' ids); the ranges are calendar days [start, end] on the entry's date (the
business's day the document posted on), read from the line's copy of it, indexed with the account.

    posted revenue  credits minus debits on the revenue accounts (service, equipment and materials revenue,
                    less discounts given and refunds), so a void's reversal and a credit note take it back
    cash collected  debits to cash, undeposited funds and card clearing from payment entries
    AR              the receivable's debits minus credits up to a day, per invoice or in total
    deposits        payments waiting in undeposited funds or card clearing (put back by an undone deposit
                    included), and the deposits made (undone ones marked)
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum

from events.models import Event

from .models import Account, Deposit, JournalEntry, JournalLine
from .reports import customer_names
from .services import WAITING_SOURCES

ZERO = Decimal("0.00")
CASH_ROLES = ("cash", "undeposited", "card_clearing")


def _in_range(start: date, end: date) -> Q:
    """On the line's copy of its entry's date (indexed with the account): no join to the entries."""
    return Q(date__gte=start, date__lte=end)


def _accounts(**filters) -> list[int]:
    """The accounts' ids, looked up first: with the ids in the query PostgreSQL estimates the lines per
    account and reads the (account, date) index instead of scanning every line."""
    return list(Account.objects.filter(**filters).values_list("pk", flat=True))


def revenue_lines(*, start: date, end: date) -> QuerySet[JournalLine]:
    return JournalLine.objects.filter(
        _in_range(start, end), account__in=_accounts(kind=Account.Kind.REVENUE)
    ).order_by()


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
    rows = revenue_lines(start=start, end=end).values("date").annotate(c=Sum("credit"), d=Sum("debit"))
    return {row["date"]: _net(row) for row in rows}


def tickets(*, start: date, end: date) -> int:
    """Invoices whose issue posted in the range (the average ticket's divisor): an issue always posts
    revenue (an invoice is for more than $0.00), so its entries are counted, not its revenue lines."""
    issues = JournalEntry.objects.filter(
        source="invoice.issued", date__gte=start, date__lte=end, invoice_id__isnull=False
    )
    return issues.order_by().aggregate(n=Count("invoice_id", distinct=True))["n"]


def _cash_lines(start: date, end: date) -> QuerySet[JournalLine]:
    payments = JournalEntry.objects.filter(source="payment.received", date__gte=start, date__lte=end)
    return JournalLine.objects.filter(
        _in_range(start, end), account__in=_accounts(role__in=CASH_ROLES), entry__in=payments.values("pk")
    ).order_by()


def cash_collected(*, start: date, end: date) -> Decimal:
    return _cash_lines(start, end).aggregate(d=Sum("debit"))["d"] or ZERO


def cash_by_day(*, start: date, end: date) -> dict[date, Decimal]:
    rows = _cash_lines(start, end).values("date").annotate(d=Sum("debit"))
    return {row["date"]: row["d"] or ZERO for row in rows}


def _ar_lines(as_of: date) -> QuerySet[JournalLine]:
    return JournalLine.objects.filter(
        account__in=_accounts(role="ar"), date__lte=as_of, invoice_id__isnull=False
    ).order_by()


def ar_by_invoice(*, as_of: date) -> dict[int, Decimal]:
    """What each invoice still owed at the end of `as_of`, per the ledger (those owing nothing left out)."""
    rows = _ar_lines(as_of).values("invoice_id").annotate(d=Sum("debit"), c=Sum("credit"))
    owed = {row["invoice_id"]: (row["d"] or ZERO) - (row["c"] or ZERO) for row in rows}
    return {invoice_id: amount for invoice_id, amount in owed.items() if amount}


def ar_owed(*, as_of: date, late: QuerySet) -> tuple[Decimal, Decimal]:
    """What the invoices owed at the end of `as_of` (the sum of `ar_by_invoice`), and the part owed on
    the invoices in `late` (ids: those past due at `as_of`, e.g. fsm's due dates), in one aggregate:
    an invoice paid off nets to zero either way, so nothing is computed per invoice."""
    sums = _ar_lines(as_of).aggregate(
        d=Sum("debit"),
        c=Sum("credit"),
        late_d=Sum("debit", filter=Q(invoice_id__in=late)),
        late_c=Sum("credit", filter=Q(invoice_id__in=late)),
    )
    return (sums["d"] or ZERO) - (sums["c"] or ZERO), (sums["late_d"] or ZERO) - (sums["late_c"] or ZERO)


# --- Bank deposits ----------------------------------------------------------------------------------------


@dataclass
class WaitingPayment:
    """A payment's debit to a clearing account that no deposit has taken yet (or, put back by an undone
    deposit, that undo's debit to it), described from the payment line it started from."""

    line: JournalLine
    customer: str
    method: str
    reference: str
    invoice_number: str
    received: date | None = None  # the payment's date (an undo's line is dated the undone deposit's)
    back_from: date | None = None  # the date of the undone deposit it was in, if any

    @property
    def amount(self) -> Decimal:
        return self.line.debit


def _waiting_lines(**filters) -> QuerySet[JournalLine]:
    """Payments' debits to a clearing account, and the debits an undone deposit put back there (the
    payments again), that no deposit holds."""
    return JournalLine.objects.filter(
        debit__gt=0, entry__source__in=WAITING_SOURCES, deposit_item__isnull=True, **filters
    )


def undeposited_totals() -> dict[str, tuple[int, Decimal]]:
    """Per clearing account role: how many payments wait in it and their total."""
    rows = (
        _waiting_lines(account__role__in=("undeposited", "card_clearing"))
        .order_by()
        .values("account__role")
        .annotate(n=Count("pk"), total=Sum("debit"))
    )
    return {row["account__role"]: (row["n"], row["total"] or ZERO) for row in rows}


def undeposited_payments(*, cleared: str) -> list[WaitingPayment]:
    """The payments waiting in undeposited funds or card clearing, oldest first (by when they were
    received), with what the payment.received milestone said (method, reference when it carried one,
    invoice number). Three queries."""
    lines = list(
        _waiting_lines(account__role=cleared)
        .select_related("entry", "reopens__payment__entry", "reopens__item__deposit")
        .order_by("date", "pk")
    )
    waiting = payments_described(lines)
    return sorted(waiting, key=lambda p: (p.received or p.line.date or date.min, p.line.pk))


def deposit_payments(deposit: Deposit) -> list[WaitingPayment]:
    """The payments on a deposit, described like the waiting ones (its undo page lists them)."""
    lines = [
        item.line
        for item in deposit.items.select_related(
            "line__entry", "line__reopens__payment__entry", "line__reopens__item__deposit"
        )
    ]
    return payments_described(lines)


def payments_described(lines: list[JournalLine]) -> list[WaitingPayment]:
    """Each clearing line with its payment's customer, date and milestone (the line's `reopens`
    loaded, or not there)."""
    firsts = {line.pk: _first_payment(line) for line in lines}
    said = dict(
        Event.objects.filter(pk__in={first.entry.event_id for first in firsts.values()} - {None}).values_list(
            "pk", "data"
        )
    )
    names = customer_names({line.customer_id for line in lines})
    described = []
    for line in lines:
        first = firsts[line.pk]
        data = said.get(first.entry.event_id) or {}
        reopened = getattr(line, "reopens", None)
        described.append(
            WaitingPayment(
                line=line,
                customer=names.get(line.customer_id, "No customer"),
                method=str(data.get("method", "")).capitalize(),
                reference=str(data.get("reference", "")),
                invoice_number=str(data.get("invoice_number", "")),
                received=first.date,
                back_from=reopened.item.deposit.date if reopened is not None else None,
            )
        )
    return described


def _first_payment(line: JournalLine) -> JournalLine:
    reopened = getattr(line, "reopens", None)
    return reopened.payment if reopened is not None else line


def deposit_accounts() -> QuerySet[Account]:
    """Where a deposit can go: the bank account, and any other active account under cash (a savings
    account the owner added), never the clearing accounts or cash on hand."""
    bank = Account.objects.filter(role="bank").first()
    under_cash = Q(parent=bank.parent, role=None) if bank and bank.parent_id else Q(pk__in=[])
    return Account.objects.filter(Q(role="bank") | under_cash, kind=Account.Kind.ASSET, active=True).order_by(
        "code"
    )


def deposits_list() -> QuerySet[Deposit]:
    """The deposits, newest first, each with its undo (and the undo's entry) when it was undone."""
    return (
        Deposit.objects.select_related("account", "cleared", "entry", "undo__entry")
        .annotate(payments=Count("items"))
        .order_by("-date", "-pk")
    )
