"""The demo company's books: the chart of accounts, and the money milestones the demo made (its history's
invoices, payments, voids and refunds) posted now, through the same deliveries the worker would run, so
the reports and the dashboard are complete when `make run` opens (the worker then finds them delivered)."""

from datetime import UTC, datetime

from events import registry
from events.models import Delivery
from events.services import deliveries_replay, delivery_attempt

from . import subscribers

RULES = (
    subscribers.post_invoice_issued,
    subscribers.post_invoice_voided,
    subscribers.post_payment_received,
    subscribers.post_credit_note,
)


def seed(*, log, **_):
    names = [sub.name for sub in registry.subscribers_all() if sub.handler in RULES]
    since = datetime(2000, 1, 1, tzinfo=UTC)
    for name in names:
        deliveries_replay(subscriber=name, since=since)
    pending = Delivery.objects.filter(subscriber__in=names, status=Delivery.Status.PENDING)
    pending = pending.order_by("event_id")
    posted = 0
    for pk in pending.values_list("pk", flat=True):
        posted += delivery_attempt(delivery_id=pk, force=True).status == Delivery.Status.DELIVERED
    log(f"Ledger: {posted} money milestones posted.")


def seed_after(*, log, **_) -> None:
    """The money milestones fsm's second pass made (posting is once per milestone: the rest are done)."""
    seed(log=log)
