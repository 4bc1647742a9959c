"""Thin Celery adapter for the e-mail outbox: an id in, one service call, safe to run twice."""

import logging

from celery import shared_task

from messaging.models import Message

from . import services

logger = logging.getLogger(__name__)


@shared_task(name="integrations.email.tasks.send_email", bind=True, max_retries=None)
def send_email(self, message_id: int) -> str:
    """Send one e-mail row. A retryable failure comes back after 30 s, 1, 2 ... min; the service stops it
    at EMAIL_MAX_ATTEMPTS by marking the row failed."""
    try:
        return services.email_send(message_id=message_id).status
    except Message.DoesNotExist:
        logger.warning("E-mail %s: no such message; nothing sent.", message_id)
        return "missing"
    except services.EmailSendError as error:
        logger.warning("E-mail %s not sent yet (%s); retrying.", message_id, error.message)
        return self.retry(
            exc=error, countdown=services.backoff_seconds(self.request.retries + 1), throw=False
        )


@shared_task(name="integrations.email.tasks.sweep_outbox")
def sweep_outbox() -> int:
    return services.outbox_sweep()
