"""The one way into the ledger. Every entry is checked before it is written, in one transaction:

- at least two lines, each with a positive debit or a positive credit (never both, never zero), at most two
  decimals, on an active account;
- debits equal credits;
- not dated more than a year ahead;
- not in a locked month: a document posts on the first open day after it, with its own date in the memo;
- once per idempotency key: posting the same key again returns the first entry and writes nothing.

A posted entry is never changed; `entry_reverse` writes the mirror entry linked to it.
"""

from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from common import money
from common.errors import ApplicationError
from users.models import Business

from .models import Account, Deposit, DepositItem, JournalEntry, JournalLine, PeriodLock

ZERO = Decimal("0.00")
FUTURE_LIMIT = timedelta(days=366)


@dataclass(frozen=True)
class LineIn:
    account: Account | str  # an Account, or an account role ("ar", "cash", ...)
    debit: Decimal = ZERO
    credit: Decimal = ZERO
    customer_id: int | None = None
    job_id: int | None = None
    invoice_id: int | None = None
    lead_id: int | None = None


@dataclass
class EntryIn:
    date: date
    memo: str
    source: str
    key: str
    lines: list[LineIn] = field(default_factory=list)
    event_id: int | None = None
    invoice_id: int | None = None
    customer_id: int | None = None
    reverses: JournalEntry | None = None
    tax_percent: Decimal | None = None
    due_on: date | None = None  # an invoice's due date, when after `date` (payment terms)


def chart_install() -> int:
    """The default chart (finance.chart), for the accounts missing by code; returns how many were made.
    Migration 0002 runs it; a posting that finds no account for a role runs it too (a database emptied by
    a test flush, or restored without that migration's rows)."""
    from .chart import DEFAULT_ACCOUNTS

    made, by_code = 0, {}
    for code, name, kind, role, parent in DEFAULT_ACCOUNTS:
        account, created = Account.objects.get_or_create(
            code=code, defaults={"name": name, "kind": kind, "role": role, "parent": by_code.get(parent)}
        )
        by_code[code] = account
        made += created
    return made


def account_for(role: str) -> Account:
    account = Account.objects.filter(role=role).first()
    if account is None and chart_install():
        account = Account.objects.filter(role=role).first()
    if account is None:
        raise ApplicationError(f"The chart of accounts has no account for {role!r}.", field="account")
    return account


def today() -> date:
    return timezone.localdate(timezone.now(), Business.current().tzinfo)


def entry_post(entry: EntryIn, *, actor=None) -> JournalEntry:
    """Check and write one entry (see the module docstring); the same key twice writes it once."""
    existing = JournalEntry.objects.filter(idempotency_key=entry.key).first()
    if existing is not None:
        return existing
    lines = _checked_lines(entry.lines)
    if entry.date > today() + FUTURE_LIMIT:
        raise ApplicationError("The date is more than a year ahead.", field="date")
    memo = " ".join(entry.memo.split())[:300]
    try:
        with transaction.atomic():
            posting_date = _open_date(entry.date)
            if posting_date != entry.date:
                memo = f"{memo} (dated {entry.date:%b %-d, %Y}; that month is locked)"[:300]
            made = JournalEntry.objects.create(
                date=posting_date,
                memo=memo,
                source=entry.source,
                idempotency_key=entry.key,
                event_id=entry.event_id,
                invoice_id=entry.invoice_id,
                customer_id=entry.customer_id,
                tax_percent=entry.tax_percent,
                due_on=entry.due_on if entry.due_on and entry.due_on > posting_date else None,
                reverses=entry.reverses,
                posted_by=actor if actor is not None and actor.is_authenticated else None,
            )
            JournalLine.objects.bulk_create(
                JournalLine(
                    entry=made,
                    account=account,
                    date=posting_date,
                    debit=line.debit,
                    credit=line.credit,
                    customer_id=line.customer_id,
                    job_id=line.job_id,
                    invoice_id=line.invoice_id,
                    lead_id=line.lead_id,
                )
                for line, account in lines
            )
    except IntegrityError:
        found = JournalEntry.objects.filter(idempotency_key=entry.key).first()
        if found is None:
            raise
        return found  # a concurrent delivery of the same milestone posted it first
    return made


def _checked_lines(lines: list[LineIn]) -> list[tuple[LineIn, Account]]:
    if len(lines) < 2:
        raise ApplicationError("An entry needs at least two lines.", field="lines")
    checked, debits, credits = [], ZERO, ZERO
    for i, line in enumerate(lines):
        try:
            debit, credit = money.to_money(line.debit), money.to_money(line.credit)
        except money.MoneyError as error:
            raise ApplicationError(str(error), field=f"lines[{i}]") from None
        if (debit > 0) == (credit > 0) or debit < 0 or credit < 0:
            raise ApplicationError(
                "Each line is a positive debit or a positive credit, not both and not zero.",
                field=f"lines[{i}]",
            )
        account = line.account if isinstance(line.account, Account) else account_for(line.account)
        if not account.active:
            raise ApplicationError(f"{account} is inactive: post to another account.", field=f"lines[{i}]")
        checked.append(
            (replace(line, account=account.role or account.code, debit=debit, credit=credit), account)
        )
        debits, credits = debits + debit, credits + credit
    if debits != credits:
        raise ApplicationError(
            f"The entry does not balance: debits {money.format_money(debits)}, credits "
            f"{money.format_money(credits)}.",
            field="lines",
        )
    return checked


def _open_date(day: date) -> date:
    """`day`, or the first day after the locked months that cover it."""
    month = day.replace(day=1)
    locked = set(PeriodLock.objects.filter(month__gte=month).values_list("month", flat=True))
    while month in locked:
        month = (month + timedelta(days=32)).replace(day=1)
    return day if month == day.replace(day=1) else month


def entry_reverse(*, entry: JournalEntry, key: str, memo: str, date_: date | None = None, actor=None):
    """The mirror of `entry` (debits and credits swapped), linked to it; once per key."""
    lines = [
        LineIn(
            account=line.account,
            debit=line.credit,
            credit=line.debit,
            customer_id=line.customer_id,
            job_id=line.job_id,
            invoice_id=line.invoice_id,
            lead_id=line.lead_id,
        )
        for line in entry.lines.select_related("account")
    ]
    made = entry_post(
        EntryIn(
            date=date_ or today(),
            memo=memo,
            source="reversal",
            key=key,
            lines=lines,
            invoice_id=entry.invoice_id,
            customer_id=entry.customer_id,
            tax_percent=entry.tax_percent,
            reverses=entry,
        ),
        actor=actor,
    )
    return made


def trial_balance() -> dict[str, Decimal]:
    """Debits minus credits per account code (for tests and reports)."""
    from django.db.models import Sum

    rows = JournalLine.objects.values("account__code").annotate(d=Sum("debit"), c=Sum("credit"))
    return {row["account__code"]: (row["d"] or ZERO) - (row["c"] or ZERO) for row in rows}


def balance_of(role: str) -> Decimal:
    """The account's balance on its normal side (an asset's debit balance, a liability's credit one)."""
    from django.db.models import Sum

    account = account_for(role)
    sums = JournalLine.objects.filter(account=account).aggregate(d=Sum("debit"), c=Sum("credit"))
    net = (sums["d"] or ZERO) - (sums["c"] or ZERO)
    return net if account.debit_normal else -net


# --- The owner's bookkeeping: manual entries, reversals, period locks, the chart --------------------------


def journal_entry_manual(*, day: date, memo: str, lines: list[LineIn], key: str, actor=None) -> JournalEntry:
    """An entry the owner types (the same checks as every posting); `key` makes a double submit post once."""
    if not memo.strip():
        raise ApplicationError("Say what the entry is for.", field="memo")
    return entry_post(
        EntryIn(date=day, memo=memo, source="manual", key=f"manual:{key}", lines=lines), actor=actor
    )


def journal_entry_reverse(*, entry: JournalEntry, actor=None) -> JournalEntry:
    """Reverse a posted entry today (or on the first open day): an entry is reversed once, a reversal
    never."""
    if entry.reverses_id is not None:
        raise ApplicationError("This entry is a reversal: post a new entry instead.", field="entry")
    if JournalEntry.objects.filter(reverses=entry).exists():
        raise ApplicationError("This entry is already reversed.", field="entry")
    if Deposit.objects.filter(entry=entry).exists():  # its payments would stay deposited
        raise ApplicationError(
            "This entry is a bank deposit: its payments stay deposited. Correct it with a manual entry.",
            field="entry",
        )
    return entry_reverse(
        entry=entry, key=f"reverse:{entry.pk}", memo=f"Reversal of: {entry.memo}"[:300], actor=actor
    )


def _month(day: date) -> date:
    return day.replace(day=1)


def period_lock(*, month: date, actor=None) -> PeriodLock:
    """Close a month: nothing posts into it any more. Locking a locked month returns its lock."""
    from events.services import record

    month = _month(month)
    if month > _month(today()):
        raise ApplicationError("Only a past or the current month can be locked.", field="month")
    with transaction.atomic():
        lock, created = PeriodLock.objects.get_or_create(
            month=month, defaults={"locked_by": actor if actor and actor.is_authenticated else None}
        )
        if created:
            record(
                "finance.period.locked",
                subject=Business.current(),
                actor=actor,
                summary=f"{month:%B %Y} locked",
                data={"month": month.isoformat()},
            )
    return lock


def period_unlock(*, month: date, actor=None) -> bool:
    """Open a locked month again, on the audit trail; False when it was not locked."""
    from events.services import record

    month = _month(month)
    with transaction.atomic():
        lock = PeriodLock.objects.select_for_update().filter(month=month).first()
        if lock is None:
            return False
        record(
            "finance.period.unlocked",
            subject=Business.current(),
            actor=actor,
            summary=f"{month:%B %Y} unlocked",
            data={
                "month": month.isoformat(),
                "locked_at": lock.locked_at.isoformat(),
                "locked_by_id": lock.locked_by_id,
            },
        )
        lock.delete()
    return True


def account_create(*, code: str, name: str, kind: str, parent: Account | None = None, actor=None) -> Account:
    code, name = code.strip(), " ".join(name.split())
    if not code or not name:
        raise ApplicationError("An account needs a code and a name.", field="code")
    if Account.objects.filter(code=code).exists():
        raise ApplicationError(f"There is already an account {code}.", field="code")
    if kind not in Account.Kind.values:
        raise ApplicationError("Choose the account's kind.", field="kind")
    if parent is not None and parent.kind != kind:
        raise ApplicationError("A sub-account has its parent's kind.", field="parent")
    with transaction.atomic():
        account = Account.objects.create(code=code, name=name, kind=kind, parent=parent)
        _account_audit(account, "created", actor, f"Account {account} added ({account.get_kind_display()})")
    return account


def _account_audit(account: Account, what: str, actor, summary: str, **data) -> None:
    """The chart's changes go on the audit trail, like the period locks."""
    from events.services import record

    record(
        f"finance.account.{what}",
        subject=Business.current(),
        actor=actor,
        summary=summary,
        data={"account_id": account.pk, "code": account.code, "name": account.name, **data},
    )


def account_update(*, account: Account, name: str | None = None, active: bool | None = None, actor=None):
    """Rename, deactivate or reactivate. A role's account (one the posting rules use) stays active."""
    if name is not None:
        name = " ".join(name.split())
        if not name:
            raise ApplicationError("An account needs a name.", field="name")
        account.name = name
    if active is False and account.role:
        raise ApplicationError(
            f"{account} is where the work posts ({account.role}): it cannot be deactivated.", field="active"
        )
    before = Account.objects.values("name", "active").get(pk=account.pk)
    if active is not None:
        account.active = active
    changes = {
        field: [before[field], getattr(account, field)]
        for field in ("name", "active")
        if before[field] != getattr(account, field)
    }
    if not changes:
        return account
    with transaction.atomic():
        account.save(update_fields=["name", "active"])
        said = {
            "name": f"renamed from {before['name']}",
            "active": "reactivated" if account.active else "deactivated",
        }
        summary = f"Account {account}: " + ", ".join(said[field] for field in changes)
        _account_audit(account, "changed", actor, summary, changes=changes)
    return account


def account_delete(*, account: Account, actor=None) -> None:
    """Only an account nothing was ever posted to (and no role, no sub-accounts) can go."""
    if account.lines.exists():
        raise ApplicationError(f"{account} has postings: deactivate it instead.", field="account")
    if account.role or account.children.exists():
        raise ApplicationError(f"{account} is used by the chart: deactivate it instead.", field="account")
    with transaction.atomic():
        _account_audit(account, "deleted", actor, f"Account {account} deleted (nothing was posted to it)")
        account.delete()


# --- Bank deposits ----------------------------------------------------------------------------------------

DEPOSIT_SOURCES = ("undeposited", "card_clearing")  # the clearing accounts payments wait in


def deposit_record(
    *,
    account: Account,
    cleared: str,
    day: date,
    line_ids: list[int],
    key: str,
    memo: str = "",
    fees: Decimal = ZERO,
    actor=None,
) -> Deposit:
    """Take payments waiting in a clearing account (undeposited funds, or card clearing for a processor's
    payout) to a bank account: Dr the bank the net, Dr card fees what the processor withheld, Cr the
    clearing account the payments. One entry through `entry_post` and an item per payment line, in one
    transaction; each line is deposited once (a second tab finds it taken: an error, nothing written).
    The date is the bank's: a locked month or a day after today is refused, not moved."""
    done = Deposit.objects.filter(entry__idempotency_key=f"deposit:{key}").first()
    if done is not None:
        return done  # the same form submitted twice
    source = _deposit_checks(account=account, cleared=cleared, day=day, line_ids=line_ids, fees=fees)
    memo = " ".join(memo.split())
    try:
        with transaction.atomic():
            lines = _undeposited_lines(source, line_ids, day)
            total = sum((line.debit for line in lines), ZERO)
            if fees >= total:
                raise ApplicationError("The fees withheld must be less than the payout.", field="fees")
            posted = [LineIn(account, debit=total - fees), LineIn("card_fees", debit=fees)]
            entry = entry_post(
                EntryIn(
                    date=day,
                    memo=memo or f"Deposit of {len(lines)} payment{'s' if len(lines) != 1 else ''}",
                    source="deposit",
                    key=f"deposit:{key}",
                    lines=[line for line in posted if line.debit] + [LineIn(source, credit=total)],
                ),
                actor=actor,
            )
            if entry.date != day:  # the month was locked meanwhile: entry_post moved it
                raise ApplicationError(f"{day:%B %Y} was just locked: pick another date.", field="date")
            return _deposit_save(entry, account, source, lines, memo, fees, actor)
    except IntegrityError:
        # Another deposit took one of these lines between our check and our write (the unique item).
        raise ApplicationError(TAKEN, field="lines") from None


TAKEN = "A payment ticked here was deposited meanwhile (another tab?): reload the page and tick again."


def _deposit_checks(*, account: Account, cleared: str, day: date, line_ids, fees: Decimal) -> Account:
    if cleared not in DEPOSIT_SOURCES:
        raise ApplicationError("Choose where the payments are waiting.", field="cleared")
    if not line_ids:
        raise ApplicationError("Tick the payments on the deposit slip.", field="lines")
    if account.kind != Account.Kind.ASSET or not account.active or account.role in (*DEPOSIT_SOURCES, "ar"):
        raise ApplicationError("Choose the bank account the money went into.", field="account")
    if fees < 0 or (fees and cleared != "card_clearing"):
        raise ApplicationError("Fees are what a card processor withheld from its payout.", field="fees")
    if day > today():
        raise ApplicationError("A deposit is dated the day it was made: not after today.", field="date")
    if _open_date(day) != day:
        raise ApplicationError(
            f"{day:%B %Y} is locked: date the deposit in an open month (or unlock it).", field="date"
        )
    return account_for(cleared)


def _undeposited_lines(source: Account, line_ids, day: date) -> list[JournalLine]:
    """The ticked payment lines, locked: a second deposit of any of them waits, then finds it taken."""
    lines = list(
        JournalLine.objects.select_for_update(of=("self",))
        .filter(pk__in=set(line_ids), account=source, debit__gt=0, entry__source="payment.received")
        .order_by("pk")
    )
    if len(lines) != len(set(line_ids)):
        raise ApplicationError(f"Tick only payments waiting in {source.name.lower()}.", field="lines")
    if DepositItem.objects.filter(line__in=lines).exists():
        raise ApplicationError(TAKEN, field="lines")
    late = [line for line in lines if line.date and line.date > day]
    if late:
        raise ApplicationError(
            f"A payment received {late[0].date:%b %-d, %Y} cannot be in a deposit made before it.",
            field="date",
        )
    return lines


def _deposit_save(entry, account, source, lines, memo, fees, actor) -> Deposit:
    deposit = Deposit.objects.create(
        date=entry.date,
        account=account,
        cleared=source,
        entry=entry,
        memo=memo,
        total=sum((line.debit for line in lines), ZERO),
        fees=fees,
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
    DepositItem.objects.bulk_create(
        DepositItem(deposit=deposit, line=line, amount=line.debit) for line in lines
    )
    return deposit
