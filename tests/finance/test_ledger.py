"""The ledger: its rules, and fsm's money milestones posted through the real delivery path, once each."""

from datetime import timedelta
from decimal import Decimal

import pytest

from common.errors import ApplicationError
from events.models import Delivery, Event
from events.services import delivery_attempt, event_fan_out
from finance import services as ledger
from finance.models import Account, JournalEntry, JournalLine, PeriodLock
from finance.services import EntryIn, LineIn
from fsm.invoices import services as invoices
from fsm.invoices.models import CustomerCredit, Invoice
from tests.factories import make_customer
from tests.fsm.estimate_helpers import austin_tax, issued_invoice

D = Decimal


def deliver() -> None:
    """What the worker does: fan out every pending milestone, run finance's deliveries (oldest first)."""
    for event in Event.objects.filter(fanned_out_at__isnull=True).exclude(milestone="").order_by("pk"):
        event_fan_out(event_id=event.pk)
    for delivery in Delivery.objects.filter(status="pending", subscriber__startswith="finance.").order_by(
        "event_id"
    ):
        delivery_attempt(delivery_id=delivery.pk, force=True)


@pytest.fixture
def customer(business, office):
    austin_tax()
    return make_customer(actor=office)


def test_the_default_chart_is_there(db):
    ledger.chart_install()  # what migration 0002 did (a flush by another test may have emptied it)
    assert ledger.chart_install() == 0  # twice is the same as once
    roles = set(Account.objects.exclude(role=None).values_list("role", flat=True))
    assert {"cash", "undeposited", "card_clearing", "bank", "ar", "sales_tax", "customer_credit"} <= roles
    assert Account.objects.get(role="ar").kind == "asset"


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([LineIn("cash", debit=D("10")), LineIn("ar", credit=D("9"))], "does not balance"),
        ([LineIn("cash", debit=D("0")), LineIn("ar", credit=D("0"))], "not both and not zero"),
        (
            [LineIn("cash", debit=D("10"), credit=D("10")), LineIn("ar", credit=D("0"))],
            "not both and not zero",
        ),
        ([LineIn("cash", debit=D("10.001")), LineIn("ar", credit=D("10.001"))], "more than 2 decimal places"),
        ([LineIn("cash", debit=D("10"))], "at least two lines"),
    ],
)
def test_a_bad_entry_is_refused_and_nothing_posted(business, lines, message):
    with pytest.raises(ApplicationError, match=message):
        ledger.entry_post(EntryIn(date=ledger.today(), memo="x", source="manual", key="k1", lines=lines))
    assert not JournalEntry.objects.exists() and not JournalLine.objects.exists()


def test_inactive_accounts_and_far_future_dates_are_refused(business):
    ledger.chart_install()
    Account.objects.filter(role="bank").update(active=False)
    good = [LineIn("cash", debit=D("5")), LineIn("bank", credit=D("5"))]
    with pytest.raises(ApplicationError, match="inactive"):
        ledger.entry_post(EntryIn(date=ledger.today(), memo="x", source="manual", key="k", lines=good))
    good = [LineIn("cash", debit=D("5")), LineIn("equity", credit=D("5"))]
    with pytest.raises(ApplicationError, match="more than a year ahead"):
        ledger.entry_post(
            EntryIn(date=ledger.today() + timedelta(days=400), memo="x", source="manual", key="k", lines=good)
        )


def test_the_same_key_posts_once_and_a_locked_month_moves_the_date(business):
    today = ledger.today()
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    PeriodLock.objects.create(month=last_month)
    lines = [LineIn("cash", debit=D("5")), LineIn("equity", credit=D("5"))]
    first = ledger.entry_post(
        EntryIn(date=last_month.replace(day=15), memo="Late", source="manual", key="k", lines=lines)
    )
    again = ledger.entry_post(
        EntryIn(date=last_month.replace(day=15), memo="Late", source="manual", key="k", lines=lines)
    )
    assert first.pk == again.pk and JournalEntry.objects.count() == 1
    assert first.date == today.replace(day=1) and "that month is locked" in first.memo


def test_the_work_posts_itself_once_and_the_books_tie_out(customer, office):
    a = issued_invoice(customer=customer, actor=office, amount="500.00")  # 541.25
    b = issued_invoice(customer=customer, actor=office, amount="100.00")  # 108.25
    c = issued_invoice(customer=customer, actor=office, amount="80.00")  # 86.60
    invoices.payment_record(invoice=a, actor=office, method="check", amount="200", reference="11")
    invoices.payment_record(invoice=b, actor=office, method="cash", amount="120.00", keep_credit=True)
    invoices.credit_apply(invoice=a, actor=office)  # 11.75 of credit
    invoices.invoice_void(invoice=c, actor=office, reason="Duplicate")
    paid = invoices.payment_record(invoice=a, actor=office, method="card", amount="329.50", reference="visa")
    invoices.credit_note_issue(
        invoice=a, actor=office, amount="50", reason="Goodwill", refund=True, method="card"
    )
    deliver()
    deliver()  # a second delivery round changes nothing
    entries = JournalEntry.objects.count()
    assert entries == 9  # 3 issued, 4 payments, 1 void reversal, 1 credit note
    assert sum(ledger.trial_balance().values()) == 0
    open_balances = sum(i.balance for i in Invoice.objects.all())
    assert ledger.balance_of("ar") == open_balances == D("0.00")
    credit = sum(m.amount for m in CustomerCredit.objects.all())
    assert ledger.balance_of("customer_credit") == credit == D("0.00")
    assert ledger.balance_of("sales_tax") == D("41.25") + D("8.25")  # the void took its tax back
    assert ledger.balance_of("card_clearing") == D("329.50") - D("50.00")
    assert JournalEntry.objects.get(source="reversal").reverses.invoice_id == c.pk
    # the same milestone delivered again (a retry after a crash) finds its entry
    from finance.subscribers import post_payment_received

    post_payment_received(Event.objects.get(milestone="payment.received", data__payment_id=paid.pk))
    assert JournalEntry.objects.count() == entries


def test_a_void_delivered_before_its_issue_waits_for_it(customer, office):
    invoice = issued_invoice(customer=customer, actor=office)
    invoices.invoice_void(invoice=invoice, actor=office, reason="Wrong customer")
    for event in Event.objects.filter(milestone__in=["invoice.issued", "invoice.voided"]):
        event_fan_out(event_id=event.pk)
    void = Delivery.objects.get(subscriber="finance.post_invoice_voided")
    delivery_attempt(delivery_id=void.pk, force=True)
    void.refresh_from_db()
    assert void.status == "pending" and "not posted yet" in void.last_error
    deliver()
    assert JournalEntry.objects.count() == 2 and sum(ledger.trial_balance().values()) == 0
    assert ledger.balance_of("ar") == 0


@pytest.mark.django_db(transaction=True)
def test_postgresql_refuses_changes_to_posted_lines_and_unbalanced_entries(require_postgres, business):
    from django.db import connection, transaction
    from django.db.utils import DatabaseError

    entry = ledger.entry_post(
        EntryIn(
            date=ledger.today(),
            memo="Opening cash",
            source="manual",
            key="open",
            lines=[LineIn("cash", debit=D("100")), LineIn("equity", credit=D("100"))],
        )
    )
    line = entry.lines.first()
    for sql in (
        f"UPDATE finance_journalline SET debit = 999 WHERE id = {line.pk}",
        f"DELETE FROM finance_journalline WHERE id = {line.pk}",
        f"UPDATE finance_journalentry SET memo = 'changed' WHERE id = {entry.pk}",
        f"DELETE FROM finance_journalentry WHERE id = {entry.pk}",
    ):
        with (
            pytest.raises(DatabaseError, match="Cannot"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql)
    cash = Account.objects.get(role="cash").pk
    # one line alone, written behind the service's back
    with (
        pytest.raises(DatabaseError, match="does not balance"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "INSERT INTO finance_journalentry (date, memo, source, idempotency_key, posted_at) "
            "VALUES (CURRENT_DATE, 'raw', 'manual', 'raw-1', now()) RETURNING id"
        )
        raw = cursor.fetchone()[0]
        cursor.execute(
            "INSERT INTO finance_journalline (entry_id, account_id, debit, credit) VALUES (%s, %s, 5, 0)",
            [raw, cash],
        )
    assert not JournalEntry.objects.filter(idempotency_key="raw-1").exists()  # rolled back at commit
    assert JournalLine.objects.get(pk=line.pk).debit == D("100.00")
