"""Send the outbox: one Message, crash-safe, never two texts for one row.

The state is committed before the provider is called, and the call is never inside a transaction:
queued -> sending (attempts + 1, a lease in `not_before`) -> COMMIT -> provider -> sent / failed / queued.
A row found in `sending` after its lease ran out belongs to a worker that died mid-call: Twilio may hold
the text already, so we look for it (`find_sent`) and adopt its sid before sending anything again.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from crm.models import Lead
from customers import services as customer_services
from customers.models import Customer
from events import services as events
from events.services import enqueue
from messaging.models import Message

from .backends import NOT_MOBILE, OPTED_OUT, SendResult, SmsError, get_backend

logger = logging.getLogger(__name__)

SEND_LEASE = timedelta(minutes=2)  # longer than any provider call (backends.TIMEOUT_SECONDS)
QUEUED_GRACE = timedelta(seconds=30)
LOOKBACK = timedelta(minutes=1)
SEND_TASK = "integrations.sms.tasks.send_message"
S = Message.Status


def backoff_seconds(attempts: int) -> int:
    return 5 * 2 ** max(attempts - 1, 0)  # 5, 10, 20, 40 ... s


def status_callback_url() -> str:
    return f"{settings.PUBLIC_BASE_URL.rstrip('/')}/integrations/twilio/status/"


def message_send(*, message_id: int) -> Message:
    """Send one outbox row if it is due. Safe to call twice and after a crash. Raises a retryable
    SmsError (after committing the row back to queued) when a later attempt may succeed."""
    message, resuming = _claim(message_id)
    if message is None:
        return Message.objects.get(pk=message_id)
    backend = get_backend()
    if resuming:
        sid = _look_for_earlier_send(backend, message)
        if sid:
            return _mark_sent(message, SendResult(sid=sid, status="sent"), adopted=True)
        message = _start_attempt(message)
    return _provider_send(backend, message)


def send_lease_until() -> datetime:
    """The lease of a send starting now: past it, a `sending` row is taken to be from a dead worker."""
    return timezone.now() + SEND_LEASE


def message_send_claimed(message: Message) -> Message | None:
    """Send a row created claimed (`message_queue(claimed_until=send_lease_until())`), after its
    transaction committed. A failure stays with the outbox (back to `queued` with its retry time, or
    `sending` when it may have gone out; the sweep queues it again) and is never raised to the caller."""
    try:
        return _provider_send(get_backend(), message)
    except SmsError as error:
        logger.warning("SMS %s not sent yet (%s); the outbox sweep retries it.", message.pk, error.message)
        return None


def _provider_send(backend, message: Message) -> Message:
    try:
        result = backend.send(
            to=message.to_number,
            from_=message.from_number or settings.TWILIO_PHONE_NUMBER,
            body=message.body,
            status_callback=status_callback_url(),
        )
    except SmsError as error:
        return _attempt_failed(message, error)
    return _mark_sent(message, result)


def _claim(message_id: int) -> tuple[Message | None, bool]:
    """Lock the row and decide: (message, resuming an interrupted send) or (None, False) to do nothing.
    A queued row is claimed in the same transaction: `sending`, attempts + 1 and the lease commit
    before the provider is called, so a crash leaves a trace."""
    now = timezone.now()
    with transaction.atomic(durable=True):
        message = Message.objects.select_for_update().get(pk=message_id)
        if message.status == S.SENDING:
            if message.not_before and message.not_before > now:
                return None, False  # another worker holds the lease and is talking to the provider
            message.not_before = now + SEND_LEASE
            message.save(update_fields=["not_before"])
            return message, True
        if message.status != S.QUEUED:
            return None, False
        refusal = _refusal(message)
        if refusal:
            _finish(message, S.SUPPRESSED, error_message=f"Not sent: {refusal}", code="suppressed")
            return None, False
        _lease(message)
    return message, False


def _refusal(message: Message) -> str:
    if message.purpose == Message.Purpose.KEYWORD:
        return ""
    return customer_services.consent_check(number=message.to_number, purpose=message.purpose)


def _look_for_earlier_send(backend, message: Message) -> str | None:
    taken = Message.objects.filter(to_number=message.to_number, created_at__gte=message.created_at - LOOKBACK)
    exclude = frozenset(
        taken.exclude(pk=message.pk).exclude(provider_sid=None).values_list("provider_sid", flat=True)
    )
    try:
        return backend.find_sent(
            to=message.to_number,
            from_=message.from_number or settings.TWILIO_PHONE_NUMBER,
            body=message.body,
            since=message.created_at - LOOKBACK,
            exclude=exclude,
        )
    except SmsError as error:
        # We cannot tell whether it went out: keep `sending`; the sweep looks again when the lease ends.
        logger.warning("SMS %s: could not look for an earlier send: %s", message.pk, error)
        raise SmsError(error.message, error.code, retryable=True, maybe_sent=True) from error


def _start_attempt(message: Message) -> Message:
    """Commit `sending` and the attempt before the provider is called: a crash leaves a trace."""
    with transaction.atomic(durable=True):
        message = Message.objects.select_for_update().get(pk=message.pk)
        _lease(message)
    return message


def _lease(message: Message) -> None:
    message.status, message.attempts = S.SENDING, message.attempts + 1
    message.not_before = timezone.now() + SEND_LEASE
    message.save(update_fields=["status", "attempts", "not_before"])


def _mark_sent(message: Message, result: SendResult, *, adopted: bool = False) -> Message:
    sent = {
        "provider_sid": result.sid,
        "sent_at": timezone.now(),
        "status": S.SENT,  # Twilio answers queued/accepted/sent; the status callback goes on
        "not_before": None,
        "error_code": "",
        "error_message": "",
    }
    with transaction.atomic(durable=True):
        if not Message.objects.filter(pk=message.pk, status__in=(S.SENDING, S.QUEUED)).update(**sent):
            return Message.objects.get(pk=message.pk)  # another worker finished it first
        for name, value in sent.items():
            setattr(message, name, value)
        _record(message, "sent", adopted=adopted)
    return message


def _attempt_failed(message: Message, error: SmsError) -> Message:
    """Store the outcome of a failed attempt; re-raise the error when a retry can help."""
    retry = error.retryable and message.attempts < settings.SMS_MAX_ATTEMPTS
    with transaction.atomic(durable=True):
        message = Message.objects.select_for_update().get(pk=message.pk)
        if not retry:
            _finish(message, S.FAILED, error_message=error.message, code=error.code)
            _record_consent(message, error)
        else:
            # Maybe sent (a timeout): stay `sending`, so the next attempt looks before it sends.
            message.status = S.SENDING if error.maybe_sent else S.QUEUED
            message.not_before = timezone.now() + timedelta(seconds=backoff_seconds(message.attempts))
            message.error_code, message.error_message = error.code, error.message[:300]
            message.save(update_fields=["status", "not_before", "error_code", "error_message"])
    if retry:
        raise error
    return message


def _finish(message: Message, status: str, *, error_message: str, code: str) -> None:
    message.status, message.not_before = status, None
    message.error_code, message.error_message = code[:10], error_message[:300]
    message.save(update_fields=["status", "not_before", "error_code", "error_message"])
    _record(message, "failed" if status == S.FAILED else "suppressed")


def _record_consent(message: Message, error: SmsError) -> None:
    evidence = {"message_id": message.pk, "error_code": error.code}
    if error.code == str(OPTED_OUT):
        state, method = "opted_out", "carrier"
    elif error.code in {str(code) for code in NOT_MOBILE}:
        state, method = "not_textable", "provider"
    else:
        return
    customer_services.consent_record(number=message.to_number, state=state, method=method, evidence=evidence)


def _record(message: Message, what: str, *, adopted: bool = False) -> None:
    summaries = {"sent": "Text sent to", "failed": "Text failed to", "suppressed": "Text not sent to"}
    events.record(
        f"crm.message.{what}",
        subject=message,
        actor_label="sms",
        links=[(Customer, message.customer_id), (Lead, message.lead_id)],
        summary=f"{summaries[what]} {message.to_number}: {message.error_message or message.body[:120]}",
        data={
            "message_id": message.pk,
            "status": message.status,
            "provider_sid": message.provider_sid or "",
            "attempts": message.attempts,
            "error_code": message.error_code,
            "adopted": adopted,
        },
    )


def outbox_sweep(*, now: datetime | None = None, queued_grace: timedelta = QUEUED_GRACE) -> int:
    """Queue again what a lost task or a dead worker left behind: `queued` rows past their grace (or
    their retry time) and `sending` rows whose lease ran out (message_send looks for them at Twilio)."""
    now = now or timezone.now()
    stuck = Message.objects.filter(direction=Message.Direction.OUTBOUND, channel=Message.Channel.SMS).filter(
        _queued_due(now - queued_grace) | _lease_over(now)
    )
    ids = list(stuck.order_by("created_at").values_list("pk", flat=True)[:500])
    for pk in ids:
        enqueue(SEND_TASK, pk)
    return len(ids)


def _queued_due(cutoff: datetime):
    return Q(status=S.QUEUED) & (
        Q(not_before__isnull=True, created_at__lte=cutoff) | Q(not_before__lte=cutoff)
    )


def _lease_over(now: datetime):
    return Q(status=S.SENDING) & (Q(not_before__isnull=True) | Q(not_before__lte=now))
