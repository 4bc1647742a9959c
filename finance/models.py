"""The ledger: a chart of accounts and double-entry journal entries posted by the work itself.

An entry's lines always balance (debits = credits), a posted entry is never changed (a correction is a
reversing entry linked to the original), and each milestone posts at most once (a unique idempotency
key). `finance.services` is the one way in; `finance.subscribers` turns fsm's money milestones into
entries.
"""

from decimal import Decimal

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import Q

MONEY = {"max_digits": 14, "decimal_places": 2}


class Account(models.Model):
    class Kind(models.TextChoices):
        ASSET = "asset", "Asset"
        LIABILITY = "liability", "Liability"
        EQUITY = "equity", "Equity"
        REVENUE = "revenue", "Revenue"
        EXPENSE = "expense", "Expense"

    DEBIT_NORMAL = (Kind.ASSET, Kind.EXPENSE)

    code = models.CharField(max_length=12, unique=True)
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    role = models.SlugField(
        max_length=40,
        null=True,
        blank=True,
        unique=True,
        help_text="What the posting rules look it up by (ar, cash, sales_tax, ...); empty for the owner's.",
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def debit_normal(self) -> bool:
        return self.kind in self.DEBIT_NORMAL


class JournalEntry(models.Model):
    """One balanced posting. Never updated or deleted once written: a mistake gets a reversing entry."""

    date = models.DateField(db_index=True)
    memo = models.CharField(max_length=300)
    source = models.CharField(
        max_length=60, help_text="The milestone or document: invoice.issued, manual, ..."
    )
    idempotency_key = models.CharField(max_length=120, unique=True)
    event_id = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="The milestone that caused it."
    )
    invoice_id = models.PositiveBigIntegerField(null=True, blank=True, db_index=True)
    customer_id = models.PositiveBigIntegerField(null=True, blank=True, db_index=True)
    tax_percent = models.DecimalField(
        max_digits=7,
        decimal_places=4,
        null=True,
        blank=True,
        help_text="The sales tax rate of the invoice it posts (the sales tax report's rate).",
    )
    due_on = models.DateField(
        null=True,
        blank=True,
        help_text="An invoice's due date, on its issue's entry when later than the entry's date (payment "
        "terms): AR aging ages the invoice from it. Empty: due on the entry's date.",
    )
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    posted_at = models.DateTimeField(auto_now_add=True)
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-date", "-pk"]
        verbose_name_plural = "journal entries"
        indexes = [
            # AR aging joins the invoices with payment terms to their open amounts (PostgreSQL: index-only).
            models.Index(
                fields=["invoice_id"],
                include=["due_on"],
                condition=Q(due_on__isnull=False),
                name="journal_entry_due_by_invoice",
            )
        ]
        triggers = [
            pgtrigger.Protect(name="journal_entry_append_only", operation=pgtrigger.Update | pgtrigger.Delete)
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.memo}"


class JournalLine(models.Model):
    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="lines")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="lines")
    # The entry's date, copied when posted (entries are never changed): the reports filter and group lines
    # by account and date without joining a million lines to their entries.
    date = models.DateField(null=True, blank=True)
    debit = models.DecimalField(**MONEY, default=Decimal("0.00"))
    credit = models.DecimalField(**MONEY, default=Decimal("0.00"))
    customer_id = models.PositiveBigIntegerField(null=True, blank=True, db_index=True)
    job_id = models.PositiveBigIntegerField(null=True, blank=True)
    invoice_id = models.PositiveBigIntegerField(null=True, blank=True, db_index=True)
    lead_id = models.PositiveBigIntegerField(
        null=True, blank=True, db_index=True, help_text="The crm lead the job came from: revenue by source."
    )

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(debit__gt=0) & Q(credit=0)) | (Q(credit__gt=0) & Q(debit=0)),
                name="journal_line_one_side_positive",
            )
        ]
        indexes = [
            models.Index(fields=["account", "entry"]),
            models.Index(fields=["account", "date"], name="journal_line_account_date"),
            # AR aging reads every AR line grouped by invoice: an index-only scan in that order (PostgreSQL).
            models.Index(
                fields=["account", "invoice_id", "customer_id"],
                include=["date", "debit", "credit"],
                name="journal_line_by_invoice",
            ),
        ]
        triggers = [
            pgtrigger.Protect(name="journal_line_append_only", operation=pgtrigger.Update | pgtrigger.Delete),
            # Checked at COMMIT (a deferred constraint trigger): by then all the entry's lines are written.
            pgtrigger.Trigger(
                name="journal_entry_balances",
                when=pgtrigger.After,
                operation=pgtrigger.Insert,
                timing=pgtrigger.Deferred,
                declare=[("debits", "numeric"), ("credits", "numeric")],
                func="""
                    SELECT COALESCE(SUM(debit), 0), COALESCE(SUM(credit), 0) INTO debits, credits
                      FROM finance_journalline WHERE entry_id = NEW.entry_id;
                    IF debits <> credits THEN
                        RAISE EXCEPTION 'journal entry % does not balance: debits %, credits %',
                            NEW.entry_id, debits, credits;
                    END IF;
                    RETURN NULL;
                """,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account.code} Dr {self.debit} Cr {self.credit}"


class PeriodLock(models.Model):
    """A closed month: nothing posts into it (a late document posts on the first open day)."""

    month = models.DateField(unique=True, help_text="The first day of the locked month.")
    locked_at = models.DateTimeField(auto_now_add=True)
    locked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-month"]

    def __str__(self) -> str:
        return f"{self.month:%B %Y} locked"


class Deposit(models.Model):
    """Payments taken to the bank together: one entry (Dr the bank account, Cr the clearing account they
    sat in; a card processor's fees withheld, Dr card fees) and an item per payment line deposited.
    Written once by `finance.services.deposit_record`, never changed."""

    date = models.DateField()
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="deposits")
    cleared = models.ForeignKey(
        Account,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Where the payments sat: undeposited funds, or card clearing (a processor's payout).",
    )
    entry = models.OneToOneField(JournalEntry, on_delete=models.PROTECT, related_name="deposit")
    memo = models.CharField(max_length=300, blank=True)
    total = models.DecimalField(**MONEY, help_text="The payments deposited (before any fees withheld).")
    fees = models.DecimalField(**MONEY, default=Decimal("0.00"))
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-date", "-pk"]
        triggers = [
            pgtrigger.Protect(name="deposit_append_only", operation=pgtrigger.Update | pgtrigger.Delete)
        ]

    def __str__(self) -> str:
        return f"Deposit {self.date} {self.total}"

    @property
    def net(self) -> Decimal:
        """What reached the bank."""
        return self.total - self.fees


class DepositItem(models.Model):
    """One payment on a deposit: the payment entry's debit to the clearing account (or, for a payment put
    back by an undone deposit, that undo's debit to it). A line is deposited once (unique), whichever tab
    posts first: a payment redeposited after an undo is deposited through its new line."""

    deposit = models.ForeignKey(Deposit, on_delete=models.PROTECT, related_name="items")
    line = models.OneToOneField(JournalLine, on_delete=models.PROTECT, related_name="deposit_item")
    amount = models.DecimalField(**MONEY)

    class Meta:
        ordering = ["pk"]
        triggers = [
            pgtrigger.Protect(name="deposit_item_append_only", operation=pgtrigger.Update | pgtrigger.Delete)
        ]

    def __str__(self) -> str:
        return f"{self.deposit} line {self.line_id}"


class DepositUndo(models.Model):
    """A deposit recorded by mistake, taken back (QuickBooks' "delete deposit"): one entry reversing it
    (`entry.reverses` is the deposit's entry: Cr the bank the net, Cr card fees the fees, Dr the clearing
    account once per payment) puts its payments back to wait. Written once by
    `finance.services.deposit_undo`, never changed; a deposit is undone once (unique)."""

    deposit = models.OneToOneField(Deposit, on_delete=models.PROTECT, related_name="undo")
    entry = models.OneToOneField(JournalEntry, on_delete=models.PROTECT, related_name="deposit_undo")
    reason = models.CharField(max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-pk"]
        triggers = [
            pgtrigger.Protect(name="deposit_undo_append_only", operation=pgtrigger.Update | pgtrigger.Delete)
        ]

    def __str__(self) -> str:
        return f"{self.deposit} undone"


class DepositUndoItem(models.Model):
    """One payment an undo put back: `line` is the undo entry's debit to the clearing account (what waits
    now, and what a new deposit ticks), `item` the deposit item it takes back (once: unique), `payment`
    the payment.received line it all started from (its received date, customer and milestone, however
    many times it was deposited and undone)."""

    undo = models.ForeignKey(DepositUndo, on_delete=models.PROTECT, related_name="items")
    item = models.OneToOneField(DepositItem, on_delete=models.PROTECT, related_name="undone_by")
    line = models.OneToOneField(JournalLine, on_delete=models.PROTECT, related_name="reopens")
    payment = models.ForeignKey(JournalLine, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["pk"]
        triggers = [
            pgtrigger.Protect(
                name="deposit_undo_item_append_only", operation=pgtrigger.Update | pgtrigger.Delete
            )
        ]

    def __str__(self) -> str:
        return f"{self.undo} line {self.line_id}"
