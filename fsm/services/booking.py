"""Booking a job from the office: a new address if the customer gave one, the job, and its first visit if
one was chosen, in one transaction (all or nothing). The job page's "New job" and the API both call it.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import transaction

from common.errors import ApplicationError
from customers.models import Customer, Property
from customers.services import PropertyIn, property_find_or_add

from ..models import Job
from .jobs import job_create
from .visits import VisitResult, visit_schedule


@dataclass(frozen=True)
class Booking:
    job: Job
    visit: VisitResult | None


@contextmanager
def _part(name: str) -> Iterator[None]:
    """Say which part of the booking refused it (extra["part"]: address, job, visit), so the form or the
    API client can put the error where it belongs."""
    try:
        yield
    except ApplicationError as error:
        error.extra.setdefault("part", name)
        if name == "address" and error.field:  # customers names it properties[0].zip_code
            error.field = f"address.{error.field.rsplit('.', 1)[-1]}"
        raise


def job_book(
    *,
    customer: Customer,
    actor,
    job: dict,
    property: Property | None = None,
    address: PropertyIn | None = None,
    visit: dict | None = None,
) -> Booking:
    """`job`: job_create's fields (job_type, priority, description, office_notes, service, requested
    window); `address`: a new service address (found or added to the customer, used instead of
    `property`); `visit`: visit_schedule's fields (start, end, technicians, arrival window, confirm).
    Raises ApplicationError with extra["part"]; SchedulingConflict (409) for an unconfirmed overlap."""
    if property is not None and property.customer_id != customer.pk:
        raise ApplicationError(
            "That address belongs to another customer.", field="property", extra={"part": "job"}
        )
    with transaction.atomic():
        if address is not None:
            with _part("address"):
                property = property_find_or_add(customer=customer, address=address, actor=actor)
        with _part("job"):
            created = job_create(customer=customer, property=property, actor=actor, **job)
        result = None
        if visit is not None:
            with _part("visit"):
                result = visit_schedule(job=created, actor=actor, **visit)
    return Booking(job=created, visit=result)
