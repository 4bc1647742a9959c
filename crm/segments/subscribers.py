"""The work history segments filter on, kept from fsm's milestones (each delivered once)."""

from decimal import Decimal

from django.utils.dateparse import parse_date, parse_datetime

from customers.models import Customer
from events.registry import subscriber

from . import services


def _survivor(customer_id: int | None) -> int | None:
    """The event's customer, or the one it was merged into since (None when it no longer exists)."""
    customer = (
        Customer.objects.filter(pk=customer_id).only("pk", "merged_into").first() if customer_id else None
    )
    while customer is not None and customer.merged_into_id:
        customer = Customer.objects.only("pk", "merged_into").get(pk=customer.merged_into_id)
    return customer.pk if customer else None


@subscriber("job.completed", name="crm.segments.job_completed")
def job_completed(event) -> None:
    if customer_id := _survivor(event.data.get("customer_id")):
        at = parse_datetime(event.data.get("at") or "") or event.occurred_at
        services.history_job_completed(
            customer_id=customer_id, at=at, job_type=event.data.get("job_type", "")
        )


@subscriber("invoice.paid", name="crm.segments.invoice_paid")
def invoice_paid(event) -> None:
    if customer_id := _survivor(event.data.get("customer_id")):
        services.history_spend(customer_id=customer_id, amount=Decimal(event.data["total"]))


@subscriber("credit_note.issued", name="crm.segments.refund", when=lambda data: bool(data.get("refunded")))
def refund(event) -> None:
    if customer_id := _survivor(event.data.get("customer_id")):
        services.history_spend(customer_id=customer_id, amount=-Decimal(event.data["amount"]))


@subscriber("equipment.saved", name="crm.segments.equipment")
def equipment(event) -> None:
    data = event.data
    if customer_id := _survivor(data.get("customer_id")):
        services.history_equipment(
            customer_id=customer_id,
            equipment_id=data["equipment_id"],
            kind=data["kind"],
            installed_on=parse_date(data["installed_on"]) if data.get("installed_on") else None,
        )
