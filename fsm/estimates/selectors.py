"""Reads for the estimate pages: who sees which estimates, the list with its filters and totals."""

import re

import django_filters
from django import forms
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Prefetch, Q, QuerySet, Sum
from django.http import Http404

from customers.models import Customer
from customers.selectors import customer_search
from users.roles import Role

from ..jobs import technician_choices
from ..models import DISPATCH_ROLES
from .models import Estimate, EstimateLine, EstimateOption

NUMBER = re.compile(r"^\s*[A-Z]*-?\d{4}-\d+\s*$", re.IGNORECASE)


def estimates_visible_to(user) -> QuerySet[Estimate]:
    """The office sees every estimate; a technician those on jobs they have a visit on."""
    if not user.is_authenticated:
        return Estimate.objects.none()
    if user.has_role(*DISPATCH_ROLES):
        return Estimate.objects.all()
    if user.has_role(Role.TECHNICIAN):
        return Estimate.objects.filter(job__visits__technicians=user).distinct()
    return Estimate.objects.none()


def estimate_for_user(user, pk) -> Estimate:
    try:
        estimate = estimates_visible_to(user).select_related("customer", "property", "job").get(pk=pk)
    except (Estimate.DoesNotExist, ValueError, TypeError):
        raise Http404("No such estimate.") from None
    return estimate


def options_with_lines(estimate: Estimate) -> list[EstimateOption]:
    lines = EstimateLine.objects.order_by("position", "pk")
    return list(
        EstimateOption.objects.filter(estimate=estimate)
        .order_by("position", "pk")
        .prefetch_related(Prefetch("lines", lines))
    )


class DateInput(forms.DateInput):
    input_type = "date"


class EstimateFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="search",
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Number, customer or title"}),
    )
    state = django_filters.ChoiceFilter(choices=Estimate.State.choices, empty_label="Any state")
    created_from = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__gte", label="From", widget=DateInput
    )
    created_to = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__lte", label="Until", widget=DateInput
    )
    decided_from = django_filters.DateFilter(
        field_name="decided_at", lookup_expr="date__gte", label="Decided from", widget=DateInput
    )
    decided_to = django_filters.DateFilter(
        field_name="decided_at", lookup_expr="date__lte", label="Decided until", widget=DateInput
    )
    technician = django_filters.ModelChoiceFilter(
        queryset=technician_choices(),
        method="by_technician",
        label="Technician",
        empty_label="Any technician",
    )
    min_amount = django_filters.NumberFilter(method="at_least", label="Option total at least $")

    class Meta:
        model = Estimate
        fields = [
            "q",
            "state",
            "created_from",
            "created_to",
            "decided_from",
            "decided_to",
            "technician",
            "min_amount",
        ]

    def by_technician(self, queryset, name, value):
        """Made by the technician, or for a job they have a visit on."""
        return queryset.filter(Q(created_by=value) | Q(job__visits__technicians=value)).distinct()

    def at_least(self, queryset, name, value):
        return queryset.filter(pk__in=EstimateOption.objects.filter(total__gte=value).values("estimate_id"))

    def search(self, queryset, name, value):
        value = value.strip()
        match = Q(title__icontains=value) | Q(
            customer__in=customer_search(Customer.objects.all(), value).values("pk")
        )
        if NUMBER.match(value):
            match |= Q(number__iendswith=value.split("-")[-1].zfill(6))
        return queryset.filter(match)


def estimate_list(*, user, data) -> EstimateFilter:
    if not user.has_role(*DISPATCH_ROLES):
        raise PermissionDenied("Only the office lists estimates.")
    qs = (
        estimates_visible_to(user)
        .select_related("customer", "property", "accepted_option")
        .annotate(option_count=Count("options", distinct=True))
        .order_by("-created_at", "-pk")
    )
    return EstimateFilter(data, queryset=qs)


def estimate_totals(qs: QuerySet[Estimate]) -> dict:
    """Accepted value and count by state, for the list's summary (on the filtered estimates themselves:
    the list's own query joins the options to count them, which would count each estimate once per option)."""
    qs = Estimate.objects.filter(pk__in=qs.values("pk"))
    by_state = dict(qs.order_by().values_list("state").annotate(n=Count("pk")).values_list("state", "n"))
    accepted = qs.filter(state=Estimate.State.ACCEPTED).aggregate(total=Sum("accepted_total"))["total"]
    decided = by_state.get("accepted", 0) + by_state.get("declined", 0)
    return {
        "by_state": by_state,
        "accepted_total": accepted or 0,
        "close_rate": round(100 * by_state.get("accepted", 0) / decided) if decided else None,
    }
