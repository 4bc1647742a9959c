"""Field service reactions to milestones (imported at start-up by events.registry.autodiscover)."""

from django.utils.dateparse import parse_datetime

from events.registry import subscriber

from . import services


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
        services.visit_schedule_booked_slot(job=job, slot=data["slot"])


def _when(value):
    return parse_datetime(value) if value else None
