"""The customer's estimate page, reached by the link in the text or e-mail: /e/<token>/.

The options side by side (stacked on a phone), add-ons to tick, the total as ticked (recomputed by the
server), then name + signature to accept, or a reason to decline. Opening it marks the estimate viewed.

The POSTs are exempt from Django's CSRF check: the page sends `Referrer-Policy: no-referrer`, so the
browser's Origin header is "null" and the origin check would refuse every real customer; and a forged
request would need the link's secret token, which is what the check would protect.
"""

from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from common.errors import ApplicationError
from users.access import public
from users.models import Business

from ..documents.public import find_by_token, public_document
from . import services
from .models import Estimate, EstimateLine, EstimateOption

SHOWN = Estimate.objects.exclude(state=Estimate.State.DRAFT).select_related("customer", "property")


def _estimate(request, token: str) -> Estimate:
    estimate = find_by_token(request, SHOWN, token)
    lines = EstimateLine.objects.order_by("position", "pk")
    options = EstimateOption.objects.order_by("position", "pk").prefetch_related(Prefetch("lines", lines))
    estimate.shown_options = list(options.filter(estimate=estimate))
    return estimate


def quote_for(options, chosen: int | None, ticked: set[int]) -> dict:
    """The total shown under the options when the page comes back with a choice made (a refusal)."""
    option = next((o for o in options if o.pk == chosen), None)
    if option is None:
        return {"quote_option": None, "quote_totals": None}
    addons = ticked & {line.pk for line in option.addons}
    return {"quote_option": option, "quote_totals": services.option_totals(option, addons)}


def _context(estimate: Estimate, **extra) -> dict:
    chosen = extra.pop("chosen_option", None)
    quote = quote_for(estimate.shown_options, chosen, extra.get("ticked", set()))
    return {
        **quote,
        "estimate": estimate,
        "options": estimate.shown_options,
        "business": Business.current(),
        "open": estimate.state in Estimate.OPEN_STATES,
        "chosen_option": chosen,
        "accept_url": reverse("estimate-public-accept", args=[estimate.public_token]),
        "quote_url": reverse("estimate-public-quote", args=[estimate.public_token]),
        "decline_url": reverse("estimate-public-decline", args=[estimate.public_token]),
        "photos": list(estimate.attachments.values_list("photo_id", flat=True)),
        **extra,
    }


@public
@public_document
@require_GET
def estimate_page(request, token: str):
    estimate = _estimate(request, token)
    estimate = _viewed(estimate)
    return render(request, "fsm/estimates/public.html", _context(estimate))


def _viewed(estimate: Estimate) -> Estimate:
    if estimate.state == Estimate.State.SENT:
        shown = estimate.shown_options
        estimate = services.estimate_viewed(estimate=estimate)
        estimate.shown_options = shown
    return estimate


@public
@csrf_exempt
@public_document
@require_POST
def estimate_quote(request, token: str):
    """htmx: the total of one option with the add-ons ticked (the server's arithmetic, not the page's)."""
    estimate = _estimate(request, token)
    return quote_response(request, estimate.shown_options)


@public
@public_document
@require_GET
def estimate_pdf(request, token: str):
    from ..documents.pdf import estimate_pdf as render
    from ..documents.pdf import pdf_response

    estimate = _estimate(request, token)
    return pdf_response(render(estimate), f"{estimate.number}.pdf")


@public
@public_document
@require_GET
def estimate_photo(request, token: str, photo_pk: int):
    """A photo the office attached to the estimate (only those), for the customer's page."""
    from ..views import stored_file_response

    estimate = _estimate(request, token)
    attachment = estimate.attachments.select_related("photo").filter(photo_id=photo_pk).first()
    if attachment is None:
        raise Http404("No such photo.")
    return stored_file_response(attachment.photo.file_for(request.GET.get("size", "")))


def quote_response(request, options):
    """The `#quote` fragment for the option and add-ons the form posted (also the on-site page's)."""
    chosen = int(request.POST["option"]) if request.POST.get("option", "").isdigit() else None
    ticked = {int(v) for v in request.POST.getlist("addons") if v.isdigit()}
    quote = quote_for(options, chosen, ticked)
    return render(
        request,
        "fsm/estimates/_quote.html",
        {"option": quote["quote_option"], "totals": quote["quote_totals"]},
    )


@public
@csrf_exempt
@public_document
@require_http_methods(["POST"])
def estimate_accept(request, token: str):
    estimate = _estimate(request, token)
    try:
        services.estimate_accept(
            estimate=estimate,
            option_id=_int(request.POST.get("option")),
            addon_ids=request.POST.getlist("addons"),
            signer_name=request.POST.get("signer_name", ""),
            signature=request.POST.get("signature", ""),
        )
    except ApplicationError as error:
        return _refused(request, estimate, error, "accept")
    return redirect("estimate-public", token=token)


@public
@csrf_exempt
@public_document
@require_http_methods(["POST"])
def estimate_decline(request, token: str):
    estimate = _estimate(request, token)
    try:
        services.estimate_decline(estimate=estimate, reason=request.POST.get("reason", ""))
    except ApplicationError as error:
        return _refused(request, estimate, error, "decline")
    return redirect("estimate-public", token=token)


def _refused(request, estimate: Estimate, error: ApplicationError, form: str):
    estimate.refresh_from_db()
    chosen = _int(request.POST.get("option"))
    context = _context(
        estimate,
        errors={error.field or "page": error.message},
        form=form,
        values=request.POST,
        chosen_option=chosen,
        ticked={int(v) for v in request.POST.getlist("addons") if v.isdigit()},
    )
    return render(request, "fsm/estimates/public.html", context, status=400)


def _int(value) -> int:
    return int(value) if str(value or "").isdigit() else 0
