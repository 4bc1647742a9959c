"""What Twilio's webhooks change: calls (and the missed-call text-back), inbound texts, keyword consent,
delivery receipts. Each function is safe to run twice for the same sid: Twilio retries webhooks.

Texts leave through the outbox (messaging.services.message_queue): these functions only write rows, inside
one transaction; the send is queued after commit.
"""

import hashlib
import logging
from datetime import datetime, timedelta

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from common.errors import ApplicationError
from crm import services as crm_services
from crm.models import Lead, Source
from customers import selectors as customer_selectors
from customers import services as customer_services
from customers.models import ConsentEvent, Customer
from events import services as events
from events.services import enqueue
from integrations.sms import services as sms_services
from messaging import services as messaging
from messaging.models import Call, Message, MessagingSettings
from users.models import Business

from .keywords import Intent, intent_of

logger = logging.getLogger(__name__)

MISSED_DIAL_STATUSES = frozenset({"no-answer", "busy", "failed", "canceled"})
ENDED_CALL_STATUSES = frozenset({"completed", "no-answer", "busy", "failed", "canceled"})
MISSED_CALL_TEMPLATE = "missed_call"
SWEEP_GRACE = timedelta(seconds=30)  # a task queued at the webhook has had its chance
SWEEP_HORIZON = timedelta(days=1)  # older than this, a "sorry we missed your call" text is no use

# Twilio's MessageStatus -> ours, and how far along each is (a late "sent" never undoes "delivered").
MESSAGE_STATUSES = {
    "accepted": Message.Status.QUEUED,
    "scheduled": Message.Status.QUEUED,
    "queued": Message.Status.QUEUED,
    "sending": Message.Status.SENDING,
    "sent": Message.Status.SENT,
    "delivered": Message.Status.DELIVERED,
    "read": Message.Status.DELIVERED,
    "undelivered": Message.Status.UNDELIVERED,
    "failed": Message.Status.FAILED,
    "canceled": Message.Status.FAILED,
}
STATUS_RANK = {
    Message.Status.QUEUED: 0,
    Message.Status.HELD: 0,
    Message.Status.SENDING: 1,
    Message.Status.SENT: 2,
    Message.Status.DELIVERED: 3,
    Message.Status.UNDELIVERED: 3,
    Message.Status.FAILED: 3,
}
# Twilio error codes that change what a number may receive.
CONSENT_ERRORS = {
    "21610": (ConsentEvent.State.OPTED_OUT, ConsentEvent.Method.CARRIER),
    "21614": (ConsentEvent.State.NOT_TEXTABLE, ConsentEvent.Method.PROVIDER),
    "30006": (ConsentEvent.State.NOT_TEXTABLE, ConsentEvent.Method.PROVIDER),
}


# --- Calls ---------------------------------------------------------------------------------------------


def call_receive(*, call_sid: str, from_number: str, to_number: str) -> Call:
    """Store an inbound call once per CallSid and answer at once; who called (a customer, or a new lead)
    is worked out by a worker (`call_identify`), so Twilio gets its TwiML in a few milliseconds."""
    try:  # a new CallSid is the common case: insert first, look up only on a retry
        with transaction.atomic():
            call = Call.objects.create(call_sid=call_sid, from_number=from_number, to_number=to_number)
    except IntegrityError:
        return Call.objects.get(call_sid=call_sid)
    transaction.on_commit(lambda: enqueue("integrations.twilio.tasks.call_identify", call.pk))
    return call


def call_identify(*, call_id: int) -> Call:
    """Put the call on the caller's customer, or on a new lead for an unknown number; once.

    The caller is worked out before the call row is locked, and the lock is held only for the final
    write: the missed-call text-back locks the same row and must never wait behind a lead capture
    (which is idempotent on the CallSid and serialized per number by itself)."""
    call = Call.objects.get(pk=call_id)
    if call.identified_at:
        return call
    with transaction.atomic():
        customer, lead = _caller(call.from_number, call.call_sid)
        call = Call.objects.select_for_update().get(pk=call_id)
        if call.identified_at:
            return call
        call.customer, call.lead, call.identified_at = customer, lead, timezone.now()
        call.save(update_fields=["customer", "lead", "identified_at"])
        text_back = call.text_back
        if text_back is not None and text_back.customer_id is None and call.customer is not None:
            messaging.message_attach(message=text_back, customer=call.customer, lead=call.lead)
        # What was logged before the caller was known (the missed call, voicemail, the text-back)
        # goes on their customer's and lead's timelines.
        events.timeline_extend(
            subjects=[call, (Message, call.text_back_id)],
            links=[(Customer, call.customer_id), (Lead, call.lead_id)],
        )
        events.record(
            "crm.call.received",
            subject=call,
            actor_label="phone",
            links=[(Customer, call.customer_id), (Lead, call.lead_id)],
            summary=f"Call from {call.from_number}",
            data={"call_id": call.pk, "call_sid": call.call_sid, "from": call.from_number},
        )
    return call


def _caller(from_number: str, call_sid: str) -> tuple[Customer | None, Lead | None]:
    """A known number's customer; an unknown number becomes a lead (none for a hidden caller id)."""
    number = _e164(from_number)
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


def call_status_update(
    *, call_sid: str, call_status: str = "", dial_status: str = "", recording_url: str = ""
) -> Call | None:
    """The Dial action / status callback: record how the call ended; a missed call texts back once."""
    with transaction.atomic():
        call = Call.objects.select_for_update().filter(call_sid=call_sid).first()
        if call is None:
            return None
        missed = not call.missed and _is_missed(call_status, dial_status, recording_url)
        _call_apply_status(call, call_status, dial_status, missed=missed)
        if recording_url and recording_url != call.recording_url:
            _call_keep_recording(call, recording_url)
        if missed:  # call.missed and the text-back are the worker's, right after commit (or the sweep's)
            transaction.on_commit(lambda: enqueue("integrations.twilio.tasks.call_text_back", call.pk))
    return call


def _is_missed(call_status: str, dial_status: str, recording_url: str) -> bool:
    """Nobody picked up: the dial was not answered, or the caller left a voicemail instead."""
    if dial_status:
        return dial_status in MISSED_DIAL_STATUSES
    return call_status in MISSED_DIAL_STATUSES or bool(recording_url)


def _call_apply_status(call: Call, call_status: str, dial_status: str, *, missed: bool) -> None:
    call.status = call_status or call.status
    call.dial_status = dial_status or call.dial_status
    call.missed = call.missed or missed
    if call.ended_at is None and call_status in ENDED_CALL_STATUSES:
        call.ended_at = timezone.now()
    call.save(update_fields=["status", "dial_status", "missed", "ended_at"])


def _call_keep_recording(call: Call, recording_url: str) -> None:
    call.recording_url = recording_url[:200]
    call.save(update_fields=["recording_url"])
    events.record(
        "crm.call.voicemail",
        subject=call,
        actor_label="phone",
        links=[(Customer, call.customer_id), (Lead, call.lead_id)],
        summary=f"Voicemail from {call.from_number}",
        data={"call_id": call.pk, "recording_url": call.recording_url},
    )


def _call_publish_missed(call: Call) -> None:
    """Publish call.missed for the locked missed call, in the transaction that decides its text-back."""
    events.publish(
        "call.missed",
        code="crm.call.missed",  # the activity code timelines know (Call moved to messaging; the code stays)
        subject=call,
        actor_label="phone",
        links=[(Customer, call.customer_id), (Lead, call.lead_id)],
        summary=f"Missed call from {call.from_number}",
        data={"call_id": call.pk, "from": call.from_number, "customer_id": call.customer_id},
    )


def call_text_back(*, call_id: int) -> Call:
    """Publish call.missed and decide the missed-call text, once per call (the row is locked; a call
    already decided ends it). The webhook only marks the call missed, so it answers sooner.

    The outbox row commits first, claimed by this worker, which sends it right after commit instead
    of queueing a second task (the caller is waiting). A failed or interrupted send is the outbox's:
    retried by the sweep."""
    with transaction.atomic():
        call = Call.objects.select_for_update().get(pk=call_id)
        if not call.missed or call.text_back_decided_at or call.text_back_id:
            return call
        _call_publish_missed(call)
        call.text_back = missed_call_text_back(call=call, claimed_until=sms_services.send_lease_until())
        call.text_back_decided_at = timezone.now()
        call.save(update_fields=["text_back", "text_back_decided_at"])
    if call.text_back is not None and call.text_back.status == Message.Status.SENDING:
        sms_services.message_send_claimed(call.text_back)
    return call


def calls_sweep(*, now: datetime | None = None) -> tuple[int, int]:
    """Queue again the caller identifications and missed-call text-backs that a lost task (a broker
    outage, a dead worker) left undone: calls older than a grace period and younger than a day.
    Returns (identifications, text-backs) queued."""
    now = now or timezone.now()
    window = {"started_at__lt": now - SWEEP_GRACE, "started_at__gte": now - SWEEP_HORIZON}
    unidentified = list(
        Call.objects.filter(identified_at__isnull=True, **window).values_list("pk", flat=True)
    )
    undecided = list(
        Call.objects.filter(missed=True, text_back_decided_at__isnull=True, **window).values_list(
            "pk", flat=True
        )
    )
    for pk in undecided:  # the text-back first: the caller is waiting for it
        enqueue("integrations.twilio.tasks.call_text_back", pk)
    for pk in unidentified:
        enqueue("integrations.twilio.tasks.call_identify", pk)
    return len(unidentified), len(undecided)


def missed_call_text_back(*, call: Call, claimed_until: datetime | None = None) -> Message | None:
    """Queue one "sorry we missed you" text, unless it is off, the number may not get automated texts,
    or a text-back already went to the number within the window. `claimed_until`: the caller sends
    the committed row itself (see messaging.services.message_queue). An unidentified caller's text is put
    on their customer by `call_identify`, so the number is not looked up here."""
    rules = MessagingSettings.current()
    number = _e164(call.from_number)
    if not (rules.missed_call_text_enabled and number) or call.text_back_id:
        return None
    refusal = customer_services.consent_check(number=number, purpose=Message.Purpose.AUTOMATED)
    if refusal:
        return None
    _lock_number(number)
    if _recent_text_back(number, minutes=rules.missed_call_window_minutes):
        return None
    return _queue(
        to=number,
        body=messaging.render_template(rules.missed_call_template, customer=call.customer),
        purpose=Message.Purpose.AUTOMATED,
        template=MISSED_CALL_TEMPLATE,
        customer=call.customer,  # no query when the caller is not identified yet (customer_id is None)
        lead=call.lead,
        find_customer=False,
        claimed_until=claimed_until,
        refusal=refusal,
        contacted_at=call.started_at,
    )


def _recent_text_back(number: str, *, minutes: int) -> bool:
    return (
        Message.objects.filter(
            to_number=number,
            direction=Message.Direction.OUTBOUND,
            template=MISSED_CALL_TEMPLATE,
            created_at__gte=timezone.now() - timedelta(minutes=minutes),
        )
        .exclude(status=Message.Status.SUPPRESSED)
        .exists()
    )


def _lock_number(number: str) -> None:
    """Two missed calls from one number at once still make one text-back (PostgreSQL; SQLite writes
    one transaction at a time already)."""
    if connection.vendor != "postgresql":
        return
    digest = int.from_bytes(hashlib.sha256(f"text-back:{number}".encode()).digest()[:8], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [digest])


def _queue(**kwargs) -> Message | None:
    """Queue an automatic text; one the outbox refuses (an empty template) is logged, never fatal to
    the webhook that stores the call or the message."""
    try:
        return messaging.message_queue(**kwargs)
    except ApplicationError as error:
        logger.warning("Did not queue the %s text to %s: %s", kwargs.get("template"), kwargs.get("to"), error)
        return None


def _e164(raw: str) -> str:
    """The number in E.164, or '' for what is not a phone number (hidden caller id, short codes)."""
    try:
        return customer_services.phone_normalize(raw, field_name="From")
    except ApplicationError:
        return ""


# --- Texts ---------------------------------------------------------------------------------------------


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


def keyword_handle(*, message: Message) -> Intent | None:
    """STOP / START change consent and confirm; HELP answers; a revocation in a sentence flags the
    number. The confirmations are keyword texts: they go out even to a number that just opted out."""
    intent = intent_of(message.body)
    number = _e164(message.from_number)
    if intent is None or not number:
        return intent
    evidence = {"message_sid": message.provider_sid, "text": message.body[:500]}
    if intent == Intent.REVOCATION:
        customer_services.consent_record(
            number=number,
            state=ConsentEvent.State.REVOCATION_FLAGGED,
            method=ConsentEvent.Method.MESSAGE,
            evidence=evidence,
        )
        return intent
    if intent in (Intent.STOP, Intent.START):
        state = ConsentEvent.State.OPTED_OUT if intent == Intent.STOP else ConsentEvent.State.OPTED_IN
        customer_services.consent_record(
            number=number, state=state, method=ConsentEvent.Method.KEYWORD, evidence=evidence
        )
    _queue(
        to=number,
        body=_keyword_reply(intent, message),
        purpose=Message.Purpose.KEYWORD,
        template=f"keyword_{intent}",
        customer=message.customer,
        lead=message.lead,
    )
    return intent


def _keyword_reply(intent: Intent, message: Message) -> str:
    name = Business.current().name
    if intent == Intent.STOP:
        return (
            f"You're unsubscribed from {name}. You will not receive more texts. Reply START to resubscribe."
        )
    if intent == Intent.START:
        return f"You're resubscribed to {name} texts. Reply HELP for help, STOP to unsubscribe."
    template = MessagingSettings.current().help_template
    return messaging.render_template(template, customer=message.customer)


# --- Delivery receipts ---------------------------------------------------------------------------------


def message_status_update(*, message_sid: str, status: str, error_code: str = "") -> Message | None:
    """Apply a delivery receipt to the message with this sid (unknown sid: None). Statuses only move
    forward; a carrier opt-out (21610) or a landline (21614, 30006) is written to the consent ledger."""
    ours = MESSAGE_STATUSES.get(status.lower())
    with transaction.atomic():
        message = Message.objects.select_for_update().filter(provider_sid=message_sid).first()
        if message is None or message.direction != Message.Direction.OUTBOUND:
            return None
        if ours and STATUS_RANK.get(ours, 0) > STATUS_RANK.get(message.status, 0):
            _message_apply_status(message, ours, error_code)
    return message


def _message_apply_status(message: Message, status: str, error_code: str) -> None:
    message.status = status
    if status == Message.Status.DELIVERED and message.delivered_at is None:
        message.delivered_at = timezone.now()
    if error_code:
        message.error_code = error_code[:10]
        message.error_message = f"Twilio error {error_code}"
    message.save(update_fields=["status", "delivered_at", "error_code", "error_message"])
    if status in (Message.Status.UNDELIVERED, Message.Status.FAILED):
        events.record(
            f"crm.message.{status}",
            subject=message,
            actor_label="twilio",
            links=[message.customer, message.lead],
            summary=f"Text to {message.to_number} {status}"
            + (f" (error {error_code})" if error_code else ""),
            data={"message_id": message.pk, "status": status, "error_code": error_code},
        )
    if error_code in CONSENT_ERRORS:
        state, method = CONSENT_ERRORS[error_code]
        customer_services.consent_record(
            number=message.to_number,
            state=state,
            method=method,
            evidence={"message_sid": message.provider_sid, "error_code": error_code},
        )
