"""Calls and the missed-call text-back, and the delivery receipts of texts: what the phone provider's
webhooks change once the edge (integrations.twilio) has verified and parsed them. Each function is safe
to run twice for the same sid: providers retry webhooks.

Who called (a customer, or a new lead for an unknown number) is crm's to work out (crm.phone): it hands
the answer to `call_attach`. Texts leave through the outbox (messaging.services.message_queue).
"""

import hashlib
import logging
from datetime import datetime, timedelta

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from customers import services as customer_services
from customers.models import Customer
from events import services as events
from events.services import enqueue

from . import outbox
from . import services as messaging
from .models import Call, Message, MessagingSettings

logger = logging.getLogger(__name__)

MISSED_DIAL_STATUSES = frozenset({"no-answer", "busy", "failed", "canceled"})
ENDED_CALL_STATUSES = frozenset({"completed", "no-answer", "busy", "failed", "canceled"})
MISSED_CALL_TEMPLATE = "missed_call"
SWEEP_GRACE = timedelta(seconds=30)  # a task queued at the webhook has had its chance
SWEEP_HORIZON = timedelta(days=1)  # older than this, a "sorry we missed your call" text is no use
TEXT_BACK_TASK = "messaging.tasks.call_text_back"


def _lead_model():
    return Call.lead.field.related_model  # crm.Lead, without importing crm


# --- Calls ---------------------------------------------------------------------------------------------


def call_store(*, call_sid: str, from_number: str, to_number: str) -> tuple[Call, bool]:
    """Store an inbound call once per CallSid: (call, created). A new CallSid is the common case:
    insert first, look up only on a retry."""
    try:
        with transaction.atomic():
            return Call.objects.create(call_sid=call_sid, from_number=from_number, to_number=to_number), True
    except IntegrityError:
        return Call.objects.get(call_sid=call_sid), False


def call_attach(*, call_id: int, customer: Customer | None, lead=None) -> Call:
    """Put the call on its caller's customer (and lead), once; the text-back and what was logged before
    the caller was known (the missed call, the voicemail, the text-back) go on their timelines. Locks the
    call only for this write (the text-back locks the same row and must never wait long)."""
    with transaction.atomic():
        call = Call.objects.select_for_update().get(pk=call_id)
        if call.identified_at:
            return call
        call.customer, call.lead, call.identified_at = customer, lead, timezone.now()
        call.save(update_fields=["customer", "lead", "identified_at"])
        text_back = call.text_back
        if text_back is not None and text_back.customer_id is None and call.customer is not None:
            messaging.message_attach(message=text_back, customer=call.customer, lead=call.lead)
        links = [(Customer, call.customer_id), (_lead_model(), call.lead_id)]
        events.timeline_extend(subjects=[call, (Message, call.text_back_id)], links=links)
        events.record(
            "crm.call.received",
            subject=call,
            actor_label="phone",
            links=links,
            summary=f"Call from {call.from_number}",
            data={"call_id": call.pk, "call_sid": call.call_sid, "from": call.from_number},
        )
    return call


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
            transaction.on_commit(lambda: enqueue(TEXT_BACK_TASK, call.pk))
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
        links=[(Customer, call.customer_id), (_lead_model(), call.lead_id)],
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
        links=[(Customer, call.customer_id), (_lead_model(), call.lead_id)],
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
        call.text_back = missed_call_text_back(call=call, claimed_until=outbox.send_lease_until())
        call.text_back_decided_at = timezone.now()
        call.save(update_fields=["text_back", "text_back_decided_at"])
    if call.text_back is not None and call.text_back.status == Message.Status.SENDING:
        outbox.message_send_claimed(call.text_back)
    return call


def text_backs_sweep(*, now: datetime | None = None) -> int:
    """Queue again the missed-call text-backs a lost task (a broker outage, a dead worker) left
    undecided: missed calls older than a grace period and younger than a day. Returns how many."""
    now = now or timezone.now()
    undecided = list(
        Call.objects.filter(
            missed=True,
            text_back_decided_at__isnull=True,
            started_at__lt=now - SWEEP_GRACE,
            started_at__gte=now - SWEEP_HORIZON,
        ).values_list("pk", flat=True)
    )
    for pk in undecided:
        enqueue(TEXT_BACK_TASK, pk)
    return len(undecided)


def missed_call_text_back(*, call: Call, claimed_until: datetime | None = None) -> Message | None:
    """Queue one "sorry we missed you" text, unless it is off, the number may not get automated texts,
    or a text-back already went to the number within the window. `claimed_until`: the caller sends
    the committed row itself (see messaging.services.message_queue). An unidentified caller's text is put
    on their customer by `call_identify`, so the number is not looked up here."""
    rules = MessagingSettings.current()
    number = messaging.phone_or_blank(call.from_number)
    if not (rules.missed_call_text_enabled and number) or call.text_back_id:
        return None
    refusal = customer_services.consent_check(number=number, purpose=Message.Purpose.AUTOMATED)
    if refusal:
        return None
    _lock_number(number)
    if _recent_text_back(number, minutes=rules.missed_call_window_minutes):
        return None
    return messaging.message_queue_quietly(
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


# --- Delivery receipts ---------------------------------------------------------------------------------


def message_receipt(
    *, provider_sid: str, status: str, error_code: str = "", error_message: str = "", consent: str = ""
) -> Message | None:
    """Apply a delivery receipt (`status` one of ours: sending, sent, delivered, undelivered, failed) to
    the outbound message with this provider id; unknown id: None. Statuses only move forward. `consent`:
    what the provider's error says about the number ("opted_out", "not_textable"), for the ledger."""
    with transaction.atomic():
        message = Message.objects.select_for_update().filter(provider_sid=provider_sid).first()
        if message is None or message.direction != Message.Direction.OUTBOUND:
            return None
        if not message.can_receive(status):
            return message  # old news: a duplicate or a late receipt
        message.receipt(status=status, at=timezone.now(), error_code=error_code, error_message=error_message)
        message.save(update_fields=["status", "delivered_at", "error_code", "error_message"])
        if status in (Message.Status.UNDELIVERED, Message.Status.FAILED):
            _record_undelivered(message, status, error_code)
        if consent:
            method = "carrier" if consent == "opted_out" else "provider"
            customer_services.consent_record(
                number=message.to_number,
                state=consent,
                method=method,
                evidence={"message_sid": message.provider_sid, "error_code": error_code},
            )
    return message


def _record_undelivered(message: Message, status: str, error_code: str) -> None:
    events.record(
        f"crm.message.{status}",
        subject=message,
        actor_label="twilio",
        links=[(Customer, message.customer_id), (_lead_model(), message.lead_id)],
        summary=f"Text to {message.to_number} {status}" + (f" (error {error_code})" if error_code else ""),
        data={"message_id": message.pk, "status": status, "error_code": error_code},
    )
