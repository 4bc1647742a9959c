"""Booking a lead with a chosen time (crm's Book form, "Find a time") -> the job and its visit (fsm)."""

from datetime import timedelta

import pytest
from django.urls import reverse

from crm import services as crm
from crm.models import Lead
from events import services as events
from events.models import Delivery, Event
from events.selectors import timeline_for
from fsm.models import Job, Visit
from fsm.services.visits import SLOT_TAKEN
from tests.factories import make_customer
from tests.fsm.conftest import MONDAY
from tests.fsm.factories import at, make_job, make_qualified_lead, schedule

pytestmark = pytest.mark.django_db

NINE, HALF_TEN = at(MONDAY, 9), at(MONDAY, 10, 30)


@pytest.fixture
def lead(office, business):
    return make_qualified_lead(actor=office)


def book(lead, office, capture, **kwargs) -> Delivery:
    kwargs.setdefault("service", "AC repair")
    with capture(execute=True):
        crm.lead_book(lead=lead, actor=office, **kwargs)
    return Delivery.objects.get(subscriber="fsm.job_from_lead")


def slot(tech, start=NINE, end=HALF_TEN) -> dict:
    return {"slot_technician_id": tech.pk, "slot_start": start, "slot_end": end}


def book_form(tech, **extra) -> dict:
    data = {"action": "book", "service": "AC repair", "slot_technician": tech.pk}
    return data | {"slot_start": NINE.isoformat(), "slot_end": HALF_TEN.isoformat()} | extra


# --- The handoff -----------------------------------------------------------------------------------------


def test_booking_with_a_chosen_time_creates_the_job_and_its_visit_with_that_technician(
    lead, office, tech, ac_repair, client_for, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(office).post(reverse("crm:act", args=[lead.pk]), book_form(tech))
    assert response.status_code == 302
    assert Delivery.objects.get(subscriber="fsm.job_from_lead").status == "delivered"
    job = Job.objects.get(origin_lead_id=lead.pk)
    assert job.state == "scheduled" and job.job_type == ac_repair
    visit = job.visits.get()
    assert (visit.start, visit.end) == (NINE, HALF_TEN) and list(visit.technicians.all()) == [tech]
    assert (visit.arrival_window_start, visit.arrival_window_end) == (NINE, HALF_TEN), "no window: the slot"


def test_the_requested_window_is_the_visits_arrival_window(
    lead, office, tech, django_capture_on_commit_callbacks
):
    window = {"window_start": at(MONDAY, 8), "window_end": at(MONDAY, 12)}
    book(lead, office, django_capture_on_commit_callbacks, **window, **slot(tech))
    visit = Visit.objects.get()
    assert (visit.arrival_window_start, visit.arrival_window_end) == (at(MONDAY, 8), at(MONDAY, 12))


def test_delivering_a_booking_with_a_time_twice_makes_one_job_and_one_visit(
    lead, office, tech, django_capture_on_commit_callbacks
):
    delivery = book(lead, office, django_capture_on_commit_callbacks, **slot(tech))
    event = Event.objects.get(milestone="lead.booked")
    Delivery.objects.filter(pk=delivery.pk).delete()  # as if the record were lost: a second delivery
    events.event_fan_out(event_id=event.pk)
    again = events.delivery_attempt(
        delivery_id=Delivery.objects.get(subscriber="fsm.job_from_lead").pk, force=True
    )
    assert again.status == "delivered"
    assert Job.objects.filter(origin_lead_id=lead.pk).count() == 1 and Visit.objects.count() == 1
    assert not Event.objects.filter(code=SLOT_TAKEN).exists()


def test_a_time_taken_meanwhile_leaves_the_job_in_the_queue_with_a_note(
    lead, office, tech, ac_repair, django_capture_on_commit_callbacks
):
    other = schedule(make_job(actor=office, job_type=ac_repair), start=NINE, technicians=[tech], actor=office)
    delivery = book(lead, office, django_capture_on_commit_callbacks, **slot(tech))
    assert delivery.status == "delivered", "a taken time never fails the delivery"
    job = Job.objects.get(origin_lead_id=lead.pk)
    assert job.state == "unscheduled" and not job.visits.exists()
    note = next(e for e in timeline_for(job) if e.code == SLOT_TAKEN)
    assert "was taken" in note.summary and other.job.number in note.summary

    Delivery.objects.filter(pk=delivery.pk).update(status="pending")
    events.delivery_attempt(delivery_id=delivery.pk, force=True)
    assert Event.objects.filter(code=SLOT_TAKEN).count() == 1 and not job.visits.exists()


def test_a_technician_gone_meanwhile_leaves_the_job_in_the_queue_with_a_note(
    lead, office, tech, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        crm.lead_book(lead=lead, actor=office, service="AC repair", **slot(tech))
    tech.is_active = False
    tech.save(update_fields=["is_active"])
    with django_capture_on_commit_callbacks(execute=True):
        for callback in callbacks:
            callback()
    assert Delivery.objects.get(subscriber="fsm.job_from_lead").status == "delivered"
    job = Job.objects.get(origin_lead_id=lead.pk)
    assert job.state == "unscheduled" and Event.objects.filter(code=SLOT_TAKEN, data__job_id=job.pk).exists()


# --- The Book form ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"slot_end": ""}, "slot_end"),
        ({"slot_end": NINE.isoformat()}, "slot_end"),
        ({"slot_start": "next tuesday"}, "slot_start"),
        ({"slot_technician": "office"}, "slot_technician"),
    ],
)
def test_a_bad_time_on_the_book_form_is_a_field_error_and_nothing_is_saved(
    lead, office, tech, client_for, change, field
):
    response = client_for(office).post(reverse("crm:act", args=[lead.pk]), book_form(tech, **change))
    assert response.status_code == 200 and field in response.context["book_form"].errors
    assert Lead.objects.get(pk=lead.pk).state == "qualified"
    assert not Event.objects.filter(milestone="lead.booked").exists()


def test_a_non_technician_on_the_book_form_is_refused(lead, office, tech, client_for):
    response = client_for(office).post(
        reverse("crm:act", args=[lead.pk]), book_form(tech, slot_technician=office.pk)
    )
    assert "That technician cannot take visits." in response.context["book_form"].errors["slot_technician"]
    assert "That technician cannot take visits." in response.content.decode(), "shown by the chosen time"
    assert Lead.objects.get(pk=lead.pk).state == "qualified"


def test_the_lead_page_offers_find_a_time(lead, office, client_for):
    html = client_for(office).get(reverse("crm:detail", args=[lead.pk])).content.decode()
    assert "Find a time" in html and reverse("booking-slots") in html
    assert 'name="slot_technician"' in html and 'name="slot_start"' in html


# --- The slots endpoint ----------------------------------------------------------------------------------


def slots_url(lead, service="AC repair") -> str:
    query = f"service={service}&property={lead.property_id}&customer={lead.customer_id}"
    return f"{reverse('booking-slots')}?{query}"


def test_the_endpoint_offers_open_times_for_the_leads_job_type_and_address(
    lead, office, tech, ac_repair, client_for
):
    response = client_for(office).get(slots_url(lead))
    slots = response.context["suggestions"].slots
    assert 0 < len(slots) <= 5 and all(s.technician == tech for s in slots)
    assert all(s.end - s.start == timedelta(minutes=90) for s in slots), "the job type's length"
    assert slots[0].start.date() <= slots[-1].start.date() < slots[0].start.date() + timedelta(days=5)
    html = response.content.decode()
    assert "choose=1" in html and f"slot_technician={tech.pk}" in html


def test_without_a_property_the_customers_primary_one_is_used(office, tech, ac_repair, client_for, business):
    customer = make_customer()
    response = client_for(office).get(f"{reverse('booking-slots')}?service=ac+repair&customer={customer.pk}")
    assert response.context["suggestions"].slots and not response.context["problem"]


def test_the_endpoint_says_why_it_cannot_suggest(lead, office, tech, ac_repair, client_for, business):
    client = client_for(office)
    unknown = client.get(slots_url(lead, service="Chimney sweep")).content.decode()
    assert "No job type is called" in unknown and "Chimney sweep" in unknown and "slot-list" not in unknown
    homeless = make_customer(properties=[])
    response = client.get(f"{reverse('booking-slots')}?service=AC+repair&customer={homeless.pk}")
    assert "no address yet" in response.content.decode()


def test_choosing_a_time_fills_the_hidden_fields_and_clear_empties_them(office, tech, client_for, business):
    client = client_for(office)
    chosen = f"slot_technician={tech.pk}&slot_start={NINE.isoformat()}&slot_end={HALF_TEN.isoformat()}"
    html = client.get(f"{reverse('booking-slots')}?choose=1&{chosen}").content.decode()
    assert f'name="slot_technician" value="{tech.pk}"' in html and NINE.isoformat() in html
    assert "clear=1" in html
    cleared = client.get(f"{reverse('booking-slots')}?clear=1").content.decode()
    assert 'name="slot_start" value=""' in cleared and "No time chosen" in cleared


@pytest.mark.parametrize(("persona", "status"), [("owner", 200), ("dispatcher", 200), ("technician", 403)])
def test_only_the_office_roles_use_the_endpoint(lead, personas, client_for, persona, status):
    assert client_for(personas[persona]).get(slots_url(lead)).status_code == status
