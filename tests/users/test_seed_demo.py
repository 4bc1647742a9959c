"""`manage.py seed_demo`, the command `make run` runs: every app's demo seeder together, once."""

from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db.models import Max, Q
from django.utils import timezone

from crm.models import Enrollment, Lead, ReviewRequest, ReviewSettings, Sequence
from customers.models import Customer
from events.models import Event, EventLink
from fsm.models import Job, Visit
from messaging.models import Conversation, Message

pytestmark = pytest.mark.django_db


@time_machine.travel("2026-11-18 11:10 -06:00", tick=False)  # a weekday morning in Austin
def test_the_whole_demo_loads_through_every_apps_seeder_and_a_second_run_does_nothing():
    out = StringIO()
    call_command("seed_demo", customers=40, years=0, stdout=out)
    assert "Demo data loaded." in out.getvalue()
    assert Lead.objects.exists() and Job.objects.exists()
    assert Conversation.objects.exists() and Message.objects.filter(direction="in").exists()
    assert Sequence.objects.filter(active=True).count() == 3  # the default automations, switched on
    assert Enrollment.objects.filter(state="active", sequence__key="new-lead-nurture").exists()
    assert (
        ReviewSettings.current().enabled and ReviewRequest.objects.filter(clicked_at__isnull=False).exists()
    )
    assert ReviewRequest.objects.filter(score__isnull=False).exists()

    again = StringIO()
    call_command("seed_demo", customers=40, years=0, stdout=again)
    assert "already loaded" in again.getvalue()


def _timeline(obj) -> list:
    links = EventLink.objects.filter(target_type__model=obj._meta.model_name, target_id=str(obj.pk))
    return list(Event.objects.filter(pk__in=links.values("event_id")).order_by("pk"))


@time_machine.travel("2026-11-18 11:10 -06:00", tick=False)
def test_demo_timestamps_are_in_the_past_and_each_timeline_reads_in_order():
    call_command("seed_demo", customers=40, years=0.05, stdout=StringIO())  # with a few weeks of history
    now = timezone.now()
    assert Job.objects.aggregate(last=Max("created_at"))["last"] <= now
    assert Visit.objects.aggregate(last=Max("created_at"))["last"] <= now
    assert Customer.objects.aggregate(last=Max("created_at"))["last"] <= now
    assert not Lead.objects.filter(
        Q(booked_at__gt=now) | Q(closed_at__gt=now) | Q(arrived_at__gt=now)
    ).exists()
    assert not Event.objects.filter(occurred_at__gt=now).exists()
    assert Event.objects.filter(occurred_at__lt=now - timedelta(days=3)).exists()  # not all "today"
    for subject in [*Job.objects.all(), *Lead.objects.all()]:  # each one's story, step by step
        times = [event.occurred_at for event in _timeline(subject)]
        assert times == sorted(times), f"{subject}: timeline out of order"
        assert times[0] == subject.created_at, f"{subject}: created at another time than its first event"
    for customer in Customer.objects.all():  # a customer's timeline mixes stories: it starts with itself
        times = [event.occurred_at for event in _timeline(customer)]
        assert min(times) == customer.created_at, f"{customer}: something happened before it was created"


def test_the_demo_business_is_ready_for_documents():
    from users.models import Business, PaymentTerms, TaxRate

    call_command("seed_demo", customers=5, years=0, stdout=StringIO())
    business = Business.objects.get()
    assert business.legal_name.endswith("LLC") and business.license_number
    assert business.address_lines == ["4410 S Congress Ave, Suite 200", "Austin, TX 78745"]
    assert business.estimate_terms and business.invoice_terms
    assert business.payment_terms_days == PaymentTerms.DUE_ON_RECEIPT
    assert business.logo.name.endswith(".png")
    assert str(TaxRate.default()) == "Texas + Austin (8.25%)"
    assert TaxRate.objects.filter(active=True).count() == 2
