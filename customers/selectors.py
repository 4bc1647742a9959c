"""Reads of the customer master shared by pages and the API, in a constant number of queries."""

import re

import phonenumbers
from django.core.paginator import Page, Paginator
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.db.models.functions import Lower
from django.http import Http404

from users.roles import Role

from .models import Customer, EmailAddress, PhoneNumber, Property, Tag

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
        "tags",
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


def customer_list(*, user, query: str = "", tag: str = "") -> QuerySet[Customer]:
    qs = customers_visible_to(user).active()
    if tag:
        qs = qs.filter(tags__name__iexact=tag)
    return with_contacts(customer_search(qs, query)).order_by("sort_name", "pk")


def tag_names() -> list[str]:
    """The names of the tags on some customer, for the pickers (the list's filter, the segment builder,
    the tag editor): a misspelt tag taken off everyone drops out of them."""
    carried = Customer.tags.through.objects.filter(tag_id=OuterRef("pk"), customer__merged_into__isnull=True)
    in_use = Tag.objects.filter(Exists(carried)).order_by(Lower("name"))
    return list(in_use.values_list("name", flat=True))


SEARCH_COUNT_CAP = 1000


def customer_page(*, user, query: str = "", tag: str = "", page_number=1, per_page: int = 25) -> Page:
    """One page of the customer list. A search counts at most SEARCH_COUNT_CAP matches ("1,000+").

    When a search matches few customers, they are sorted on `Lower(sort_name)` (the same order, as the
    column is lower-case already) so that PostgreSQL fetches them through the trigram index and sorts,
    instead of walking the whole name index looking for rare matches. Measured in bench/.
    """
    qs = customer_list(user=user, query=query, tag=tag)
    capped_count = None
    if query.strip():
        capped_count = qs.order_by()[: SEARCH_COUNT_CAP + 1].count()
        if capped_count <= SEARCH_COUNT_CAP:
            qs = qs.order_by(Lower("sort_name"), "pk")
    paginator = Paginator(qs, per_page)
    if capped_count is not None:
        paginator.count = min(capped_count, SEARCH_COUNT_CAP)
        paginator.capped = capped_count > SEARCH_COUNT_CAP
    return paginator.get_page(page_number)


def customer_find_duplicates(*, phones: list[str], emails: list[str], exclude_pk=None) -> QuerySet[Customer]:
    """Active customers sharing any of these E.164 numbers or e-mail addresses (case-insensitive)."""
    match = Q(phones__number__in=phones) if phones else Q(pk__in=[])
    for email in emails:
        match |= Q(emails__email__iexact=email)
    qs = Customer.objects.active().filter(match).distinct()
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    return qs.order_by("pk")


def customer_find_by_contact(*, phone: str = "", email: str = "") -> Customer | None:
    """The oldest active customer with this E.164 phone, else with this e-mail (case-insensitive).

    The id is looked up first and the row loaded only on a match: most lookups (every new caller,
    every new lead) find nobody, and a one-column query costs half the CPU of a whole customer row."""
    customer_id = None
    if phone:
        customer_id = _first_active_id(PhoneNumber.objects.filter(number=phone))
    if customer_id is None and email:
        customer_id = _first_active_id(EmailAddress.objects.filter(email__iexact=email))
    return Customer.objects.get(pk=customer_id) if customer_id is not None else None


def _first_active_id(contacts: QuerySet) -> int | None:
    return (
        contacts.filter(customer__merged_into__isnull=True)
        .order_by("customer_id")
        .values_list("customer_id", flat=True)
        .first()
    )


def phone_national(number: str) -> str:
    """+15125550199 -> (512) 555-0199; what is not a phone number comes back as it is."""
    if not number:
        return ""
    try:
        return phonenumbers.format_number(phonenumbers.parse(number), phonenumbers.PhoneNumberFormat.NATIONAL)
    except phonenumbers.NumberParseException:
        return number


def tax_exemption(customer: Customer, property: Property | None = None) -> str:
    """Why a document for this customer (at this address) carries no sales tax, as printed on it, or ""
    when it is taxed: the customer's own exemption first, else the address's (a church's parsonage)."""
    if customer.tax_exempt:
        return f"Customer exempt, certificate {customer.tax_exempt_certificate}"
    if property is not None and property.tax_exempt:
        return f"Property exempt, certificate {property.tax_exempt_certificate}"
    return ""
