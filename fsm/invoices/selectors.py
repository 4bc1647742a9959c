"""Reads for the invoice pages: the list with its filters and totals, the unpaid list, a job's money."""

import re

import django_filters
from django import forms
from django.db.models import Count, F, Q, QuerySet, Sum
from django.http import Http404
from django.utils import timezone

from customers.models import Customer
from customers.selectors import customer_search
from users.models import Business, User
from users.roles import Role

from ..models import Job
from .models import Invoice, Payment

MONEY_ROLES = (Role.OWNER, Role.OFFICE)
NUMBER = re.compile(r"^\s*[A-Z]*-?\d{4}-\d+\s*$", re.IGNORECASE)


def invoices_visible_to(user) -> QuerySet[Invoice]:
    if user.is_authenticated and user.has_role(*MONEY_ROLES):
        return Invoice.objects.all()
    return Invoice.objects.none()


def invoice_for_user(user, pk) -> Invoice:
    try:
        return invoices_visible_to(user).select_related("customer", "property", "job", "estimate").get(pk=pk)
    except (Invoice.DoesNotExist, ValueError, TypeError):
        raise Http404("No such invoice.") from None


class DateInput(forms.DateInput):
    input_type = "date"


def _technicians():
    return User.objects.filter(groups__name=Role.TECHNICIAN, is_active=True).order_by(
        "first_name", "username"
    )


class InvoiceFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="search",
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Number or customer"}),
    )
    state = django_filters.ChoiceFilter(choices=Invoice.State.choices, empty_label="Any state")
    unpaid = django_filters.BooleanFilter(
        method="only_unpaid", label="Unpaid only", widget=forms.CheckboxInput
    )
    overdue = django_filters.BooleanFilter(
        method="only_overdue", label="Overdue only", widget=forms.CheckboxInput
    )
    issued_from = django_filters.DateFilter(
        field_name="issued_on", lookup_expr="gte", label="Issued from", widget=DateInput
    )
    issued_to = django_filters.DateFilter(
        field_name="issued_on", lookup_expr="lte", label="Issued until", widget=DateInput
    )
    technician = django_filters.ModelChoiceFilter(
        queryset=_technicians(), method="by_technician", label="Technician", empty_label="Any technician"
    )
    min_total = django_filters.NumberFilter(field_name="total", lookup_expr="gte", label="Total at least")

    class Meta:
        model = Invoice
        fields = ["q", "state", "unpaid", "overdue", "issued_from", "issued_to", "technician", "min_total"]

    def search(self, queryset, name, value):
        value = value.strip()
        match = Q(customer__in=customer_search(Customer.objects.all(), value).values("pk"))
        if NUMBER.match(value):
            match |= Q(number__iendswith=value.split("-")[-1].zfill(6))
        return queryset.filter(match)

    def only_unpaid(self, queryset, name, value):
        return queryset.filter(state__in=Invoice.PAYABLE_STATES) if value else queryset

    def only_overdue(self, queryset, name, value):
        if not value:
            return queryset
        today = timezone.localdate(timezone.now(), Business.current().tzinfo)
        return queryset.filter(state__in=Invoice.PAYABLE_STATES, due_on__lt=today)

    def by_technician(self, queryset, name, value):
        return queryset.filter(job__visits__technicians=value).distinct()


def invoice_list(*, data) -> InvoiceFilter:
    qs = Invoice.objects.select_related("customer", "job").order_by("-created_at", "-pk")
    return InvoiceFilter(data, queryset=qs)


def invoice_totals(qs: QuerySet[Invoice]) -> dict:
    """On the filtered invoices themselves (a technician filter joins the visits: one row per visit)."""
    qs = Invoice.objects.filter(pk__in=qs.values("pk"))
    live = qs.exclude(state__in=[Invoice.State.DRAFT, Invoice.State.VOID]).order_by()
    sums = live.aggregate(total=Sum("total"), paid=Sum("amount_paid"))
    today = timezone.localdate(timezone.now(), Business.current().tzinfo)
    overdue = live.filter(state__in=Invoice.PAYABLE_STATES, due_on__lt=today).aggregate(
        due=Sum(F("total") - F("amount_paid")), n=Count("pk")
    )
    total, paid = sums["total"] or 0, sums["paid"] or 0
    return {
        "total": total,
        "paid": paid,
        "due": total - paid,
        "overdue": overdue["due"] or 0,
        "overdue_count": overdue["n"],
    }


def days_overdue(invoice: Invoice, today) -> int:
    if invoice.state not in Invoice.PAYABLE_STATES or invoice.due_on is None:
        return 0
    return max((today - invoice.due_on).days, 0)


def job_money(job: Job) -> dict:
    """The job page's money block: its estimates, its invoices (the draft holds the work and materials)."""
    invoices = list(job.invoices.order_by("pk").prefetch_related("lines"))
    return {
        "estimates": list(job.estimates.select_related("accepted_option").order_by("pk")),
        "invoices": invoices,
        "draft": next((i for i in invoices if i.state == Invoice.State.DRAFT), None),
    }


def customer_money(customer: Customer) -> dict:
    from .services import credit_balance

    invoices = list(customer.invoices.order_by("-created_at", "-pk")[:20])
    balance = sum((i.balance for i in customer.invoices.filter(state__in=Invoice.PAYABLE_STATES)), 0)
    return {
        "estimates": list(customer.estimates.order_by("-created_at", "-pk")[:20]),
        "invoices": invoices,
        "balance": balance,
        "credit": credit_balance(customer),
        "payments": list(Payment.objects.filter(customer=customer).select_related("invoice")[:10]),
    }


class PaymentFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="search",
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Customer, invoice or reference"}),
    )
    method = django_filters.ChoiceFilter(choices=Payment.Method.choices, empty_label="Any method")
    received_from = django_filters.DateFilter(
        field_name="received_at", lookup_expr="date__gte", label="From", widget=DateInput
    )
    received_to = django_filters.DateFilter(
        field_name="received_at", lookup_expr="date__lte", label="Until", widget=DateInput
    )
    technician = django_filters.ModelChoiceFilter(
        queryset=_technicians(), method="by_technician", label="Technician", empty_label="Any technician"
    )
    min_amount = django_filters.NumberFilter(field_name="amount", lookup_expr="gte", label="Amount at least")

    class Meta:
        model = Payment
        fields = ["q", "method", "received_from", "received_to", "technician", "min_amount"]

    def search(self, queryset, name, value):
        value = value.strip()
        match = Q(customer__in=customer_search(Customer.objects.all(), value).values("pk"))
        match |= Q(reference__icontains=value) | Q(invoice__number__icontains=value)
        return queryset.filter(match)

    def by_technician(self, queryset, name, value):
        return queryset.filter(invoice__job__visits__technicians=value).distinct()


def payment_list(*, data) -> PaymentFilter:
    qs = Payment.objects.select_related("customer", "invoice", "recorded_by").order_by("-received_at", "-pk")
    return PaymentFilter(data, queryset=qs)


def payment_totals(qs: QuerySet[Payment]) -> dict:
    qs = Payment.objects.filter(pk__in=qs.values("pk"))
    rows = qs.order_by().values_list("method").annotate(total=Sum("amount"), n=Count("pk"))
    by_method = [(Payment.Method(m).label, total, n) for m, total, n in rows]
    return {"by_method": by_method, "total": sum((t for _, t, _ in by_method), 0)}
