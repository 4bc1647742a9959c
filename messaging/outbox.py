"""The outbox: one engine that sends every outbound Message, whatever its channel, crash-safe and once.

The row is committed before anything is sent (messaging.services queues it), and the provider is never
called inside a transaction:

    queued -> claim (sending, attempts + 1, a lease in `not_before`) -> COMMIT -> transport.send
           -> sent | back to queued with a retry time | failed with the reason

A row found `sending` after its lease ran out belongs to a worker that died mid-send: the provider may
hold it already, so the transport is asked "did it already go out?" (`find_sent`) before anything is
sent again, and its id is adopted when it did. A periodic sweep queues again what a lost task left.
The transports (messaging.transports) are chosen by channel in settings.MESSAGING_TRANSPORTS.
"""

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from customers import services as customer_services
from customers.models import Customer
from events import services as events
from events.services import enqueue

from .models import Message
from .transports import SendResult, Transport, TransportError, transport_for

logger = logging.getLogger(__name__)

SEND_LEASE = timedelta(minutes=2)  # longer than any transport's provider call (their timeouts)
QUEUED_GRACE = timedelta(seconds=30)  # a queued row's task has had its chance
LOOKBACK = timedelta(minutes=1)  # how far before the row's creation "did it go out?" looks
SWEEP_BATCH = 500
# Texts go on the dedicated `sms` queue (CELERY_TASK_ROUTES), so nothing queues in front of a text.
SEND_TASKS = {Message.Channel.SMS: "messaging.tasks.send_text"}
SEND_TASK = "messaging.tasks.send_message"
SEND_MANY_TASK = "messaging.tasks.send_texts"
S = Message.Status
# The events a message's delivery adds after its first (timelines show them as the message's state).
OUTCOME_CODES = ("crm.message.sent", "crm.message.failed", "crm.message.undelivered")


def send_task(channel: str) -> str:
    return SEND_TASKS.get(channel, SEND_TASK)


def message_enqueue(message: Message) -> None:
    """Queue the send of a committed row (callers use it in transaction.on_commit)."""
    enqueue(send_task(message.channel), message.pk)


def messages_enqueue(message_ids: list[int], *, per_task: int = 25) -> None:
    """Queue the sends of many committed texts, `per_task` to a broker message (a batch of thousands
    costs a few hundred publishes, not thousands); each is still sent, claimed and retried on its own."""
    for start in range(0, len(message_ids), per_task):
        enqueue(SEND_MANY_TASK, message_ids[start : start + per_task])


def send_lease_until() -> datetime:
    """The lease of a send starting now: past it, a `sending` row is taken to be from a dead worker."""
    return timezone.now() + SEND_LEASE


def message_send(*, message_id: int) -> Message:
    """Send one outbox row if it is due. Safe to call twice and after a crash. Raises a retryable
    TransportError (after committing the row back to queued, its `retry_in` set) when a later attempt
    may succeed."""
    message, resuming = _claim(message_id)
    if message is None:
        return Message.objects.get(pk=message_id)
    transport = transport_for(message.channel)
    if resuming:
        sid = _look_for_earlier_send(transport, message)
        if sid:
            return _mark_sent(message, SendResult(sid=sid), adopted=True)
        message = _start_attempt(transport, message)
        if message.status != S.SENDING:
            return message
    return _provider_send(transport, message)


def message_send_claimed(message: Message) -> Message | None:
    """Send a row created claimed (`message_queue(claimed_until=send_lease_until())`), after its
    transaction committed. A failure stays with the outbox (back to `queued` with its retry time, or
    `sending` when it may have gone out; the sweep queues it again) and is never raised to the caller."""
    try:
        return _provider_send(transport_for(message.channel), message)
    except TransportError as error:
        logger.warning(
            "Message %s not sent yet (%s); the outbox sweep retries it.", message.pk, error.message
        )
        return None


def _provider_send(transport: Transport, message: Message) -> Message:
    try:
        result = transport.send(message)
    except TransportError as error:
        return _attempt_failed(transport, message, error)
    return _mark_sent(message, result)


def _claim(message_id: int) -> tuple[Message | None, bool]:
    """Lock the row and decide: (message, resuming an interrupted send) or (None, False) to do nothing.
    A queued row is claimed in the same transaction, so the attempt commits before the provider call."""
    now = timezone.now()
    with transaction.atomic(durable=True):
        message = Message.objects.select_for_update().get(pk=message_id)
        if message.direction != Message.Direction.OUTBOUND:
            return None, False
        if message.status == S.SENDING:
            if message.not_before and message.not_before > now:
                return None, False  # another worker holds the lease and is talking to the provider
            message.extend_lease(lease_until=now + SEND_LEASE)
            message.save(update_fields=["not_before"])
            return message, True
        if message.status != S.QUEUED:
            return None, False
        refusal = _refusal(message)
        if refusal:
            message.suppress(reason=refusal)
            message.save(update_fields=["status", "not_before", "error_code", "error_message"])
            _record(message, "suppressed")
            return None, False
        message.claim(lease_until=now + SEND_LEASE)
        message.save(update_fields=["status", "attempts", "not_before"])
    return message, False


def _refusal(message: Message) -> str:
    """The consent gate, asked again at send time (a STOP may have come since the row was queued)."""
    if message.channel != Message.Channel.SMS or message.purpose == Message.Purpose.KEYWORD:
        return ""
    return customer_services.consent_check(number=message.to_number, purpose=message.purpose)


def _look_for_earlier_send(transport: Transport, message: Message) -> str | None:
    others = Message.objects.filter(
        channel=message.channel,
        to_number=message.to_number,
        to_email=message.to_email,
        created_at__gte=message.created_at - LOOKBACK,
    ).exclude(pk=message.pk)
    exclude = frozenset(others.exclude(provider_sid=None).values_list("provider_sid", flat=True))
    try:
        return transport.find_sent(message, exclude=exclude)
    except TransportError as error:
        # We cannot tell whether it went out: keep `sending`; the sweep looks again when the lease ends.
        logger.warning("Message %s: could not ask whether it went out: %s", message.pk, error.message)
        raise TransportError(error.message, error.code, retryable=True, maybe_sent=True) from error


def _start_attempt(transport: Transport, message: Message) -> Message:
    """A new attempt after an interruption that did not go out, committed before the provider call;
    out of attempts, the row fails with the reason instead."""
    with transaction.atomic(durable=True):
        message = Message.objects.select_for_update().get(pk=message.pk)
        if message.attempts >= transport.max_attempts():
            message.fail(code="interrupt", reason="Interrupted while sending, and out of attempts.")
            message.save(update_fields=["status", "not_before", "error_code", "error_message"])
            _record(message, "failed")
            return message
        message.claim(lease_until=timezone.now() + SEND_LEASE)
        message.save(update_fields=["status", "attempts", "not_before"])
    return message


def _mark_sent(message: Message, result: SendResult, *, adopted: bool = False) -> Message:
    """Sent: the transition on our copy (claimed, so `sending`), written only if the row is still
    queued or sending (one conditional UPDATE: another worker may have finished it first)."""
    message.mark_sent(sid=result.sid, at=timezone.now())
    fields = ("status", "provider_sid", "sent_at", "not_before", "error_code", "error_message")
    with transaction.atomic(durable=True):
        still_ours = Message.objects.filter(pk=message.pk, status__in=(S.SENDING, S.QUEUED))
        if not still_ours.update(**{name: getattr(message, name) for name in fields}):
            return Message.objects.get(pk=message.pk)
        _record(message, "sent", adopted=adopted)
    return message


def _attempt_failed(transport: Transport, message: Message, error: TransportError) -> Message:
    """Store the outcome of a failed attempt; re-raise the error (its `retry_in` set) when a retry can
    help."""
    retry = error.retryable and message.attempts < transport.max_attempts()
    logger.warning("Message %s attempt %s failed: %s", message.pk, message.attempts, error.message)
    with transaction.atomic(durable=True):
        message = Message.objects.select_for_update().get(pk=message.pk)
        if message.status != S.SENDING:
            return message
        if retry:
            error.retry_in = transport.backoff_seconds(message.attempts)
            message.retry_later(
                at=timezone.now() + timedelta(seconds=error.retry_in),
                code=error.code,
                reason=error.message,
                maybe_sent=error.maybe_sent,
            )
            message.save(update_fields=["status", "not_before", "error_code", "error_message"])
        else:
            message.fail(code=error.code, reason=error.message)
            message.save(update_fields=["status", "not_before", "error_code", "error_message"])
            _record(message, "failed")
            _record_consent(message, error)
    if retry:
        raise error
    return message


def _record_consent(message: Message, error: TransportError) -> None:
    if not error.consent or not message.to_number:
        return
    method = "carrier" if error.consent == "opted_out" else "provider"
    customer_services.consent_record(
        number=message.to_number,
        state=error.consent,
        method=method,
        evidence={"message_id": message.pk, "error_code": error.code},
    )


def _record(message: Message, what: str, *, adopted: bool = False) -> None:
    noun = {Message.Channel.EMAIL: "E-mail", Message.Channel.CHAT: "Chat reply"}.get(message.channel, "Text")
    verb = {"sent": "sent to", "failed": "failed to", "suppressed": "not sent to"}[what]
    said = message.error_message or message.gist()
    events.record(
        f"crm.message.{what}",
        subject=message,
        actor_label=message.channel,
        links=[(Customer, message.customer_id), (Message.lead.field.related_model, message.lead_id)],
        summary=f"{noun} {verb} {message.party or 'the visitor'}: {said}",
        data={
            "message_id": message.pk,
            "channel": message.channel,
            "status": message.status,
            "provider_sid": message.provider_sid or "",
            "attempts": message.attempts,
            "error_code": message.error_code,
            "adopted": adopted,
        },
    )


def outbox_sweep(*, now: datetime | None = None, queued_grace: timedelta = QUEUED_GRACE) -> int:
    """Queue again what a lost task or a dead worker left behind, every channel: `queued` rows past
    their grace (or their retry time) and `sending` rows whose lease ran out (message_send asks the
    provider about those before it sends)."""
    now = now or timezone.now()
    cutoff = now - queued_grace
    stuck = Message.objects.filter(direction=Message.Direction.OUTBOUND).filter(
        Q(status=S.QUEUED) & (Q(not_before__isnull=True, created_at__lte=cutoff) | Q(not_before__lte=cutoff))
        | Q(status=S.SENDING) & (Q(not_before__isnull=True) | Q(not_before__lte=now))
    )
    rows = list(stuck.order_by("created_at").values_list("pk", "channel")[:SWEEP_BATCH])
    for pk, channel in rows:
        enqueue(send_task(channel), pk)
    return len(rows)
