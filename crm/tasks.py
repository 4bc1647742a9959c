"""Thin adapters: ids in, one service call, safe to run twice. A database error (a deadlock, a restart)
retries with backoff; a task lost altogether is queued again by `sweep_calls`."""

from celery import shared_task
from django.db import DatabaseError

from . import phone

RETRY = {"autoretry_for": (DatabaseError,), "retry_backoff": 2, "retry_jitter": True, "max_retries": 5}


@shared_task(name="crm.tasks.call_identify", **RETRY)
def call_identify(call_id: int) -> None:
    phone.call_identify(call_id=call_id)


# The name it had when the Twilio edge held it: a deploy can find some queued in the broker.
@shared_task(name="integrations.twilio.tasks.call_identify", **RETRY)
def call_identify_queued_before(call_id: int) -> None:
    phone.call_identify(call_id=call_id)


@shared_task(name="crm.tasks.sweep_calls")
def sweep_calls() -> tuple[int, int]:
    return phone.calls_sweep()


@shared_task(name="crm.tasks.automations_tick")
def automations_tick() -> int:
    """Every due sequence step (beat, every minute); a batch at a time under row locks."""
    from .automations.engine import automations_tick as tick

    return tick()


@shared_task(name="crm.tasks.outreach_tick")
def outreach_tick() -> int:
    """Reactivation campaigns: yearly ones whose date came round are launched; due recipients texted."""
    from .segments.outreach import outreach_relaunch_yearly
    from .segments.outreach import outreach_tick as tick

    outreach_relaunch_yearly()
    return tick()


@shared_task(name="crm.tasks.reviews_tick")
def reviews_tick() -> int:
    """Review requests and their one reminder that are due (beat, every minute), under row locks."""
    from .automations.reviews import reviews_tick as tick

    return tick()
