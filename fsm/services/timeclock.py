"""Clock in and out (shifts), and the time on a job that arriving, pausing and completing keep."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from common.errors import ApplicationError
from events import services as events
from users.models import User
from users.roles import Role

from ..models import SETUP_ROLES, Job, TimeEntry, Visit
from ._base import Forbidden, aware, is_person

TIMEKEEPERS = (*SETUP_ROLES, Role.DISPATCHER)


def _require_self_or_office(technician: User, actor) -> None:
    if not is_person(actor) or actor.pk == technician.pk or actor.has_role(*TIMEKEEPERS):
        return
    raise Forbidden("You can only clock yourself in and out.")


def clock_in(*, technician: User, actor=None, at: datetime | None = None) -> TimeEntry:
    """Start the technician's shift. Already clocked in: the open shift, unchanged."""
    _require_self_or_office(technician, actor)
    if not technician.has_role(Role.TECHNICIAN):
        raise ApplicationError("Only technicians clock in.", field="technician", code="not_a_technician")
    at = aware(at, "at") or timezone.now()
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=technician.pk).first()
        entry = TimeEntry.objects.filter(
            technician=technician, kind=TimeEntry.Kind.SHIFT, ended_at=None
        ).first()
        if entry:
            return entry
        entry = TimeEntry.objects.create(technician=technician, kind=TimeEntry.Kind.SHIFT, started_at=at)
        _record(entry, "fsm.shift.clocked_in", actor, f"{technician} clocked in")
    return entry


def clock_out(*, technician: User, actor=None, at: datetime | None = None) -> TimeEntry:
    """End the technician's shift (and any job timer still running). Raises when not clocked in."""
    _require_self_or_office(technician, actor)
    at = aware(at, "at") or timezone.now()
    with transaction.atomic():
        entry = (
            TimeEntry.objects.select_for_update()
            .filter(technician=technician, kind=TimeEntry.Kind.SHIFT, ended_at=None)
            .first()
        )
        if entry is None:
            raise ApplicationError("Not clocked in.", field="technician", code="not_clocked_in")
        _close(entry, at)
        for running in TimeEntry.objects.filter(
            technician=technician, kind=TimeEntry.Kind.JOB, ended_at=None
        ):
            _close(running, at)
        _record(entry, "fsm.shift.clocked_out", actor, f"{technician} clocked out ({entry.minutes} min)")
    return entry


def _close(entry: TimeEntry, at: datetime) -> None:
    entry.ended_at = max(at, entry.started_at)
    entry.save(update_fields=["ended_at"])


def _record(entry: TimeEntry, code: str, actor, summary: str) -> None:
    events.record(
        code,
        subject=entry,
        actor=actor,
        links=[entry.technician],
        summary=summary,
        data={"technician_id": entry.technician_id, "at": (entry.ended_at or entry.started_at).isoformat()},
    )


def job_timer_start(*, job: Job, visit: Visit, technicians: list[User], at: datetime) -> None:
    """Time on the job starts for each technician of the visit (a timer left running elsewhere stops)."""
    for technician in technicians:
        for running in TimeEntry.objects.filter(
            technician=technician, kind=TimeEntry.Kind.JOB, ended_at=None
        ):
            _close(running, at)
        TimeEntry.objects.create(
            technician=technician, kind=TimeEntry.Kind.JOB, job=job, visit=visit, started_at=at
        )


def job_timer_stop(*, job: Job, at: datetime) -> None:
    for running in TimeEntry.objects.filter(job=job, kind=TimeEntry.Kind.JOB, ended_at=None):
        _close(running, at)
