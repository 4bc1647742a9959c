"""lead.booked (crm) -> one job (fsm), through the real milestone delivery path."""

from datetime import timedelta

import pytest
from django.utils import timezone

from crm import services as crm
from crm.models import Source
from events import services as events
from events.models import Delivery, Event
from fsm.models import Job
from tests.factories import make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def qualified_lead(db, office):
    source = Source.objects.create(name="Website", slug="website", kind=Source.Kind.WEB_FORM)
    contact = crm.LeadIn(
        name="Ana Ruiz",
        phone="512-555-0199",
        service="AC repair",
        message="Upstairs unit blowing warm air",
        street="1944 Stanton St",
        city="Austin",
        state="TX",
        zip_code="78704",
    )
    lead = crm.lead_capture(source=source, contact=contact).lead
    return crm.lead_qualify(lead=lead, actor=office)


def book(lead, office, capture, **kwargs):
    with capture(execute=True):
        crm.lead_book(lead=lead, actor=office, notes="Gate code 4412", **kwargs)
    return Delivery.objects.get(subscriber="fsm.job_from_lead")


def test_a_booked_lead_becomes_one_unscheduled_job_with_what_the_lead_said(
    qualified_lead, office, ac_repair, django_capture_on_commit_callbacks
):
    start = timezone.now() + timedelta(days=1)
    delivery = book(
        qualified_lead,
        office,
        django_capture_on_commit_callbacks,
        window_start=start,
        window_end=start + timedelta(hours=2),
    )
    assert delivery.status == "delivered"
    job = Job.objects.get()
    assert job.origin_lead_id == qualified_lead.pk and job.customer_id == qualified_lead.customer_id
    assert job.property_id == qualified_lead.property_id and job.job_type == ac_repair
    assert (job.service, job.description, job.office_notes) == (
        "AC repair",
        "Upstairs unit blowing warm air",
        "Gate code 4412",
    )
    assert job.requested_window_start == start and job.requested_window_end == start + timedelta(hours=2)
    assert job.state == "unscheduled" and not job.visits.exists()


def test_delivering_lead_booked_twice_creates_exactly_one_job(
    qualified_lead, office, django_capture_on_commit_callbacks
):
    delivery = book(qualified_lead, office, django_capture_on_commit_callbacks)
    again = events.delivery_attempt(delivery_id=delivery.pk, force=True)
    assert again.attempts == 1, "a delivered delivery does not run again"
    Delivery.objects.filter(pk=delivery.pk).update(status="pending")  # as if its record were lost
    assert events.delivery_attempt(delivery_id=delivery.pk, force=True).status == "delivered"
    event = Event.objects.get(milestone="lead.booked")
    Delivery.objects.filter(pk=delivery.pk).delete()
    events.event_fan_out(event_id=event.pk)  # and a second fan-out, a new delivery row
    events.delivery_attempt(delivery_id=Delivery.objects.get(subscriber="fsm.job_from_lead").pk, force=True)
    assert Job.objects.filter(origin_lead_id=qualified_lead.pk).count() == 1
    assert Event.objects.filter(code="fsm.job.created").count() == 1


def test_without_a_property_on_the_lead_the_customers_primary_property_is_used(
    office, django_capture_on_commit_callbacks
):
    customer = make_customer(phones=["512-555-0142"])
    source = Source.objects.create(name="Phone", slug="phone", kind=Source.Kind.PHONE)
    lead = crm.lead_capture(source=source, contact=crm.LeadIn(phone="512-555-0142", service="Leak")).lead
    assert lead.customer == customer and lead.property_id is None
    lead = crm.lead_qualify(lead=lead, actor=office)
    book(lead, office, django_capture_on_commit_callbacks)
    job = Job.objects.get(origin_lead_id=lead.pk)
    assert job.property == customer.properties.get() and job.job_type is None


def test_the_subscriber_is_registered_by_autodiscovery():
    from events import registry

    assert registry.get("fsm.job_from_lead").milestones == ("lead.booked",)
