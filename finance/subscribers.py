"""Posting rules: fsm's money milestones become journal entries, each once (the entry's idempotency key is
the milestone's; a duplicate delivery finds the entry and writes nothing).

    invoice.issued      Dr AR (total), Dr discounts; Cr revenue by line kind, Cr sales tax payable
    payment.received    Dr cash / undeposited funds / card clearing by method (customer credit when paid
                        from credit); Cr AR (the part applied), Cr customer credits (an overpayment kept)
    invoice.voided      the issued entry reversed (retried until that entry exists: out-of-order delivery)
    credit_note.issued  Dr refunds and credits; Cr the refund's method account, or customer credits
"""

from datetime import date, datetime
from decimal import Decimal

from django.utils import timezone

from events.registry import subscriber
from users.models import Business

from .models import JournalEntry
from .services import EntryIn, LineIn, entry_post, entry_reverse

ZERO = Decimal("0.00")
METHOD_ACCOUNTS = {
    "cash": "cash",
    "check": "undeposited",
    "card": "card_clearing",
    "online": "card_clearing",
    "other": "undeposited",
    "credit": "customer_credit",
}
REVENUE_BY_KIND = {
    "service": "service_revenue",
    "equipment": "equipment_revenue",
    "material": "material_revenue",
}


def _day(value) -> date:
    """A milestone's date ("2026-12-05") or time (an aware datetime) -> the business's calendar day."""
    if isinstance(value, str) and "T" not in value:
        return date.fromisoformat(value)
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return timezone.localdate(moment, Business.current().tzinfo)


def _refs(data: dict) -> dict:
    return {
        "customer_id": data["customer_id"],
        "invoice_id": data["invoice_id"],
        "job_id": data.get("job_id"),
        "lead_id": data.get("origin_lead_id"),
    }


def _lines(*pairs) -> list[LineIn]:
    """(role, debit, credit, refs) -> lines, leaving out the zero ones."""
    return [
        LineIn(account=role, debit=debit, credit=credit, **refs)
        for role, debit, credit, refs in pairs
        if debit > 0 or credit > 0
    ]


@subscriber("invoice.issued", name="finance.post_invoice_issued")
def post_invoice_issued(event) -> None:
    data = event.data
    refs = _refs(data)
    revenue: dict[str, Decimal] = {}
    for line in data["lines"]:
        role = REVENUE_BY_KIND.get(line["kind"], "service_revenue")
        revenue[role] = revenue.get(role, ZERO) + Decimal(line["amount"])
    entry_post(
        EntryIn(
            date=_day(data["issued_on"]),
            memo=f"Invoice {data['invoice_number']}",
            source="invoice.issued",
            key=f"invoice.issued:{data['invoice_id']}",
            event_id=event.pk,
            invoice_id=data["invoice_id"],
            customer_id=data["customer_id"],
            tax_percent=Decimal(data["tax_percent"]) if data.get("tax_percent") else None,
            due_on=_day(data["due_on"]) if data.get("due_on") else None,
            lines=_lines(
                ("ar", Decimal(data["total"]), ZERO, refs),
                ("discounts", Decimal(data["discount"]), ZERO, refs),
                *((role, ZERO, amount, refs) for role, amount in sorted(revenue.items())),
                ("sales_tax", ZERO, Decimal(data["tax"]), refs),
            ),
        )
    )


@subscriber("payment.received", name="finance.post_payment_received")
def post_payment_received(event) -> None:
    data = event.data
    refs = _refs(data)
    amount, applied, kept = Decimal(data["amount"]), Decimal(data["applied"]), Decimal(data["credit_kept"])
    entry_post(
        EntryIn(
            date=_day(event.occurred_at),
            memo=f"Payment ({data['method']}) on invoice {data['invoice_number']}",
            source="payment.received",
            key=f"payment.received:{data['payment_id']}",
            event_id=event.pk,
            invoice_id=data["invoice_id"],
            customer_id=data["customer_id"],
            lines=_lines(
                (METHOD_ACCOUNTS.get(data["method"], "undeposited"), amount, ZERO, refs),
                ("ar", ZERO, applied, refs),
                ("customer_credit", ZERO, kept, refs),
            ),
        )
    )


@subscriber("invoice.voided", name="finance.post_invoice_voided")
def post_invoice_voided(event) -> None:
    data = event.data
    issued = JournalEntry.objects.filter(idempotency_key=f"invoice.issued:{data['invoice_id']}").first()
    if issued is None:  # invoice.issued not posted yet: fail, and the delivery is retried after it
        raise LookupError(f"Invoice {data['invoice_number']}'s issue is not posted yet.")
    entry_reverse(
        entry=issued,
        key=f"invoice.voided:{data['invoice_id']}",
        memo=f"Invoice {data['invoice_number']} voided: {data['reason']}"[:300],
        date_=_day(event.occurred_at),
    )


@subscriber("credit_note.issued", name="finance.post_credit_note")
def post_credit_note(event) -> None:
    data = event.data
    refs = _refs(data)
    amount = Decimal(data["amount"])
    target = METHOD_ACCOUNTS.get(data["method"], "cash") if data["refunded"] else "customer_credit"
    entry_post(
        EntryIn(
            date=_day(event.occurred_at),
            memo=f"Credit note {data['credit_note_number']} on invoice {data['invoice_number']}"
            + (" (refunded)" if data["refunded"] else " (kept as credit)"),
            source="credit_note.issued",
            key=f"credit_note.issued:{data['credit_note_id']}",
            event_id=event.pk,
            invoice_id=data["invoice_id"],
            customer_id=data["customer_id"],
            lines=_lines(("refunds", amount, ZERO, refs), (target, ZERO, amount, refs)),
        )
    )
