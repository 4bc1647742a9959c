"""The customer's invoice page, reached by the link in the text or e-mail: /i/<token>/.

With online payment configured (`STRIPE_SECRET_KEY`) an invoice with a balance shows a Pay button that
posts to the payment edge (integrations/payments, reached by URL name only: fsm never imports it). The
page never marks anything paid from the redirect back (`?paid=1`): only the signed webhook records the
payment, and until it lands the page says the payment is being confirmed."""

from django.conf import settings
from django.shortcuts import render
from django.views.decorators.http import require_GET

from users.access import public
from users.models import Business

from ..documents.public import find_by_token, public_document
from .models import Invoice, Payment

SHOWN = Invoice.objects.exclude(state=Invoice.State.DRAFT).select_related("customer", "property")


@public
@public_document
@require_GET
def invoice_page(request, token: str):
    invoice = find_by_token(request, SHOWN, token)
    payments = list(invoice.payments.order_by("received_at", "pk"))
    context = {
        "invoice": invoice,
        "lines": list(invoice.lines.order_by("position", "pk")),
        "payments": payments,
        "business": Business.current(),
        "pay_online": online_payment_offered(invoice),
        **returned_from_checkout(request, invoice, payments),
    }
    response = render(request, "fsm/invoices/public.html", context)
    if context["pay_online"]:
        # The Pay form's POST is answered with a redirect to the provider's page: browsers check a form's
        # redirects against form-action too.
        response._csp_update = {"form-action": [settings.STRIPE_CHECKOUT_ORIGIN]}
    return response


def online_payment_offered(invoice: Invoice) -> bool:
    """Both keys: without the webhook's secret a card payment could be taken and never recorded."""
    configured = bool(settings.STRIPE_SECRET_KEY and settings.STRIPE_WEBHOOK_SECRET)
    return configured and invoice.state in Invoice.PAYABLE_STATES and invoice.balance > 0


def returned_from_checkout(request, invoice: Invoice, payments: list[Payment]) -> dict:
    """What to say after the customer comes back from the card page: `?paid=1` (with the session id
    when the provider fills it in), `?canceled=1`, or `?pay_error=1` (the card page could not be
    opened). "received" only once the webhook has recorded the payment."""
    if request.GET.get("canceled") == "1":
        return {"checkout": "canceled"}
    if request.GET.get("pay_error") == "1":
        return {"checkout": "unavailable"}
    if request.GET.get("paid") != "1":
        return {"checkout": ""}
    session = request.GET.get("session", "")
    received = next((p for p in payments if session and p.stripe_session_id == session), None)
    if received is None and not session and invoice.state == Invoice.State.PAID:
        received = next((p for p in reversed(payments) if p.method == Payment.Method.ONLINE), None)
    return {"checkout": "received" if received else "confirming", "received_payment": received}


@public
@public_document
@require_GET
def invoice_pdf(request, token: str):
    from ..documents.pdf import invoice_pdf as render
    from ..documents.pdf import pdf_response

    invoice = find_by_token(request, SHOWN, token)
    return pdf_response(render(invoice), f"{invoice.number}.pdf")
