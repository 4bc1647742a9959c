"""Thin adapters: ids in, one service call, safe to run twice. A database error (a deadlock, a
restart) retries with backoff; a task lost altogether is queued again by `sweep_calls`."""

from celery import shared_task
from django.db import DatabaseError

from . import services

RETRY = {"autoretry_for": (DatabaseError,), "retry_backoff": 2, "retry_jitter": True, "max_retries": 5}


@shared_task(name="integrations.twilio.tasks.call_identify", **RETRY)
def call_identify(call_id: int) -> None:
    services.call_identify(call_id=call_id)


@shared_task(name="integrations.twilio.tasks.call_text_back", **RETRY)
def call_text_back(call_id: int) -> None:
    services.call_text_back(call_id=call_id)


@shared_task(name="integrations.twilio.tasks.sweep_calls")
def sweep_calls() -> tuple[int, int]:
    return services.calls_sweep()
