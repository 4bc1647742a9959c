"""`seed_demo --years`: the demo's history before its two weeks, made through the services with the clock at
each moment, so the ledger, the campaign figures and the timelines read as if it had all happened."""

import re
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db.models import Max, Min

from crm.models import Campaign, Lead
from customers.models import Customer
from events.models import Event
from finance import demo as finance_demo
from finance import reports
from finance import selectors as ledger_reads
from finance import services as ledger
from finance.models import JournalEntry
from fsm.invoices.models import Invoice
from fsm.models import Job

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 18)


@time_machine.travel("2026-11-18 11:10 -06:00", tick=False)
def test_the_history_reads_as_if_it_had_happened():
    """One seed (it takes a while), each part of the story checked in turn."""
    out = StringIO()
    call_command("seed_demo", customers=40, years=0.15, stdout=out)
    assert "History:" in out.getvalue()
    _books_tie_out()
    _invoice_numbers_are_gapless()
    _campaigns_earn_posted_revenue()
    _nothing_happens_before_its_customer_existed()
    _posting_the_books_again_posts_nothing_twice()


def _books_tie_out():
    """Posted on the days it happened (none ahead of today), and the books tie out."""
    first, last = JournalEntry.objects.aggregate(first=Min("date"), last=Max("date")).values()
    assert first <= TODAY - timedelta(days=60) and last <= TODAY, "dated as it happened, none ahead"
    assert JournalEntry.objects.values("date").distinct().count() > 30, "not all on one day"
    trial = reports.trial_balance(as_of=TODAY)
    assert trial.debits == trial.credits
    open_balances = sum((i.balance for i in Invoice.objects.exclude(state="draft")), Decimal("0"))
    assert ledger.balance_of("ar") == open_balances == reports.ar_aging(as_of=TODAY).total
    history = Invoice.objects.filter(issued_on__lt=TODAY - timedelta(days=15))
    assert history.filter(state="paid").count() > 20
    assert set(history.values_list("state", flat=True)) <= {"paid", "issued", "void", "partially_paid"}
    for invoice in history.filter(state="paid")[:20]:  # issued on its day: the ledger's date is the same
        entry = JournalEntry.objects.get(idempotency_key=f"invoice.issued:{invoice.pk}")
        assert entry.date == invoice.issued_on


def _invoice_numbers_are_gapless():
    by_year = defaultdict(list)
    for number in Invoice.objects.exclude(number=None).values_list("number", flat=True):
        year, serial = re.fullmatch(r"INV-(\d{4})-(\d{6})", number).groups()
        by_year[year].append(int(serial))
    assert by_year
    for serials in by_year.values():
        assert sorted(serials) == list(range(1, len(serials) + 1))


def _campaigns_earn_posted_revenue():
    """Every history lead was answered; each booked one became a job; campaigns earned from them."""
    history = Lead.objects.filter(external_id__startswith="demo-history-")
    assert history.count() > 50
    assert not history.filter(first_response_at=None).exists(), "every lead was answered"
    booked = history.exclude(booked_at=None)
    assert Job.objects.filter(origin_lead_id__in=booked.values("pk")).count() == booked.count()
    revenue = ledger_reads.revenue_by_lead(start=TODAY - timedelta(days=365), end=TODAY)
    by_campaign = defaultdict(Decimal)
    for lead_id, campaign_id in history.exclude(campaign=None).values_list("pk", "campaign_id"):
        by_campaign[campaign_id] += revenue.get(lead_id, Decimal("0"))
    earning = [pk for pk, amount in by_campaign.items() if amount > 0]
    assert earning and Campaign.objects.filter(pk__in=earning, cost__gt=0).exists()


def _nothing_happens_before_its_customer_existed():
    now = Event.objects.aggregate(last=Max("occurred_at"))["last"]
    assert now.date() <= TODAY
    for customer in Customer.objects.filter(leads__external_id__startswith="demo-history-").distinct()[:60]:
        first = customer.leads.aggregate(first=Min("arrived_at"))["first"]
        assert first >= customer.created_at - timedelta(seconds=1), customer


def _posting_the_books_again_posts_nothing_twice():
    entries = JournalEntry.objects.count()
    log = []
    finance_demo.seed(log=log.append)
    assert JournalEntry.objects.count() == entries
    assert log == ["Ledger: 0 money milestones posted."]


def test_years_out_of_range_are_refused_with_a_clear_error():
    with pytest.raises(CommandError, match="0 to 5"):
        call_command("seed_demo", years=6, stdout=StringIO())
