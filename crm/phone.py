"""Calls and texts from the phone provider, as crm sees them: who called or texted (a known customer, or
a new lead for an unknown number) and the lead a first text becomes. messaging stores the call and the
text and owns the text-back, the keywords and the outbox; this module adds what needs crm's leads.
The edge (integrations.twilio) verifies and parses the webhooks and calls these.
"""

import logging
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from common.errors import ApplicationError
from customers import selectors as customer_selectors
from customers.models import Customer
from events import services as events
from events.services import enqueue
from messaging import calls
from messaging import services as messaging
from messaging.keywords import Intent, intent_of, keyword_handle
from messaging.models import Call, Message

from . import services as crm_services
from .models import Lead, Source

logger = logging.getLogger(__name__)

IDENTIFY_TASK = "crm.tasks.call_identify"


def call_receive(*, call_sid: str, from_number: str, to_number: str) -> Call:
    """Store an inbound call once per CallSid and answer at once; who called is worked out by a worker
    (`call_identify`), so the provider gets its answer in a few milliseconds."""
    call, created = calls.call_store(call_sid=call_sid, from_number=from_number, to_number=to_number)
    if created:
        transaction.on_commit(lambda: enqueue(IDENTIFY_TASK, call.pk))
    return call


def call_identify(*, call_id: int) -> Call:
    """Put the call on the caller's customer, or on a new lead for an unknown number; once.

    The caller is worked out before the call row is locked (calls.call_attach holds the lock only for the
    final write): the missed-call text-back locks the same row and must never wait behind a lead capture,
    which is idempotent on the CallSid and serialized per number by itself."""
    call = Call.objects.get(pk=call_id)
    if call.identified_at:
        return call
    customer, lead = _caller(call.from_number, call.call_sid)
    return calls.call_attach(call_id=call.pk, customer=customer, lead=lead)


def _caller(from_number: str, call_sid: str) -> tuple[Customer | None, Lead | None]:
    """A known number's customer; an unknown number becomes a lead (none for a hidden caller id)."""
    number = messaging.phone_or_blank(from_number)
    customer = customer_selectors.customer_find_by_contact(phone=number) if number else None
    if customer is not None:
        return customer, None
    try:
        lead = crm_services.lead_capture_from_phone(
            phone=from_number, kind=Source.Kind.PHONE, external_id=call_sid
        ).lead
    except ApplicationError:
        logger.info("Call %s from %r: no lead (not a phone number).", call_sid, from_number)
        return None, None
    return lead.customer, lead


def calls_sweep(*, now: datetime | None = None) -> tuple[int, int]:
    """Queue again the caller identifications and missed-call text-backs that a lost task (a broker
    outage, a dead worker) left undone: calls older than a grace period and younger than a day.
    Returns (identifications, text-backs) queued."""
    now = now or timezone.now()
    text_backs = calls.text_backs_sweep(now=now)  # the text-back first: the caller is waiting for it
    unidentified = list(
        Call.objects.filter(
            identified_at__isnull=True,
            started_at__lt=now - calls.SWEEP_GRACE,
            started_at__gte=now - calls.SWEEP_HORIZON,
        ).values_list("pk", flat=True)
    )
    for pk in unidentified:
        enqueue(IDENTIFY_TASK, pk)
    return len(unidentified), text_backs


def sms_receive(
    *, from_number: str, to_number: str, body: str, message_sid: str, media_urls: list[str]
) -> tuple[Message, bool]:
    """Store an inbound text once per MessageSid, put it on a lead when the number is new, publish
    message.received and act on its keyword. A retry returns (message, False) and changes nothing."""
    with transaction.atomic():
        try:
            message, created = messaging.message_receive(
                from_number=from_number,
                to_number=to_number,
                body=body,
                provider_sid=message_sid,
                media_urls=media_urls,
            )
        except IntegrityError:  # the same sid delivered twice at once: the other request stored it
            return Message.objects.get(provider_sid=message_sid), False
        if not created:
            return message, False
        intent = intent_of(body)
        # A bare keyword (STOP, START, HELP) from an unknown number is not a lead: the ledger keeps consent.
        if message.customer_id is None and intent not in (Intent.STOP, Intent.START, Intent.HELP):
            _sms_capture_lead(message)
        events.publish(
            "message.received",
            code="crm.message.received",
            subject=message,
            actor_label="sms",
            links=[message.customer, message.lead],
            summary=f"Text from {from_number}: {body[:120]}",
            data={
                "message_id": message.pk,
                "from": from_number,
                "customer_id": message.customer_id,
                "lead_id": message.lead_id,
                "body": body[:1600],
            },
        )
        keyword_handle(message=message)
    return message, True


def _sms_capture_lead(message: Message) -> None:
    try:
        lead = crm_services.lead_capture_from_phone(
            phone=message.from_number,
            kind=Source.Kind.SMS,
            message=message.body,
            external_id=message.provider_sid,
        ).lead
    except ApplicationError:
        logger.info(
            "Text %s from %r: no lead (not a phone number).", message.provider_sid, message.from_number
        )
        return
    if lead.customer is not None:
        messaging.message_attach(message=message, customer=lead.customer, lead=lead)
