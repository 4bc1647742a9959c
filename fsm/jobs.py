"""Reads for the office's job pages: the filtered job list, the job page's extras and the customer
page's field-service fragment. Query counts stay constant whatever the number of jobs or visits.

Shared reads (visibility, the job page's job, actions, a property's history) stay in fsm.selectors.
"""

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import django_filters
from django import forms
from django.core.paginator import Page, Paginator
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from customers.models import Customer, Property
from customers.selectors import customer_search
from users.models import Business, User
from users.roles import Role

from .availability import Slot, open_slots
from .models import Equipment, Job, JobType, Priority, Visit
from .selectors import job_actions_for, jobs_visible_to

PAGE_SIZE = 25
SUGGESTIONS = 5
SUGGEST_DAYS = 5
# The crew's buttons live on the phone; the office completes a job on site for them (a tech whose
# phone died, a requirement the office waives with a reason).
OFFICE_ACTIONS = ("dispatch", "resume", "complete", "hold", "cancel")
JOB_NUMBER = re.compile(r"^j?-?\s*(\d+)$", re.IGNORECASE)


def technician_choices() -> QuerySet[User]:
    """Active technicians, for the visit form and the list's filter."""
    return (
        User.objects.filter(is_active=True, groups__name=Role.TECHNICIAN)
        .select_related("technician")
        .order_by("first_name", "last_name", "pk")
    )


def open_visits_prefetch() -> Prefetch:
    """The job's open visits, earliest first, with their crews, as `job.open_visits`."""
    return Prefetch(
        "visits",
        queryset=Visit.objects.filter(state__in=Visit.OPEN_STATES)
        .prefetch_related("technicians")
        .order_by("start", "pk"),
        to_attr="open_visits",
    )


# --- The job list --------------------------------------------------------------------------------------


class DateInput(forms.DateInput):
    input_type = "date"


class JobFilter(django_filters.FilterSet):
    """State, priority, technician and visit dates (technician and dates apply to the same visit)."""

    q = django_filters.CharFilter(
        method="search",
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Job number or customer"}),
    )
    state = django_filters.ChoiceFilter(choices=Job.State.choices, empty_label="Any state")
    priority = django_filters.ChoiceFilter(choices=Priority.choices, empty_label="Any priority")
    technician = django_filters.ModelChoiceFilter(
        queryset=technician_choices(), method="on_a_visit", label="Technician", empty_label="Any technician"
    )
    visit_from = django_filters.DateFilter(method="on_a_visit", label="Visits from", widget=DateInput)
    visit_to = django_filters.DateFilter(method="on_a_visit", label="Visits until", widget=DateInput)

    class Meta:
        model = Job
        fields = ["q", "state", "priority", "technician", "visit_from", "visit_to"]

    def search(self, queryset, name, value):
        value = value.strip()
        number = JOB_NUMBER.match(value)
        match = Q(customer__in=customer_search(Customer.objects.all(), value).values("pk"))
        if number:
            match |= Q(number__iexact=f"J-{number.group(1)}")
        return queryset.filter(match)

    def on_a_visit(self, queryset, name, value):
        return queryset  # filter_queryset applies the three together

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        visits = self.matching_visits()
        return queryset if visits is None else queryset.filter(pk__in=visits.values("job_id"))

    def matching_visits(self) -> QuerySet[Visit] | None:
        data = self.form.cleaned_data
        tech, start, end = data.get("technician"), data.get("visit_from"), data.get("visit_to")
        if not (tech or start or end):
            return None
        visits = Visit.objects.exclude(state=Visit.State.CANCELED)
        if tech:
            visits = visits.filter(technicians=tech)
        if start:
            visits = visits.filter(end__gt=local_midnight(start))
        if end:
            visits = visits.filter(start__lt=local_midnight(end + timedelta(days=1)))
        return visits


def local_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=Business.current().tzinfo)


def job_list(*, user, data) -> JobFilter:
    qs = (
        jobs_visible_to(user)
        .select_related("customer", "property", "job_type")
        .prefetch_related(open_visits_prefetch())
        .order_by("-created_at", "-pk")
    )
    return JobFilter(data, queryset=qs)


def job_page(job_filter: JobFilter, page_number) -> Page:
    return Paginator(job_filter.qs, PAGE_SIZE).get_page(page_number)


# --- The job page ---------------------------------------------------------------------------------------


def office_actions_for(user, job: Job) -> list[str]:
    """The office's buttons on the job page, in OFFICE_ACTIONS order."""
    allowed = set(job_actions_for(user, job))
    return [action for action in OFFICE_ACTIONS if action in allowed]


def property_equipment(prop: Property) -> list[Equipment]:
    return list(Equipment.objects.filter(property=prop).order_by("kind", "pk"))


# --- The customer page's fragment ----------------------------------------------------------------------


@dataclass
class PropertyRecord:
    property: Property
    jobs: list[Job] = field(default_factory=list)  # newest first
    equipment: list[Equipment] = field(default_factory=list)


@dataclass
class CustomerFieldService:
    jobs: list[Job]  # newest first, each with `open_visits`
    properties: list[PropertyRecord]


def customer_field_service(*, customer: Customer) -> CustomerFieldService:
    """The customer's jobs, and per service address its equipment and job history (five queries)."""
    jobs = list(
        Job.objects.filter(customer=customer)
        .select_related("job_type", "property")
        .prefetch_related(open_visits_prefetch())
        .order_by("-created_at", "-pk")
    )
    records = {p.pk: PropertyRecord(p) for p in customer.properties.order_by("-is_primary", "pk")}
    for job in jobs:
        if job.property_id in records:
            records[job.property_id].jobs.append(job)
    for item in Equipment.objects.filter(property__in=list(records)).order_by("kind", "pk"):
        records[item.property_id].equipment.append(item)
    return CustomerFieldService(jobs=jobs, properties=list(records.values()))


# --- Suggestions ----------------------------------------------------------------------------------------


@dataclass
class Suggestions:
    slots: list[Slot]
    start_date: date
    minutes: int = 0  # the visit's length the slots were found for
    days: int = SUGGEST_DAYS
    problem: str = ""  # why there is nothing to suggest


def suggest_slots(
    *,
    job_type: JobType | None,
    prop: Property | None,
    start_date: date | None,
    duration_minutes: int | None = None,
) -> Suggestions:
    """The best few start times (availability.open_slots) from `start_date` (never before today)."""
    today = timezone.localdate(timezone=Business.current().tzinfo)
    first = max(start_date or today, today)
    if job_type is None:
        return Suggestions([], first, problem="Pick a job type first: its length and skill decide who fits.")
    minutes = duration_minutes if duration_minutes and duration_minutes > 0 else None
    minutes = min(minutes or job_type.default_duration_minutes, 24 * 60)
    slots = open_slots(
        job_type=job_type,
        property=prop,
        start_date=first,
        days=SUGGEST_DAYS,
        duration_minutes=minutes,
        limit=SUGGESTIONS,
    )
    return Suggestions(slots, first, minutes)
