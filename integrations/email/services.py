"""Send one outbound e-mail Message: the row is committed first (messaging.services.email_queue), then a
worker calls `email_send`. Crash-safe and at most once:

queued -> sending (attempts + 1, a lease in `not_before`) -> COMMIT -> SMTP/ESP -> sent / failed / queued.

E-mail has no "did it go out?" lookup, so a row found in `sending` after its lease ran out (a worker died
mid-send) is marked failed with a note for staff rather than sent again.

The address and the subject are the Message's `to_email` and `subject`; `body` is the text.
"""

import hashlib
import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from events import services as events
from messaging.models import Message

logger = logging.getLogger(__name__)

SEND_TASK = "integrations.email.tasks.send_email"
SEND_LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = 5
S = Message.Status


class EmailSendError(Exception):
    def __init__(self, message: str, *, retryable: bool = True):
        super().__init__(message)
        self.message, self.retryable = message, retryable


def provider_sid_for(message_id: str) -> str:
    """'email:' + the Message-ID header, hashed when it would not fit Message.provider_sid (64)."""
    message_id = (message_id or "").strip()
    sid = f"email:{message_id}"
    if len(sid) <= 64:
        return sid
    return "email:sha256:" + hashlib.sha256(message_id.encode()).hexdigest()[:51]


def backoff_seconds(attempts: int) -> int:
    return 30 * 2 ** max(attempts - 1, 0)  # 30 s, 1, 2, 4 min ...


def max_attempts() -> int:
    return getattr(settings, "EMAIL_MAX_ATTEMPTS", MAX_ATTEMPTS)


def email_send(*, message_id: int) -> Message:
    """Send one queued e-mail row. Safe to call twice. Raises a retryable EmailSendError (after committing
    the row back to `queued`) when a later attempt may succeed."""
    message = _claim(message_id)
    if message is None:
        return Message.objects.get(pk=message_id)
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip(">") or "localhost"
    header_id = f"<{message.send_key}@{domain}>"
    email = EmailMessage(
        subject=message.subject,
        body=message.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.to_email],
        reply_to=[settings.DEFAULT_FROM_EMAIL],
        headers={"Message-ID": header_id},
    )
    try:
        sent = email.send(fail_silently=False)
    except Exception as error:  # SMTP, network and every ESP error (anymail) end here
        return _attempt_failed(message, _as_send_error(error))
    if not sent:
        return _attempt_failed(message, EmailSendError("The mail backend sent nothing."))
    return _mark_sent(message, provider_sid_for(header_id))


def _as_send_error(error: Exception) -> EmailSendError:
    try:
        from anymail.exceptions import AnymailInvalidAddress, AnymailRecipientsRefused
    except ImportError:  # pragma: no cover
        permanent = ()
    else:
        permanent = (AnymailInvalidAddress, AnymailRecipientsRefused)
    return EmailSendError(f"{type(error).__name__}: {error}", retryable=not isinstance(error, permanent))


def _claim(message_id: int) -> Message | None:
    now = timezone.now()
    with transaction.atomic(durable=True):
        message = Message.objects.select_for_update().get(pk=message_id)
        if message.channel != Message.Channel.EMAIL or message.direction != Message.Direction.OUTBOUND:
            return None
        # A row still `sending` after its lease belongs to a worker that died mid-send: the provider may
        # hold the e-mail already. It is sent again with the same Message-ID (<send_key@domain>, fixed
        # per row), so mail systems keep one message: the customer sees it once, never "maybe sent".
        interrupted = message.status == S.SENDING and (
            message.not_before is None or message.not_before <= now
        )
        if message.status != S.QUEUED and not interrupted:
            return None
        if interrupted and message.attempts >= max_attempts():
            _finish(message, S.FAILED, "Interrupted while sending, and out of attempts.")
            return None
        if interrupted:
            logger.warning("E-mail %s: resending after an interrupted attempt (same Message-ID).", message.pk)
        if not message.to_email:
            _finish(message, S.FAILED, "No e-mail address on this message.")
            return None
        message.status, message.attempts = S.SENDING, message.attempts + 1
        message.not_before = now + SEND_LEASE
        message.save(update_fields=["status", "attempts", "not_before"])
    return message


def _mark_sent(message: Message, sid: str) -> Message:
    with transaction.atomic(durable=True):
        message = Message.objects.select_for_update().get(pk=message.pk)
        if message.status != S.SENDING:
            return message
        message.provider_sid, message.sent_at, message.status = sid, timezone.now(), S.SENT
        message.not_before, message.error_code, message.error_message = None, "", ""
        message.save()
        _record(message, "sent")
    return message


def _attempt_failed(message: Message, error: EmailSendError) -> Message:
    retry = error.retryable and message.attempts < max_attempts()
    logger.warning("E-mail %s attempt %s failed: %s", message.pk, message.attempts, error.message)
    with transaction.atomic(durable=True):
        message = Message.objects.select_for_update().get(pk=message.pk)
        if retry:
            message.status = S.QUEUED
            message.not_before = timezone.now() + timedelta(seconds=backoff_seconds(message.attempts))
            message.error_message = error.message[:300]
            message.save(update_fields=["status", "not_before", "error_message"])
        else:
            _finish(message, S.FAILED, error.message)
    if retry:
        raise error
    return message


def _finish(message: Message, status: str, error_message: str) -> None:
    message.status, message.not_before, message.error_message = status, None, error_message[:300]
    message.save(update_fields=["status", "not_before", "error_message"])
    _record(message, "failed")


def outbox_sweep(*, now=None, grace: timedelta = timedelta(minutes=2)) -> int:
    """Queue again the e-mail rows a lost task left behind (`queued` and due), and let `email_send` close
    the `sending` rows whose lease ran out. Not scheduled yet: see docs/channels/email.md."""
    from django.db.models import Q

    from events.services import enqueue

    now = now or timezone.now()
    stuck = Message.objects.filter(
        direction=Message.Direction.OUTBOUND, channel=Message.Channel.EMAIL
    ).filter(
        Q(status=S.QUEUED, not_before__isnull=True, created_at__lte=now - grace)
        | Q(status=S.QUEUED, not_before__lte=now - grace)
        | Q(status=S.SENDING, not_before__lte=now)
    )
    ids = list(stuck.order_by("created_at").values_list("pk", flat=True)[:500])
    for pk in ids:
        enqueue(SEND_TASK, pk)
    return len(ids)


def _record(message: Message, what: str) -> None:
    verb = {"sent": "E-mail sent to", "failed": "E-mail failed to"}[what]
    events.record(
        f"crm.message.{what}",
        subject=message,
        actor_label="email",
        links=[message.customer, message.lead],
        summary=f"{verb} {message.to_email}: {message.error_message or message.subject}"[:200],
        data={
            "message_id": message.pk,
            "channel": "email",
            "status": message.status,
            "provider_sid": message.provider_sid or "",
            "attempts": message.attempts,
        },
    )
