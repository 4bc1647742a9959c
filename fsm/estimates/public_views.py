"""The customer's estimate page, reached by the link in the text or e-mail: /e/<token>/.

The options side by side (stacked on a phone), add-ons to tick, the total as ticked (recomputed by the
server), then name + signature to accept, or a reason to decline. Opening it marks the estimate viewed.
"""

from django.db.models import Prefetch
from django.shortcuts import redirect, render
from django.urls import reverse
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


def _context(estimate: Estimate, **extra) -> dict:
    chosen = extra.pop("chosen_option", None)
    return {
        "estimate": estimate,
        "options": estimate.shown_options,
        "business": Business.current(),
        "open": estimate.state in Estimate.OPEN_STATES,
        "chosen_option": chosen,
        "accept_url": reverse("estimate-public-accept", args=[estimate.public_token]),
        "quote_url": reverse("estimate-public-quote", args=[estimate.public_token]),
        "decline_url": reverse("estimate-public-decline", args=[estimate.public_token]),
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
@public_document
@require_POST
def estimate_quote(request, token: str):
    """htmx: the total of one option with the add-ons ticked (the server's arithmetic, not the page's)."""
    estimate = _estimate(request, token)
    option = next((o for o in estimate.shown_options if str(o.pk) == request.POST.get("option")), None)
    if option is None:
        return render(request, "fsm/estimates/_quote.html", {"option": None})
    ticked = {int(v) for v in request.POST.getlist("addons") if v.isdigit()}
    ticked &= {line.pk for line in option.lines.all() if line.is_addon}
    totals = services.option_totals(option, ticked)
    return render(request, "fsm/estimates/_quote.html", {"option": option, "totals": totals})


@public
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
