"""What every fsm service shares: who may act, the activity row on the job's timelines, the job lock."""

from django.db import models
from django.db.models import QuerySet
from django.utils import timezone
from django_fsm import can_proceed

from common.errors import ApplicationError
from events import services as events
from users.models import User
from users.roles import Role

from ..errors import Forbidden
from ..models import DISPATCH_ROLES, Job, Visit

SYSTEM = None  # an actor of None is the system (a subscriber, the seeder): every rule but roles applies


def is_person(actor) -> bool:
    return actor is not None and actor.is_authenticated


def require_role(actor, roles: tuple[str, ...], message: str) -> None:
    """Refuse a person whose role is not in `roles`; the system (actor None) passes."""
    if is_person(actor) and not actor.has_role(*roles):
        raise Forbidden(message)


def require_crew_or_office(job: Job, actor) -> None:
    """The office roles, or a technician on one of the job's open visits."""
    if not is_person(actor) or actor.has_role(*DISPATCH_ROLES):
        return
    if not (actor.has_role(Role.TECHNICIAN) and job.is_crew(actor)):
        raise Forbidden("Only the technicians on this job (or the office) can do this.")


def links(job: Job) -> list[models.Model]:
    """Where a job's activity shows: the customer's, the job's and the property's timelines."""
    return [job.customer, job, job.property]


def record(job: Job, code: str, *, actor, summary: str, data: dict | None = None, actor_label: str = ""):
    return events.record(
        code,
        subject=job,
        actor=actor,
        actor_label=actor_label,
        links=links(job),
        summary=summary,
        data={"job_id": job.pk, "job_number": job.number, **(data or {})},
    )


def publish(
    job: Job,
    milestone: str,
    *,
    actor,
    summary: str,
    data: dict | None = None,
    actor_label: str = "",
    code: str = "",
):
    return events.publish(
        milestone,
        subject=job,
        code=code or f"fsm.{milestone}",
        actor=actor,
        actor_label=actor_label,
        links=links(job),
        summary=summary,
        data={
            "job_id": job.pk,
            "job_number": job.number,
            "customer_id": job.customer_id,
            "origin_lead_id": job.origin_lead_id,
            **(data or {}),
        },
    )


def lock_job(job: Job) -> Job:
    """The job, re-read under a row lock (call inside transaction.atomic)."""
    return (
        Job.objects.select_for_update(of=("self",))
        .select_related("customer", "property", "job_type")
        .get(pk=job.pk)
    )


def check_transition(job: Job, action: str, actor) -> None:
    """Refuse a transition the actor may not make (Forbidden) or the job's state does not allow."""
    method = getattr(job, action)
    transition = next(iter(method._django_fsm.transitions.values()))
    if is_person(actor) and not transition.has_perm(job, actor):
        raise Forbidden(f"Your role cannot {action.replace('_', ' ')} this job.")
    if not can_proceed(method):
        raise ApplicationError(
            f"A job that is {job.get_state_display().lower()} cannot {VERBS[action]}.",
            field="state",
            code="illegal_transition",
        )


VERBS = {
    "schedule": "be scheduled",
    "unschedule": "go back to the queue",
    "dispatch": "be dispatched",
    "on_my_way": "be started on the way",
    "arrive": "be marked arrived",
    "complete": "be completed",
    "pause": "be paused",
    "hold": "be put on hold",
    "resume": "be resumed",
    "cancel": "be canceled",
}


def aware(value, field: str):
    """Refuse a naive datetime (times are stored in UTC; a naive one has no meaning)."""
    if value is not None and timezone.is_naive(value):
        raise ApplicationError("Give a time with its time zone.", field=field, code="naive_datetime")
    return value


def technicians_load(technicians) -> list[User]:
    """Users (or ids) -> active technicians with their profiles; anything else is refused."""
    ids = sorted({getattr(t, "pk", t) for t in technicians or ()})
    if not ids:
        return []
    users: QuerySet[User] = User.objects.filter(pk__in=ids, is_active=True).prefetch_related("groups")
    found = {u.pk: u for u in users.select_related("technician")}
    for pk in ids:
        user = found.get(pk)
        if user is None or not user.has_role(Role.TECHNICIAN):
            raise ApplicationError(
                "Only active technicians can be put on a visit.", field="technicians", code="not_a_technician"
            )
    return [found[pk] for pk in ids]


def profile_of(user: User):
    """The technician's profile, or None when the technician has none yet."""
    try:
        return user.technician
    except User.technician.RelatedObjectDoesNotExist:
        return None


def visits_move(job: Job, *, states: tuple[str, ...], transition: str, stamp: str, at) -> list[Visit]:
    """Move each of the job's visits in `states` through its `transition` ("complete", "cancel") and
    stamp `stamp` ("completed_at", "canceled_at") with `at`; the job is locked by the caller, the visits
    here. Returns the visits moved, oldest first."""
    moved = []
    for visit in job.visits.select_for_update().filter(state__in=states).order_by("start", "pk"):
        getattr(visit, transition)()
        setattr(visit, stamp, at)
        visit.save(update_fields=["state", stamp, "updated_at"])
        moved.append(visit)
    return moved
