"""The pricebook pages: the list (everyone on staff looks prices up; the owner and the office edit), the
item form, the search the line editors call as the user types, and CSV export and import.

Every write calls fsm.pricebook.services (or csv_io.import_apply, which calls them); a service's
ApplicationError lands on the form field it names. htmx refreshes the list's results as filters change.
"""

from pathlib import Path

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from common.errors import ApplicationError, NotFound
from events.selectors import timeline_for
from users.access import role_required
from users.roles import ALL_ROLES, STAFF_ROLES

from . import csv_io, selectors, services
from .forms import ItemFilter, ItemForm, UploadForm
from .models import PricebookItem

PAGE_SIZE = 50
PREVIEW_ROWS = 200
EDIT_ROLES = STAFF_ROLES  # owner and office
VIEW_ROLES = ALL_ROLES  # dispatchers quote prices on the phone; technicians price work on site


# --- The list --------------------------------------------------------------------------------------------


@role_required(*VIEW_ROLES)
@require_GET
def item_list_view(request):
    item_filter = ItemFilter(request.GET, queryset=selectors.item_list(active=None))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "filter": item_filter,
        "page": Paginator(item_filter.qs, PAGE_SIZE).get_page(request.GET.get("page")),
        "querystring": query.urlencode(),
        "filtered": any(query.values()),
        "can_edit": request.user.has_role(*EDIT_ROLES),
        "show_costs": selectors.can_see_costs(request.user),
    }
    template = "fsm/pricebook/list.html#results" if request.htmx else "fsm/pricebook/list.html"
    return render(request, template, context)


def search_result(item: PricebookItem, *, with_cost: bool) -> dict:
    """One item as the line editors receive it; money as strings with two decimals."""
    return {
        "id": item.pk,
        "code": item.code,
        "name": item.name,
        "description": item.description,
        "category": item.category,
        "kind": item.kind,
        "unit": item.unit,
        "price": str(item.price),
        "member_price": None if item.member_price is None else str(item.member_price),
        "cost": str(item.cost) if with_cost else None,
        "taxable": item.taxable,
    }


@role_required(*VIEW_ROLES)
@require_GET
def item_search_view(request):
    """GET /pricebook/search/?q=wh&limit=10&kind=material: active items, best match first, as JSON.
    Costs are null for roles that do not see them (dispatchers, technicians)."""
    try:
        limit = int(request.GET.get("limit") or selectors.SEARCH_LIMIT)
    except ValueError:
        limit = selectors.SEARCH_LIMIT
    kind = request.GET.get("kind", "")
    items = selectors.item_search(
        q=request.GET.get("q", ""), limit=limit, kind=kind if kind in PricebookItem.Kind.values else ""
    )
    with_cost = selectors.can_see_costs(request.user)
    response = JsonResponse({"results": [search_result(item, with_cost=with_cost) for item in items]})
    response["Cache-Control"] = "private, no-store"
    return response


# --- One item --------------------------------------------------------------------------------------------


def _list_url_for(item: PricebookItem) -> str:
    return f"{reverse('pricebook-list')}?{urlencode({'q': item.code, 'status': 'all'})}"


@role_required(*EDIT_ROLES)
@require_http_methods(["GET", "POST"])
def item_create_view(request):
    form = ItemForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            item = services.item_create(data=form.item_in(), actor=request.user)
        except ApplicationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, f"{item.code} {item.name} added to the pricebook.")
            if "add_another" in request.POST:
                return redirect("pricebook-create")
            return redirect(_list_url_for(item))
    return render(request, "fsm/pricebook/form.html", {"form": form, "item": None})


@role_required(*EDIT_ROLES)
@require_http_methods(["GET", "POST"])
def item_edit_view(request, pk: int):
    item = selectors.get_item(pk)
    form = ItemForm(request.POST) if request.method == "POST" else ItemForm.for_item(item)
    if request.method == "POST" and form.is_valid():
        try:
            item = services.item_update(item=item, data=form.item_in(), actor=request.user)
        except ApplicationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, f"{item.code} saved.")
            return redirect(_list_url_for(item))
    context = {"form": form, "item": item, "timeline": timeline_for(item)}
    return render(request, "fsm/pricebook/form.html", context)


@role_required(*EDIT_ROLES)
@require_POST
def item_active_view(request, pk: int):
    """Deactivate (hidden from the line editors' search) or reactivate an item."""
    item = selectors.get_item(pk)
    if request.POST.get("active") == "1":
        item = services.item_reactivate(item=item, actor=request.user)
        messages.success(request, f"{item.code} is active again.")
    else:
        item = services.item_deactivate(item=item, actor=request.user)
        messages.success(request, f"{item.code} deactivated: line editors no longer offer it.")
    return redirect("pricebook-edit", pk=item.pk)


# --- CSV -------------------------------------------------------------------------------------------------


def _csv_response(text: str, filename: str) -> HttpResponse:
    response = HttpResponse(text.encode("utf-8-sig"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@role_required(*EDIT_ROLES)
@require_GET
def export_view(request):
    stamp = timezone.localdate().isoformat()
    return _csv_response(csv_io.pricebook_export(), f"pricebook-{stamp}.csv")


def _session_key(token: str) -> str:
    return f"pricebook-import:{token}"


@role_required(*EDIT_ROLES)
@require_http_methods(["GET", "POST"])
def import_upload_view(request):
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        raw = upload.read()
        try:
            csv_io.import_plan(raw)  # a file that cannot be read is refused here, on the form
        except ApplicationError as error:
            form.add_service_error(error)
        else:
            token = csv_io.upload_store(raw)
            request.session[_session_key(token)] = Path(upload.name).name
            return redirect("pricebook-import-preview", token=token)
    return render(request, "fsm/pricebook/import_upload.html", {"form": form})


def _plan_or_404(token: str) -> csv_io.Plan:
    try:
        return csv_io.import_plan(csv_io.upload_read(token))
    except NotFound as error:
        raise Http404(error.message) from None


def _preview_context(request, token: str, plan: csv_io.Plan) -> dict:
    shown = [row for row in plan.rows if row.action == csv_io.PROBLEM]
    shown += [row for row in plan.rows if row.action in (csv_io.CREATE, csv_io.UPDATE)]
    return {
        "token": token,
        "plan": plan,
        "counts": plan.counts,
        "rows": shown[:PREVIEW_ROWS],
        "more_rows": max(len(shown) - PREVIEW_ROWS, 0),
        "filename": request.session.get(_session_key(token), "your file"),
    }


@role_required(*EDIT_ROLES)
@require_http_methods(["GET", "POST"])
def import_preview_view(request, token: str):
    """The check of every row (GET); "Import" (POST) writes the good rows, all together."""
    plan = _plan_or_404(token)
    if request.method == "POST":
        try:
            plan = csv_io.import_apply(token=token, actor=request.user)
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            counts = plan.counts
            messages.success(
                request,
                f"Pricebook imported: {counts['create']} new, {counts['update']} updated, "
                f"{counts['unchanged']} unchanged, {counts['problem']} left out.",
            )
            request.session.pop(_session_key(token), None)
            return redirect("pricebook-list")
    return render(request, "fsm/pricebook/import_preview.html", _preview_context(request, token, plan))


@role_required(*EDIT_ROLES)
@require_GET
def import_problems_view(request, token: str):
    plan = _plan_or_404(token)
    name = Path(request.session.get(_session_key(token), "pricebook.csv")).stem or "pricebook"
    return _csv_response(csv_io.problems_csv(plan), f"{name}-problems.csv")


urlpatterns = [
    path("pricebook/", item_list_view, name="pricebook-list"),
    path("pricebook/search/", item_search_view, name="pricebook-search"),
    path("pricebook/new/", item_create_view, name="pricebook-create"),
    path("pricebook/<int:pk>/edit/", item_edit_view, name="pricebook-edit"),
    path("pricebook/<int:pk>/active/", item_active_view, name="pricebook-active"),
    path("pricebook/export.csv", export_view, name="pricebook-export"),
    path("pricebook/import/", import_upload_view, name="pricebook-import"),
    path("pricebook/import/<str:token>/", import_preview_view, name="pricebook-import-preview"),
    path("pricebook/import/<str:token>/problems.csv", import_problems_view, name="pricebook-import-problems"),
]
