"""The accountant's reports on a small ledger whose figures are worked out by hand (in the comments)."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from finance import reports
from finance import services as ledger
from finance.models import Account
from fsm.invoices import services as invoices
from tests.factories import make_customer
from tests.finance.helpers import invoice, payment
from tests.finance.test_ledger import deliver
from tests.fsm.estimate_helpers import austin_tax, issued_invoice

D = Decimal


def by_code(rows):
    return {row.account.code: row for row in rows}


def test_the_trial_balance_lists_each_account_and_its_totals_agree(books):
    report = reports.trial_balance(as_of=date(2026, 3, 31))
    rows = by_code(report.rows)
    assert rows["1040"].debit_balance == D("9970.00")  # bank
    assert rows["1200"].debits == D("1399.00") and rows["1200"].credits == D("500.00")  # AR
    assert rows["1200"].debit_balance == D("899.00")
    assert rows["2100"].credit_balance == D("99.00")  # sales tax
    assert rows["4010"].credit_balance == D("1200.00") and rows["6100"].debit_balance == D("30.00")
    assert report.debits == report.credits == D("11929.00")
    assert report.debit_balances == report.credit_balances == D("11399.00")


def test_the_trial_balance_as_of_an_earlier_day_leaves_later_entries_out(books):
    rows = by_code(reports.trial_balance(as_of=date(2026, 1, 31)).rows)
    assert set(rows) == {"1040", "1200", "3000", "4030"}


def test_profit_and_loss_sits_beside_the_previous_period_of_the_same_length(books):
    report = reports.profit_and_loss(start=date(2026, 3, 1), end=date(2026, 3, 31))
    assert (report.previous.start, report.previous.end) == (date(2026, 1, 29), date(2026, 2, 28))
    assert report.revenue.current == D("200.00") and report.revenue.previous == D("1000.00")
    assert report.expenses.current == D("30.00") and report.expenses.previous == D("0.00")
    assert report.net_current == D("170.00") and report.net_previous == D("1000.00")
    [sales] = report.revenue.groups  # grouped under their parent, 4000 Sales
    assert sales.label == "4000 Sales" and [r.account.code for r in sales.rows] == ["4010"]


def test_the_balance_sheet_balances_now_and_at_the_previous_month_end(books):
    report = reports.balance_sheet(as_of=date(2026, 3, 31))
    assert report.previous == date(2026, 2, 28)
    assert report.assets.current == D("11369.00") and report.assets.previous == D("11182.50")
    assert report.liabilities.current == D("99.00") and report.liabilities.previous == D("82.50")
    assert report.equity.current == D("11270.00")  # 10,000 + earnings 1,270 (1,300 revenue - 30)
    assert report.assets.current == report.liabilities_and_equity_current
    assert report.assets.previous == report.liabilities_and_equity_previous


def test_the_general_ledger_opens_with_the_balance_before_and_runs_through_each_line(books):
    ar = Account.objects.get(role="ar")
    report = reports.general_ledger(account=ar, start=date(2026, 2, 1), end=date(2026, 2, 28))
    assert report.opening == D("100.00")
    assert [row.balance for row in report.lines] == [D("1182.50"), D("682.50")]
    assert (report.debits, report.credits, report.closing) == (D("1082.50"), D("500.00"), D("682.50"))
    page = reports.general_ledger(account=ar, start=date(2025, 1, 1), end=date(2026, 12, 31), limit=2)
    assert page.truncated and len(page.lines) == 2 and page.closing == D("899.00")


def test_ar_aging_buckets_each_invoice_by_days_since_issue_and_ties_to_the_ar_account(books):
    report = reports.ar_aging(as_of=date(2026, 3, 31))
    rows = {row.customer_id: row for row in report.rows}
    ann, bob = rows[books["ann"].pk], rows[books["bob"].pk]
    # posted without a milestone, so due on their issue day: invoice 1: 582.50 open, 49 days late;
    # invoice 3: 100.00, 101 days; invoice 2: 216.50, 16 days
    assert ann.name == "Ann Archer" and ann.buckets == [D("0"), D("0"), D("582.50"), D("0"), D("100.00")]
    assert bob.buckets == [D("0"), D("216.50"), D("0"), D("0"), D("0")]
    assert (
        report.total
        == D("899.00")
        == by_code(reports.trial_balance(as_of=date(2026, 3, 31)).rows)["1200"].balance
    )
    on_issue_day = reports.ar_aging(as_of=date(2026, 3, 15))
    assert {r.customer_id: r.buckets[0] for r in on_issue_day.rows}[books["bob"].pk] == D("216.50")


def test_sales_tax_is_per_month_and_rate(books):
    rows = reports.sales_tax(start=date(2026, 1, 1), end=date(2026, 3, 31))
    assert [(r.month, r.rate, r.collected, r.net) for r in rows] == [
        (date(2026, 2, 1), D("8.25"), D("82.50"), D("82.50")),
        (date(2026, 3, 1), D("8.25"), D("16.50"), D("16.50")),
    ]


def test_the_work_posts_its_tax_rate_and_a_void_gives_the_tax_back_at_that_rate(business, office):
    austin_tax()
    customer = make_customer(actor=office)
    kept = issued_invoice(customer=customer, actor=office, amount="500.00")  # 41.25 tax
    voided = issued_invoice(customer=customer, actor=office, amount="100.00")  # 8.25 tax
    invoices.payment_record(invoice=kept, actor=office, method="cash", amount="200")
    invoices.invoice_void(invoice=voided, actor=office, reason="Duplicate")
    deliver()
    today = ledger.today()
    [row] = reports.sales_tax(start=today.replace(day=1), end=today)
    assert row.rate == D("8.25") and row.collected == D("49.50") and row.reversed == D("8.25")
    assert row.net == ledger.balance_of("sales_tax") == D("41.25")
    aging = reports.ar_aging(as_of=today)
    assert aging.total == ledger.balance_of("ar") == kept.total - D("200.00")
    assert aging.rows[0].buckets[0] == aging.total and aging.rows[0].invoices == 1  # the void nets to zero


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    steps=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=200),  # issue day (from Jan 1, 2025)
            st.integers(min_value=1, max_value=500_00),  # total in cents
            st.lists(st.tuples(st.integers(0, 150), st.integers(1, 100)), max_size=3),  # (days later, %)
        ),
        min_size=1,
        max_size=8,
    ),
    as_of_day=st.integers(min_value=0, max_value=400),
)
def test_ar_aging_always_totals_the_ar_balance(business, steps, as_of_day):
    start = date(2025, 1, 1)
    with transaction.atomic():
        for n, (day, cents, payments) in enumerate(steps):
            total = D(cents).scaleb(-2)
            invoice(start + timedelta(days=day), f"h-i{n}", n % 3 + 1, n + 1, str(total))
            open_ = total
            for m, (later, percent) in enumerate(payments):
                paid = (total * percent / 100).quantize(D("0.01"))
                if paid > 0:  # more than what is open leaves AR negative on that invoice: it still ties
                    payment(start + timedelta(days=day + later), f"h-p{n}-{m}", n % 3 + 1, n + 1, str(paid))
                    open_ -= paid
        as_of = start + timedelta(days=as_of_day)
        ar = by_code(reports.trial_balance(as_of=as_of).rows).get("1200")
        aging = reports.ar_aging(as_of=as_of)
        assert aging.total == (ar.balance if ar else D("0.00"))
        assert sum(aging.buckets, D("0")) == aging.total
        transaction.set_rollback(True)


def test_ar_aging_ages_an_invoice_from_its_due_date_and_still_ties_to_the_ar_account(business, office):
    austin_tax()
    customer = make_customer(actor=office, first_name="Dee", last_name="Dunn")
    on_receipt = issued_invoice(customer=customer, actor=office, amount="100.00")  # 108.25, due today
    business.payment_terms_days = 30
    business.save()
    net_30 = issued_invoice(customer=customer, actor=office, amount="200.00")  # 216.50, due in 30 days
    invoices.payment_record(invoice=net_30, actor=office, method="cash", amount="16.50")  # 200.00 open
    deliver()
    today = ledger.today()
    assert net_30.due_on == today + timedelta(days=30) and on_receipt.due_on == today
    # 45 days on: the due-on-receipt invoice is 45 days late (31-60), the net-30 one 15 days (1-30)
    [row] = reports.ar_aging(as_of=today + timedelta(days=45)).rows
    assert row.buckets == [D("0"), D("200.00"), D("108.25"), D("0"), D("0")] and row.invoices == 2
    # today the net-30 invoice is not yet due and the other is due today: both current
    [row] = reports.ar_aging(as_of=today).rows
    assert row.buckets == [D("308.25"), D("0"), D("0"), D("0"), D("0")]
    assert row.total == ledger.balance_of("ar") == D("308.25")  # 108.25 + 216.50 - 16.50


def test_migration_0010_fills_in_the_due_date_of_issues_posted_before_it(business, office):
    from importlib import import_module

    from django.db import connection

    from finance.models import JournalEntry

    austin_tax()
    business.payment_terms_days = 15
    business.save()
    net_15 = issued_invoice(customer=make_customer(actor=office), actor=office, amount="50.00")
    deliver()
    entry = JournalEntry.objects.get(idempotency_key=f"invoice.issued:{net_15.pk}")
    assert entry.due_on == net_15.due_on == entry.date + timedelta(days=15)
    with connection.cursor() as cursor:  # as it was posted before 0010
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the test's transaction: run the deferred checks
        cursor.execute("ALTER TABLE finance_journalentry DISABLE TRIGGER USER")
        cursor.execute("UPDATE finance_journalentry SET due_on = NULL")
        cursor.execute("ALTER TABLE finance_journalentry ENABLE TRIGGER USER")
    with connection.schema_editor() as editor:
        import_module("finance.migrations.0010_entry_due_on").fill_due_dates(None, editor)
    entry.refresh_from_db()
    assert entry.due_on == net_15.due_on
    with pytest.raises(Exception, match="Cannot update"), transaction.atomic():  # append-only again
        JournalEntry.objects.filter(pk=entry.pk).update(memo="changed")
