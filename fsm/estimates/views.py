"""The office's and the technician's estimate pages: list, new, the editor (a draft), sending, and
presenting it on the phone for the customer to sign on site.

Every write calls fsm.estimates.services; a refusal re-renders the page with the message on the form
that sent it (status 400), so nothing typed is lost.
"""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods, require_POST

from common.errors import ApplicationError
from customers.selectors import get_customer_for_user
from users.access import role_required
from users.models import Business
from users.roles import Role

from ..documents.parties import customer_contacts
from ..documents.views import as_int, line_in, list_page
from ..models import DISPATCH_ROLES, Job
from ..pricebook.models import PricebookItem
from . import selectors, services
from .models import Estimate, EstimateLine, EstimateOption
from .public_views import quote_for, quote_response

EDITORS = (*DISPATCH_ROLES, Role.TECHNICIAN)


@role_required(*DISPATCH_ROLES)
def estimate_list(request):
    estimate_filter = selectors.estimate_list(user=request.user, data=request.GET or None)
    return list_page(
        request,
        estimate_filter,
        "fsm/estimates/list.html",
        summary=selectors.estimate_totals,
    )


@role_required(*EDITORS)
@require_http_methods(["GET", "POST"])
def estimate_new(request):
    """From a customer (office), a job (office or its technician), or a lead (the lead page's button)."""
    job = None
    if job_id := (request.GET.get("job") or request.POST.get("job")):
        job = get_object_or_404(Job.objects.select_related("customer", "property"), pk=as_int(job_id))
        customer = job.customer
    elif request.user.has_role(*DISPATCH_ROLES):
        customer = get_customer_for_user(
            request.user, as_int(request.GET.get("customer") or request.POST.get("customer"))
        )
    else:
        raise Http404("Start an estimate from your job.")
    properties = list(customer.properties.all())
    values = (
        request.POST
        if request.method == "POST"
        else {
            "title": job.service if job else "",
            "property": str(
                job.property_id if job and job.property_id else (properties[0].pk if properties else "")
            ),
            "options": "3",
        }
    )
    errors = {}
    if request.method == "POST":
        count = as_int(request.POST.get("options")) or 1
        prop = next((p for p in properties if str(p.pk) == request.POST.get("property")), None)
        try:
            estimate = services.estimate_create(
                customer=customer,
                property=prop,
                job=job,
                actor=request.user,
                title=request.POST.get("title", ""),
                origin_lead_id=as_int(request.POST.get("lead")) or None,
                option_names=services.DEFAULT_OPTION_NAMES[:count] if count > 1 else ("Option 1",),
            )
        except ApplicationError as error:
            errors[error.field or "page"] = error.message
        else:
            return redirect("estimate-detail", pk=estimate.pk)
    context = {
        "customer": customer,
        "job": job,
        "lead_id": request.GET.get("lead") or request.POST.get("lead") or "",
        "properties": properties,
        "values": values,
        "errors": errors,
    }
    return render(request, "fsm/estimates/new.html", context, status=400 if errors else 200)


@role_required(*EDITORS)
def estimate_detail(request, pk: int, errors: dict | None = None, status: int = 200):
    estimate = selectors.estimate_for_user(request.user, pk)
    options = selectors.options_with_lines(estimate)
    context = {
        "estimate": estimate,
        "options": options,
        "can_add_option": estimate.is_editable and len(options) < Estimate.MAX_OPTIONS,
        "errors": errors or {},
        "values": request.POST if errors else {},
        "public_url": services.public_url(estimate) if estimate.state != Estimate.State.DRAFT else "",
        "contacts": customer_contacts(estimate.customer),
        "business": Business.current(),
        "back": _back(request, estimate),
        "job_photos": list(estimate.job.photos.all()) if estimate.job_id else [],
        "attached": set(estimate.attachments.values_list("photo_id", flat=True)),
    }
    return render(request, "fsm/estimates/detail.html", context, status=status)


def _back(request, estimate: Estimate) -> tuple[str, str]:
    if request.user.has_role(Role.TECHNICIAN) and estimate.job_id:
        return reverse("tech-job", args=[estimate.job_id]), f"Job {estimate.job.number}"
    return reverse("estimate-list"), "Estimates"


def _act(request, pk: int, do, *, scope: str, scope_pk: int = 0, anchor: str = "", done: str = ""):
    """Run one service call for the estimate; on refusal, the page again with the message on the form
    that sent it (`scope`, and the option's or line's pk)."""
    estimate = selectors.estimate_for_user(request.user, pk)
    try:
        do(estimate)
    except ApplicationError as error:
        errors = {
            "scope": scope,
            "scope_pk": scope_pk,
            "message": error.message,
            error.field or "page": error.message,
        }
        return estimate_detail(request, pk, errors=errors, status=400)
    if done:
        messages.success(request, done)
    return redirect(reverse("estimate-detail", args=[pk]) + (f"#{anchor}" if anchor else ""))


def _option(estimate: Estimate, option_pk: int) -> EstimateOption:
    return get_object_or_404(EstimateOption, pk=option_pk, estimate=estimate)


def _line(estimate: Estimate, line_pk: int) -> EstimateLine:
    return get_object_or_404(
        EstimateLine.objects.select_related("option"), pk=line_pk, option__estimate=estimate
    )


@role_required(*EDITORS)
@require_POST
def estimate_edit(request, pk: int):
    post = request.POST
    return _act(
        request,
        pk,
        lambda e: services.estimate_update(
            estimate=e,
            actor=request.user,
            title=post.get("title", ""),
            message=post.get("message", ""),
            internal_notes=post.get("internal_notes", ""),
        ),
        scope="details",
        done="Saved.",
    )


@role_required(*EDITORS)
@require_POST
def option_add(request, pk: int):
    return _act(request, pk, lambda e: services.option_add(estimate=e, actor=request.user), scope="options")


@role_required(*EDITORS)
@require_POST
def option_edit(request, pk: int, option_pk: int):
    post = request.POST

    def do(estimate):
        option = _option(estimate, option_pk)
        if post.get("remove"):
            return services.option_remove(option=option, actor=request.user)
        return services.option_update(
            option=option,
            actor=request.user,
            name=post.get("name", ""),
            description=post.get("description", ""),
            discount=post.get("discount") or "0",
        )

    return _act(request, pk, do, scope="option", scope_pk=option_pk, anchor=f"option-{option_pk}")


@role_required(*EDITORS)
@require_POST
def line_add(request, pk: int, option_pk: int):
    item = None
    if item_id := as_int(request.POST.get("item")):
        item = get_object_or_404(PricebookItem, pk=item_id)

    def do(estimate):
        services.line_add(
            option=_option(estimate, option_pk), actor=request.user, line=line_in(request.POST), item=item
        )

    return _act(request, pk, do, scope="add", scope_pk=option_pk, anchor=f"option-{option_pk}")


@role_required(*EDITORS)
@require_POST
def line_edit(request, pk: int, line_pk: int):
    def do(estimate):
        line = _line(estimate, line_pk)
        if request.POST.get("remove"):
            return services.line_remove(line=line, actor=request.user)
        return services.line_update(line=line, actor=request.user, changes=line_in(request.POST))

    estimate = selectors.estimate_for_user(request.user, pk)
    option_pk = _line(estimate, line_pk).option_id
    return _act(request, pk, do, scope="line", scope_pk=line_pk, anchor=f"option-{option_pk}")


@role_required(*EDITORS)
@require_POST
def estimate_photos(request, pk: int):
    return _act(
        request,
        pk,
        lambda e: services.estimate_photos_set(
            estimate=e, actor=request.user, photo_ids=request.POST.getlist("photos")
        ),
        scope="photos",
        anchor="photos",
        done="Photos saved.",
    )


@role_required(*EDITORS)
@require_POST
def estimate_send(request, pk: int):
    sms, email = request.POST.get("sms") == "on", request.POST.get("email") == "on"
    return _act(
        request,
        pk,
        lambda e: services.estimate_send(estimate=e, actor=request.user, sms=sms, email=email),
        scope="send",
        done="Sent. The customer's link is below.",
    )


@role_required(*EDITORS)
@require_POST
def estimate_renew(request, pk: int):
    return _act(
        request,
        pk,
        lambda e: services.estimate_renew(estimate=e, actor=request.user),
        scope="state",
        done="Renewed.",
    )


@role_required(*EDITORS)
@require_POST
def estimate_link_renew(request, pk: int):
    return _act(
        request,
        pk,
        lambda e: services.estimate_link_renew(estimate=e, actor=request.user),
        scope="link",
        done="A new link was made; the old one no longer opens.",
    )


@role_required(*EDITORS)
@require_http_methods(["GET", "POST"])
def estimate_present(request, pk: int):
    """On the technician's (or the office's) screen, in front of the customer: the options large and
    readable, and "customer accepts here" with their name and signature."""
    estimate = selectors.estimate_for_user(request.user, pk)
    errors, status = {}, 200
    if request.method == "POST":
        try:
            if estimate.state == Estimate.State.DRAFT:
                services.estimate_present(estimate=estimate, actor=request.user)
            services.estimate_accept(
                estimate=estimate,
                option_id=as_int(request.POST.get("option")),
                addon_ids=request.POST.getlist("addons"),
                signer_name=request.POST.get("signer_name", ""),
                signature=request.POST.get("signature", ""),
                actor=request.user,
                in_person=True,
            )
        except ApplicationError as error:
            errors, status = {error.field or "page": error.message}, 400
            estimate.refresh_from_db()
        else:
            messages.success(request, "Accepted and signed. The work is on the job.")
            return redirect("estimate-present", pk=pk)
    estimate.shown_options = selectors.options_with_lines(estimate)
    chosen = as_int(request.POST.get("option")) if errors else None
    ticked = {int(v) for v in request.POST.getlist("addons") if v.isdigit()} if errors else set()
    context = {
        **quote_for(estimate.shown_options, chosen, ticked),
        "estimate": estimate,
        "options": estimate.shown_options,
        "business": Business.current(),
        "open": estimate.state in (*Estimate.OPEN_STATES, Estimate.State.DRAFT),
        "present": True,
        "accept_url": reverse("estimate-present", args=[pk]),
        "quote_url": reverse("estimate-present-quote", args=[pk]),
        "errors": errors,
        "values": request.POST if errors else {},
        "chosen_option": chosen,
        "ticked": ticked,
        "back": _back(request, estimate),
    }
    return render(request, "fsm/estimates/public.html", context, status=status)


@role_required(*EDITORS)
@require_POST
def estimate_present_quote(request, pk: int):
    estimate = selectors.estimate_for_user(request.user, pk)
    return quote_response(request, selectors.options_with_lines(estimate))


@role_required(*EDITORS)
def estimate_pdf(request, pk: int):
    from ..documents.pdf import estimate_pdf as render
    from ..documents.pdf import pdf_response

    estimate = selectors.estimate_for_user(request.user, pk)
    return pdf_response(render(estimate), f"{estimate.number}.pdf")


urlpatterns = [
    path("estimates/", estimate_list, name="estimate-list"),
    path("estimates/new/", estimate_new, name="estimate-new"),
    path("estimates/<int:pk>/", estimate_detail, name="estimate-detail"),
    path("estimates/<int:pk>/edit/", estimate_edit, name="estimate-edit"),
    path("estimates/<int:pk>/options/", option_add, name="estimate-option-add"),
    path("estimates/<int:pk>/options/<int:option_pk>/", option_edit, name="estimate-option-edit"),
    path("estimates/<int:pk>/options/<int:option_pk>/lines/", line_add, name="estimate-line-add"),
    path("estimates/<int:pk>/lines/<int:line_pk>/", line_edit, name="estimate-line-edit"),
    path("estimates/<int:pk>/send/", estimate_send, name="estimate-send"),
    path("estimates/<int:pk>/photos/", estimate_photos, name="estimate-photos"),
    path("estimates/<int:pk>/renew/", estimate_renew, name="estimate-renew"),
    path("estimates/<int:pk>/new-link/", estimate_link_renew, name="estimate-link-renew"),
    path("estimates/<int:pk>/present/", estimate_present, name="estimate-present"),
    path("estimates/<int:pk>/present/quote/", estimate_present_quote, name="estimate-present-quote"),
    path("estimates/<int:pk>/pdf/", estimate_pdf, name="estimate-pdf"),
]
