"""Scheduling: put a visit on the board, move / resize / reassign it, cancel it; and the one conflict
check all of them (and the board's dry run) use."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from common.errors import ApplicationError
from customers.geocoding import property_fill_coordinates
from events.models import Event
from users.models import Business, User

from ..errors import SchedulingConflict
from ..models import (
    DEFAULT_WORKING_HOURS,
    DISPATCH_ROLES,
    WEEKDAYS,
    Job,
    TechnicianProfile,
    Visit,
    parse_working_hours,
)
from ._base import aware, lock_job, profile_of, publish, record, require_role, technicians_load

OVERLAP = "overlap"
MISSING_SKILL = "missing_skill"
OUTSIDE_HOURS = "outside_hours"
ARRIVAL_MISSED = "arrival_missed"
DAY_NAMES = dict(
    zip(
        WEEKDAYS,
        ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays"),
        strict=True,
    )
)


@dataclass(frozen=True)
class ScheduleConflict:
    """One problem with a proposed visit. Only an overlap blocks saving (unless confirmed)."""

    code: str  # overlap | missing_skill | outside_hours | arrival_missed
    message: str
    technician_id: int | None = None
    visit_id: int | None = None  # the other visit, for an overlap

    @property
    def blocking(self) -> bool:
        return self.code == OVERLAP

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "message": self.message,
            "technician_id": self.technician_id,
            "visit_id": self.visit_id,
            "blocking": self.blocking,
        }


@dataclass
class VisitResult:
    """What scheduling or moving returns: the visit, and the conflicts it was saved with (warnings)."""

    visit: Visit
    warnings: list[ScheduleConflict] = field(default_factory=list)


# --- The conflict check -------------------------------------------------------------------------------


def visit_conflicts(
    *,
    job: Job,
    start: datetime,
    end: datetime,
    technicians,
    arrival_window_end: datetime | None = None,
    exclude_visit: Visit | None = None,
) -> list[ScheduleConflict]:
    """Every conflict of a proposed visit, saving nothing (the board's dry run before a drop).

    overlap: another (not canceled) visit of the same technician at the same time; missing_skill: the
    job type needs a skill the technician lacks; outside_hours: outside the technician's working day
    (business time zone); arrival_missed: the visit starts after the arrival window promised ends.
    `technicians` are users or ids; a non-technician raises ApplicationError(field="technicians").
    """
    _validate_span(start, end)
    techs = technicians_load(technicians)
    return [
        *_overlaps(techs, start, end, exclude_visit),
        *_missing_skills(job, techs),
        *_outside_hours(techs, start, end),
        *_arrival_missed(start, arrival_window_end),
    ]


def _local(value: datetime) -> datetime:
    return timezone.localtime(value, Business.current().tzinfo)


def _span_text(start: datetime, end: datetime) -> str:
    return f"{_local(start):%a %H:%M}-{_local(end):%H:%M}"


def _overlaps(techs: list[User], start, end, exclude_visit) -> list[ScheduleConflict]:
    if not techs:
        return []
    rows = (
        Visit.technicians.through.objects.filter(
            user_id__in=[t.pk for t in techs], visit__start__lt=end, visit__end__gt=start
        )
        .exclude(visit__state=Visit.State.CANCELED)
        .select_related("visit__job")
        .order_by("visit__start", "pk")
    )
    if exclude_visit is not None:
        rows = rows.exclude(visit_id=exclude_visit.pk)
    names = {t.pk: t.get_short_name() or t.username for t in techs}
    return [_overlap(names[row.user_id], row) for row in rows]


def _overlap(name: str, row) -> ScheduleConflict:
    when = _span_text(row.visit.start, row.visit.end)
    message = f"{name} is already on {row.visit.job} {when}."
    return ScheduleConflict(OVERLAP, message, technician_id=row.user_id, visit_id=row.visit_id)


def _missing_skills(job: Job, techs: list[User]) -> list[ScheduleConflict]:
    skill = job.job_type.required_skill if job.job_type_id else None
    if skill is None or not techs:
        return []
    skilled = set(
        TechnicianProfile.objects.filter(user__in=techs, skills=skill).values_list("user_id", flat=True)
    )
    return [
        ScheduleConflict(
            MISSING_SKILL, f"{t.get_short_name() or t.username} lacks the skill {skill}.", technician_id=t.pk
        )
        for t in techs
        if t.pk not in skilled
    ]


def _outside_hours(techs: list[User], start, end) -> list[ScheduleConflict]:
    local_start, local_end = _local(start), _local(end)
    day = WEEKDAYS[local_start.weekday()]
    found = []
    for tech in techs:
        profile = profile_of(tech)
        hours = parse_working_hours(profile.working_hours if profile else DEFAULT_WORKING_HOURS).get(day)
        name = tech.get_short_name() or tech.username
        if hours is None:
            found.append(ScheduleConflict(OUTSIDE_HOURS, f"{name} does not work {DAY_NAMES[day]}.", tech.pk))
        elif (
            local_end.date() != local_start.date()
            or local_start.time() < hours[0]
            or local_end.time() > hours[1]
        ):
            message = f"{name} works {hours[0]:%H:%M}-{hours[1]:%H:%M} on {DAY_NAMES[day]}."
            found.append(ScheduleConflict(OUTSIDE_HOURS, message, tech.pk))
    return found


def _arrival_missed(start, arrival_window_end) -> list[ScheduleConflict]:
    if arrival_window_end is None or start <= arrival_window_end:
        return []
    return [
        ScheduleConflict(
            ARRIVAL_MISSED,
            f"Starts after the arrival window promised ({_local(arrival_window_end):%a %H:%M}).",
        )
    ]


# --- Writes -----------------------------------------------------------------------------------------


def _validate_span(start, end) -> None:
    if start is None:
        raise ApplicationError("Give a start time.", field="start", code="required")
    aware(start, "start")
    aware(end, "end")
    if end is None or end <= start:
        raise ApplicationError("The visit must end after it starts.", field="end", code="ends_before_start")


def _validate_window(window_start, window_end) -> None:
    aware(window_start, "arrival_window_start")
    aware(window_end, "arrival_window_end")
    if (window_start is None) != (window_end is None):
        raise ApplicationError("Give both ends of the arrival window.", field="arrival_window_end")
    if window_start is not None and window_end <= window_start:
        raise ApplicationError(
            "The arrival window must end after it starts.",
            field="arrival_window_end",
            code="ends_before_start",
        )


def _refuse_overlaps(conflicts: list[ScheduleConflict], confirm: bool) -> None:
    if not confirm and any(c.blocking for c in conflicts):
        raise SchedulingConflict(conflicts)


def _lock_technicians(technicians) -> list[User]:
    techs = technicians_load(technicians)
    list(User.objects.select_for_update().filter(pk__in=[t.pk for t in techs]).values_list("pk"))
    return techs


def _require_open(job: Job) -> None:
    if not job.is_open:
        raise ApplicationError(
            f"A {job.get_state_display().lower()} job cannot get visits.", field="job", code="job_closed"
        )


def visit_times(*, job: Job, visit: Visit) -> dict:
    """The visit as every milestone about it carries it (events.milestones.VisitTimes): when, the
    promised arrival window, and the time zone the customer reads them in."""
    window = (visit.arrival_window_start, visit.arrival_window_end)
    return {
        "visit_id": visit.pk,
        "start": visit.start.isoformat(),
        "end": visit.end.isoformat(),
        "arrival_window_start": window[0].isoformat() if window[0] else None,
        "arrival_window_end": window[1].isoformat() if window[1] else None,
        "time_zone": (job.property.time_zone if job.property_id else "") or Business.current().time_zone,
    }


def _visit_data(job: Job, visit: Visit, techs: list[User], conflicts: list[ScheduleConflict]) -> dict:
    return {
        **visit_times(job=job, visit=visit),
        "technician_ids": [t.pk for t in techs],
        "warnings": [c.code for c in conflicts],
    }


def _duration(job: Job) -> timedelta:
    return timedelta(minutes=job.job_type.default_duration_minutes if job.job_type_id else 60)


def visit_schedule(
    *,
    job: Job,
    start: datetime,
    actor,
    end: datetime | None = None,
    technicians=(),
    arrival_window_start: datetime | None = None,
    arrival_window_end: datetime | None = None,
    confirm: bool = False,
) -> VisitResult:
    """Put a visit of `job` on the board (owner, office, dispatcher).

    `end` defaults to start + the job type's duration; the arrival window defaults to the job's requested
    window. Overlaps raise SchedulingConflict unless `confirm`; other conflicts come back as warnings.
    The first visit moves the job unscheduled -> scheduled and publishes job.scheduled.
    """
    require_role(actor, DISPATCH_ROLES, "Only the office and dispatchers schedule visits.")
    end = end or (start + _duration(job) if start else None)
    if arrival_window_start is None and arrival_window_end is None:
        arrival_window_start, arrival_window_end = job.requested_window_start, job.requested_window_end
    _validate_span(start, end)
    _validate_window(arrival_window_start, arrival_window_end)
    with transaction.atomic():
        job = lock_job(job)
        _require_open(job)
        techs = _lock_technicians(technicians)
        conflicts = visit_conflicts(
            job=job, start=start, end=end, technicians=techs, arrival_window_end=arrival_window_end
        )
        _refuse_overlaps(conflicts, confirm)
        visit = Visit.objects.create(
            job=job,
            start=start,
            end=end,
            arrival_window_start=arrival_window_start,
            arrival_window_end=arrival_window_end,
        )
        visit.technicians.set(techs)
        if job.property_id:
            property_fill_coordinates(prop=job.property)
        _after_schedule(job, visit, techs, conflicts, actor)
    return VisitResult(visit=visit, warnings=conflicts)


def _after_schedule(job: Job, visit: Visit, techs, conflicts, actor) -> None:
    data = _visit_data(job, visit, techs, conflicts)
    who = ", ".join(t.get_short_name() or t.username for t in techs) or "no technician yet"
    summary = f"Visit {_span_text(visit.start, visit.end)} ({who})"
    if job.state == Job.State.UNSCHEDULED:
        before = job.state
        job.schedule()
        job.save()
        publish(
            job, "job.scheduled", actor=actor, summary=f"Scheduled: {summary}", data={"from": before, **data}
        )
    else:
        record(job, "fsm.visit.scheduled", actor=actor, summary=f"Visit added: {summary}", data=data)


def visit_move(
    *,
    visit: Visit,
    start: datetime,
    end: datetime,
    actor,
    technicians=None,
    confirm: bool = False,
) -> VisitResult:
    """Move, resize or reassign an open visit (the board's drag). `technicians=None` keeps the crew.

    Same conflict rules as visit_schedule (the visit itself never conflicts with itself). The promised
    arrival window is kept: moving past it is an `arrival_missed` warning.
    """
    require_role(actor, DISPATCH_ROLES, "Only the office and dispatchers move visits.")
    _validate_span(start, end)
    with transaction.atomic():
        job = lock_job(visit.job)
        visit = Visit.objects.select_for_update().get(pk=visit.pk)
        if not visit.is_open:
            raise ApplicationError(
                f"A {visit.get_state_display().lower()} visit cannot be moved.",
                field="visit",
                code="visit_closed",
            )
        crew = technicians if technicians is not None else visit.technicians.all()
        techs = _lock_technicians(crew)
        conflicts = visit_conflicts(
            job=job,
            start=start,
            end=end,
            technicians=techs,
            arrival_window_end=visit.arrival_window_end,
            exclude_visit=visit,
        )
        _refuse_overlaps(conflicts, confirm)
        before = {"start": visit.start.isoformat(), "end": visit.end.isoformat()}
        before["technician_ids"] = sorted(visit.technicians.values_list("pk", flat=True))
        new_day = _local_day(start) - _local_day(visit.start)
        visit.start, visit.end = start, end
        if new_day:  # another day: the promise moves with it, and the day-before reminder is due again
            _shift_window(visit, new_day)
            visit.reminder_sent_at = None
        visit.save(
            update_fields=[
                "start",
                "end",
                "arrival_window_start",
                "arrival_window_end",
                "reminder_sent_at",
                "updated_at",
            ]
        )
        visit.technicians.set(techs)
        data = {"from": before, **_visit_data(job, visit, techs, conflicts)}
        summary = f"Visit moved to {_span_text(start, end)}"
        if new_day and job.state in (Job.State.SCHEDULED, Job.State.DISPATCHED):
            publish(job, "visit.rescheduled", actor=actor, summary=summary, data=data, code="fsm.visit.moved")
        else:
            record(job, "fsm.visit.moved", actor=actor, summary=summary, data=data)
    return VisitResult(visit=visit, warnings=conflicts)


def _local_day(moment: datetime):
    return timezone.localtime(moment, Business.current().tzinfo).date()


def _shift_window(visit: Visit, days: timedelta) -> None:
    """The same promised hours on the new day (on the business's clock, so a DST change keeps them)."""
    tz = Business.current().tzinfo
    for name in ("arrival_window_start", "arrival_window_end"):
        moment = getattr(visit, name)
        if moment is not None:
            local = timezone.localtime(moment, tz)
            setattr(visit, name, datetime.combine(local.date() + days, local.time(), tzinfo=tz))


def visit_cancel(*, visit: Visit, actor, reason: str = "") -> Visit:
    """Take a visit that has not started off the board. The job's last open visit gone: back to the queue."""
    require_role(actor, DISPATCH_ROLES, "Only the office and dispatchers cancel visits.")
    with transaction.atomic():
        job = lock_job(visit.job)
        visit = Visit.objects.select_for_update().get(pk=visit.pk)
        if visit.state == Visit.State.CANCELED:
            return visit
        if visit.state != Visit.State.SCHEDULED:
            raise ApplicationError(
                "Only a visit that has not started can be canceled; put the job on hold instead.",
                field="visit",
                code="visit_started",
            )
        visit.cancel()
        visit.canceled_at = timezone.now()
        visit.save(update_fields=["state", "canceled_at", "updated_at"])
        if (
            job.state in (Job.State.SCHEDULED, Job.State.DISPATCHED)
            and not job.visits.filter(state__in=Visit.OPEN_STATES).exists()
        ):
            job.unschedule()
            job.save()
        data = {"visit_id": visit.pk, "reason": reason[:300], "job_state": job.state}
        record(job, "fsm.visit.canceled", actor=actor, summary=f"Visit canceled {reason}".strip(), data=data)
    return visit


SLOT_TAKEN = "fsm.job.booking_slot_taken"


def visit_schedule_booked_slot(*, job: Job, slot: dict) -> Job:
    """The visit at the time chosen while booking the lead (lead.booked's `slot`: technician_id, start,
    end as ISO text), once: a job already scheduled, or already told the time was taken, is left alone,
    so a repeated delivery changes nothing. A time no longer free leaves the job in the queue with a
    note on its timeline saying so (never an error: the booking itself stands)."""
    with transaction.atomic():
        job = lock_job(job)
        told = Event.objects.filter(code=SLOT_TAKEN, data__job_id=job.pk).exists()
        if job.state != Job.State.UNSCHEDULED or job.visits.exists() or told:
            return job
        start, end = parse_datetime(slot["start"]), parse_datetime(slot["end"])
        window = (job.requested_window_start, job.requested_window_end)
        if not all(window):
            window = (start, end)
        try:
            visit_schedule(
                job=job,
                start=start,
                end=end,
                technicians=[slot["technician_id"]],
                arrival_window_start=window[0],
                arrival_window_end=window[1],
                actor=None,
                confirm=False,
            )
        except ApplicationError as error:  # SchedulingConflict, or the technician is gone
            summary = f"The time chosen when booking was taken: {error.message} The job waits in the queue."
            record(
                job,
                SLOT_TAKEN,
                actor=None,
                actor_label="lead.booked",
                summary=summary[:300],
                data={"slot": slot, "reason": error.code, "detail": error.message},
            )
    return job
