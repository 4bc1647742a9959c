from datetime import datetime, timedelta

import pytest
from django.db import IntegrityError, transaction

from common.errors import ApplicationError
from events.models import Event
from fsm import services
from fsm.errors import Forbidden, SchedulingConflict
from fsm.models import Job, Visit
from tests.fsm.conftest import MONDAY
from tests.fsm.factories import at, make_job, make_technician, schedule

pytestmark = pytest.mark.django_db
SATURDAY = MONDAY + timedelta(days=5)


def codes(conflicts) -> list[str]:
    return [c.code for c in conflicts]


def test_the_first_visit_schedules_the_job_and_publishes_job_scheduled(job, tech, dispatcher):
    result = services.visit_schedule(job=job, start=at(MONDAY, 9), technicians=[tech], actor=dispatcher)
    assert result.warnings == []
    assert result.visit.end == at(MONDAY, 10, 30), "the job type's 90 minutes"
    assert Job.objects.get(pk=job.pk).state == "scheduled"
    event = Event.objects.get(milestone="job.scheduled")
    assert event.data["technician_ids"] == [tech.pk] and event.data["visit_id"] == result.visit.pk


def test_a_second_visit_is_recorded_without_a_second_milestone(job, visit, tech, dispatcher):
    schedule(job, start=at(MONDAY + timedelta(days=1), 9), technicians=[tech], actor=dispatcher)
    assert Event.objects.filter(milestone="job.scheduled").count() == 1
    assert Event.objects.filter(code="fsm.visit.scheduled").count() == 1


def test_a_visit_that_ends_before_it_starts_is_refused(job, tech, dispatcher):
    with pytest.raises(ApplicationError) as error:
        services.visit_schedule(
            job=job, start=at(MONDAY, 10), end=at(MONDAY, 9), technicians=[tech], actor=dispatcher
        )
    assert error.value.field == "end"
    assert not Visit.objects.exists() and Job.objects.get(pk=job.pk).state == "unscheduled"


def test_the_database_refuses_a_visit_that_ends_before_it_starts(job):
    with pytest.raises(IntegrityError), transaction.atomic():
        Visit.objects.create(job=job, start=at(MONDAY, 10), end=at(MONDAY, 10))


def test_naive_times_are_refused(job, tech, dispatcher):
    with pytest.raises(ApplicationError) as error:
        naive = datetime(2030, 6, 3, 9)  # noqa: DTZ001 (the point of the test)
        services.visit_schedule(job=job, start=naive, technicians=[tech], actor=dispatcher)
    assert error.value.code == "naive_datetime"


def test_an_overlap_is_refused_without_confirm(office, ac_repair, visit, tech, dispatcher):
    other = make_job(actor=office, job_type=ac_repair)
    with pytest.raises(SchedulingConflict) as error:
        services.visit_schedule(job=other, start=at(MONDAY, 10), technicians=[tech], actor=dispatcher)
    conflict = error.value
    assert conflict.code == "conflict" and conflict.status_code == 409
    assert codes(conflict.conflicts) == ["overlap"] and conflict.conflicts[0].visit_id == visit.pk
    assert conflict.as_dict()["conflicts"][0]["code"] == "overlap"
    assert Job.objects.get(pk=other.pk).state == "unscheduled" and Visit.objects.count() == 1


def test_an_overlap_is_saved_when_confirmed_and_reported_back(office, ac_repair, visit, tech, dispatcher):
    other = make_job(actor=office, job_type=ac_repair)
    result = services.visit_schedule(
        job=other, start=at(MONDAY, 10), technicians=[tech], actor=dispatcher, confirm=True
    )
    assert codes(result.warnings) == ["overlap"] and Visit.objects.count() == 2


def test_back_to_back_visits_do_not_overlap(office, ac_repair, visit, tech, dispatcher):
    other = make_job(actor=office, job_type=ac_repair)
    result = services.visit_schedule(
        job=other, start=at(MONDAY, 10, 30), technicians=[tech], actor=dispatcher
    )
    assert result.warnings == []


def test_a_technician_without_the_skill_is_a_warning(job, plumbing, dispatcher):
    plumber = make_technician(skills=[plumbing])
    result = services.visit_schedule(job=job, start=at(MONDAY, 9), technicians=[plumber], actor=dispatcher)
    assert codes(result.warnings) == ["missing_skill"] and "HVAC repair" in result.warnings[0].message


def test_outside_working_hours_is_a_warning(job, tech, dispatcher):
    result = services.visit_schedule(job=job, start=at(MONDAY, 16), technicians=[tech], actor=dispatcher)
    assert codes(result.warnings) == ["outside_hours"]
    assert "08:00-17:00" in result.warnings[0].message


def test_a_day_off_is_a_warning(job, tech, dispatcher):
    result = services.visit_schedule(job=job, start=at(SATURDAY, 9), technicians=[tech], actor=dispatcher)
    assert codes(result.warnings) == ["outside_hours"] and "Saturdays" in result.warnings[0].message


def test_starting_after_the_promised_arrival_window_is_a_warning(job, tech, dispatcher):
    result = services.visit_schedule(
        job=job,
        start=at(MONDAY, 13),
        technicians=[tech],
        actor=dispatcher,
        arrival_window_start=at(MONDAY, 8),
        arrival_window_end=at(MONDAY, 12),
    )
    assert codes(result.warnings) == ["arrival_missed"]


def test_the_requested_window_becomes_the_arrival_window(office, ac_repair, tech, dispatcher):
    job = make_job(
        actor=office,
        job_type=ac_repair,
        requested_window_start=at(MONDAY, 8),
        requested_window_end=at(MONDAY, 10),
    )
    result = services.visit_schedule(job=job, start=at(MONDAY, 11), technicians=[tech], actor=dispatcher)
    assert result.visit.arrival_window_end == at(MONDAY, 10)
    assert codes(result.warnings) == ["arrival_missed"]


def test_the_dry_run_reports_everything_and_saves_nothing(job, visit, plumbing, tech, dispatcher):
    plumber = make_technician(skills=[plumbing])
    found = services.visit_conflicts(
        job=job,
        start=at(MONDAY, 10),
        end=at(MONDAY, 18),
        technicians=[tech, plumber.pk],
        arrival_window_end=at(MONDAY, 9),
    )
    assert sorted(codes(found)) == [
        "arrival_missed",
        "missing_skill",
        "outside_hours",
        "outside_hours",
        "overlap",
    ]
    assert Visit.objects.count() == 1


def test_only_technicians_go_on_visits(job, office, dispatcher):
    with pytest.raises(ApplicationError) as error:
        services.visit_schedule(job=job, start=at(MONDAY, 9), technicians=[office], actor=dispatcher)
    assert error.value.field == "technicians"


def test_a_technician_cannot_schedule(job, tech):
    with pytest.raises(Forbidden):
        services.visit_schedule(job=job, start=at(MONDAY, 9), technicians=[tech], actor=tech)


def test_a_closed_job_gets_no_visits(job, tech, dispatcher):
    services.job_cancel(job=job, actor=dispatcher, reason="Duplicate")
    with pytest.raises(ApplicationError) as error:
        services.visit_schedule(job=job, start=at(MONDAY, 9), technicians=[tech], actor=dispatcher)
    assert error.value.code == "job_closed"


def test_moving_a_visit_does_not_conflict_with_itself(visit, tech, dispatcher):
    result = services.visit_move(visit=visit, start=at(MONDAY, 9, 30), end=at(MONDAY, 11), actor=dispatcher)
    assert result.warnings == [] and result.visit.start == at(MONDAY, 9, 30)
    moved_from = Event.objects.get(code="fsm.visit.moved").data["from"]["start"]
    assert datetime.fromisoformat(moved_from) == at(MONDAY, 9)


def test_moving_onto_another_visit_is_refused_unless_confirmed(office, ac_repair, visit, tech, dispatcher):
    other = schedule(make_job(actor=office, job_type=ac_repair), start=at(MONDAY, 13), technicians=[tech])
    with pytest.raises(SchedulingConflict):
        services.visit_move(visit=other, start=at(MONDAY, 10), end=at(MONDAY, 11), actor=dispatcher)
    result = services.visit_move(
        visit=other, start=at(MONDAY, 10), end=at(MONDAY, 11), actor=dispatcher, confirm=True
    )
    assert codes(result.warnings) == ["overlap"]


def test_reassigning_checks_the_new_technician(visit, other_tech, plumbing, dispatcher):
    plumber = make_technician(skills=[plumbing])
    result = services.visit_move(
        visit=visit, start=visit.start, end=visit.end, technicians=[plumber], actor=dispatcher
    )
    assert codes(result.warnings) == ["missing_skill"]
    assert list(result.visit.technicians.all()) == [plumber]


def test_canceling_the_last_visit_puts_the_job_back_in_the_queue(job, visit, dispatcher):
    services.job_dispatch(job=job, actor=dispatcher)
    services.visit_cancel(visit=visit, actor=dispatcher, reason="Customer asked")
    assert Job.objects.get(pk=job.pk).state == "unscheduled"
    assert Visit.objects.get(pk=visit.pk).state == "canceled"


def test_a_started_visit_cannot_be_canceled(job, visit, tech, dispatcher):
    services.job_arrive(job=job, actor=tech)
    with pytest.raises(ApplicationError) as error:
        services.visit_cancel(visit=visit, actor=dispatcher)
    assert error.value.code == "visit_started"


def test_a_canceled_visit_no_longer_blocks_the_technician(office, ac_repair, visit, tech, dispatcher):
    services.visit_cancel(visit=visit, actor=dispatcher)
    other = make_job(actor=office, job_type=ac_repair)
    assert (
        services.visit_schedule(job=other, start=at(MONDAY, 9), technicians=[tech], actor=dispatcher).warnings
        == []
    )
