"""Periodic field-service work (declared in config/celery.py's beat schedule): thin adapters to services."""

from celery import shared_task

from .estimates.services import estimates_expire as expire_estimates
from .services.reminders import visit_reminders_publish


@shared_task(name="fsm.tasks.visit_reminders")
def visit_reminders() -> int:
    """The day-before reminders (fsm.services.reminders)."""
    return visit_reminders_publish()


@shared_task(name="fsm.tasks.estimates_expire")
def estimates_expire() -> int:
    """Sent or viewed estimates past their expiry date -> expired (fsm.estimates.services)."""
    return expire_estimates()
