import math
from datetime import timedelta

import pytest

from common.errors import ApplicationError
from events.models import Event
from events.selectors import timeline_for
from fsm import services
from fsm.errors import Forbidden
from fsm.geo import haversine_km
from fsm.models import Job, TimeEntry, Visit
from tests.fsm.conftest import MONDAY
from tests.fsm.factories import DOWNTOWN, at, make_job, schedule

pytestmark = pytest.mark.django_db


def _on_site(job, tech, dispatcher):
    services.job_dispatch(job=job, actor=dispatcher)
    services.job_on_my_way(job=job, actor=tech, at=at(MONDAY, 8, 40))
    return services.job_arrive(job=job, actor=tech, at=at(MONDAY, 9))


def test_the_happy_path_publishes_the_milestones_on_every_timeline(job, visit, tech, dispatcher):
    _on_site(job, tech, dispatcher)
    job = services.job_complete(job=job, actor=tech, completion_note="Replaced capacitor", at=at(MONDAY, 10))
    assert job.state == "completed" and job.completed_at == at(MONDAY, 10)
    milestones = list(
        Event.objects.exclude(milestone="")
        .filter(code__startswith="fsm.")
        .values_list("milestone", flat=True)
    )
    assert milestones == ["job.completed", "job.en_route", "job.dispatched", "job.scheduled"]
    codes = [e.code for e in timeline_for(job.customer)]
    assert codes[:6] == [
        "fsm.job.completed",
        "fsm.job.arrived",
        "fsm.job.en_route",
        "fsm.job.dispatched",
        "fsm.job.scheduled",
        "fsm.job.created",
    ]
    visit.refresh_from_db()
    assert visit.state == "completed" and visit.arrived_at == at(MONDAY, 9)


def test_job_completed_carries_the_origin_lead(office, ac_repair, tech, dispatcher):
    job = make_job(actor=office, job_type=ac_repair, origin_lead_id=4242)
    schedule(job, start=at(MONDAY, 9), technicians=[tech], actor=dispatcher)
    _on_site(job, tech, dispatcher)
    services.job_complete(job=job, actor=tech, completion_note="Done")
    event = Event.objects.get(milestone="job.completed")
    assert event.data["origin_lead_id"] == 4242 and event.data["customer_id"] == job.customer_id


@pytest.mark.parametrize(
    ("action", "kwargs"),
    [
        ("job_complete", {"completion_note": "done"}),
        ("job_pause", {}),
    ],
)
def test_transitions_the_state_does_not_allow_are_refused_clearly(job, visit, dispatcher, action, kwargs):
    with pytest.raises(ApplicationError) as error:
        getattr(services, action)(job=job, actor=dispatcher, **kwargs)
    assert error.value.code == "illegal_transition" and error.value.status_code == 400
    assert Job.objects.get(pk=job.pk).state == "scheduled"


def test_resuming_a_job_that_is_not_on_hold_changes_nothing(job, visit, dispatcher):
    assert services.job_resume(job=job, actor=dispatcher).state == "scheduled"
    assert not Event.objects.filter(code="fsm.job.resumed").exists()


def test_an_unscheduled_job_cannot_be_dispatched(job, dispatcher):
    with pytest.raises(ApplicationError) as error:
        services.job_dispatch(job=job, actor=dispatcher)
    assert error.value.code == "illegal_transition"


def test_a_visit_with_nobody_on_it_cannot_be_dispatched(job, dispatcher):
    schedule(job, start=at(MONDAY, 9), technicians=[], actor=dispatcher)
    with pytest.raises(ApplicationError) as error:
        services.job_dispatch(job=job, actor=dispatcher)
    assert error.value.code == "no_technician"


def test_a_technician_cannot_dispatch(job, visit, tech):
    with pytest.raises(Forbidden):
        services.job_dispatch(job=job, actor=tech)


def test_a_technician_not_on_the_job_cannot_move_it(job, visit, dispatcher, other_tech):
    services.job_dispatch(job=job, actor=dispatcher)
    with pytest.raises(Forbidden) as error:
        services.job_on_my_way(job=job, actor=other_tech)
    assert error.value.status_code == 403
    assert Job.objects.get(pk=job.pk).state == "dispatched"


def test_someone_without_a_role_cannot_move_a_job(job, visit, outsider):
    with pytest.raises(Forbidden):
        services.job_arrive(job=job, actor=outsider)


def test_the_office_can_act_for_the_crew(job, visit, office):
    services.job_arrive(job=job, actor=office, at=at(MONDAY, 9))
    assert services.job_complete(job=job, actor=office, completion_note="Per phone").state == "completed"


def test_completing_without_a_note_is_refused_and_saves_nothing(job, visit, tech, dispatcher):
    _on_site(job, tech, dispatcher)
    before = Event.objects.count()
    with pytest.raises(ApplicationError) as error:
        services.job_complete(job=job, actor=tech, completion_note="   ")
    assert error.value.field == "completion_note"
    assert Job.objects.get(pk=job.pk).state == "on_site" and Event.objects.count() == before
    assert Visit.objects.get(pk=visit.pk).state == "on_site"


def test_a_double_tap_is_quiet(job, visit, tech, dispatcher):
    services.job_dispatch(job=job, actor=dispatcher)
    services.job_on_my_way(job=job, actor=tech)
    services.job_on_my_way(job=job, actor=tech)
    assert Event.objects.filter(code="fsm.job.en_route").count() == 1


def test_on_my_way_publishes_what_a_text_to_the_customer_needs(job, visit, tech, dispatcher):
    services.job_dispatch(job=job, actor=dispatcher)
    services.job_on_my_way(job=job, actor=tech, at=at(MONDAY, 8, 30))
    data = Event.objects.get(milestone="job.en_route").data
    phone = job.customer.phones.get()
    home_to_78704 = haversine_km(tuple(map(float, DOWNTOWN)), (30.2428, -97.7658))
    minutes = math.ceil(home_to_78704 * 1.3 / 50 * 60)
    assert data["eta_minutes"] == minutes
    assert data["eta"] == (at(MONDAY, 8, 30) + timedelta(minutes=minutes)).isoformat()
    assert data["phone"] == phone.number.as_e164 and data["technician_first_name"] == tech.first_name
    assert data["job_number"] == job.number and data["customer_id"] == job.customer_id
    assert data["time_zone"] == "America/Chicago"


def test_the_eta_counts_from_the_previous_visit_of_the_day(office, ac_repair, tech, dispatcher):
    first = make_job(actor=office, job_type=ac_repair, zip_code="78758")
    second = make_job(actor=office, job_type=ac_repair, zip_code="78704")
    schedule(first, start=at(MONDAY, 8), technicians=[tech], actor=dispatcher)
    visit = schedule(second, start=at(MONDAY, 11), technicians=[tech], actor=dispatcher)
    from fsm.services import technician_travel_minutes

    far = math.ceil(haversine_km((30.3764, -97.7078), (30.2428, -97.7658)) * 1.3 / 50 * 60)
    assert technician_travel_minutes(technician=tech, visit=visit) == far


def test_time_on_the_job_runs_from_arrival_to_completion(job, visit, tech, dispatcher):
    _on_site(job, tech, dispatcher)
    services.job_complete(job=job, actor=tech, completion_note="Done", at=at(MONDAY, 10, 15))
    entry = TimeEntry.objects.get(kind="job")
    assert (entry.technician, entry.job, entry.visit) == (tech, job, visit)
    assert entry.minutes == 75


def test_a_pause_stops_the_clock_and_resume_goes_back_on_site(job, visit, tech, dispatcher):
    _on_site(job, tech, dispatcher)
    job = services.job_pause(job=job, actor=tech, reason="Parts run", at=at(MONDAY, 9, 30))
    assert job.state == "on_hold" and job.hold_kind == "pause"
    assert TimeEntry.objects.get(kind="job").ended_at == at(MONDAY, 9, 30)
    job = services.job_resume(job=job, actor=tech, at=at(MONDAY, 10))
    assert job.state == "on_site" and not job.hold_kind
    assert TimeEntry.objects.filter(kind="job", ended_at=None).get().started_at == at(MONDAY, 10)


def test_an_office_hold_ends_the_visit_under_way_and_resumes_to_the_queue(job, visit, tech, dispatcher):
    _on_site(job, tech, dispatcher)
    job = services.job_hold(job=job, actor=dispatcher, reason="Waiting for parts")
    assert Visit.objects.get(pk=visit.pk).state == "completed"
    assert not TimeEntry.objects.filter(kind="job", ended_at=None).exists()
    with pytest.raises(Forbidden):
        services.job_resume(job=job, actor=tech)
    assert services.job_resume(job=job, actor=dispatcher).state == "unscheduled"


def test_a_held_job_with_a_visit_ahead_resumes_to_where_it_was(job, visit, dispatcher):
    services.job_dispatch(job=job, actor=dispatcher)
    job = services.job_hold(job=job, actor=dispatcher, reason="Customer away")
    assert Visit.objects.get(pk=visit.pk).state == "scheduled"
    assert services.job_resume(job=job, actor=dispatcher).state == "dispatched"


def test_hold_and_cancel_need_a_reason_and_the_office(job, visit, tech, dispatcher):
    with pytest.raises(ApplicationError) as error:
        services.job_hold(job=job, actor=dispatcher, reason="")
    assert error.value.field == "reason"
    with pytest.raises(Forbidden):
        services.job_cancel(job=job, actor=tech, reason="Not needed")


def test_canceling_cancels_the_open_visits_and_publishes(job, visit, dispatcher):
    job = services.job_cancel(job=job, actor=dispatcher, reason="Customer fixed it")
    assert job.state == "canceled" and job.cancel_reason == "Customer fixed it"
    assert Visit.objects.get(pk=visit.pk).state == "canceled"
    assert Event.objects.get(milestone="job.canceled").data["reason"] == "Customer fixed it"
    with pytest.raises(ApplicationError):
        services.job_resume(job=job, actor=dispatcher)


def test_completing_cancels_visits_left_ahead(job, visit, tech, dispatcher):
    later = schedule(job, start=at(MONDAY + timedelta(days=1), 9), technicians=[tech], actor=dispatcher)
    _on_site(job, tech, dispatcher)
    services.job_complete(job=job, actor=tech, completion_note="Finished in one trip")
    assert Visit.objects.get(pk=later.pk).state == "canceled"


def test_the_buttons_offered_follow_the_state_and_the_role(job, visit, tech, other_tech, dispatcher):
    from fsm.selectors import job_actions_for

    job = Job.objects.get(pk=job.pk)
    assert job_actions_for(dispatcher, job) == ["dispatch", "on_my_way", "arrive", "hold", "cancel"]
    assert job_actions_for(tech, job) == ["on_my_way", "arrive"]
    assert job_actions_for(other_tech, job) == []


def test_a_completed_job_from_a_lead_wins_the_lead(
    office, tech, dispatcher, django_capture_on_commit_callbacks
):
    from crm import services as crm
    from crm.models import Lead, Source

    source = Source.objects.create(name="Website", slug="website", kind="web_form")
    lead = crm.lead_capture(source=source, contact=crm.LeadIn(name="Ana Ruiz", phone="512-555-0199")).lead
    lead = crm.lead_qualify(lead=lead, actor=office)
    with django_capture_on_commit_callbacks(execute=True):
        crm.lead_book(lead=lead, actor=office, service="AC repair")
    job = Job.objects.get(origin_lead_id=lead.pk)
    schedule(job, start=at(MONDAY, 9), technicians=[tech], actor=dispatcher)
    services.job_arrive(job=job, actor=tech)
    with django_capture_on_commit_callbacks(execute=True):
        services.job_complete(job=job, actor=tech, completion_note="Fixed")
    assert Lead.objects.get(pk=lead.pk).state == "won"


def test_the_office_can_turn_a_pause_into_a_hold(job, visit, tech, dispatcher):
    _on_site(job, tech, dispatcher)
    services.job_pause(job=job, actor=tech)
    job = services.job_hold(job=job, actor=dispatcher, reason="Needs a new compressor")
    assert (job.state, job.hold_kind, job.held_from) == ("on_hold", "hold", "on_site")
    assert Visit.objects.get(pk=visit.pk).state == "completed"
    with pytest.raises(Forbidden):
        services.job_resume(job=job, actor=tech)


def test_a_visits_state_moves_only_through_its_transitions(visit):
    from django_fsm import TransitionNotAllowed

    with pytest.raises(AttributeError):
        visit.state = Visit.State.COMPLETED  # protected: no service can skip the machine
    with pytest.raises(TransitionNotAllowed):
        visit.complete()  # a scheduled visit has not been worked on
    visit.depart()
    visit.arrive()
    visit.complete()
    with pytest.raises(TransitionNotAllowed):
        visit.cancel()  # finished work is not canceled
    assert visit.state == Visit.State.COMPLETED


def test_canceling_a_job_cancels_its_open_visits_through_the_machine(job, visit, tech, office):
    services.job_dispatch(job=job, actor=office)
    services.job_on_my_way(job=job, actor=tech, at=at(MONDAY, 8, 40))
    services.job_cancel(job=job, actor=office, reason="Customer sold the house", at=at(MONDAY, 8, 50))
    visit.refresh_from_db()
    assert (visit.state, visit.canceled_at, visit.en_route_at) == (
        "canceled",
        at(MONDAY, 8, 50),
        at(MONDAY, 8, 40),
    )
