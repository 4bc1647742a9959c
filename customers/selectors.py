"""Reads of the customer master shared by pages and the API, in a constant number of queries."""

import re

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404

from users.roles import Role

from .models import Customer, EmailAddress, PhoneNumber, Property

CUSTOMER_READERS = (Role.OWNER, Role.OFFICE, Role.DISPATCHER)
CUSTOMER_WRITERS = (Role.OWNER, Role.OFFICE)


def customers_visible_to(user) -> QuerySet[Customer]:
    """The customers this user may see. Technicians see customers through their jobs (fsm), not here."""
    if user.is_authenticated and user.has_role(*CUSTOMER_READERS):
        return Customer.objects.all()
    return Customer.objects.none()


def properties_visible_to(user) -> QuerySet[Property]:
    return Property.objects.filter(customer__in=customers_visible_to(user))


def get_customer_for_user(user, pk) -> Customer:
    try:
        return customers_visible_to(user).get(pk=pk)
    except (Customer.DoesNotExist, ValueError, TypeError):
        raise Http404("No such customer.") from None


def with_contacts(qs: QuerySet[Customer]) -> QuerySet[Customer]:
    return qs.prefetch_related(
        Prefetch("phones", queryset=PhoneNumber.objects.order_by("-is_primary", "pk")),
        Prefetch("emails", queryset=EmailAddress.objects.order_by("-is_primary", "pk")),
        Prefetch("properties", queryset=Property.objects.order_by("-is_primary", "pk")),
    )


def customer_search(qs: QuerySet[Customer], query: str) -> QuerySet[Customer]:
    """Name, company, e-mail or street (every word must match), or phone digits in any formatting."""
    query = (query or "").strip().lower()
    if not query:
        return qs
    digits = re.sub(r"\D", "", query)
    if len(digits) >= 3 and not re.search(r"[a-z@]", query):
        return qs.filter(search_digits__contains=digits)
    for word in query.split():
        qs = qs.filter(search_text__contains=word)
    return qs


def customer_list(*, user, query: str = "") -> QuerySet[Customer]:
    qs = customers_visible_to(user).active()
    return with_contacts(customer_search(qs, query)).order_by("sort_name", "pk")


def customer_find_duplicates(*, phones: list[str], emails: list[str], exclude_pk=None) -> QuerySet[Customer]:
    """Active customers sharing any of these E.164 numbers or e-mail addresses (case-insensitive)."""
    match = Q(phones__number__in=phones) if phones else Q(pk__in=[])
    for email in emails:
        match |= Q(emails__email__iexact=email)
    qs = Customer.objects.active().filter(match).distinct()
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    return qs.order_by("pk")
