"""Thin Celery adapters for the SMS outbox: ids in, one service call, safe to run twice."""

import logging

from celery import shared_task
from celery.exceptions import Retry

from messaging.models import Message
from messaging.services import message_release_held

from . import services
from .backends import SmsError

logger = logging.getLogger(__name__)


@shared_task(name="integrations.sms.tasks.send_message", bind=True, max_retries=None)
def send_message(self, message_id: int) -> str | Retry:
    """Send one outbox row. A retryable failure comes back after 5, 10, 20 ... s; the service stops it
    at SMS_MAX_ATTEMPTS by marking the row failed."""
    try:
        return services.message_send(message_id=message_id).status
    except Message.DoesNotExist:
        logger.warning("SMS %s: no such message; nothing sent.", message_id)
        return "missing"
    except SmsError as error:
        logger.warning("SMS %s not sent yet (%s); retrying.", message_id, error.message)
        # throw=False: the retry is scheduled (or, eagerly, run) and this run ends without an error.
        return self.retry(
            exc=error, countdown=services.backoff_seconds(self.request.retries + 1), throw=False
        )


@shared_task(name="integrations.sms.tasks.sweep_outbox")
def sweep_outbox() -> int:
    return services.outbox_sweep()


@shared_task(name="integrations.sms.tasks.release_held")
def release_held() -> int:
    return message_release_held()
