"""Thin Celery adapters for the lead sources: ids in, one service call, safe to run twice."""

import logging

from celery import shared_task
from django.conf import settings

from common.errors import ApplicationError

from . import facebook, google_lsa
from .client import ProviderError

logger = logging.getLogger(__name__)

FACEBOOK_MAX_RETRIES = 8


def _backoff_seconds(retries: int) -> int:
    return min(30 * 2**retries, 3600)  # 30 s, 1 min, 2 min ... capped at an hour


@shared_task(name="integrations.leadsources.tasks.facebook_lead_fetch", bind=True)
def facebook_lead_fetch(self, leadgen_id: str, notification: dict | None = None) -> int | None:
    """Fetch and capture one Facebook lead. Network errors and 5xx retry with backoff; 4xx give up."""
    try:
        captured = facebook.facebook_lead_import(leadgen_id=leadgen_id, notification=notification)
    except ProviderError as error:
        if error.retryable and self.request.retries < FACEBOOK_MAX_RETRIES:
            raise self.retry(exc=error, countdown=_backoff_seconds(self.request.retries)) from error
        logger.error("Facebook lead %s not fetched: %s", leadgen_id, error)
        return None
    except ApplicationError as error:
        logger.error("Facebook lead %s not captured: %s", leadgen_id, error.message)
        return None
    return captured.lead.pk


@shared_task(name="integrations.leadsources.tasks.poll_google_lsa")
def poll_google_lsa() -> int:
    """Every minute from beat; polls only when GOOGLE_LSA_ENABLED, and then every GOOGLE_LSA_POLL_SECONDS."""
    if not settings.GOOGLE_LSA_ENABLED:
        return 0
    try:
        return google_lsa.lsa_poll_if_due()
    except ProviderError as error:
        log = logger.warning if error.retryable else logger.error
        log("Google LSA poll failed: %s", error)
        return 0
