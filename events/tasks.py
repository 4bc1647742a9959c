"""Thin Celery adapters: ids in, one service call, safe to run twice."""

from celery import shared_task
from django.utils import timezone

from . import services


@shared_task(name="events.tasks.fan_out")
def fan_out(event_id: int) -> None:
    services.event_fan_out(event_id=event_id)


@shared_task(name="events.tasks.fan_out_batch")
def fan_out_batch(event_ids: list[int]) -> None:
    services.events_fan_out_batch(event_ids=event_ids)


@shared_task(name="events.tasks.deliver")
def deliver(delivery_id: int) -> str:
    started = timezone.now()
    delivery = services.delivery_attempt(delivery_id=delivery_id)
    attempted_now = delivery.last_attempt_at is not None and delivery.last_attempt_at >= started
    delay = (delivery.next_attempt_at - timezone.now()).total_seconds()
    # Short backoffs wait in the broker; longer ones are picked up by the periodic sweep.
    if attempted_now and delivery.status == "pending" and delay <= 60:
        deliver.apply_async(args=[delivery_id], countdown=max(delay, 0))
    return delivery.status


@shared_task(name="events.tasks.sweep_undelivered")
def sweep_undelivered() -> dict:
    return services.sweep_undelivered()


@shared_task(name="events.tasks.heartbeat")
def heartbeat() -> None:
    services.heartbeat()
