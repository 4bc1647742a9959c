"""What each row will do: create a customer, merge into one, or be skipped. Reads only.

The preview, the dry run and the import all ask the same `Planner`, batch after batch, so the dry run's
counts are the import's. It costs three queries a batch, whatever the batch's size.
"""

from dataclasses import dataclass
from enum import StrEnum

from django.db.models import CharField
from django.db.models.functions import Cast, Lower

from crm.models import ImportRowKey
from customers.models import EmailAddress, PhoneNumber

from .columns import CUSTOMERS
from .rows import RowIn

IN_CHUNK = 900  # under SQLite's old 999-variable limit


class Outcome(StrEnum):
    CREATE = "create"  # a new customer (a customers import) or a new lead (a leads import)
    MERGE = "merge"  # into an existing customer, or into the customer an earlier row of the file made
    DUPLICATE = "duplicate"  # the same row again in the file: skipped
    IMPORTED = "imported"  # applied by an earlier import: skipped
    ERROR = "error"  # cannot be imported


SKIPPED = (Outcome.DUPLICATE, Outcome.IMPORTED)


@dataclass
class Claim:
    """One customer the file's rows point at: known by id, or still to be created by `first_row`."""

    first_row: int | None = None
    customer_id: int | None = None


@dataclass
class Planned:
    row: RowIn
    outcome: Outcome
    claim: Claim | None = None
    same_as_row: int | None = None  # DUPLICATE: the earlier identical row

    @property
    def joins_new_customer(self) -> bool:
        """A MERGE into a customer an earlier row of this batch is about to create."""
        return self.outcome == Outcome.MERGE and self.claim.customer_id is None

    @property
    def is_first_of_claim(self) -> bool:
        return self.claim is not None and self.claim.first_row == self.row.number


class Planner:
    """Remembers what earlier rows of the file claimed, so that rows about one person make one customer."""

    def __init__(self, kind: str):
        self.kind = kind
        self.seen: dict[str, int] = {}  # row hash -> the first row with it
        self.claims: dict[str, Claim] = {}  # contact key (E.164 phone, lower-cased e-mail) -> customer

    def plan(self, rows: list[RowIn]) -> list[Planned]:
        imported = already_imported(self.kind, [r.row_hash for r in rows if not r.error])
        todo = [r for r in rows if not r.error and r.row_hash not in imported]
        existing = customers_by_contact({k for r in todo for k in r.contact_keys} - set(self.claims))
        return [self._plan_row(row, imported, existing) for row in rows]

    def _plan_row(self, row: RowIn, imported: set[str], existing: dict[str, int]) -> Planned:
        if row.error:
            return Planned(row, Outcome.ERROR)
        if row.row_hash in self.seen:
            return Planned(row, Outcome.DUPLICATE, same_as_row=self.seen[row.row_hash])
        self.seen[row.row_hash] = row.number
        if row.row_hash in imported:
            return Planned(row, Outcome.IMPORTED)
        claim = self._claim_for(row, existing)
        if self.kind != CUSTOMERS:  # lead_capture finds the customer itself; the claim is for the preview
            return Planned(row, Outcome.CREATE, claim=claim)
        outcome = Outcome.MERGE if claim.first_row != row.number else Outcome.CREATE
        return Planned(row, outcome, claim=claim)

    def _claim_for(self, row: RowIn, existing: dict[str, int]) -> Claim:
        """Phones first, then e-mails, as customers.selectors.customer_find_by_contact looks."""
        claim = None
        for key in row.contact_keys:
            claim = self.claims.get(key) or (Claim(customer_id=existing[key]) if key in existing else None)
            if claim:
                break
        claim = claim or Claim(first_row=row.number)
        for key in row.contact_keys:
            self.claims.setdefault(key, claim)
        return claim


def _chunks(items: list, size: int = IN_CHUNK):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def already_imported(kind: str, hashes: list[str]) -> set[str]:
    found: set[str] = set()
    for chunk in _chunks(hashes):
        found.update(
            ImportRowKey.objects.filter(kind=kind, row_hash__in=chunk).values_list("row_hash", flat=True)
        )
    return found


def customers_by_contact(keys: set[str]) -> dict[str, int]:
    """Contact key -> the oldest active customer with it: customer_find_by_contact's answer, in bulk."""
    phones = sorted(k for k in keys if k.startswith("+"))
    emails = sorted(k for k in keys if not k.startswith("+"))
    found: dict[str, int] = {}
    # Compared as text: the same SQL as number__in, without parsing every number again in Python.
    e164 = Cast("number", output_field=CharField())
    for chunk in _chunks(phones):
        rows = PhoneNumber.objects.annotate(e164=e164).filter(
            e164__in=chunk, customer__merged_into__isnull=True
        )
        for number, customer_id in rows.order_by("customer_id").values_list("e164", "customer_id"):
            found.setdefault(number, customer_id)
    for chunk in _chunks(emails):
        rows = EmailAddress.objects.annotate(key=Lower("email")).filter(
            key__in=chunk, customer__merged_into__isnull=True
        )
        for key, customer_id in rows.order_by("customer_id").values_list("key", "customer_id"):
            found.setdefault(key, customer_id)
    return found
