"""Field service reactions to milestones (imported at start-up by events.registry.autodiscover)."""

from django.db import transaction
from django.utils.dateparse import parse_datetime

from common.errors import ApplicationError
from events.models import Event
from events.registry import subscriber

from . import services
from .models import Job
from .services._base import lock_job, record

SLOT_TAKEN = "fsm.job.booking_slot_taken"


@subscriber("lead.booked", name="fsm.job_from_lead")
def job_from_lead(event) -> None:
    """A booked lead becomes exactly one job (origin_lead_id is unique: a second delivery does nothing).

    The job waits in the unscheduled queue with the requested window the customer was promised; the
    dispatcher drops it on a technician, and that window becomes the visit's arrival window. When the
    office chose a time while booking (`slot` in the data), the visit is scheduled with that technician;
    if the time is no longer free, the job stays in the queue with a note saying so (never a failed
    delivery). No visit is created otherwise: a visit with nobody on it would look scheduled while
    nobody is going.
    """
    data = event.data
    job = services.job_from_booking(
        lead_id=data["lead_id"],
        customer_id=data["customer_id"],
        property_id=data.get("property_id"),
        service=data.get("service") or "",
        description=data.get("description") or "",
        notes=data.get("notes") or "",
        window_start=_when(data.get("window_start")),
        window_end=_when(data.get("window_end")),
    )
    if data.get("slot"):
        _schedule_booked_slot(job, data["slot"])


def _schedule_booked_slot(job: Job, slot: dict) -> None:
    """The visit at the chosen time, once: a job already scheduled (or already told the time was taken)
    is left alone, so a repeated delivery changes nothing."""
    with transaction.atomic():
        job = lock_job(job)
        told = Event.objects.filter(code=SLOT_TAKEN, data__job_id=job.pk).exists()
        if job.state != Job.State.UNSCHEDULED or job.visits.exists() or told:
            return
        start, end = _when(slot.get("start")), _when(slot.get("end"))
        window = (job.requested_window_start, job.requested_window_end)
        if not all(window):
            window = (start, end)
        try:
            services.visit_schedule(
                job=job,
                start=start,
                end=end,
                technicians=[slot.get("technician_id")],
                arrival_window_start=window[0],
                arrival_window_end=window[1],
                actor=None,
                confirm=False,
            )
        except ApplicationError as error:  # SchedulingConflict, or the technician is gone
            _note_slot_taken(job, slot, error)


def _note_slot_taken(job: Job, slot: dict, error: ApplicationError) -> None:
    summary = f"The time chosen when booking was taken: {error.message} The job waits in the queue."
    record(
        job,
        SLOT_TAKEN,
        actor=None,
        actor_label="lead.booked",
        summary=summary[:300],
        data={"slot": slot, "reason": error.code, "detail": error.message},
    )


def _when(value):
    return parse_datetime(value) if value else None
