from datetime import timedelta

import pytest
from django.utils import timezone

from common.errors import ApplicationError
from crm import services
from crm.models import Lead
from crm.services import LeadIn, lead_capture
from events.models import Event
from events.services import publish

pytestmark = pytest.mark.django_db


@pytest.fixture
def lead(web_source):
    return lead_capture(
        source=web_source, contact=LeadIn(name="Ana Ruiz", phone="512-555-0199", service="AC repair")
    ).lead


def test_the_happy_path_records_every_transition_with_who_and_from_to(lead, office):
    lead = services.lead_mark_contacted(lead=lead, actor=office)
    lead = services.lead_qualify(lead=lead, actor=office)
    lead = services.lead_book(lead=lead, actor=office, notes="gate code 4412")
    lead = services.lead_win(lead=lead, actor=office)
    assert lead.state == "won" and lead.closed_at
    codes = list(
        Event.objects.filter(subject_id=str(lead.pk), code__startswith="crm.lead.")
        .order_by("pk")
        .values_list("code", "data__from", "data__to", "actor")
    )
    assert codes == [
        ("crm.lead.created", None, None, None),
        ("crm.lead.mark_contacted", "new", "contacted", office.pk),
        ("crm.lead.qualify", "contacted", "qualified", office.pk),
        ("crm.lead.book", "qualified", "booked", office.pk),
        ("crm.lead.win", "booked", "won", office.pk),
    ]


def test_a_new_lead_cannot_be_won(lead, office):
    with pytest.raises(ApplicationError) as error:
        services.lead_win(lead=lead, actor=office)
    assert error.value.code == "illegal_transition"
    assert Lead.objects.get(pk=lead.pk).state == "new"


def _moves(lead) -> list[tuple]:
    events = Event.objects.filter(subject_id=str(lead.pk), code__startswith="crm.lead.").exclude(
        code="crm.lead.created"
    )
    return list(events.order_by("pk").values_list("code", "data__from", "data__to", "summary"))


@pytest.mark.parametrize("contacted", [False, True])
def test_a_new_or_contacted_lead_is_booked_on_the_first_call_qualified_on_the_way(lead, office, contacted):
    if contacted:
        lead = services.lead_mark_contacted(lead=lead, actor=office)
    before = lead.state
    lead = services.lead_book(lead=lead, actor=office, service="AC repair")
    assert lead.state == "booked" and lead.booked_at and lead.first_response_at
    assert _moves(lead)[-2:] == [
        ("crm.lead.qualify", before, "qualified", f"Lead qualified while booking ({before} → qualified)"),
        ("crm.lead.book", "qualified", "booked", "Lead booked (qualified → booked)"),
    ]
    milestones = Event.objects.filter(subject_id=str(lead.pk)).exclude(milestone="").order_by("pk")
    assert list(milestones.values_list("milestone", flat=True)) == [
        "lead.created",
        "lead.qualified",
        "lead.booked",
    ]


def test_booking_a_new_lead_twice_is_quiet(lead, office):
    services.lead_book(lead=lead, actor=office)
    assert services.lead_book(lead=lead, actor=office).state == "booked"  # the same stale object again
    assert [code for code, *_ in _moves(lead)] == ["crm.lead.qualify", "crm.lead.book"]


def test_a_booking_refused_leaves_a_new_lead_new_and_unqualified(web_source, office, dispatcher):
    lead = lead_capture(source=web_source, contact=LeadIn(name="Walt Jones", phone="512-555-0142")).lead
    with pytest.raises(ApplicationError, match="Say what service is booked"):
        services.lead_book(lead=lead, actor=office)
    with pytest.raises(services.Forbidden):  # a dispatcher books, but does not qualify leads
        services.lead_book(lead=lead, actor=dispatcher, service="Drain cleaning")
    assert Lead.objects.get(pk=lead.pk).state == "new" and _moves(lead) == []


def test_a_lost_lead_cannot_be_booked_but_can_be_reopened(lead, office):
    lead = services.lead_lose(lead=lead, actor=office, reason="price")
    with pytest.raises(ApplicationError):
        services.lead_qualify(lead=lead, actor=office)
    assert services.lead_reopen(lead=lead, actor=office).state == "new"


def test_a_technician_may_not_move_leads(lead, technician):
    with pytest.raises(services.Forbidden):
        services.lead_mark_contacted(lead=lead, actor=technician)


def test_contacted_twice_is_quiet(lead, office):
    services.lead_mark_contacted(lead=lead, actor=office)
    services.lead_mark_contacted(lead=lead, actor=office)
    assert Event.objects.filter(code="crm.lead.mark_contacted").count() == 1


def test_manual_contacted_starts_speed_to_lead(lead, office):
    lead = services.lead_mark_contacted(lead=lead, actor=office)
    assert lead.first_response_at and lead.first_response_channel == "manual"


def test_the_first_outbound_response_stamps_the_clock_and_moves_new_to_contacted(lead):
    at = lead.arrived_at + timedelta(seconds=42)
    lead = services.lead_record_response(lead=lead, at=at, channel="sms")
    assert lead.state == "contacted" and lead.response_seconds == 42
    later = services.lead_record_response(lead=lead, at=at + timedelta(minutes=5), channel="call")
    assert later.first_response_at == at


def test_booking_publishes_what_a_job_needs(lead, office):
    lead = services.lead_qualify(lead=lead, actor=office)
    start = timezone.now() + timedelta(days=1)
    services.lead_book(
        lead=lead,
        actor=office,
        service="AC repair",
        window_start=start,
        window_end=start + timedelta(hours=2),
        notes="dog in yard",
    )
    event = Event.objects.get(milestone="lead.booked")
    assert event.data["service"] == "AC repair" and event.data["notes"] == "dog in yard"
    assert event.data["window_start"] == start.isoformat()
    assert event.data["customer_id"] == lead.customer_id and "property_id" in event.data


def test_booking_refuses_a_window_that_ends_before_it_starts(lead, office):
    lead = services.lead_qualify(lead=lead, actor=office)
    start = timezone.now() + timedelta(days=1)
    with pytest.raises(ApplicationError) as error:
        services.lead_book(lead=lead, actor=office, window_start=start, window_end=start - timedelta(hours=1))
    assert error.value.field == "window_end"


def _job_completed(lead) -> dict:
    """job.completed as fsm publishes it (events.milestones.JobCompleted) for a job booked from `lead`."""
    return {
        "job_id": 1,
        "job_number": "J-1001",
        "customer_id": lead.customer_id,
        "origin_lead_id": lead.pk,
        "from": "on_site",
        "to": "completed",
        "completion_note": "Replaced the flapper",
        "visit_ids": [1],
        "at": "2026-11-20T15:00:00-06:00",
    }


def test_a_completed_job_from_the_lead_marks_it_won(lead, office, django_capture_on_commit_callbacks):
    lead = services.lead_book(lead=services.lead_qualify(lead=lead, actor=office), actor=office)
    with django_capture_on_commit_callbacks(execute=True):
        publish("job.completed", subject=lead, data=_job_completed(lead))
    assert Lead.objects.get(pk=lead.pk).state == "won"


def test_an_accepted_estimate_marks_a_qualified_lead_won(lead, office, django_capture_on_commit_callbacks):
    lead = services.lead_qualify(lead=lead, actor=office)
    with django_capture_on_commit_callbacks(execute=True):
        data = {"estimate_id": 1, "customer_id": lead.customer_id, "job_id": None, "origin_lead_id": lead.pk}
        publish("estimate.accepted", subject=lead, data=data)
    assert Lead.objects.get(pk=lead.pk).state == "won"


def test_moving_to_an_unknown_column_is_refused(lead, office):
    with pytest.raises(ApplicationError):
        services.lead_move(lead=lead, to_state="archived", actor=office)


def test_source_keys_are_shown_once_and_stored_hashed(zapier, office):
    key, raw = services.source_key_create(source=zapier, actor=office)
    assert raw.startswith("lk_") and raw not in key.key_hash
    assert services.source_authenticate(source=zapier, raw_key=raw)
    assert not services.source_authenticate(source=zapier, raw_key=raw + "x")
    services.source_key_revoke(key=key, actor=office)
    assert not services.source_authenticate(source=zapier, raw_key=raw)
