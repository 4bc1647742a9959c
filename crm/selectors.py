"""Reads of the pipeline shared by the board, the list, the API and the report; constant query counts."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import django_filters
from django import forms
from django.db.models import Count, F, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from finance.selectors import revenue_by_lead
from users.models import User
from users.roles import STAFF_ROLES, Role

from .models import Campaign, Lead, Source

BOARD_STATES = (Lead.State.NEW, Lead.State.CONTACTED, Lead.State.QUALIFIED, Lead.State.BOOKED)
CLOSED_STATES = (Lead.State.WON, Lead.State.LOST, Lead.State.SPAM)


def leads_visible_to(user) -> QuerySet[Lead]:
    if user.is_authenticated and user.has_role(*STAFF_ROLES):
        return Lead.objects.all()
    return Lead.objects.none()


def get_lead_for_user(user, pk) -> Lead:
    try:
        return leads_visible_to(user).select_related(*CARD_RELATED).get(pk=pk)
    except (Lead.DoesNotExist, ValueError, TypeError):
        raise Http404("No such lead.") from None


CARD_RELATED = ("customer", "property", "source", "campaign", "assigned_to", "service_type")


def office_users() -> QuerySet[User]:
    return User.objects.filter(is_active=True, groups__name__in=[Role.OWNER, Role.OFFICE]).distinct()


# What a board card shows: loading only this keeps 160 cards cheap (no payloads, no search columns).
CARD_FIELDS = (
    "state",
    "name",
    "service",
    "arrived_at",
    "first_response_at",
    "customer__first_name",
    "customer__last_name",
    "customer__company_name",
    "customer__kind",
    "source__name",
    "campaign__name",
    "assigned_to__first_name",
    "assigned_to__username",
)


@dataclass
class Column:
    state: str
    label: str
    leads: list
    total: int


def board_columns(*, user, per_column: int = 30, assigned_to=None, source=None) -> list[Column]:
    """The open columns, newest first, each capped; one query per column plus one for the counts."""
    qs = (
        leads_visible_to(user)
        .select_related("customer", "source", "campaign", "assigned_to")
        .only(*CARD_FIELDS)
    )
    if assigned_to:
        qs = qs.filter(assigned_to=assigned_to)
    if source:
        qs = qs.filter(source=source)
    counts = dict(qs.filter(state__in=BOARD_STATES).order_by().values_list("state").annotate(n=Count("pk")))
    labels = dict(Lead.State.choices)
    return [
        Column(
            state,
            labels[state],
            list(qs.filter(state=state).order_by("-arrived_at", "-pk")[:per_column]),
            counts.get(state, 0),
        )
        for state in BOARD_STATES
    ]


def closed_counts(*, user, days: int = 30) -> dict[str, int]:
    since = timezone.now() - timedelta(days=days)
    rows = (
        leads_visible_to(user)
        .filter(state__in=CLOSED_STATES, closed_at__gte=since)
        .order_by()
        .values_list("state")
        .annotate(n=Count("pk"))
    )
    return {state: 0 for state in CLOSED_STATES} | dict(rows)


AGE_CHOICES = [
    ("1h", "Last hour"),
    ("24h", "Last 24 hours"),
    ("7d", "Last 7 days"),
    ("30d", "Last 30 days"),
    ("older", "Older than 30 days"),
]
AGES = {
    "1h": timedelta(hours=1),
    "24h": timedelta(days=1),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}


class DateInput(forms.DateInput):
    input_type = "date"


class LeadFilter(django_filters.FilterSet):
    """Every filter has its own label: a method filter (age) would otherwise read "[invalid name]"."""

    q = django_filters.CharFilter(
        method="search",
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name or phone"}),
    )
    state = django_filters.ChoiceFilter(choices=Lead.State.choices, empty_label="Any state", label="State")
    source = django_filters.ModelChoiceFilter(
        queryset=Source.objects.all(), empty_label="Any source", label="Source"
    )
    campaign = django_filters.ModelChoiceFilter(
        queryset=Campaign.objects.all(), empty_label="Any campaign", label="Campaign"
    )
    assigned_to = django_filters.ModelChoiceFilter(
        queryset=office_users(), empty_label="Anyone", label="Assigned to"
    )
    service = django_filters.CharFilter(field_name="service", lookup_expr="icontains", label="Service")
    age = django_filters.ChoiceFilter(
        choices=AGE_CHOICES, method="by_age", empty_label="Any age", label="Age"
    )
    arrived_from = django_filters.DateFilter(
        field_name="arrived_at", lookup_expr="date__gte", label="Arrived from", widget=DateInput
    )
    arrived_to = django_filters.DateFilter(
        field_name="arrived_at", lookup_expr="date__lte", label="Arrived until", widget=DateInput
    )
    booked = django_filters.BooleanFilter(
        method="ever_booked", label="Ever booked", widget=forms.CheckboxInput
    )

    class Meta:
        model = Lead
        fields = [
            "q",
            "state",
            "source",
            "campaign",
            "assigned_to",
            "service",
            "age",
            "arrived_from",
            "arrived_to",
            "booked",
        ]

    def ever_booked(self, queryset, name, value):
        """Booked at some point (what the report's and the dashboard's "booked" count)."""
        return queryset.filter(BOOKED) if value else queryset

    def search(self, queryset, name, value):
        from customers.models import Customer
        from customers.selectors import customer_search

        customers = customer_search(Customer.objects.all(), value).values("pk")
        value = value.strip()
        return queryset.filter(
            Q(customer__in=customers) | Q(name__icontains=value) | Q(email__icontains=value)
        )

    def by_age(self, queryset, name, value):
        now = timezone.now()
        if value == "older":
            return queryset.filter(arrived_at__lt=now - AGES["30d"])
        return queryset.filter(arrived_at__gte=now - AGES[value]) if value in AGES else queryset


def lead_list(*, user, data) -> LeadFilter:
    qs = leads_visible_to(user).select_related(*CARD_RELATED).order_by("-arrived_at", "-pk")
    return LeadFilter(data, queryset=qs)


# --- Attribution report ------------------------------------------------------------------------------

FAST_RESPONSE = timedelta(minutes=5)
BOOKED = Q(booked_at__isnull=False) | Q(state__in=[Lead.State.BOOKED, Lead.State.WON])


@dataclass
class ReportRow:
    label: str
    key: int | None = None  # the source's or the campaign's id (for links)
    leads: int = 0
    contacted_fast: int = 0
    booked: int = 0
    won: int = 0
    won_revenue: Decimal = Decimal("0.00")
    cost: Decimal = Decimal("0.00")

    @property
    def fast_pct(self) -> float | None:
        return round(100 * self.contacted_fast / self.leads, 1) if self.leads else None

    @property
    def cost_per_lead(self) -> Decimal | None:
        return (self.cost / self.leads).quantize(Decimal("0.01")) if self.leads and self.cost else None

    @property
    def cost_per_booked(self) -> Decimal | None:
        return (self.cost / self.booked).quantize(Decimal("0.01")) if self.booked and self.cost else None

    @property
    def roi(self) -> Decimal | None:
        """Posted revenue per dollar spent (2.5 = $2.50 back for each $1)."""
        return (self.won_revenue / self.cost).quantize(Decimal("0.01")) if self.cost else None


def campaign_cost(campaign: Campaign, start: date, end: date) -> Decimal:
    """Spend that falls in [start, end]: a monthly cost pro rata per day, a total spread over the run."""
    run_end = campaign.ends_on or end
    first, last = max(start, campaign.starts_on), min(end, run_end)
    if last < first:
        return Decimal("0.00")
    days = Decimal((last - first).days + 1)
    if campaign.cost_type == Campaign.CostType.MONTHLY:
        return (campaign.cost * days * 12 / Decimal(365)).quantize(Decimal("0.01"))
    run_days = Decimal(((campaign.ends_on or max(end, campaign.starts_on)) - campaign.starts_on).days + 1)
    return (campaign.cost * days / run_days).quantize(Decimal("0.01"))


def attribution_report(*, start: date, end: date, tz) -> dict[str, list[ReportRow]]:
    """Leads that arrived in [start, end] by source and by campaign, with spend over the same days."""
    since = timezone.make_aware(datetime.combine(start, time.min), tz)
    until = timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min), tz)
    leads = Lead.objects.filter(arrived_at__gte=since, arrived_at__lt=until).exclude(state=Lead.State.SPAM)
    aggregates = {
        "n": Count("pk"),
        "fast": Count(
            "pk",
            filter=Q(first_response_at__isnull=False, first_response_at__lte=F("arrived_at") + FAST_RESPONSE),
        ),
        "booked": Count("pk", filter=BOOKED),
        "won": Count("pk", filter=Q(state=Lead.State.WON)),
    }
    rows: dict[str, dict] = {"source": {}, "campaign": {}}
    for key, label_field in (("source", "source__name"), ("campaign", "campaign__name")):
        for g in leads.order_by().values(f"{key}_id", label_field).annotate(**aggregates):
            rows[key][g[f"{key}_id"]] = ReportRow(
                label=g[label_field] or "(no campaign)",
                key=g[f"{key}_id"],
                leads=g["n"],
                contacted_fast=g["fast"],
                booked=g["booked"],
                won=g["won"],
            )
    for campaign in Campaign.objects.filter(starts_on__lte=end):
        cost = campaign_cost(campaign, start, end)
        if not cost:
            continue
        rows["campaign"].setdefault(campaign.pk, ReportRow(label=campaign.name, key=campaign.pk)).cost += cost
        if campaign.source_id in rows["source"]:
            rows["source"][campaign.source_id].cost += cost
    _add_revenue(rows, start=start, end=end)
    return {key: sorted(group.values(), key=lambda r: (-r.leads, r.label)) for key, group in rows.items()}


def _add_revenue(rows: dict[str, dict], *, start: date, end: date) -> None:
    """Revenue posted in [start, end] (finance's ledger) on the jobs leads became, whenever the lead came:
    one query for the ledger, one for those leads' source and campaign."""
    revenue = revenue_by_lead(start=start, end=end)
    revenue.pop(None, None)  # work that came from no lead
    if not revenue:
        return
    leads = Lead.objects.filter(pk__in=list(revenue)).values_list(
        "pk", "source_id", "source__name", "campaign_id", "campaign__name"
    )
    for pk, source_id, source_name, campaign_id, campaign_name in leads:
        rows["source"].setdefault(
            source_id, ReportRow(label=source_name, key=source_id)
        ).won_revenue += revenue[pk]
        row = rows["campaign"].setdefault(
            campaign_id, ReportRow(label=campaign_name or "(no campaign)", key=campaign_id)
        )
        row.won_revenue += revenue[pk]


@dataclass
class Speed:
    """Time to first response of the leads that arrived in a range (unanswered ones count as slow)."""

    label: str
    key: int | None
    seconds: list[float]
    leads: int = 0

    @property
    def median(self) -> float | None:
        return _percentile(self.seconds, 50)

    @property
    def p90(self) -> float | None:
        return _percentile(self.seconds, 90)

    @property
    def median_minutes(self) -> float | None:
        return None if self.median is None else round(self.median / 60, 1)

    @property
    def p90_minutes(self) -> float | None:
        return None if self.p90 is None else round(self.p90 / 60, 1)

    @property
    def fast_pct(self) -> float | None:
        fast = sum(1 for s in self.seconds if s <= FAST_RESPONSE.total_seconds())
        return round(100 * fast / self.leads, 1) if self.leads else None


def _percentile(values: list[float], pct: int) -> float | None:
    """Nearest rank on the sorted values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(-(-pct * len(ordered) // 100), 1)
    return ordered[rank - 1]


def speed_to_lead(*, start: date, end: date, tz) -> tuple[Speed, list[Speed]]:
    """All leads and each source: median and p90 of the answered ones' response time, % within 5 minutes."""
    since = timezone.make_aware(datetime.combine(start, time.min), tz)
    until = timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min), tz)
    rows = (
        Lead.objects.filter(arrived_at__gte=since, arrived_at__lt=until)
        .exclude(state=Lead.State.SPAM)
        .order_by()
        .values_list("source_id", "source__name", "arrived_at", "first_response_at")
    )
    overall, by_source = Speed("All sources", None, []), {}
    for source_id, name, arrived, answered in rows:
        speed = by_source.setdefault(source_id, Speed(name, source_id, []))
        for group in (overall, speed):
            group.leads += 1
            if answered is not None:
                group.seconds.append(max((answered - arrived).total_seconds(), 0.0))
    return overall, sorted(by_source.values(), key=lambda s: (-s.leads, s.label))
