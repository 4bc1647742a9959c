"""Twilio webhooks: every request signed for real with the test auth token, as Twilio would sign it."""

from datetime import time

import pytest
from django.test import Client

from messaging.models import MessagingSettings

from .helpers import BASE_URL, BUSINESS_NUMBER, TOKEN, sign


@pytest.fixture(autouse=True)
def twilio_settings(settings):
    settings.TWILIO_AUTH_TOKEN = TOKEN
    settings.PUBLIC_BASE_URL = BASE_URL
    settings.TWILIO_PHONE_NUMBER = BUSINESS_NUMBER
    return settings


@pytest.fixture
def rules(business) -> MessagingSettings:
    """Ring two phones for 15 seconds; quiet hours off, so automated texts are queued at any hour."""
    rules = MessagingSettings.current()
    rules.ring_through_numbers = ["+15125550198", "+15125550199"]
    rules.ring_seconds = 15
    rules.quiet_hours_start = rules.quiet_hours_end = time(0, 0)
    rules.save()
    return rules


@pytest.fixture
def twilio_post(client: Client, django_capture_on_commit_callbacks):
    """POST form data the way Twilio does, signed; `signature=` overrides the header ('' sends none).
    What the webhook queues after commit runs too (eagerly), as a worker would right after."""

    def post(path: str, params: dict, *, signature: str | None = None):
        signature = sign(path, params) if signature is None else signature
        headers = {"X-Twilio-Signature": signature} if signature else {}
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(path, params, headers=headers)

    return post
