"""Jobs: create and edit them, take them over from a booked lead, and move them through their states.

Every transition locks the job, checks who acts (Forbidden) and whether the state allows it
(ApplicationError code "illegal_transition"), updates the visit and the time entries, and records an
activity row on the customer's, the job's and the property's timelines; milestones (job.scheduled,
job.dispatched, job.en_route, job.completed, job.canceled) are published for subscribers. A call that
finds the job already where it would go returns it unchanged.
"""

from datetime import datetime, time, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from common.errors import ApplicationError
from customers.geocoding import property_fill_coordinates
from customers.models import Customer, Property
from users.models import Business, User
from users.roles import Role

from ..geo import Travel, point_of
from ..models import DISPATCH_ROLES, Job, JobType, Priority, Visit
from ..selectors import and_list, job_completion_missing
from ._base import (
    Forbidden,
    aware,
    check_transition,
    is_person,
    lock_job,
    profile_of,
    publish,
    record,
    require_role,
    visits_move,
)
from .timeclock import job_timer_start, job_timer_stop

EDITABLE = (
    "property",
    "job_type",
    "service",
    "description",
    "office_notes",
    "priority",
    "requested_window_start",
    "requested_window_end",
)
EDITABLE_WHEN_CLOSED = ("description", "office_notes")


# --- Create and edit --------------------------------------------------------------------------------


def job_create(
    *,
    customer: Customer,
    actor,
    property: Property | None = None,
    job_type: JobType | None = None,
    description: str = "",
    priority: str = Priority.NORMAL,
    service: str = "",
    office_notes: str = "",
    requested_window_start: datetime | None = None,
    requested_window_end: datetime | None = None,
    origin_lead_id: int | None = None,
    actor_label: str = "",
) -> Job:
    """A new job in the unscheduled queue (owner, office, dispatcher, or the system).

    With `origin_lead_id`, a second call for the same lead returns the first job.
    """
    require_role(actor, DISPATCH_ROLES, "Only the office and dispatchers create jobs.")
    if origin_lead_id is not None:
        existing = Job.objects.filter(origin_lead_id=origin_lead_id).first()
        if existing:
            return existing
    values = {
        "customer": customer,
        "property": property,
        "job_type": job_type,
        "service": (service or (job_type.name if job_type else "")).strip()[:200],
        "description": (description or "").strip(),
        "office_notes": (office_notes or "").strip(),
        "priority": priority,
        "requested_window_start": requested_window_start,
        "requested_window_end": requested_window_end,
    }
    _validate(values)
    with transaction.atomic():
        job = Job(**values, origin_lead_id=origin_lead_id, created_by=actor if is_person(actor) else None)
        job.save()
        job.number = f"J-{1000 + job.pk}"
        job.save(update_fields=["number"])
        if job.property_id:
            property_fill_coordinates(prop=job.property)
        summary = f"Job {job.number} created" + (f": {job.service}" if job.service else "")
        data = {"priority": job.priority, "service": job.service, "origin_lead_id": origin_lead_id}
        record(job, "fsm.job.created", actor=actor, actor_label=actor_label, summary=summary, data=data)
    return job


def _validate(values: dict) -> None:
    customer, prop = values["customer"], values["property"]
    if customer.is_merged:
        raise ApplicationError("This customer was merged into another one.", field="customer", code="merged")
    if prop is not None and prop.customer_id != customer.pk:
        raise ApplicationError("The property belongs to another customer.", field="property")
    if values["priority"] not in Priority.values:
        raise ApplicationError("Pick emergency, high or normal.", field="priority")
    if not (values["service"] or values["description"] or values["job_type"]):
        raise ApplicationError("Say what the job is.", field="description", code="required")
    start = aware(values["requested_window_start"], "requested_window_start")
    end = aware(values["requested_window_end"], "requested_window_end")
    if start and end and end <= start:
        raise ApplicationError(
            "The requested window must end after it starts.",
            field="requested_window_end",
            code="ends_before_start",
        )


def job_update(*, job: Job, actor, **changes) -> Job:
    """Change the job's details (fields in EDITABLE). A closed job only takes description and notes."""
    require_role(actor, DISPATCH_ROLES, "Only the office and dispatchers edit jobs.")
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ApplicationError(f"Unknown field(s): {', '.join(sorted(unknown))}", field=sorted(unknown)[0])
    with transaction.atomic():
        job = lock_job(job)
        if not job.is_open and set(changes) - set(EDITABLE_WHEN_CLOSED):
            raise ApplicationError(
                "A closed job only takes notes.", field=sorted(changes)[0], code="job_closed"
            )
        values = {name: getattr(job, name) for name in EDITABLE} | {"customer": job.customer}
        values.update({k: v.strip() if isinstance(v, str) else v for k, v in changes.items()})
        _validate(values)
        changed = {name: values[name] for name in changes if values[name] != getattr(job, name)}
        if not changed:
            return job
        for name, value in changed.items():
            setattr(job, name, value)
        job.save()
        if "property" in changed and job.property_id:
            property_fill_coordinates(prop=job.property)
        data = {"changed": sorted(changed)}
        record(job, "fsm.job.updated", actor=actor, summary=f"Job {job.number} updated", data=data)
    return job


def job_type_for_service(service: str) -> JobType | None:
    """The active job type named like a booked service (case-insensitive), or None."""
    name = (service or "").strip()
    return JobType.objects.filter(name__iexact=name, is_active=True).first() if name else None


def booking_property(*, customer: Customer, property_id: int | None) -> Property | None:
    """Where a booked job goes: the booked property when it is the customer's, else their primary one."""
    prop = customer.properties.filter(pk=property_id).first() if property_id else None
    return prop or customer.properties.order_by("-is_primary", "pk").first()


def job_from_booking(
    *,
    lead_id: int,
    customer_id: int,
    property_id: int | None = None,
    service: str = "",
    description: str = "",
    notes: str = "",
    window_start: datetime | None = None,
    window_end: datetime | None = None,
    actor_label: str = "lead.booked",
) -> Job:
    """The job for a booked lead, created once (a second call returns it). See fsm.subscribers."""
    existing = Job.objects.filter(origin_lead_id=lead_id).first()
    if existing:
        return existing
    customer = Customer.objects.get(pk=customer_id)
    while customer.merged_into_id:
        customer = customer.merged_into
    if window_start and window_end and window_end <= window_start:
        window_start = window_end = None
    try:
        with transaction.atomic():
            return job_create(
                customer=customer,
                property=booking_property(customer=customer, property_id=property_id),
                job_type=job_type_for_service(service),
                service=service or "Booked service",
                description=description,
                office_notes=notes,
                requested_window_start=window_start,
                requested_window_end=window_end,
                origin_lead_id=lead_id,
                actor=None,
                actor_label=actor_label,
            )
    except IntegrityError:  # delivered twice at the same moment: the other delivery made it
        return Job.objects.get(origin_lead_id=lead_id)


# --- Which visit a crew action is about -------------------------------------------------------------


def _visit_for(job: Job, actor, visit: Visit | None, states: tuple[str, ...]) -> Visit:
    """The visit the actor works on: the one given, else the earliest in the first of `states` that has
    one (a technician: a visit they are on)."""
    qs = job.visits.order_by("start", "pk")
    if is_person(actor) and actor.has_role(Role.TECHNICIAN):
        qs = qs.filter(technicians=actor)
    if visit is not None:
        qs = qs.filter(pk=visit.pk)
    for state in states:
        found = qs.filter(state=state).first()
        if found is not None:
            return found
    raise ApplicationError("There is no visit of this job to do that on.", field="visit", code="no_visit")


def _crew(visit: Visit) -> list[User]:
    crew = list(visit.technicians.select_related("technician").order_by("pk"))
    if not crew:
        raise ApplicationError(
            "Put a technician on the visit first.", field="technicians", code="no_technician"
        )
    return crew


def _already(job: Job, state: str, actor) -> bool:
    """True when the job is already in `state` (a double tap); the actor must still be on the job."""
    if job.state != state:
        return False
    if (
        is_person(actor)
        and not actor.has_role(*DISPATCH_ROLES)
        and not job.visits.filter(technicians=actor).exists()
    ):
        raise Forbidden("Only the technicians on this job (or the office) can do this.")
    return True


def _moved(job: Job, before: str, **data) -> dict:
    return {"from": before, "to": job.state, **data}


# --- Transitions ------------------------------------------------------------------------------------


def job_dispatch(*, job: Job, actor) -> Job:
    """Send the scheduled job to its technicians' phones (owner, office, dispatcher)."""
    with transaction.atomic():
        job = lock_job(job)
        if _already(job, Job.State.DISPATCHED, actor):
            return job
        check_transition(job, "dispatch", actor)
        visit = _visit_for(job, None, None, (Visit.State.SCHEDULED,))
        crew = _crew(visit)
        before = job.state
        job.dispatch()
        job.save()
        data = _moved(
            job, before, visit_id=visit.pk, start=visit.start.isoformat(), technician_ids=[t.pk for t in crew]
        )
        names = ", ".join(t.get_short_name() or t.username for t in crew)
        publish(job, "job.dispatched", actor=actor, summary=f"Dispatched to {names}", data=data)
    return job


def job_on_my_way(*, job: Job, actor, visit: Visit | None = None, at: datetime | None = None) -> Job:
    """The technician heads out. Publishes job.en_route with what a text to the customer needs:
    customer_id, phone (E.164 or None), technician_first_name, eta (ISO) and eta_minutes (None when
    no location is known), time_zone, job_number."""
    at = aware(at, "at") or timezone.now()
    with transaction.atomic():
        job = lock_job(job)
        if _already(job, Job.State.EN_ROUTE, actor):
            return job
        check_transition(job, "on_my_way", actor)
        visit = _visit_for(job, actor, visit, (Visit.State.SCHEDULED,))
        crew = _crew(visit)
        driver = next((t for t in crew if is_person(actor) and t.pk == actor.pk), crew[0])
        visit.depart()
        visit.en_route_at = at
        visit.save(update_fields=["state", "en_route_at", "updated_at"])
        before = job.state
        job.on_my_way()
        job.save()
        data = _moved(job, before, visit_id=visit.pk, **_arrival_text_data(job, visit, driver, at))
        summary = f"{driver.get_short_name() or driver.username} is on the way"
        publish(job, "job.en_route", actor=actor, summary=summary, data=data)
    return job


def _arrival_text_data(job: Job, visit: Visit, technician: User, at: datetime) -> dict:
    phone = job.customer.phones.filter(textable=True).order_by("-is_primary", "pk").first()
    minutes = technician_travel_minutes(technician=technician, visit=visit)
    eta = at + timedelta(minutes=minutes) if minutes is not None else None
    return {
        "phone": phone.number.as_e164 if phone else None,
        "technician_id": technician.pk,
        "technician_first_name": technician.first_name or technician.username,
        "eta": eta.isoformat() if eta else None,
        "eta_minutes": minutes,
        "time_zone": (job.property.time_zone if job.property_id else "") or Business.current().time_zone,
    }


def technician_travel_minutes(*, technician: User, visit: Visit) -> int | None:
    """Straight-line travel to the visit's property from the technician's previous visit that day (or
    home base). None when either end has no known location."""
    destination = point_of(visit.job.property)
    origin = _previous_location(technician, visit)
    if destination is None or origin is None:
        return None
    return Travel.from_settings().minutes(origin, destination)


def _previous_location(technician: User, visit: Visit):
    tz = Business.current().tzinfo
    day_start = datetime.combine(timezone.localtime(visit.start, tz).date(), time.min, tzinfo=tz)
    previous = (
        Visit.objects.filter(technicians=technician, start__gte=day_start, start__lt=visit.start)
        .exclude(pk=visit.pk)
        .exclude(state=Visit.State.CANCELED)
        .select_related("job__property")
        .order_by("-start", "-pk")
        .first()
    )
    if previous is not None and point_of(previous.job.property):
        return point_of(previous.job.property)
    profile = profile_of(technician)
    return profile.home_point if profile else None


def job_arrive(*, job: Job, actor, visit: Visit | None = None, at: datetime | None = None) -> Job:
    """The crew is on site: the visit's arrived_at is stamped and time on the job starts."""
    at = aware(at, "at") or timezone.now()
    with transaction.atomic():
        job = lock_job(job)
        if _already(job, Job.State.ON_SITE, actor):
            return job
        check_transition(job, "arrive", actor)
        visit = _visit_for(job, actor, visit, (Visit.State.EN_ROUTE, Visit.State.SCHEDULED))
        crew = _crew(visit)
        visit.arrive()
        visit.arrived_at = at
        visit.save(update_fields=["state", "arrived_at", "updated_at"])
        before = job.state
        job.arrive()
        job.save()
        job_timer_start(job=job, visit=visit, technicians=crew, at=at)
        data = _moved(job, before, visit_id=visit.pk, at=at.isoformat())
        record(job, "fsm.job.arrived", actor=actor, summary="Arrived on site", data=data)
    return job


def job_complete(
    *, job: Job, actor, completion_note: str, at: datetime | None = None, override_reason: str = ""
) -> Job:
    """The work is done. A completion note is required, and what the job type requires (checklist,
    signature, photo: `selectors.job_completion_missing`); the office may complete without it by giving
    `override_reason`, which goes on the job's timeline. Publishes job.completed (with origin_lead_id)."""
    note = (completion_note or "").strip()
    if not note:
        raise ApplicationError("Say what was done.", field="completion_note", code="required")
    override_reason = (override_reason or "").strip()[:300]
    at = aware(at, "at") or timezone.now()
    with transaction.atomic():
        job = lock_job(job)
        if _already(job, Job.State.COMPLETED, actor):
            return job
        check_transition(job, "complete", actor)
        missing = job_completion_missing(job)
        if missing and not override_reason:
            raise ApplicationError(
                f"Before completing, add {and_list(missing)}.",
                field="requirements",
                code="requirements_missing",
            )
        if missing:
            require_role(
                actor, DISPATCH_ROLES, "Only the office can complete a job without what it requires."
            )
        done = visits_move(
            job, states=(Visit.State.ON_SITE,), transition="complete", stamp="completed_at", at=at
        )
        visits_move(job, states=Visit.OPEN_STATES, transition="cancel", stamp="canceled_at", at=at)
        job_timer_stop(job=job, at=at)
        before = job.state
        job.complete()
        job.completion_note, job.completed_at = note, at
        job.save()
        if missing:
            record(
                job,
                "fsm.job.requirements_waived",
                actor=actor,
                summary=f"Completed without {and_list(missing)}: {override_reason}",
                data={"missing": missing, "reason": override_reason},
            )
        data = _moved(
            job,
            before,
            completion_note=note,
            visit_ids=[v.pk for v in done],
            at=at.isoformat(),
            job_type=job.job_type.name if job.job_type_id else "",
            **job.lead_technician(),
        )
        publish(job, "job.completed", actor=actor, summary=f"Completed: {note[:120]}", data=data)
    return job


def job_pause(*, job: Job, actor, reason: str = "", at: datetime | None = None) -> Job:
    """The crew stops work for a while (a parts run): time on the job stops, the visit stays open."""
    at = aware(at, "at") or timezone.now()
    with transaction.atomic():
        job = lock_job(job)
        if _already(job, Job.State.ON_HOLD, actor):
            return job
        check_transition(job, "pause", actor)
        job_timer_stop(job=job, at=at)
        before = job.state
        job.pause()
        job.held_from, job.hold_kind, job.hold_reason = before, Job.HoldKind.PAUSE, reason.strip()[:300]
        job.save()
        data = _moved(job, before, reason=job.hold_reason)
        record(job, "fsm.job.paused", actor=actor, summary=f"Paused {job.hold_reason}".strip(), data=data)
    return job


def job_hold(*, job: Job, actor, reason: str, at: datetime | None = None) -> Job:
    """The office stops the job (waiting for parts, approval...). A visit under way ends now: on site it
    is completed, on the way canceled; scheduled visits stay on the board. A paused job becomes held."""
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError("Say why the job is on hold.", field="reason", code="required")
    at = aware(at, "at") or timezone.now()
    with transaction.atomic():
        require_role(actor, DISPATCH_ROLES, "Only the office and dispatchers put jobs on hold.")
        job = lock_job(job)
        if job.state == Job.State.ON_HOLD and job.hold_kind == Job.HoldKind.HOLD:
            return job
        if job.state != Job.State.ON_HOLD:
            check_transition(job, "hold", actor)
            job.held_from = job.state
            job.hold()
        visits_move(job, states=(Visit.State.ON_SITE,), transition="complete", stamp="completed_at", at=at)
        visits_move(job, states=(Visit.State.EN_ROUTE,), transition="cancel", stamp="canceled_at", at=at)
        job_timer_stop(job=job, at=at)
        job.hold_kind, job.hold_reason = Job.HoldKind.HOLD, reason[:300]
        job.save()
        data = _moved(job, job.held_from, reason=job.hold_reason)
        record(job, "fsm.job.held", actor=actor, summary=f"On hold: {job.hold_reason}", data=data)
    return job


def job_resume(*, job: Job, actor, at: datetime | None = None) -> Job:
    """Back to work: on site or on the way (a paused visit still open), else dispatched / scheduled (an
    open visit remains), else unscheduled. Technicians resume only their own pause."""
    at = aware(at, "at") or timezone.now()
    with transaction.atomic():
        job = lock_job(job)
        if job.state in Job.WORKING_STATES and _already(job, job.state, actor):
            return job
        check_transition(job, "resume", actor)
        if is_person(actor) and not actor.has_role(*DISPATCH_ROLES) and job.hold_kind == Job.HoldKind.HOLD:
            raise Forbidden("The office put this job on hold; the office resumes it.")
        open_visits = list(job.visits.filter(state__in=Visit.OPEN_STATES).order_by("start", "pk"))
        before, reason = job.state, job.hold_reason
        job.resume(job.resume_target({v.state for v in open_visits}))
        job.held_from, job.hold_kind, job.hold_reason = "", "", ""
        job.save()
        on_site = next((v for v in open_visits if v.state == Visit.State.ON_SITE), None)
        if on_site is not None:
            job_timer_start(job=job, visit=on_site, technicians=list(on_site.technicians.all()), at=at)
        data = _moved(job, before, hold_reason=reason)
        record(job, "fsm.job.resumed", actor=actor, summary=f"Resumed ({job.get_state_display()})", data=data)
    return job


def job_cancel(*, job: Job, actor, reason: str, at: datetime | None = None) -> Job:
    """Cancel an open or held job (owner, office, dispatcher); its open visits are canceled."""
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError("Say why the job is canceled.", field="reason", code="required")
    at = aware(at, "at") or timezone.now()
    with transaction.atomic():
        job = lock_job(job)
        if _already(job, Job.State.CANCELED, actor):
            return job
        check_transition(job, "cancel", actor)
        visits_move(job, states=Visit.OPEN_STATES, transition="cancel", stamp="canceled_at", at=at)
        job_timer_stop(job=job, at=at)
        before = job.state
        job.cancel()
        job.cancel_reason, job.canceled_at = reason[:300], at
        job.save()
        publish(
            job,
            "job.canceled",
            actor=actor,
            summary=f"Canceled: {reason[:120]}",
            data=_moved(job, before, reason=reason),
        )
    return job
