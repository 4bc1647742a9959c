"""Stripe through its official SDK. One client per call (no process-wide `stripe.api_key`), pointed at
STRIPE_API_BASE (tests: a local stand-in that speaks the Checkout Sessions API)."""

import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal

import stripe
from django.conf import settings

from fsm.invoices.models import Invoice
from fsm.invoices.services import public_url

TIMEOUT_SECONDS = 15
NETWORK_RETRIES = 2  # safe: every create carries an idempotency key


class PaymentGatewayError(Exception):
    """Stripe could not be reached or refused the request; `retryable` says whether trying again may help."""

    def __init__(self, message: str, *, retryable: bool):
        super().__init__(message)
        self.message = message
        self.retryable = retryable


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str
    amount_cents: int


def is_configured() -> bool:
    """Both keys: without the webhook's secret a card payment could be taken and never recorded."""
    return bool(settings.STRIPE_SECRET_KEY and settings.STRIPE_WEBHOOK_SECRET)


def client() -> stripe.StripeClient:
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        base_addresses={"api": settings.STRIPE_API_BASE.rstrip("/")},
        max_network_retries=NETWORK_RETRIES,
        http_client=stripe.RequestsClient(timeout=TIMEOUT_SECONDS),
    )


def to_cents(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value())


def from_cents(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(Decimal("0.01"))


def checkout_session_create(*, invoice: Invoice, customer_email: str = "") -> CheckoutSession:
    """A Checkout Session (mode payment) for the invoice's balance, one line, in cents. The same request
    twice (a double tap, a second tab) gets the same session back for a day: the idempotency key is a
    digest of the parameters, so a new balance is a new session."""
    cents = to_cents(invoice.balance)
    page = public_url(invoice)
    params = {
        "mode": "payment",
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": settings.STRIPE_CURRENCY,
                    "unit_amount": cents,
                    "product_data": {"name": f"Invoice {invoice.number}"},
                },
            }
        ],
        "client_reference_id": str(invoice.pk),
        "metadata": {"invoice_id": str(invoice.pk), "invoice_token": invoice.public_token},
        "payment_intent_data": {"metadata": {"invoice_id": str(invoice.pk)}},
        "success_url": f"{page}?paid=1&session={{CHECKOUT_SESSION_ID}}",
        "cancel_url": f"{page}?canceled=1",
    }
    if customer_email:
        params["customer_email"] = customer_email
    digest = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:32]
    key = f"invoice-{invoice.pk}-checkout-{digest}"
    try:
        session = client().v1.checkout.sessions.create(params=params, options={"idempotency_key": key})
    except stripe.StripeError as error:
        retryable = isinstance(error, stripe.APIConnectionError | stripe.RateLimitError) or (
            error.http_status is not None and error.http_status >= 500
        )
        raise PaymentGatewayError(f"Stripe: {error.user_message or error}", retryable=retryable) from error
    return CheckoutSession(id=session.id, url=session.url, amount_cents=cents)


class WebhookRefused(Exception):
    """Not a webhook from Stripe for this endpoint: no secret configured, a missing, malformed or wrong
    signature, or a body that is not an event. Refused with 400 before anything is stored."""


def webhook_event(*, payload: bytes, signature: str) -> dict:
    """The verified event as plain data; WebhookRefused (saying why) when it is not Stripe's."""
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        raise WebhookRefused("No webhook secret is configured: every request is refused.")
    if not signature:
        raise WebhookRefused("The Stripe-Signature header is missing.")
    try:
        event = stripe.Webhook.construct_event(payload.decode("utf-8"), signature, secret)
    except stripe.SignatureVerificationError as error:
        raise WebhookRefused(f"Invalid Stripe-Signature: {error.user_message or error}") from error
    except ValueError as error:  # a body that is not JSON (or not UTF-8)
        raise WebhookRefused("The body is not a JSON event.") from error
    return event.to_dict()
