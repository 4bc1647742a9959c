"""The fast path for NEW customers: one batch of rows becomes customers, phones, e-mails, properties and
past jobs in a handful of INSERTs, instead of customer_create's dozen queries and event per customer.

It writes what customers.services.customer_create would (the same search columns, one primary phone,
e-mail and property) but publishes no customer.created: the import records one activity row per batch,
linked to each customer it created. See docs/channels/import.md.
"""

import re
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType

from crm.models import ImportJob, PastJob
from customers.models import Customer, EmailAddress, PhoneNumber, Property
from customers.services import PropertyIn, search_columns
from events.models import Event, EventLink

from .rows import PastJobIn, RowIn


@dataclass
class NewCustomer:
    """One customer to create, gathered from its first row and the rows of the batch about the same person."""

    rows: list[RowIn]
    phones: dict[str, str] = field(default_factory=dict)  # E.164 -> kind
    emails: dict[str, str] = field(default_factory=dict)  # lower-cased -> as written
    properties: dict[str, PropertyIn] = field(default_factory=dict)  # address key -> address
    past_jobs: list[tuple[PastJobIn, str | None]] = field(default_factory=list)  # with the address key
    customer: Customer | None = None

    @classmethod
    def of_rows(cls, rows: list[RowIn]) -> "NewCustomer":
        new = cls(rows=[])
        for row in rows:
            new.add(row)
        return new

    def add(self, row: RowIn) -> None:
        self.rows.append(row)
        for number, kind in row.phones:
            self.phones.setdefault(number, kind)
        for email in row.emails:
            self.emails.setdefault(email.lower(), email)
        key = address_key(row.address) if row.address else None
        if row.address:
            self.properties.setdefault(key, row.address)
        if row.past_job:
            self.past_jobs.append((row.past_job, key))

    def build(self, job: ImportJob) -> Customer:
        first = self.rows[0]
        names = {
            "first_name": first.first_name or _first(self.rows, "first_name"),
            "last_name": first.last_name or _first(self.rows, "last_name"),
            "company_name": first.company_name or _first(self.rows, "company_name"),
        }
        notes = "\n".join(dict.fromkeys(r.notes for r in self.rows if r.notes))
        columns = search_columns(
            **names,
            phones=list(self.phones),
            emails=list(self.emails.values()),
            addresses=[f"{p.street} {p.unit} {p.city} {p.zip_code}" for p in self.properties.values()],
        )
        self.customer = Customer(kind=first.kind, notes=notes, created_by=job.uploaded_by, **names, **columns)
        return self.customer


def _first(rows: list[RowIn], name: str) -> str:
    return next((getattr(r, name) for r in rows if getattr(r, name)), "")


def address_key(address: PropertyIn) -> str:
    """Street and ZIP, spelling-insensitive (the rule customers.services.property_find_or_add uses)."""
    street = " ".join(re.sub(r"[^a-z0-9 ]", "", address.street.lower()).split())
    return f"{street}|{address.zip_code[:5]}"


def customers_create(*, new: list[NewCustomer], job: ImportJob) -> list[Customer]:
    """Insert the batch's new customers and everything they own. The caller holds the transaction."""
    customers = Customer.objects.bulk_create([n.build(job) for n in new])
    PhoneNumber.objects.bulk_create(
        PhoneNumber(customer=n.customer, number=number, kind=kind, is_primary=i == 0)
        for n in new
        for i, (number, kind) in enumerate(n.phones.items())
    )
    EmailAddress.objects.bulk_create(
        EmailAddress(customer=n.customer, email=email, is_primary=i == 0)
        for n in new
        for i, email in enumerate(n.emails.values())
    )
    properties = {}
    for n in new:
        for i, (key, address) in enumerate(n.properties.items()):
            properties[(id(n), key)] = Property(customer=n.customer, is_primary=i == 0, **_address(address))
    Property.objects.bulk_create(properties.values())
    PastJob.objects.bulk_create(
        PastJob(
            customer=n.customer,
            property=properties.get((id(n), key)),
            service_date=past.service_date,
            total=past.total,
            description=past.description,
            import_job=job,
        )
        for n in new
        for past, key in n.past_jobs
    )
    return customers


def _address(address: PropertyIn) -> dict:
    names = ("street", "unit", "city", "state", "zip_code")
    return {name: getattr(address, name) for name in names}


def link_to_timelines(*, event: Event, customers: list[Customer]) -> None:
    """Put the batch's activity row on each new customer's timeline: "Imported from <file>"."""
    customer_type = ContentType.objects.get_for_model(Customer)
    EventLink.objects.bulk_create(
        EventLink(event=event, target_type=customer_type, target_id=str(c.pk)) for c in customers
    )
