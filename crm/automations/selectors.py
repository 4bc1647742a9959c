"""Reads of the automations pages: sequences with their counts, enrollments with their timelines, the
office's tasks, customers to preview a sequence for. Each in a constant number of queries."""

from datetime import datetime

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from customers.models import Customer
from customers.selectors import customer_search
from events.models import Event
from users.roles import Role

from .engine import ENDING, FIELD
from .models import Enrollment, EnrollmentStep, Sequence, Task

TASK_TABS = ("mine", "overdue", "done", "all")
RECENT_CUSTOMERS = 20


def sequence_rows() -> QuerySet[Sequence]:
    """Every sequence with its number of steps and of enrollments under way."""
    return Sequence.objects.annotate(
        step_count=Count("steps", distinct=True),
        active_count=Count(
            "enrollments", filter=Q(enrollments__state=Enrollment.State.ACTIVE), distinct=True
        ),
    ).order_by("-active", "name")


def trigger_fields(sequence: Sequence) -> list[str]:
    """The merge fields the sequence's steps use that only its trigger fills ({estimate_link}, ...)."""
    used = []
    for step in sequence.steps.all():
        for text in (step.body, step.subject, step.task_title):
            used += [name for name in FIELD.findall(text or "") if name not in CUSTOMER_FIELDS]
    return sorted(set(used))


CUSTOMER_FIELDS = {"first_name", "last_name", "business_name", "business_phone"}


ESTIMATE_FIELDS = frozenset({"estimate_link", "estimate_total", "estimate_number", "technician"})


def sequences_to_enroll(*, knowing: frozenset[str] = frozenset()) -> list[Sequence]:
    """What a person may enroll a customer in by hand: the sequences switched on whose texts need nothing
    but the customer and what the page knows (`knowing`: an estimate page knows its link and total; no
    page knows a job's number, which only a trigger gives)."""
    sequences = Sequence.objects.filter(active=True).prefetch_related("steps").order_by("name")
    return [sequence for sequence in sequences if not set(trigger_fields(sequence)) - knowing]


def active_enrollments(*, customer_id: int) -> QuerySet[Enrollment]:
    return Enrollment.objects.filter(customer_id=customer_id, state=Enrollment.State.ACTIVE).select_related(
        "sequence"
    )


def enrollments_with_timeline(qs: QuerySet[Enrollment]) -> QuerySet[Enrollment]:
    log = EnrollmentStep.objects.select_related("message").order_by("at", "pk")
    return qs.select_related("sequence", "customer", "enrolled_by").prefetch_related(
        Prefetch("log", queryset=log), "sequence__steps"
    )


def sequence_enrollments(*, sequence: Sequence, state: str) -> QuerySet[Enrollment]:
    qs = sequence.enrollments.filter(state=state) if state else sequence.enrollments.all()
    return enrollments_with_timeline(qs).order_by("-created_at", "-pk")


def customer_enrollments(*, customer: Customer) -> QuerySet[Enrollment]:
    return enrollments_with_timeline(Enrollment.objects.filter(customer=customer)).order_by(
        "state", "-created_at", "-pk"
    )


def estimate_enrollments(*, estimate_id: int) -> QuerySet[Enrollment]:
    return enrollments_with_timeline(
        Enrollment.objects.filter(subject_key=f"estimate:{estimate_id}").select_related("customer")
    ).order_by("state", "-created_at", "-pk")


def estimate_story(estimate_id: int) -> tuple[Event | None, str]:
    """The estimate's latest `estimate.sent` milestone (what its follow-ups quote: link, totals, who
    prepared it) and, when the customer has decided since, the milestone that ended it ('' while it
    waits). From the event log by the estimate's own index: crm never reads fsm's tables."""
    rows = Event.objects.filter(
        subject_type=ContentType.objects.get_by_natural_key("fsm", "estimate"),
        subject_id=str(estimate_id),
        milestone__in=("estimate.sent", *ENDING["estimate"]),
    ).order_by("occurred_at", "pk")
    sent, ended = None, ""
    for event in rows:
        if event.milestone == "estimate.sent":
            sent, ended = event, ""
        elif sent is not None:
            ended = event.milestone
    return sent, ended


def preview_customers(*, query: str = "") -> list[Customer]:
    """The customers the preview offers: those matching `query`, else the newest."""
    qs = Customer.objects.active()
    if query:
        qs = customer_search(qs, query).order_by("sort_name", "pk")
    else:
        qs = qs.order_by("-created_at", "-pk")
    return list(qs[:RECENT_CUSTOMERS])


def preview_customer(*, pk: int) -> Customer | None:
    return Customer.objects.active().filter(pk=pk).first()


def _task_scope(user) -> QuerySet[Task]:
    """The tasks a person works from: their own and the office's shared ones (nobody assigned)."""
    return Task.objects.filter(Q(assignee=user) | Q(assignee__isnull=True))


def task_list(*, user, tab: str, now: datetime | None = None) -> QuerySet[Task]:
    now = now or timezone.now()
    if tab == "all" and user.has_role(Role.OWNER):
        qs = Task.objects.filter(done_at__isnull=True)
    elif tab == "done":
        qs = Task.objects.filter(Q(done_by=user) | Q(assignee=user), done_at__isnull=False).order_by(
            "-done_at", "-pk"
        )
    elif tab == "overdue":
        qs = _task_scope(user).filter(done_at__isnull=True, due_at__lt=now)
    else:
        qs = _task_scope(user).filter(done_at__isnull=True)
    return qs.select_related("customer", "assignee", "done_by", "enrollment__sequence")


def open_task_count(*, user) -> int:
    return _task_scope(user).filter(done_at__isnull=True).count()


def wait_summary(step) -> str:
    """A wait step in words: "1 day, then until 10:00 AM on a Monday"."""
    parts = []
    if step.wait_days:
        parts.append(f"{step.wait_days} day{'s' if step.wait_days != 1 else ''}")
    if step.wait_hours:
        parts.append(f"{step.wait_hours} hour{'s' if step.wait_hours != 1 else ''}")
    text = " ".join(parts)
    until = []
    if step.at_time is not None:
        until.append(step.at_time.strftime("%-I:%M %p"))
    if step.weekday is not None:
        until.append(f"on a {step.get_weekday_display()}")
    if until:
        text = f"{text}, then until {' '.join(until)}" if text else f"until {' '.join(until)}"
    return text or "no time"
