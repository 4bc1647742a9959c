"""Inbound e-mail: Postmark posts each message to /integrations/email/postmark/inbound/ (django-anymail,
HTTP basic auth with ANYMAIL["WEBHOOK_SECRET"]); `email_received` threads it into the sender's
conversation. A redelivery (same Message-ID) is stored once; an unknown sender is stored without a
customer (no lead is made from an e-mail).
"""

import logging

from anymail.exceptions import AnymailWebhookValidationFailure
from anymail.signals import inbound
from anymail.webhooks.postmark import PostmarkInboundWebhookView
from django.db import IntegrityError, transaction
from django.utils.html import strip_tags

from customers.models import Customer, EmailAddress
from events import services as events
from messaging import services as messaging
from messaging.models import Message

from .transport import provider_sid_for

logger = logging.getLogger(__name__)


class InboundWebhookView(PostmarkInboundWebhookView):
    """Anymail's Postmark inbound view, closed when no WEBHOOK_SECRET is set (instead of open with a
    warning). GET answers 405 (anymail allows POST, HEAD, OPTIONS only)."""

    warn_if_no_basic_auth = False

    def validate_request(self, request):  # every validate_request in the MRO runs (anymail)
        if not self.basic_auth:
            raise AnymailWebhookValidationFailure("ANYMAIL WEBHOOK_SECRET is not set: inbound e-mail is off.")


def customer_for_email(address: str) -> Customer | None:
    row = (
        EmailAddress.objects.filter(email__iexact=address.strip(), customer__merged_into__isnull=True)
        .select_related("customer")
        .order_by("-is_primary", "customer_id")
        .first()
    )
    return row.customer if row else None


def email_received(*, sender: str, recipient: str, subject: str, text: str, message_id: str) -> tuple:
    """Store one inbound e-mail once per Message-ID: (Message, created)."""
    sid = provider_sid_for(message_id)
    try:
        with transaction.atomic():
            message, created = messaging.message_receive(
                from_number="",
                to_number="",
                from_email=sender,
                to_email=recipient,
                subject=subject,
                body=text.strip(),
                provider_sid=sid,
                channel=Message.Channel.EMAIL,
            )
            if created:
                customer = customer_for_email(sender) if sender else None
                if customer is not None:
                    message = messaging.message_attach(message=message, customer=customer)
                    _publish_reply(message, customer, sender, subject, text)
    except IntegrityError:  # the same delivery, stored by a concurrent request
        return Message.objects.get(provider_sid=sid), False
    return message, created


def _publish_reply(message: Message, customer: Customer, sender: str, subject: str, text: str) -> None:
    """A known customer wrote: `message.received`, as for a text, so a reply by e-mail ends their
    sequences and a review score ("5") in it is recorded."""
    events.publish(
        "message.received",
        code="integrations.email.received",
        subject=message,
        actor_label="e-mail",
        links=[customer],
        summary=f"E-mail from {sender}: {subject[:120]}",
        data={
            "message_id": message.pk,
            "from": sender,
            "customer_id": customer.pk,
            "lead_id": message.lead_id,
            "body": text.strip()[:1600],
        },
    )


def handle_inbound(sender, event, esp_name, **kwargs) -> None:
    mail = event.message
    if mail is None:
        return
    from_address = mail.from_email.addr_spec if mail.from_email else ""
    message_id = (mail.get("Message-ID") or "").strip() or f"{esp_name.lower()}:{event.event_id}"
    text = mail.stripped_text or mail.text or strip_tags(mail.html or "")
    to = mail.envelope_recipient or (mail.to[0].addr_spec if mail.to else "")
    message, created = email_received(
        sender=from_address, recipient=to, subject=mail.subject or "", text=text or "", message_id=message_id
    )
    logger.info("Inbound e-mail %s from %s: %s", message.pk, from_address, "stored" if created else "repeat")


inbound.connect(handle_inbound, dispatch_uid="integrations.email.inbound.handle_inbound")
