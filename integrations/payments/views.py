"""The two Stripe endpoints, both public (users.access):

POST /integrations/stripe/pay/<token>/   the invoice page's Pay button: a Checkout Session for the
                                         balance, then 303 to Stripe's page (CSRF-protected: our form)
POST /integrations/stripe/webhook/       Stripe's signed events (CSRF-exempt: Stripe-Signature is the
                                         proof); 400 naming the problem, nothing stored, when unsigned
"""

import logging

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from fsm.documents.public import find_by_token, public_document
from fsm.invoices.models import Invoice
from fsm.invoices.services import public_url
from users.access import public

from . import stripe_gateway
from .services import stripe_event_handle

logger = logging.getLogger(__name__)


class SeeOther(HttpResponseRedirect):
    status_code = 303


@public
@csrf_exempt  # the page sends no-referrer (Origin: null); the link's secret token is the capability
@public_document
@require_POST
def pay(request: HttpRequest, token: str) -> HttpResponse:
    if not stripe_gateway.is_configured():
        raise Http404("Online payment is not set up.")
    invoice = find_by_token(request, Invoice.objects.exclude(state=Invoice.State.DRAFT), token)
    if invoice.state not in Invoice.PAYABLE_STATES or invoice.balance <= 0:
        return SeeOther(public_url(invoice))  # paid or void meanwhile: the page says so
    try:
        session = stripe_gateway.checkout_session_create(invoice=invoice, customer_email=_email(invoice))
    except stripe_gateway.PaymentGatewayError as error:
        logger.warning("No Checkout Session for invoice %s: %s", invoice.number, error.message)
        return SeeOther(public_url(invoice) + "?pay_error=1")
    return SeeOther(session.url)


def _email(invoice: Invoice) -> str:
    emails = invoice.customer.emails.order_by("-is_primary", "pk").values_list("email", flat=True)
    return emails.first() or ""


@public
@csrf_exempt
@require_POST
def webhook(request: HttpRequest) -> JsonResponse:
    try:
        event = stripe_gateway.webhook_event(
            payload=request.body, signature=request.headers.get("Stripe-Signature", "")
        )
    except stripe_gateway.WebhookRefused as refused:
        logger.warning("Refused a Stripe webhook: %s", refused)
        return JsonResponse({"error": str(refused)}, status=400)
    stored = stripe_event_handle(event=event)
    return JsonResponse({"received": True, "event": stored.event_id, "outcome": stored.outcome})
