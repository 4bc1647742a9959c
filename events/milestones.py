"""The milestone catalogue: every milestone code and the shape of its data, checked when it is published.

A milestone is a contract between the app that publishes it and the subscribers that react (crm, fsm,
finance, outbound webhooks), so its data is declared here, in one place, instead of being whatever dict
the publisher built. `payload_check(milestone, data)` refuses an unknown code, a missing or mistyped key
and a key nobody declared (a typo would otherwise reach the subscribers as a silent None). The data is
stored as published (JSON: ids, strings, ISO 8601 times); the models only check it.

Adding a milestone: declare its payload below and add it to CATALOGUE in the same commit as its first
publisher; docs/ARCHITECTURE.md lists them. Codes in RESERVED are named by the design but not published
yet (the money issue declares them when it publishes them).
"""

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class EventError(Exception):
    """A milestone or delivery request the log refuses: an unknown code, a payload that is not the
    declared one, an unknown subscriber, a retry of a delivery that already succeeded."""


class Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


# --- Customers ------------------------------------------------------------------------------------------


class CustomerCreated(Payload):
    phones: list[str]
    emails: list[str]
    # Set when the customer arrived in bulk, e.g. "csv-import:42": a subscriber that must not treat a
    # migration as new customers arriving (welcome texts, webhooks) declines it with `when=`.
    origin: str = ""


class CustomerMerged(Payload):
    survivor_id: int
    duplicate_id: int
    moved: dict[str, int]  # "app.Model.field" -> rows moved to the survivor


# --- Leads ----------------------------------------------------------------------------------------------


class LeadCreated(Payload):
    lead_id: int
    customer_id: int | None
    new_customer: bool
    source: str  # the source's slug
    source_kind: str
    campaign_id: int | None
    phone: str
    email: str


class LeadMoved(Payload):
    lead_id: int
    customer_id: int | None
    from_: str = Field(alias="from")
    to: str


class LeadQualified(LeadMoved):
    """lead.qualified carries the move alone (lead, customer, from, to)."""


class BookingSlot(Payload):
    technician_id: int
    start: datetime
    end: datetime


class LeadBooked(LeadMoved):
    property_id: int | None
    service: str
    service_type_id: int | None
    window_start: datetime | None
    window_end: datetime | None
    notes: str
    description: str
    phone: str
    email: str
    slot: BookingSlot | None = None


class LeadLost(LeadMoved):
    reason: str
    note: str


# --- Messages and calls -------------------------------------------------------------------------------


class MessageReceived(Payload):
    message_id: int
    from_: str = Field(alias="from")
    customer_id: int | None
    lead_id: int | None
    body: str


class CallMissed(Payload):
    call_id: int
    from_: str = Field(alias="from")
    customer_id: int | None


# --- Jobs and visits (fsm adds job_id, job_number, customer_id and origin_lead_id to each) --------------


class JobMilestone(Payload):
    job_id: int
    job_number: str
    customer_id: int
    origin_lead_id: int | None


class JobMoved(JobMilestone):
    from_: str = Field(alias="from")
    to: str


class VisitTimes(Payload):
    """The visit as a customer text needs it; built by fsm's one helper for visit payloads."""

    visit_id: int
    start: datetime
    end: datetime
    arrival_window_start: datetime | None
    arrival_window_end: datetime | None
    time_zone: str  # where the customer reads the times


class JobScheduled(JobMilestone, VisitTimes):
    from_: str = Field(alias="from")
    technician_ids: list[int]
    warnings: list[str]


class VisitBefore(Payload):
    start: datetime
    end: datetime
    technician_ids: list[int]


class VisitRescheduled(JobMilestone, VisitTimes):
    from_: VisitBefore = Field(alias="from")  # where the visit was
    technician_ids: list[int]
    warnings: list[str]


class VisitReminderDue(JobMilestone, VisitTimes):
    phone: str | None


class JobDispatched(JobMoved):
    visit_id: int
    start: datetime
    technician_ids: list[int]


class JobEnRoute(JobMoved):
    visit_id: int
    phone: str | None
    technician_id: int
    technician_first_name: str
    eta: datetime | None
    eta_minutes: int | None
    time_zone: str


class JobCompleted(JobMoved):
    completion_note: str
    visit_ids: list[int]
    at: datetime
    job_type: str = ""  # the job type's name ("AC tune-up"); "" for a job without one
    # Who did the work (Job.lead_technician: the first of the last completed visit's crew); a review
    # request's {technician}. None and "" when nobody was sent.
    technician_id: int | None = None
    technician_first_name: str = ""


class EquipmentSaved(Payload):
    """A unit found at a property, or corrected (a segment's "water heater older than 10 years")."""

    equipment_id: int
    property_id: int
    customer_id: int
    kind: str
    installed_on: date | None


class JobCanceled(JobMoved):
    reason: str


# --- Estimates -------------------------------------------------------------------------------------------


class EstimateMilestone(Payload):
    estimate_id: int
    estimate_number: str = ""
    customer_id: int
    job_id: int | None
    origin_lead_id: int | None


class EstimateSent(EstimateMilestone):
    option_totals: list[str] = []  # each option's total, "1234.50"
    expires_on: date | None = None  # ISO date in the stored data
    channels: list[str] = []  # "sms", "email"
    public_url: str = ""  # the customer's link to the estimate
    prepared_by_first_name: str = ""  # who made it (a follow-up's {technician})


class EstimateAccepted(EstimateMilestone):
    option_id: int | None = None
    option_name: str = ""
    total: str = ""  # the chosen option with its ticked add-ons, "1234.50"
    in_person: bool = False


class EstimateDeclined(EstimateMilestone):
    reason: str = ""


# --- Invoices and payments (amounts as exact decimal strings, "1234.50") ------------------------------


class InvoiceMilestone(Payload):
    invoice_id: int
    invoice_number: str
    customer_id: int
    job_id: int | None
    origin_lead_id: int | None


class InvoiceLineSummary(Payload):
    kind: str  # the pricebook item's kind: service, material, equipment (typed lines: service)
    amount: str
    taxable: bool


class InvoiceIssued(InvoiceMilestone):
    total: str
    subtotal: str
    tax: str
    discount: str
    tax_percent: str
    issued_on: date
    due_on: date
    lines: list[InvoiceLineSummary]


class InvoicePaid(InvoiceMilestone):
    total: str
    paid_at: datetime
    technician_id: int | None = None  # the invoice's job's technician (as job.completed), else None
    technician_first_name: str = ""


class InvoiceVoided(InvoiceMilestone):
    reason: str
    total: str


class PaymentReceived(InvoiceMilestone):
    payment_id: int
    method: str
    amount: str
    applied: str
    credit_kept: str
    balance: str
    reference: str = ""  # the check number or card reference (finance's deposit slip); older ones lack it


class CreditNoteIssued(InvoiceMilestone):
    credit_note_id: int
    credit_note_number: str
    amount: str
    refunded: bool
    method: str


CATALOGUE: dict[str, type[Payload]] = {
    "customer.created": CustomerCreated,
    "customer.merged": CustomerMerged,
    "lead.created": LeadCreated,
    "lead.qualified": LeadQualified,
    "lead.booked": LeadBooked,
    "lead.lost": LeadLost,
    "message.received": MessageReceived,
    "call.missed": CallMissed,
    "job.scheduled": JobScheduled,
    "visit.rescheduled": VisitRescheduled,
    "visit.reminder_due": VisitReminderDue,
    "job.dispatched": JobDispatched,
    "job.en_route": JobEnRoute,
    "job.completed": JobCompleted,
    "job.canceled": JobCanceled,
    "equipment.saved": EquipmentSaved,
    "estimate.sent": EstimateSent,
    "estimate.accepted": EstimateAccepted,
    "estimate.declined": EstimateDeclined,
    "invoice.issued": InvoiceIssued,
    "invoice.paid": InvoicePaid,
    "invoice.voided": InvoiceVoided,
    "payment.received": PaymentReceived,
    "credit_note.issued": CreditNoteIssued,
}

RESERVED: frozenset[str] = frozenset()

MILESTONES = frozenset(CATALOGUE) | RESERVED


def payload_check(milestone: str, data: dict) -> None:
    """Raise EventError naming the problem when `data` is not what `milestone` declares."""
    model = CATALOGUE.get(milestone)
    if model is None:
        if milestone in RESERVED:
            raise EventError(f"Milestone {milestone!r} has no declared payload yet (events/milestones.py).")
        raise EventError(f"Unknown milestone {milestone!r}")
    try:
        model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, error['loc'])) or 'data'}: {error['msg']}" for error in exc.errors()
        )
        raise EventError(f"Invalid {milestone} data: {problems}") from None
