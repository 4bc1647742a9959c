"""The import's NEW customers: the rows of a batch about new people become customers through
customers.services.customers_create_bulk (customer_create's rules, its search columns and primaries, and
customer.created published for each, in a handful of INSERTs for the batch), then their past jobs.
The import also records one activity row per batch, linked to each customer it created ("Imported from
<file>"). See docs/channels/import.md.
"""

from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType

from crm.models import ImportJob, PastJob
from customers.models import Customer
from customers.services import (
    MAX_TAGS,
    CheckedCustomer,
    CustomerIn,
    EmailIn,
    PhoneIn,
    PropertyIn,
    address_key,
    customer_check,
    customers_create_bulk,
    customers_tags_add,
)
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
    tags: list[str] = field(default_factory=list)  # the rows' tags, once each whatever the case
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
        key = address_key(row.address.street, row.address.zip_code) if row.address else None
        if row.address:
            self.properties.setdefault(key, row.address)
        if row.past_job:
            self.past_jobs.append((row.past_job, key))
        for name in row.tags:
            if name.lower() not in {t.lower() for t in self.tags}:
                self.tags.append(name)

    def check(self) -> CheckedCustomer:
        """customers' rules for a new customer; ApplicationError names what the rows got wrong."""
        first = self.rows[0]
        return customer_check(
            CustomerIn(
                first_name=first.first_name or _first(self.rows, "first_name"),
                last_name=first.last_name or _first(self.rows, "last_name"),
                company_name=first.company_name or _first(self.rows, "company_name"),
                kind=first.kind,
                notes="\n".join(dict.fromkeys(r.notes for r in self.rows if r.notes)),
                phones=[PhoneIn(number=number, kind=kind) for number, kind in self.phones.items()],
                emails=[EmailIn(email=email) for email in self.emails.values()],
                properties=list(self.properties.values()),
            )
        )


def _first(rows: list[RowIn], name: str) -> str:
    return next((getattr(r, name) for r in rows if getattr(r, name)), "")


def customers_create(
    *, new: list[tuple[NewCustomer, CheckedCustomer]], job: ImportJob, actor_label: str
) -> list[Customer]:
    """Create the batch's checked new customers, then their past jobs. The caller holds the transaction."""
    created = customers_create_bulk(
        customers=[checked for _, checked in new],
        actor=job.uploaded_by,
        actor_label=actor_label,
        origin=f"csv-import:{job.pk}",
    )
    past_jobs = []
    for (record, _), made in zip(new, created, strict=True):
        record.customer = made.customer
        by_key = dict(zip(record.properties, made.properties, strict=True))
        past_jobs += [
            PastJob(
                customer=made.customer,
                property=by_key.get(key),
                service_date=past.service_date,
                total=past.total,
                description=past.description,
                import_job=job,
            )
            for past, key in record.past_jobs
        ]
    PastJob.objects.bulk_create(past_jobs)
    customers_tags_add(
        names_by_customer={record.customer.pk: record.tags[:MAX_TAGS] for record, _ in new if record.tags}
    )
    return [made.customer for made in created]


def link_to_timelines(*, event: Event, customers: list[Customer]) -> None:
    """Put the batch's activity row on each new customer's timeline: "Imported from <file>"."""
    customer_type = ContentType.objects.get_for_model(Customer)
    EventLink.objects.bulk_create(
        EventLink(event=event, target_type=customer_type, target_id=str(c.pk)) for c in customers
    )
