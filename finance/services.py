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

from .models import (
    Account,
    Deposit,
    DepositItem,
    DepositUndo,
    DepositUndoItem,
    JournalEntry,
    JournalLine,
    PeriodLock,
)

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
            "This entry is a bank deposit: undo it on the deposits page, which puts its payments back to "
            "wait.",
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
UNDONE = "deposit.undone"  # the source of an undo's entry, whose clearing debits are payments waiting again
WAITING_SOURCES = ("payment.received", UNDONE)  # entries whose debits to a clearing account wait there


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
        .filter(pk__in=set(line_ids), account=source, debit__gt=0, entry__source__in=WAITING_SOURCES)
        .order_by("pk")
    )
    if len(lines) != len(set(line_ids)):
        raise ApplicationError(f"Tick only payments waiting in {source.name.lower()}.", field="lines")
    if DepositItem.objects.filter(line__in=lines).exists():
        raise ApplicationError(TAKEN, field="lines")
    late = sorted(day_ for day_ in _received_on(lines) if day_ and day_ > day)
    if late:
        raise ApplicationError(
            f"A payment received {late[0]:%b %-d, %Y} cannot be in a deposit made before it.",
            field="date",
        )
    return lines


def _received_on(lines: list[JournalLine]) -> list[date | None]:
    """When each payment was received: its line's date, or for a payment put back by an undone deposit
    (a line dated the undo's day) the date of the payment line it started from."""
    first = dict(DepositUndoItem.objects.filter(line__in=lines).values_list("line_id", "payment__date"))
    return [first.get(line.pk, line.date) for line in lines]


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


# --- Undoing a deposit ------------------------------------------------------------------------------------


def deposit_undo(*, deposit: Deposit, reason: str, key: str, actor=None) -> DepositUndo:
    """Take back a deposit recorded by mistake (wrong payments, bank or fees): one entry reversing it on
    the deposit's own date, so the books read as if it had never been made (the first open day when that
    month is locked: `undo_date`), linked to the deposit's entry: Cr the
    bank the net, Cr card fees the fees, and Dr the clearing account once per payment (the payment's
    customer, invoice, job and lead copied), so each payment waits again, as that new line, to be
    deposited anew. A deposit is undone once (the deposit row locked; unique rows for the race); the
    same form submitted twice (`key`) returns the first undo, another undo of it is an error."""
    done = DepositUndo.objects.filter(entry__idempotency_key=f"{UNDONE}:{key}").first()
    if done is not None and done.deposit_id == deposit.pk:
        return done  # the same form submitted twice
    reason = " ".join(reason.split())[:300]
    if not reason:
        raise ApplicationError(
            "Say why the deposit is undone (wrong bank, wrong payments, ...).", field="reason"
        )
    try:
        with transaction.atomic():
            deposit = (
                Deposit.objects.select_for_update(of=("self",))
                .select_related("account", "cleared")
                .get(pk=deposit.pk)
            )
            done = _undo_done(deposit, key)
            if done is not None:
                return done  # the same form, submitted twice at once: the first one undid it
            items = list(deposit.items.select_related("line", "line__reopens").order_by("pk"))
            entry = entry_post(_undo_entry(deposit, items, reason, key), actor=actor)
            return _undo_save(deposit, entry, items, reason, actor)
    except IntegrityError:  # a concurrent undo of the same deposit wrote first
        raise ApplicationError(already_undone(None), field="deposit") from None


def undo_date(deposit: Deposit) -> date:
    """The day an undo of `deposit` posts on: its own date, or the first open day after a locked month."""
    return _open_date(deposit.date)


def already_undone(entry_id: int | None) -> str:
    by = f" (HS-{entry_id})" if entry_id else ""
    return f"This deposit is already undone{by}: its payments are waiting again."


def _undo_done(deposit: Deposit, key: str) -> DepositUndo | None:
    """The undo this form (`key`) already made; an error when the deposit was undone by another one."""
    undo = DepositUndo.objects.filter(deposit=deposit).select_related("entry").first()
    if undo is not None and undo.entry.idempotency_key == f"{UNDONE}:{key}":
        return undo
    if undo is not None:
        raise ApplicationError(already_undone(undo.entry_id), field="deposit")
    if JournalEntry.objects.filter(idempotency_key=f"{UNDONE}:{key}").exists():
        raise ApplicationError("This form was already used: reload the page.", field="deposit")
    return None


def _undo_entry(deposit: Deposit, items: list[DepositItem], reason: str, key: str) -> EntryIn:
    payments = [
        LineIn(
            deposit.cleared,
            debit=item.amount,
            customer_id=item.line.customer_id,
            job_id=item.line.job_id,
            invoice_id=item.line.invoice_id,
            lead_id=item.line.lead_id,
        )
        for item in items
    ]
    taken_back = [LineIn(deposit.account, credit=deposit.net), LineIn("card_fees", credit=deposit.fees)]
    return EntryIn(
        date=deposit.date,  # entry_post moves it to the first open day when the month is locked
        memo=f"Deposit HS-{deposit.entry_id} of {deposit.date:%b %-d, %Y} undone: {reason}",
        source=UNDONE,
        key=f"{UNDONE}:{key}",
        lines=payments + [line for line in taken_back if line.credit],
        reverses=deposit.entry,
    )


def _undo_save(deposit: Deposit, entry: JournalEntry, items: list[DepositItem], reason: str, actor):
    from events.services import record

    user = actor if actor is not None and actor.is_authenticated else None
    undo = DepositUndo.objects.create(deposit=deposit, entry=entry, reason=reason, created_by=user)
    # The clearing debits, written in the items' order by entry_post (one bulk insert, ascending ids).
    reopened = entry.lines.filter(account=deposit.cleared, debit__gt=0).order_by("pk")
    DepositUndoItem.objects.bulk_create(
        DepositUndoItem(undo=undo, item=item, line=line, payment_id=_first_payment_id(item.line))
        for item, line in zip(items, reopened, strict=True)
    )
    record(
        "finance.deposit.undone",
        subject=Business.current(),
        actor=actor,
        summary=f"Deposit of {money.format_money(deposit.net)} on {deposit.date:%b %-d, %Y} undone: {reason}",
        data={"deposit_id": deposit.pk, "entry_id": entry.pk, "deposit_entry_id": deposit.entry_id},
    )
    return undo


def _first_payment_id(line: JournalLine) -> int:
    """The payment.received line a deposited line stands for (itself, unless an undo put it back)."""
    reopened = getattr(line, "reopens", None)
    return reopened.payment_id if reopened is not None else line.pk
