from datetime import timedelta

import pytest
from django.utils import timezone

from common.errors import ApplicationError
from events.models import Event
from events.selectors import timeline_for
from fsm import services
from fsm.errors import Forbidden
from tests.factories import make_customer
from tests.fsm.factories import make_job, services_property

pytestmark = pytest.mark.django_db


def test_a_new_job_gets_a_number_waits_unscheduled_and_shows_on_the_customers_timeline(office, ac_repair):
    job = make_job(actor=office, job_type=ac_repair)
    assert job.number == f"J-{1000 + job.pk}" and job.state == "unscheduled"
    assert job.service == "AC repair"
    created = Event.objects.get(code="fsm.job.created")
    assert created in timeline_for(job.customer) and created in timeline_for(job.property)


def test_creating_a_job_fills_in_the_propertys_coordinates_and_time_zone(office):
    job = make_job(actor=office, zip_code="78701")
    job.property.refresh_from_db()
    assert (float(job.property.latitude), float(job.property.longitude)) == (30.2713, -97.7426)
    assert job.property.time_zone == "America/Chicago"


def test_a_property_of_another_customer_is_refused(office):
    customer, stranger = make_customer(), make_customer()
    with pytest.raises(ApplicationError) as error:
        services.job_create(
            customer=customer, property=stranger.properties.first(), description="x", actor=office
        )
    assert error.value.field == "property"


def test_a_job_needs_to_say_what_it_is(office):
    customer = make_customer()
    with pytest.raises(ApplicationError) as error:
        services.job_create(customer=customer, property=customer.properties.first(), actor=office)
    assert error.value.field == "description"


def test_a_requested_window_that_ends_before_it_starts_is_refused(office):
    start = timezone.now() + timedelta(days=1)
    with pytest.raises(ApplicationError) as error:
        make_job(actor=office, requested_window_start=start, requested_window_end=start - timedelta(hours=1))
    assert error.value.field == "requested_window_end"


def test_a_technician_cannot_create_jobs(technician):
    with pytest.raises(Forbidden):
        make_job(actor=technician)


def test_the_same_origin_lead_gives_the_same_job(office):
    first = make_job(actor=office, origin_lead_id=77)
    again = make_job(actor=office, customer=first.customer, origin_lead_id=77)
    assert again.pk == first.pk


def test_update_records_what_changed_and_refuses_unknown_fields(office, job):
    job = services.job_update(job=job, actor=office, priority="emergency", office_notes="Gate 4412")
    assert job.priority == "emergency"
    assert Event.objects.get(code="fsm.job.updated").data["changed"] == ["office_notes", "priority"]
    with pytest.raises(ApplicationError):
        services.job_update(job=job, actor=office, state="completed")


def test_a_canceled_job_only_takes_notes(office, job):
    job = services.job_cancel(job=job, actor=office, reason="Duplicate")
    services.job_update(job=job, actor=office, office_notes="Called twice")
    with pytest.raises(ApplicationError) as error:
        services.job_update(job=job, actor=office, priority="high")
    assert error.value.code == "job_closed"


def test_a_second_property_can_be_chosen(office, job):
    from customers.services import customer_update

    other = services_property(street="12 Oak St", zip_code="78745")
    current = job.property
    from customers.services import PropertyIn

    keep = PropertyIn(
        id=current.pk,
        street=current.street,
        city=current.city,
        state=current.state,
        zip_code=current.zip_code,
    )
    customer_update(customer=job.customer, actor=office, properties=[keep, other])
    second = job.customer.properties.exclude(pk=current.pk).get()
    job = services.job_update(job=job, actor=office, property=second)
    assert job.property == second and second.__class__.objects.get(pk=second.pk).latitude is not None
