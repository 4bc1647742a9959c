"""Thin Celery adapters for the outbox and the missed-call text-back: ids in, one service call, safe to
run twice. Texts are routed to the dedicated `sms` queue (CELERY_TASK_ROUTES)."""

import logging

from celery import shared_task
from django.db import DatabaseError

from . import calls, outbox, services
from .models import Message
from .transports import TransportError

logger = logging.getLogger(__name__)

RETRY = {"autoretry_for": (DatabaseError,), "retry_backoff": 2, "retry_jitter": True, "max_retries": 5}


def _send(task, message_id: int) -> str:
    """Send one outbox row. A retryable failure comes back after the transport's backoff; the outbox
    stops it at the transport's attempts by marking the row failed."""
    try:
        return outbox.message_send(message_id=message_id).status
    except Message.DoesNotExist:
        logger.warning("Message %s: no such message; nothing sent.", message_id)
        return "missing"
    except TransportError as error:
        logger.warning("Message %s not sent yet (%s); retrying.", message_id, error.message)
        # throw=False: the retry is scheduled (or, eagerly, run) and this run ends without an error.
        return task.retry(exc=error, countdown=error.retry_in or 5, throw=False)


@shared_task(name="messaging.tasks.send_text", bind=True, max_retries=None)
def send_text(self, message_id: int) -> str:
    return _send(self, message_id)


@shared_task(name="messaging.tasks.send_message", bind=True, max_retries=None)
def send_message(self, message_id: int) -> str:
    return _send(self, message_id)


@shared_task(name="messaging.tasks.send_texts")
def send_texts(message_ids: list[int]) -> list[str]:
    """A batch's texts in turn (outbox.messages_enqueue). One that may go later is queued on its own
    with the transport's backoff, as `send_text` retries it; one missing is skipped."""
    statuses = []
    for message_id in message_ids:
        try:
            statuses.append(outbox.message_send(message_id=message_id).status)
        except Message.DoesNotExist:
            logger.warning("Message %s: no such message; nothing sent.", message_id)
            statuses.append("missing")
        except TransportError as error:
            logger.warning("Message %s not sent yet (%s); retrying on its own.", message_id, error.message)
            send_text.apply_async(args=[message_id], countdown=error.retry_in or 5)
            statuses.append("retrying")
    return statuses


# Sends queued under the names they had before messaging owned the outbox (a deploy can find some
# in the broker): they run the same engine.
send_text_queued_before = shared_task(
    name="integrations.sms.tasks.send_message", bind=True, max_retries=None
)(_send)
send_email_queued_before = shared_task(
    name="integrations.email.tasks.send_email", bind=True, max_retries=None
)(_send)


@shared_task(name="messaging.tasks.sweep_outbox")
def sweep_outbox() -> int:
    return outbox.outbox_sweep()


@shared_task(name="messaging.tasks.release_held")
def release_held() -> int:
    return services.message_release_held()


@shared_task(name="messaging.tasks.call_text_back", **RETRY)
def call_text_back(call_id: int) -> None:
    calls.call_text_back(call_id=call_id)


@shared_task(name="integrations.twilio.tasks.call_text_back", **RETRY)
def call_text_back_queued_before(call_id: int) -> None:
    calls.call_text_back(call_id=call_id)
