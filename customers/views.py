import csv
import json

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from common.errors import ApplicationError
from events.selectors import timeline_for
from users.access import role_required

from . import selectors, services
from .forms import CustomerFormBundle
from .models import ConsentEvent
from .selectors import CUSTOMER_READERS, CUSTOMER_WRITERS

PAGE_SIZE = 25


@role_required(*CUSTOMER_READERS)
def customer_list(request):
    query = request.GET.get("q", "").strip()
    tag = request.GET.get("tag", "").strip()
    page = selectors.customer_page(
        user=request.user, query=query, tag=tag, page_number=request.GET.get("page"), per_page=PAGE_SIZE
    )
    context = {
        "page": page,
        "query": query,
        "tag": tag,
        "tags": selectors.tag_names(),
        "can_edit": request.user.has_role(*CUSTOMER_WRITERS),
    }
    template = "customers/list.html#results" if request.htmx else "customers/list.html"
    return render(request, template, context)


@role_required(*CUSTOMER_READERS)
def customer_detail(request, pk: int):
    customer = selectors.get_customer_for_user(request.user, pk)
    if customer.is_merged:
        messages.info(request, f"{customer.display_name} was merged into this customer.")
        return redirect("customers:detail", pk=customer.merged_into_id)
    customer = selectors.with_contacts(selectors.customers_visible_to(request.user)).get(pk=customer.pk)
    numbers = [p.number.as_e164 for p in customer.phones.all()]
    context = {
        "customer": customer,
        "timeline": timeline_for(customer),
        "consent_events": ConsentEvent.objects.filter(number__in=numbers).select_related("actor")[:20],
        "can_edit": request.user.has_role(*CUSTOMER_WRITERS),
        "customer_tags": list(customer.tags.all()),
        "all_tags": selectors.tag_names(),
    }
    return render(request, "customers/detail.html", context)


@role_required(*CUSTOMER_WRITERS)
@require_POST
def customer_tags(request, pk: int):
    """The tag editor on the customer page (htmx swaps the tags block; without htmx, back to the page)."""
    customer = selectors.get_customer_for_user(request.user, pk)
    error = ""
    try:
        services.customer_tags_set(customer=customer, names=request.POST.get("tags", ""), actor=request.user)
    except ApplicationError as exc:
        error = exc.message
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect("customers:detail", pk=customer.pk)
    context = {
        "customer": customer,
        "customer_tags": list(customer.tags.all()),
        "all_tags": selectors.tag_names(),
        "can_edit": True,
        "tags_error": error,
        "tags_typed": request.POST.get("tags", "") if error else None,
    }
    return render(request, "customers/_tags.html", context)  # 200 even with an error: htmx swaps it in


@role_required(*CUSTOMER_WRITERS)
@require_http_methods(["GET", "POST"])
def customer_create(request):
    bundle = CustomerFormBundle(request.POST or None)
    duplicates = []
    if request.method == "POST" and bundle.is_valid():
        duplicates = list(
            selectors.customer_find_duplicates(phones=bundle.phone_numbers(), emails=bundle.email_addresses())
        )
        if not duplicates or request.POST.get("save_anyway"):
            try:
                customer = services.customer_create(actor=request.user, **bundle.service_kwargs())
            except ApplicationError as error:
                bundle.add_service_error(error)
            else:
                messages.success(request, f"{customer.display_name} added.")
                return redirect("customers:detail", pk=customer.pk)
    return render(
        request, "customers/form.html", {"bundle": bundle, "duplicates": duplicates, "creating": True}
    )


@role_required(*CUSTOMER_WRITERS)
@require_http_methods(["GET", "POST"])
def customer_edit(request, pk: int):
    customer = selectors.get_customer_for_user(request.user, pk)
    if customer.is_merged:
        return redirect("customers:edit", pk=customer.merged_into_id)
    bundle = CustomerFormBundle(request.POST or None, customer=customer)
    if request.method == "POST" and bundle.is_valid():
        try:
            services.customer_update(customer=customer, actor=request.user, **bundle.service_kwargs())
        except ApplicationError as error:
            bundle.add_service_error(error)
        else:
            messages.success(request, "Changes saved.")
            return redirect("customers:detail", pk=customer.pk)
    return render(request, "customers/form.html", {"bundle": bundle, "customer": customer, "creating": False})


@role_required(*CUSTOMER_READERS)
def consent_export(request, pk: int):
    """The consent ledger of the customer's numbers as CSV (for a carrier or a lawyer)."""
    customer = selectors.get_customer_for_user(request.user, pk)
    numbers = [p.number.as_e164 for p in customer.phones.all()]
    response = HttpResponse(content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="consent-customer-{customer.pk}.csv"'
    writer = csv.writer(response)
    writer.writerow(["when (UTC)", "number", "state", "method", "purpose", "by", "evidence"])
    for event in (
        ConsentEvent.objects.filter(number__in=numbers).select_related("actor").order_by("created_at")
    ):
        writer.writerow(
            [
                event.created_at.isoformat(),
                event.number.as_e164,
                event.state,
                event.method,
                event.purpose,
                str(event.actor or ""),
                json.dumps(event.evidence, sort_keys=True),
            ]
        )
    return response


@role_required(*CUSTOMER_WRITERS)
@require_http_methods(["POST"])
def consent_clear_flag(request, pk: int, phone_pk: int):
    """A person read the "please stop" message and decided: automated texts may resume."""
    customer = selectors.get_customer_for_user(request.user, pk)
    phone = get_object_or_404(customer.phones, pk=phone_pk)
    if phone.revocation_flagged_at:
        services.consent_record(
            number=phone.number.as_e164,
            state=ConsentEvent.State.REVOCATION_CLEARED,
            method=ConsentEvent.Method.STAFF,
            actor=request.user,
            evidence={"note": request.POST.get("note", "")[:300]},
        )
        messages.success(request, f"Automated texts to {phone.number.as_national} may go out again.")
    return redirect("customers:detail", pk=customer.pk)


@role_required(*CUSTOMER_WRITERS)
def customer_duplicates(request):
    """htmx: while a new customer is typed, list existing customers with the same phone or e-mail."""
    phones, emails = [], []
    for key, raw in request.GET.lists():
        for value in raw:
            if key.endswith("-number") and value.strip():
                try:
                    phones.append(services.phone_normalize(value))
                except ApplicationError:
                    continue
            elif key.endswith("-email") and "@" in value:
                emails.append(value.strip())
    exclude = request.GET.get("exclude")
    duplicates = (
        list(
            selectors.customer_find_duplicates(
                phones=phones, emails=emails, exclude_pk=exclude if str(exclude).isdigit() else None
            )[:5]
        )
        if phones or emails
        else []
    )
    return render(request, "customers/form.html#duplicates", {"duplicates": duplicates, "live": True})


@role_required(*CUSTOMER_WRITERS)
@require_http_methods(["GET", "POST"])
def customer_merge(request, pk: int):
    """Fold another customer into this one: pick the duplicate, compare, confirm."""
    survivor = selectors.get_customer_for_user(request.user, pk)
    if survivor.is_merged:
        return redirect("customers:merge", pk=survivor.merged_into_id)
    query = request.GET.get("q", "").strip()
    duplicate = None
    duplicate_id = request.POST.get("duplicate") or request.GET.get("duplicate")
    if duplicate_id:
        duplicate = selectors.get_customer_for_user(request.user, duplicate_id)
    if request.method == "POST" and duplicate is not None:
        try:
            services.customer_merge(survivor=survivor, duplicate=duplicate, actor=request.user)
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"{duplicate.display_name} merged into {survivor.display_name}.")
            return redirect("customers:detail", pk=survivor.pk)
    readable = selectors.customers_visible_to(request.user)
    candidates = _merge_candidates(survivor, query, readable)
    context = {
        "survivor": selectors.with_contacts(readable).get(pk=survivor.pk),
        "duplicate": selectors.with_contacts(readable).get(pk=duplicate.pk) if duplicate else None,
        "candidates": candidates,
        "query": query,
    }
    template = "customers/merge.html#candidates" if request.htmx else "customers/merge.html"
    return render(request, template, context)


def _merge_candidates(survivor, query, readable):
    if query:
        qs = selectors.customer_search(readable.active(), query)
    else:
        qs = selectors.customer_find_duplicates(
            phones=[p.number.as_e164 for p in survivor.phones.all()],
            emails=[e.email for e in survivor.emails.all()],
        )
    return list(selectors.with_contacts(qs.exclude(pk=survivor.pk)).order_by("sort_name", "pk")[:10])
