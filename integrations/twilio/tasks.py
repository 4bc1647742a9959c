"""Thin adapters: ids in, one service call, safe to run twice."""

from celery import shared_task

from . import services


@shared_task(name="integrations.twilio.tasks.call_identify")
def call_identify(call_id: int) -> None:
    services.call_identify(call_id=call_id)


@shared_task(name="integrations.twilio.tasks.call_text_back")
def call_text_back(call_id: int) -> None:
    services.call_text_back(call_id=call_id)
