"""The accountant's reports: selectors (pure reads), each aggregated in the database by account (or by
invoice, month), filtered on the line's copy of its entry's date (indexed with the account), so they stay
fast on a million lines.

Signs: `balance` is debits minus credits; `amount` is on the account's normal side (an asset's or an
expense's debit balance, a liability's, equity's or revenue's credit balance).
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import Q, Sum
from django.db.models.functions import TruncMonth

from customers.models import Customer

from .models import Account, JournalLine
from .services import account_for

ZERO = Decimal("0.00")
CENT = Decimal("0.01")


def _money(value) -> Decimal:
    """A database sum as money (SQLite's raw sums come back as floats)."""
    if value is None:
        return ZERO
    return Decimal(str(value)).quantize(CENT)


def _normal(account: Account, balance: Decimal) -> Decimal:
    return balance if account.debit_normal else -balance


# --- Trial balance --------------------------------------------------------------------------------------


@dataclass
class TrialRow:
    account: Account
    debits: Decimal
    credits: Decimal

    @property
    def balance(self) -> Decimal:
        return self.debits - self.credits

    @property
    def debit_balance(self) -> Decimal:
        return max(self.balance, ZERO)

    @property
    def credit_balance(self) -> Decimal:
        return max(-self.balance, ZERO)


@dataclass
class TrialBalance:
    as_of: date
    rows: list[TrialRow]

    @property
    def debits(self) -> Decimal:
        return sum((r.debits for r in self.rows), ZERO)

    @property
    def credits(self) -> Decimal:
        return sum((r.credits for r in self.rows), ZERO)

    @property
    def debit_balances(self) -> Decimal:
        return sum((r.debit_balance for r in self.rows), ZERO)

    @property
    def credit_balances(self) -> Decimal:
        return sum((r.credit_balance for r in self.rows), ZERO)


def _sums_by_account(lines, **sums) -> dict[int, dict[str, Decimal]]:
    rows = lines.values("account_id").annotate(**sums).order_by()
    return {row["account_id"]: {k: _money(row[k]) for k in sums} for row in rows}


def trial_balance(*, as_of: date) -> TrialBalance:
    """Per account with postings up to `as_of`: total debits, credits and the balance."""
    sums = _sums_by_account(JournalLine.objects.filter(date__lte=as_of), d=Sum("debit"), c=Sum("credit"))
    accounts = Account.objects.filter(pk__in=sums).order_by("code")
    return TrialBalance(as_of, [TrialRow(a, sums[a.pk]["d"], sums[a.pk]["c"]) for a in accounts])


# --- Profit and loss ------------------------------------------------------------------------------------


@dataclass
class Period:
    start: date
    end: date

    def previous(self) -> "Period":
        """The period of the same length just before this one."""
        length = self.end - self.start + timedelta(days=1)
        return Period(self.start - length, self.start - timedelta(days=1))


@dataclass
class AmountRow:
    account: Account
    current: Decimal
    previous: Decimal


@dataclass
class Group:
    """Accounts under one parent (or a top-level account alone), with their subtotal."""

    label: str
    rows: list[AmountRow] = field(default_factory=list)

    @property
    def current(self) -> Decimal:
        return sum((r.current for r in self.rows), ZERO)

    @property
    def previous(self) -> Decimal:
        return sum((r.previous for r in self.rows), ZERO)


@dataclass
class Section:
    label: str
    groups: list[Group]

    @property
    def current(self) -> Decimal:
        return sum((g.current for g in self.groups), ZERO)

    @property
    def previous(self) -> Decimal:
        return sum((g.previous for g in self.groups), ZERO)


@dataclass
class ProfitAndLoss:
    period: Period
    previous: Period
    revenue: Section
    expenses: Section

    @property
    def net_current(self) -> Decimal:
        return self.revenue.current - self.expenses.current

    @property
    def net_previous(self) -> Decimal:
        return self.revenue.previous - self.expenses.previous


def _grouped(label: str, rows: list[AmountRow]) -> Section:
    groups: dict[int | None, Group] = {}
    for row in sorted(rows, key=lambda r: r.account.code):
        parent = row.account.parent
        key = parent.pk if parent else row.account.pk
        name = str(parent) if parent else str(row.account)
        groups.setdefault(key, Group(name)).rows.append(row)
    return Section(label, list(groups.values()))


def _section(label: str, kinds: tuple[str, ...], sums: dict[int, dict[str, Decimal]]) -> Section:
    accounts = Account.objects.filter(kind__in=kinds, pk__in=sums).select_related("parent")
    rows = [AmountRow(a, _normal(a, sums[a.pk]["cur"]), _normal(a, sums[a.pk]["prev"])) for a in accounts]
    return _grouped(label, rows)


def profit_and_loss(*, start: date, end: date) -> ProfitAndLoss:
    """Revenue and expenses for [start, end] and for the period of equal length before it."""
    period = Period(start, end)
    previous = period.previous()
    lines = JournalLine.objects.filter(
        date__gte=previous.start,
        date__lte=end,
        account__kind__in=[Account.Kind.REVENUE, Account.Kind.EXPENSE],
    )
    in_current, in_previous = Q(date__gte=start), Q(date__lt=start)
    sums = _net_sums(lines, cur=in_current, prev=in_previous)
    return ProfitAndLoss(
        period,
        previous,
        _section("Revenue", (Account.Kind.REVENUE,), sums),
        _section("Expenses", (Account.Kind.EXPENSE,), sums),
    )


def _net_sums(lines, **filters: Q) -> dict[int, dict[str, Decimal]]:
    """Debits minus credits per account, one conditional sum per named filter, in one query."""
    annotations = {}
    for name, condition in filters.items():
        annotations[f"{name}_d"] = Sum("debit", filter=condition)
        annotations[f"{name}_c"] = Sum("credit", filter=condition)
    raw = _sums_by_account(lines, **annotations)
    return {pk: {name: s[f"{name}_d"] - s[f"{name}_c"] for name in filters} for pk, s in raw.items()}


# --- Balance sheet --------------------------------------------------------------------------------------


@dataclass
class BalanceSheet:
    as_of: date
    previous: date
    assets: Section
    liabilities: Section
    equity: Section

    @property
    def liabilities_and_equity_current(self) -> Decimal:
        return self.liabilities.current + self.equity.current

    @property
    def liabilities_and_equity_previous(self) -> Decimal:
        return self.liabilities.previous + self.equity.previous


def previous_period_end(as_of: date) -> date:
    """The end of the month before `as_of`'s month."""
    return as_of.replace(day=1) - timedelta(days=1)


def balance_sheet(*, as_of: date) -> BalanceSheet:
    """Assets, liabilities and equity at `as_of` and at the previous month's end. Equity includes the
    earnings to date (revenue less expenses, never closed), so assets = liabilities + equity."""
    previous = previous_period_end(as_of)
    lines = JournalLine.objects.filter(date__lte=as_of)
    sums = _net_sums(lines, cur=Q(date__lte=as_of), prev=Q(date__lte=previous))
    equity = _section("Equity", (Account.Kind.EQUITY,), sums)
    earnings = [s for pk, s in sums.items() if pk in _income_account_ids()]
    equity.groups.append(
        Group(
            "Earnings to date",
            [
                AmountRow(
                    Account(code="", name="Net income to date (not closed)", kind=Account.Kind.EQUITY),
                    -sum((s["cur"] for s in earnings), ZERO),
                    -sum((s["prev"] for s in earnings), ZERO),
                )
            ],
        )
    )
    return BalanceSheet(
        as_of,
        previous,
        _section("Assets", (Account.Kind.ASSET,), sums),
        _section("Liabilities", (Account.Kind.LIABILITY,), sums),
        equity,
    )


def _income_account_ids() -> set[int]:
    kinds = [Account.Kind.REVENUE, Account.Kind.EXPENSE]
    return set(Account.objects.filter(kind__in=kinds).values_list("pk", flat=True))


# --- General ledger -------------------------------------------------------------------------------------


@dataclass
class LedgerLine:
    line: JournalLine
    balance: Decimal  # running, on the account's normal side


@dataclass
class GeneralLedger:
    account: Account
    period: Period
    opening: Decimal
    lines: list[LedgerLine]
    debits: Decimal
    credits: Decimal
    closing: Decimal
    truncated: bool = False


def general_ledger(*, account: Account, start: date, end: date, limit: int | None = None) -> GeneralLedger:
    """The account's lines in [start, end] with the opening balance and a running balance; `limit` keeps
    the first lines only (the page), the totals and closing balance are always the whole range's."""
    before = JournalLine.objects.filter(account=account, date__lt=start).aggregate(
        d=Sum("debit"), c=Sum("credit")
    )
    opening = _normal(account, _money(before["d"]) - _money(before["c"]))
    lines = JournalLine.objects.filter(account=account, date__gte=start, date__lte=end)
    totals = lines.aggregate(d=Sum("debit"), c=Sum("credit"))
    debits, credits = _money(totals["d"]), _money(totals["c"])
    ordered = lines.select_related("entry").order_by("date", "entry_id", "pk")
    if limit is not None:
        ordered = ordered[: limit + 1]
    running, rows = opening, []
    for line in ordered:
        running += _normal(account, line.debit - line.credit)
        rows.append(LedgerLine(line, running))
    truncated = limit is not None and len(rows) > limit
    closing = opening + _normal(account, debits - credits)
    return GeneralLedger(
        account, Period(start, end), opening, rows[:limit], debits, credits, closing, truncated
    )


# --- Accounts receivable aging --------------------------------------------------------------------------

BUCKETS = ("current", "1-30", "31-60", "61-90", "over 90")

# Per (invoice, customer), in the order of the journal_line_by_invoice index (an index-only scan): the
# open amount of its AR lines and the day it was issued (its first debit); its due date is that day unless
# its issue entry carries a later one (payment terms: journal_entry_due_by_invoice, the few such entries).
# Then per customer, the open amounts bucketed by days past due. Dates are compared with cut-offs computed
# here, so the same SQL runs on PostgreSQL and SQLite.
AGING_SQL = """
SELECT customer_id,
       SUM(CASE WHEN due >= %(c0)s THEN open ELSE 0 END),
       SUM(CASE WHEN due < %(c0)s AND due >= %(c30)s THEN open ELSE 0 END),
       SUM(CASE WHEN due < %(c30)s AND due >= %(c60)s THEN open ELSE 0 END),
       SUM(CASE WHEN due < %(c60)s AND due >= %(c90)s THEN open ELSE 0 END),
       SUM(CASE WHEN due < %(c90)s THEN open ELSE 0 END),
       COUNT(*)
  FROM (SELECT r.customer_id, r.open, COALESCE(terms.due_on, r.issued) AS due
          FROM (SELECT customer_id, invoice_id, SUM(debit - credit) AS open,
                       COALESCE(MIN(CASE WHEN debit > 0 THEN date END), MIN(date)) AS issued
                  FROM finance_journalline
                 WHERE account_id = %(account)s AND date <= %(as_of)s
                 GROUP BY invoice_id, customer_id) AS r
          LEFT JOIN (SELECT invoice_id, MAX(due_on) AS due_on
                       FROM finance_journalentry
                      WHERE due_on IS NOT NULL
                      GROUP BY invoice_id) AS terms ON terms.invoice_id = r.invoice_id
         WHERE r.open >= 0.005 OR r.open <= -0.005) AS receivables
 GROUP BY customer_id
"""


@dataclass
class AgingRow:
    customer_id: int | None
    name: str
    buckets: list[Decimal]
    invoices: int

    @property
    def total(self) -> Decimal:
        return sum(self.buckets, ZERO)


@dataclass
class Aging:
    as_of: date
    rows: list[AgingRow]

    @property
    def buckets(self) -> list[Decimal]:
        return [sum((r.buckets[i] for r in self.rows), ZERO) for i in range(len(BUCKETS))]

    @property
    def total(self) -> Decimal:
        return sum((r.total for r in self.rows), ZERO)


def ar_aging(*, as_of: date) -> Aging:
    """Open receivables per customer at `as_of`, each invoice aged from its due date ("current": not yet
    due, or due that day): the date its issue entry carries (payment terms), else the day it was issued
    (due on receipt). Each invoice's open amount lands in one bucket: the total is the AR account's
    balance at `as_of`."""
    params = {"account": account_for("ar").pk, "as_of": as_of}
    params.update({f"c{days}": as_of - timedelta(days=days) for days in (0, 30, 60, 90)})
    with connection.cursor() as cursor:
        cursor.execute(AGING_SQL, params)
        fetched = cursor.fetchall()
    names = _customer_names([row[0] for row in fetched])
    rows = [
        AgingRow(row[0], names.get(row[0], "No customer"), [_money(v) for v in row[1:6]], row[6])
        for row in fetched
    ]
    rows.sort(key=lambda r: (-r.total, r.name))
    return Aging(as_of, rows)


def _customer_names(ids: list[int | None]) -> dict[int, str]:
    customers = Customer.objects.filter(pk__in=[i for i in ids if i is not None]).only(
        "kind", "first_name", "last_name", "company_name"
    )
    return {c.pk: c.display_name for c in customers}


def customer_names(ids) -> dict[int, str]:
    return _customer_names(list(ids))


# --- Sales tax ------------------------------------------------------------------------------------------


@dataclass
class TaxRow:
    month: date
    rate: Decimal | None
    collected: Decimal  # credits to sales tax payable
    reversed: Decimal  # debits (voids)

    @property
    def net(self) -> Decimal:
        return self.collected - self.reversed


def sales_tax(*, start: date, end: date) -> list[TaxRow]:
    """The sales tax account's credits and debits per month and rate (the rate of the invoice each entry
    posted; None for entries without one)."""
    rows = (
        JournalLine.objects.filter(account=account_for("sales_tax"), date__gte=start, date__lte=end)
        .annotate(month=TruncMonth("date"))
        .values("month", "entry__tax_percent")
        .annotate(c=Sum("credit"), d=Sum("debit"))
        .order_by("month", "entry__tax_percent")
    )
    return [
        TaxRow(_as_date(r["month"]), r["entry__tax_percent"], _money(r["c"]), _money(r["d"])) for r in rows
    ]


def _as_date(value) -> date:
    return value.date() if hasattr(value, "date") and callable(value.date) else value
