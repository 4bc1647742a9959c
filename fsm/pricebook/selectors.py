"""Reading the pricebook: the list page's and the API's filtered list, and the line editors' search.

A search matches every word of the query in the code or the name (case-insensitive). Results rank an
exact code first, then codes starting with the query, then names starting with it, then the rest, so
that typing a code picks its item at once.
"""

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.shortcuts import get_object_or_404

from users.roles import Role

from .models import PricebookItem

SEARCH_LIMIT = 10
MAX_SEARCH_LIMIT = 50
COST_ROLES = (Role.OWNER, Role.OFFICE)  # who sees costs and margins


def can_see_costs(user) -> bool:
    return user.is_authenticated and user.has_role(*COST_ROLES)


def _words(q: str) -> list[str]:
    return q.split()[:6]


def items_matching(queryset: QuerySet[PricebookItem], q: str) -> QuerySet[PricebookItem]:
    """Every word in the code or the name, best matches first (see the module's docstring)."""
    q = " ".join(_words(q or ""))
    if not q:
        return queryset
    for word in _words(q):
        queryset = queryset.filter(Q(code__icontains=word) | Q(name__icontains=word))
    rank = Case(
        When(code__iexact=q, then=Value(0)),
        When(code__istartswith=q, then=Value(1)),
        When(name__istartswith=q, then=Value(2)),
        default=Value(3),
        output_field=IntegerField(),
    )
    return queryset.annotate(rank=rank).order_by("rank", "code")


def item_list(
    *, q: str = "", kind: str = "", category: str = "", active: bool | None = True
) -> QuerySet[PricebookItem]:
    """Items by category and name; filtered by kind, category (exact) and active (None: all)."""
    items = PricebookItem.objects.order_by("category", "name", "pk")
    if kind:
        items = items.filter(kind=kind)
    if category:
        items = items.filter(category__iexact=category)
    if active is not None:
        items = items.filter(active=active)
    return items_matching(items, q)


def item_search(*, q: str, limit: int = SEARCH_LIMIT, kind: str = "") -> list[PricebookItem]:
    """Active items for a line editor, as the user types: at most `limit`, best first. One query."""
    q = (q or "").strip()
    if not q:
        return []
    limit = max(1, min(limit, MAX_SEARCH_LIMIT))
    return list(item_list(q=q, kind=kind)[:limit])


def categories() -> list[str]:
    """The categories in use, for the filter and the form's suggestions."""
    names = PricebookItem.objects.exclude(category="").values_list("category", flat=True).distinct()
    return sorted(set(names), key=str.lower)


def get_item(pk: int) -> PricebookItem:
    return get_object_or_404(PricebookItem, pk=pk)
