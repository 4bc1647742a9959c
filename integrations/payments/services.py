"""A verified Stripe event, handled once. Stripe's words in ours: a paid Checkout Session becomes
fsm.invoices.services.payment_record (method online, the session id, the rest kept as credit); the
business rules stay there.

What can happen to a paid session, and what we do:

    paid, invoice open            a payment (partial or whole); payment.received (and invoice.paid)
    paid more than the balance    the rest kept as the customer's credit (the office paid it meanwhile)
    invoice paid in full already  the whole amount kept as the customer's credit
    invoice void                  nothing recorded on it (a void invoice takes no payment): logged, an
                                  activity row on the invoice's and customer's timelines tells the office
                                  to refund it in Stripe or take it another way; 200, so Stripe stops
    not ours / not paid / other   stored as ignored; 200
    the same event again          the stored row answers; nothing changes (and a session pays once even
                                  under another event id)
"""

import logging
from datetime import UTC, datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from common import money
from common.errors import ApplicationError
from customers.models import Customer
from events import services as events
from fsm.invoices import services as invoices
from fsm.invoices.models import Invoice, Payment

from ..models import StripeEvent
from .stripe_gateway import from_cents

logger = logging.getLogger(__name__)

PAID_SESSION_EVENTS = ("checkout.session.completed", "checkout.session.async_payment_succeeded")
NOT_APPLIED = "integrations.stripe.payment_not_applied"


def stripe_event_handle(*, event: dict) -> StripeEvent:
    """Handle a verified event once per event id; a replay returns the stored row untouched. Anything
    unexpected rolls the whole event back (the row included), so Stripe's retry handles it again."""
    with transaction.atomic():
        stored, created = StripeEvent.objects.get_or_create(
            event_id=str(event.get("id", "")), defaults={"type": str(event.get("type", ""))[:100]}
        )
        if not created:
            logger.info("Stripe event %s again: already handled (%s).", stored.event_id, stored.outcome)
            return stored
        session = (event.get("data") or {}).get("object") or {}
        if stored.type not in PAID_SESSION_EVENTS or session.get("object") != "checkout.session":
            return _done(stored, StripeEvent.Outcome.IGNORED, "Not a Checkout Session event we act on.")
        stored.session_id = str(session.get("id", ""))[:255]
        return _paid_session(stored, session, received_at=_when(event))


def _paid_session(stored: StripeEvent, session: dict, *, received_at: datetime) -> StripeEvent:
    if session.get("payment_status") != "paid":
        return _done(stored, StripeEvent.Outcome.IGNORED, f"Not paid: {session.get('payment_status')}.")
    invoice = _invoice_for(session)
    if invoice is None:
        return _done(stored, StripeEvent.Outcome.IGNORED, "No invoice of ours in the session's metadata.")
    stored.invoice = invoice
    cents = session.get("amount_total")
    if session.get("currency") != settings.STRIPE_CURRENCY or not isinstance(cents, int) or cents <= 0:
        reason = f"an amount of {cents} {session.get('currency')} we cannot take."
        return _not_applied(stored, invoice, session, reason)
    try:
        stored.payment = invoices.payment_record(
            invoice=invoice,
            actor=None,
            method=Payment.Method.ONLINE,
            amount=from_cents(cents),
            reference=str(session.get("payment_intent") or stored.session_id),
            note="Paid online by card (Stripe Checkout)",
            keep_credit=True,
            received_at=received_at,
            stripe_session_id=stored.session_id,
        )
    except ApplicationError as error:
        return _not_applied(stored, invoice, session, error.message)
    # payment_record returned under the invoice's lock, held until this transaction ends: an event that
    # recorded this session before is committed and visible now.
    already = (
        StripeEvent.objects.filter(session_id=stored.session_id, outcome=StripeEvent.Outcome.RECORDED)
        .exclude(pk=stored.pk)
        .exists()
    )
    if already:
        return _done(stored, StripeEvent.Outcome.ALREADY, "This session's payment was already recorded.")
    return _done(
        stored, StripeEvent.Outcome.RECORDED, f"Payment of {money.format_money(stored.payment.amount)}."
    )


def _invoice_for(session: dict) -> Invoice | None:
    """Ours only when the metadata names an invoice and its public token (the session was made by
    checkout_session_create): another app on the same Stripe account is ignored."""
    metadata = session.get("metadata") or {}
    invoice_id, token = str(metadata.get("invoice_id", "")), str(metadata.get("invoice_token", ""))
    if not (invoice_id.isdigit() and token):
        return None
    return Invoice.objects.filter(pk=int(invoice_id), public_token=token).first()


def _not_applied(stored: StripeEvent, invoice: Invoice, session: dict, reason: str) -> StripeEvent:
    """The customer paid but the invoice cannot take it: nothing is recorded on the invoice; the office
    is told on the invoice's and the customer's timelines (and in the log)."""
    cents = session.get("amount_total")
    paid = money.format_money(from_cents(cents)) if isinstance(cents, int) else str(cents)
    summary = (
        f"Card payment of {paid} online (Stripe {stored.session_id}) not applied to {invoice}: {reason} "
        "Refund it in Stripe, or take it another way."
    )
    logger.warning("Stripe event %s: %s", stored.event_id, summary)
    events.record(
        NOT_APPLIED,
        subject=invoice,
        actor_label="system",
        links=[(Customer, invoice.customer_id)],
        summary=summary[:300],
        data={
            "invoice_id": invoice.pk,
            "invoice_number": invoice.number or "",
            "stripe_event_id": stored.event_id,
            "stripe_session_id": stored.session_id,
            "payment_intent": str(session.get("payment_intent") or ""),
            "amount_cents": cents if isinstance(cents, int) else None,
            "reason": reason,
        },
    )
    return _done(stored, StripeEvent.Outcome.REFUSED, reason)


def _done(stored: StripeEvent, outcome: str, detail: str) -> StripeEvent:
    stored.outcome, stored.detail = outcome, detail[:300]
    stored.save()
    return stored


def _when(event: dict) -> datetime:
    created = event.get("created")
    return datetime.fromtimestamp(created, tz=UTC) if isinstance(created, int) else timezone.now()
