"""What the estimate and invoice pages share: reading a typed line, a whole number from a form, and a
filtered list page with its summary."""

from django.core.paginator import Paginator
from django.shortcuts import render

from .lines import LineIn

PAGE_SIZE = 50


def as_int(value) -> int:
    """A form's or query's id; 0 for anything that is not a whole number."""
    return int(value) if str(value or "").strip().isdigit() else 0


def line_in(post) -> LineIn:
    """A line as the editors post it; the taxable box counts only when the form showed it."""
    return LineIn(
        name=post.get("name", ""),
        description=post.get("description"),
        quantity=post.get("quantity") or "1",
        unit_price=post.get("unit_price"),
        discount=post.get("discount") or "0",
        taxable=post.get("taxable") == "on" if "taxable_shown" in post else None,
        is_addon=post.get("is_addon") == "on",
    )


def list_page(request, filterset, template: str, *, summary=None, each_row=None):
    """A filtered, paginated list; htmx asks for its `results` partial only. `summary(qs)` gives the
    figures above the table; `each_row(row)` prepares a row of the page shown."""
    page = Paginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    for row in page.object_list if each_row else ():
        each_row(row)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "filter": filterset,
        "page": page,
        "summary": summary(filterset.qs) if summary else None,
        "filtered": any(v for k, v in request.GET.items() if k != "page"),
        "querystring": query.urlencode(),
    }
    return render(request, f"{template}#results" if request.htmx else template, context)
