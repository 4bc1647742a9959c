"""Reads shared by the board, the technician's phone, the job page and the API; query counts stay
constant whatever the number of visits or jobs.

Visibility lives here: the office roles see every job; a technician sees only jobs with a visit
(not canceled) they are on; everyone else sees none. Pages call `get_job_for_user`, which raises
Http404 for a job the user may not see.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Case, IntegerField, Prefetch, QuerySet, Value, When
from django.http import Http404
from django_fsm import has_transition_perm

from customers.models import PhoneNumber, Property
from users.models import Business, User
from users.roles import Role

from .models import (
    DISPATCH_ROLES,
    PRIORITY_RANK,
    ChecklistResult,
    Equipment,
    Job,
    TimeEntry,
    Visit,
)

JOB_ACTIONS = ("dispatch", "on_my_way", "arrive", "complete", "pause", "hold", "resume", "cancel")


def _day_bounds(day: date, days: int = 1) -> tuple[datetime, datetime]:
    tz = Business.current().tzinfo
    start = datetime.combine(day, time.min, tzinfo=tz)
    return start, start + timedelta(days=days)


def _priority_rank() -> Case:
    return Case(
        *(When(priority=p, then=Value(rank)) for p, rank in PRIORITY_RANK.items()),
        default=Value(9),
        output_field=IntegerField(),
    )


# --- Visibility -------------------------------------------------------------------------------------


def jobs_visible_to(user) -> QuerySet[Job]:
    if not user.is_authenticated:
        return Job.objects.none()
    if user.has_role(*DISPATCH_ROLES):
        return Job.objects.all()
    if user.has_role(Role.TECHNICIAN):
        mine = Visit.objects.filter(technicians=user).exclude(state=Visit.State.CANCELED).values("job_id")
        return Job.objects.filter(pk__in=mine)
    return Job.objects.none()


def get_job_for_user(user, pk) -> Job:
    """The job page's job with everything it shows, or Http404 (a technician not on it gets 404)."""
    try:
        return job_detail_queryset(jobs_visible_to(user)).get(pk=pk)
    except (Job.DoesNotExist, ValueError, TypeError):
        raise Http404("No such job.") from None


def job_detail_queryset(qs: QuerySet[Job]) -> QuerySet[Job]:
    return qs.select_related("customer", "property", "job_type", "job_type__required_skill").prefetch_related(
        Prefetch("visits", queryset=Visit.objects.prefetch_related("technicians").order_by("start", "pk")),
        Prefetch("customer__phones", queryset=PhoneNumber.objects.order_by("-is_primary", "pk")),
        "notes__author",
        "photos",
        "signatures",
        "checklist_results",
    )


def job_actions_for(user, job: Job) -> list[str]:
    """The transitions this user may press on this job now (one button each)."""
    actions = [name for name in JOB_ACTIONS if has_transition_perm(getattr(job, name), user)]
    if job.hold_kind == Job.HoldKind.HOLD and not user.has_role(*DISPATCH_ROLES):
        actions = [a for a in actions if a != "resume"]  # the office resumes its own hold
    return actions


def job_checklist(job: Job) -> list[tuple[str, ChecklistResult | None]]:
    """The job type's checklist items in order, each with its result (None: not touched yet)."""
    items = list(job.job_type.checklist) if job.job_type_id else []
    results = {r.item: r for r in job.checklist_results.all()}
    return [(item, results.get(item)) for item in items]


def and_list(items: list[str]) -> str:
    """["a", "b", "c"] -> "a, b and c"."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def job_completion_missing(job: Job) -> list[str]:
    """What the job type requires before completion that the job does not have yet, in words
    ("every checklist item (1 of 3 ticked)", "the customer's signature", "a photo"); empty when ready."""
    kind = job.job_type
    if kind is None:
        return []
    missing = []
    if kind.requires_checklist and kind.checklist:
        done = job.checklist_results.filter(done=True, item__in=kind.checklist).count()
        if done < len(kind.checklist):
            missing.append(f"every checklist item ({done} of {len(kind.checklist)} ticked)")
    if kind.requires_signature and not job.signatures.exists():
        missing.append("the customer's signature")
    if kind.requires_photo and not job.photos.exists():
        missing.append("a photo")
    return missing


# --- The dispatch board ----------------------------------------------------------------------------


@dataclass
class Board:
    start: datetime
    end: datetime
    technicians: list[User]  # active technicians with a profile, profile and skills loaded
    visits: list[Visit]  # not canceled, job / customer / property / job type / technicians loaded
    by_technician: dict[int, list[Visit]] = field(default_factory=dict)
    unassigned_visits: list[Visit] = field(default_factory=list)  # on the board with nobody on them
    queue: list[Job] = field(default_factory=list)  # unscheduled jobs, priority then age


def board_technicians() -> list[User]:
    return list(
        User.objects.filter(is_active=True, groups__name=Role.TECHNICIAN, technician__is_active=True)
        .select_related("technician")
        .prefetch_related("technician__skills")
        .order_by("first_name", "last_name", "pk")
    )


def visits_between(start: datetime, end: datetime) -> QuerySet[Visit]:
    return (
        Visit.objects.filter(start__lt=end, end__gt=start)
        .exclude(state=Visit.State.CANCELED)
        .select_related("job", "job__customer", "job__property", "job__job_type")
        .prefetch_related("technicians")
        .order_by("start", "pk")
    )


def unscheduled_queue() -> QuerySet[Job]:
    """Jobs waiting for a visit: emergencies first, then high, then normal; oldest first in each."""
    return (
        Job.objects.filter(state=Job.State.UNSCHEDULED)
        .select_related("customer", "property", "job_type")
        .annotate(priority_rank=_priority_rank())
        .order_by("priority_rank", "created_at", "pk")
    )


def board(*, day: date, days: int = 1) -> Board:
    """The board for `days` days from `day` (business time zone): five queries whatever the size."""
    start, end = _day_bounds(day, days)
    result = Board(
        start=start, end=end, technicians=board_technicians(), visits=list(visits_between(start, end))
    )
    result.by_technician = {t.pk: [] for t in result.technicians}
    for visit in result.visits:
        crew = visit.technicians.all()
        if not crew:
            result.unassigned_visits.append(visit)
        for tech in crew:
            result.by_technician.setdefault(tech.pk, []).append(visit)
    result.queue = list(unscheduled_queue())
    return result


def board_day(*, day: date) -> Board:
    return board(day=day, days=1)


def board_week(*, week_start: date) -> Board:
    """Seven days from `week_start` (pass a Monday for a calendar week)."""
    return board(day=week_start, days=7)


# --- The technician's phone ------------------------------------------------------------------------


@dataclass
class MyDay:
    day: date
    visits: list[Visit]  # the technician's visits that day (not canceled), in order
    shift: TimeEntry | None  # the open shift, if clocked in
    current: Visit | None  # the visit under way (on the way / on site), else the next scheduled one


def my_day(*, technician: User, day: date) -> MyDay:
    start, end = _day_bounds(day)
    visits = list(
        visits_between(start, end)
        .filter(technicians=technician)
        .prefetch_related(
            Prefetch("job__customer__phones", queryset=PhoneNumber.objects.order_by("-is_primary"))
        )
    )
    shift = TimeEntry.objects.filter(technician=technician, kind=TimeEntry.Kind.SHIFT, ended_at=None).first()
    under_way = [v for v in visits if v.state in (Visit.State.EN_ROUTE, Visit.State.ON_SITE)]
    upcoming = [v for v in visits if v.state == Visit.State.SCHEDULED]
    return MyDay(day=day, visits=visits, shift=shift, current=(under_way or upcoming or [None])[0])


# --- A property's history --------------------------------------------------------------------------


@dataclass
class PropertyHistory:
    property: Property
    jobs: list[Job]  # newest first, with their visits and technicians
    equipment: list[Equipment]


def property_jobs(prop: Property) -> QuerySet[Job]:
    return (
        Job.objects.filter(property=prop)
        .select_related("job_type")
        .prefetch_related(
            Prefetch("visits", queryset=Visit.objects.prefetch_related("technicians").order_by("start", "pk"))
        )
        .order_by("-created_at", "-pk")
    )


def property_history(*, prop: Property) -> PropertyHistory:
    """Every job ever done at the property and the equipment there (four queries)."""
    return PropertyHistory(
        property=prop, jobs=list(property_jobs(prop)), equipment=list(Equipment.objects.filter(property=prop))
    )
