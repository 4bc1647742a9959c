"""Every write to an invoice, a payment or a credit note goes through these functions. Keyword-only, one
transaction each, an explicit `actor` (None: the system, e.g. the Stripe webhook or an accepted estimate).

    invoice_create        a draft by hand, for a customer (and a job)
    invoice_for_job       the job's draft invoice (created the first time): where the accepted
                          estimate's lines and the work and materials added on site go
    invoice_lines_from_estimate   (estimate_accept) the chosen option's lines onto the job's draft
    invoice_update, invoice_line_add, invoice_line_update, invoice_line_remove      (a draft only)
    invoice_issue         draft -> issued: a gapless number, the due date, the terms; invoice.issued
    invoice_send          the link by text and e-mail
    invoice_void          issued, no payment on it -> void, with a reason; invoice.voided
    payment_record        cash, check, card, online, other: partial or whole; more than due only with
                          the rest kept as customer credit; payment.received (and invoice.paid)
    credit_apply          the customer's credit pays (part of) an invoice
    credit_note_issue     money given back after payment (at most what was paid): refunded (a negative
                          payment) or kept as credit; its own gapless series; credit_note.issued

An issued invoice is never edited: every function that changes lines or amounts refuses anything but a
draft, and the amounts of an issued invoice are only ever moved by payments and credit notes.
"""

from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from common import money
from common.errors import ApplicationError
from customers.models import Customer, Property
from events import services as events
from messaging import services as messaging
from users.models import Business
from users.roles import Role

from ..documents.lines import LineIn, line_fill, money_field
from ..documents.numbering import number_take
from ..documents.parties import customer_contacts, tax_for
from ..errors import Forbidden
from ..models import Job
from ..pricebook.models import PricebookItem
from ..services._base import is_person
from .models import CreditNote, CustomerCredit, Invoice, InvoiceLine, Payment

ZERO = Decimal("0.00")
MONEY_ROLES = (Role.OWNER, Role.OFFICE)
PUBLIC_LINK_DAYS = 365


# --- Who may ------------------------------------------------------------------------------------------


def require_invoicer(invoice_or_job, actor) -> None:
    """Owner and office; a technician (and the dispatcher) only for a job they are on: they invoice and
    collect at the end of the visit."""
    if not is_person(actor) or actor.has_role(*MONEY_ROLES):
        return
    job = invoice_or_job if isinstance(invoice_or_job, Job) else invoice_or_job.job
    on_job = job is not None and job.visits.exclude(state="canceled").filter(technicians=actor).exists()
    if actor.has_role(Role.TECHNICIAN) and on_job:
        return
    raise Forbidden("Only the office, or a technician on the job, can invoice and take payments.")


def require_money_office(actor) -> None:
    if is_person(actor) and not actor.has_role(*MONEY_ROLES):
        raise Forbidden("Only the owner and the office can do this.")


# --- Drafts -------------------------------------------------------------------------------------------


def invoice_create(
    *, customer: Customer, actor, property: Property | None = None, job: Job | None = None, message: str = ""
) -> Invoice:
    if job is not None:
        if job.customer_id != customer.pk:
            raise ApplicationError("The job belongs to another customer.", field="job")
        property = property or job.property
        require_invoicer(job, actor)
    else:
        require_money_office(actor)
    if property is not None and property.customer_id != customer.pk:
        raise ApplicationError("The address belongs to another customer.", field="property")
    if customer.merged_into_id:
        raise ApplicationError("This customer was merged into another record.", field="customer")
    rate, percent, exempt = tax_for(customer, property)
    business = Business.current()
    with transaction.atomic():
        invoice = Invoice.objects.create(
            customer=customer,
            property=property,
            job=job,
            message=(message or "").strip(),
            payment_terms_days=business.payment_terms_days,
            tax_rate=rate,
            tax_percent=percent,
            tax_exempt_reason=exempt,
            created_by=actor if is_person(actor) else None,
        )
        _record(invoice, "fsm.invoice.created", actor, "Invoice drafted")
    return invoice


def invoice_for_job(*, job: Job, actor) -> Invoice:
    """The job's draft invoice, created the first time (one draft per job at a time)."""
    existing = Invoice.objects.filter(job=job, state=Invoice.State.DRAFT).order_by("pk").first()
    if existing is not None:
        require_invoicer(existing, actor)
        return existing
    return invoice_create(customer=job.customer, property=job.property, job=job, actor=actor)


def invoice_lines_from_estimate(*, job: Job, estimate, lines, discount: Decimal) -> Invoice:
    """The accepted option's lines (and ticked add-ons) onto the job's draft invoice, with the option's
    discount. Runs inside estimate_accept's transaction, as the system."""
    invoice = invoice_for_job(job=job, actor=None)
    invoice = _lock_draft(invoice, None)
    start = _next_position(invoice)
    InvoiceLine.objects.bulk_create(
        InvoiceLine(
            invoice=invoice,
            position=start + i,
            origin=InvoiceLine.Origin.ESTIMATE,
            **{f: getattr(line, f) for f in LINE_FIELDS},
        )
        for i, line in enumerate(lines)
    )
    if invoice.estimate_id is None:
        invoice.estimate = estimate
    invoice.discount += discount
    _refresh(invoice)
    return invoice


LINE_FIELDS = (
    "item_id",
    "code",
    "name",
    "description",
    "quantity",
    "unit",
    "unit_price",
    "unit_cost",
    "discount",
    "taxable",
    "amount",
)


def _next_position(invoice: Invoice) -> int:
    last = invoice.lines.order_by("-position").values_list("position", flat=True).first()
    return (last if last is not None else -1) + 1


def _lock_draft(invoice: Invoice, actor) -> Invoice:
    locked = Invoice.objects.select_for_update(of=("self",)).select_related("job").get(pk=invoice.pk)
    require_invoicer(locked, actor)
    if not locked.is_editable:
        raise ApplicationError(
            f"Invoice {locked} is {locked.get_state_display().lower()}: it cannot be changed. "
            "Void it and issue a new one, or issue a credit note.",
            field="state",
            code="not_draft",
        )
    return locked


def invoice_update(
    *, invoice: Invoice, actor, discount=None, message: str | None = None, internal_notes: str | None = None
) -> Invoice:
    with transaction.atomic():
        invoice = _lock_draft(invoice, actor)
        if discount is not None:
            invoice.discount = money_field(discount, "discount")
        if message is not None:
            invoice.message = message.strip()
        if internal_notes is not None:
            invoice.internal_notes = internal_notes.strip()
        _refresh(invoice)
    return invoice


def invoice_line_add(
    *, invoice: Invoice, actor, line: LineIn, item: PricebookItem | None = None, origin: str = ""
) -> InvoiceLine:
    with transaction.atomic():
        invoice = _lock_draft(invoice, actor)
        if not origin:
            technician = is_person(actor) and actor.has_role(Role.TECHNICIAN)
            origin = InvoiceLine.Origin.ONSITE if technician else InvoiceLine.Origin.MANUAL
        made = InvoiceLine(invoice=invoice, position=_next_position(invoice), origin=origin)
        line_fill(made, line, item)
        made.save()
        _refresh(invoice)
    return made


def invoice_line_update(*, line: InvoiceLine, actor, changes: LineIn) -> InvoiceLine:
    with transaction.atomic():
        invoice = _lock_draft(line.invoice, actor)
        line = InvoiceLine.objects.select_for_update().get(pk=line.pk, invoice=invoice)
        line_fill(line, changes, None)
        line.save()
        _refresh(invoice)
    return line


def invoice_line_remove(*, line: InvoiceLine, actor) -> None:
    with transaction.atomic():
        invoice = _lock_draft(line.invoice, actor)
        InvoiceLine.objects.filter(pk=line.pk, invoice=invoice).delete()
        _refresh(invoice)


def invoice_totals(invoice: Invoice) -> money.Totals:
    return money.totals(
        [line.as_line() for line in invoice.lines.all()],
        discount=invoice.discount,
        tax_percent=invoice.tax_percent,
    )


def _refresh(invoice: Invoice) -> Invoice:
    try:
        result = invoice_totals(invoice)
    except money.MoneyError as error:
        raise ApplicationError(str(error), field="discount") from None
    invoice.subtotal, invoice.tax, invoice.total = result.subtotal, result.tax, result.total
    invoice.save()
    return invoice


# --- Issue, send, void ----------------------------------------------------------------------------------


def invoice_issue(*, invoice: Invoice, actor, send_sms: bool = False, send_email: bool = False) -> Invoice:
    """Number it (gapless, at this moment), date it, set the due date from the payment terms, copy the
    terms: from now on it never changes. Optionally send the link."""
    business = Business.current()
    with transaction.atomic():
        invoice = _lock_draft(invoice, actor)
        if not invoice.lines.exists():
            raise ApplicationError("Add at least one line before issuing.", field="lines", code="empty")
        _refresh(invoice)
        if invoice.total <= 0:
            raise ApplicationError("An invoice must be for more than $0.00.", field="lines", code="zero")
        now = timezone.now()
        today = timezone.localdate(now, business.tzinfo)
        invoice.number = number_take(business.invoice_prefix, today.year)
        invoice.issued_at, invoice.issued_on = now, today
        invoice.due_on = today + timedelta(days=invoice.payment_terms_days)
        invoice.terms = business.invoice_terms
        invoice.public_expires_at = now + timedelta(days=PUBLIC_LINK_DAYS)
        invoice.issue()
        invoice.save()
        _publish(
            invoice,
            "invoice.issued",
            actor,
            f"Invoice {invoice.number} issued: {money.format_money(invoice.total)}, "
            f"due {invoice.due_on:%b %-d}",
            total=str(invoice.total),
            subtotal=str(invoice.subtotal),
            tax=str(invoice.tax),
            discount=str(invoice.discount),
            tax_percent=str(invoice.tax_percent),
            issued_on=invoice.issued_on.isoformat(),
            due_on=invoice.due_on.isoformat(),
            lines=_line_summary(invoice),
        )
        if send_sms or send_email:
            _send(invoice, actor, sms=send_sms, email=send_email, business=business)
    return invoice


def _line_summary(invoice: Invoice) -> list[dict]:
    """What the ledger needs per line: the item's kind (revenue by category), the amount, taxable."""
    kinds = dict(
        PricebookItem.objects.filter(pk__in=invoice.lines.values("item_id")).values_list("pk", "kind")
    )
    return [
        {"kind": kinds.get(line.item_id, "service"), "amount": str(line.amount), "taxable": line.taxable}
        for line in invoice.lines.all()
    ]


def public_url(invoice: Invoice) -> str:
    return settings.PUBLIC_BASE_URL.rstrip("/") + reverse("invoice-public", args=[invoice.public_token])


def invoice_send(*, invoice: Invoice, actor, sms: bool = True, email: bool = True) -> Invoice:
    if not (sms or email):
        raise ApplicationError("Choose text, e-mail or both.", field="channels")
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update(of=("self",)).select_related("job").get(pk=invoice.pk)
        require_invoicer(invoice, actor)
        if invoice.state in (Invoice.State.DRAFT, Invoice.State.VOID):
            raise ApplicationError(
                f"A {invoice.get_state_display().lower()} invoice cannot be sent.",
                field="state",
                code="not_sendable",
            )
        _send(invoice, actor, sms=sms, email=email, business=Business.current())
    return invoice


def _send(invoice: Invoice, actor, *, sms: bool, email: bool, business: Business) -> list[str]:
    phone, address = customer_contacts(invoice.customer)
    channels = [c for c, wanted, to in (("sms", sms, phone), ("email", email, address)) if wanted and to]
    if not channels:
        raise ApplicationError(
            "The customer has no mobile number or e-mail address to send it to.", field="channels"
        )
    link = public_url(invoice)
    due = "due on receipt" if invoice.payment_terms_days == 0 else f"due {invoice.due_on:%b %-d}"
    if "sms" in channels:
        messaging.message_queue(
            to=phone,
            body=f"{business.name}: invoice {invoice.number} for {money.format_money(invoice.balance)} "
            f"is ready ({due}). View and pay: {link}",
            customer=invoice.customer,
            template="invoice",
            actor=actor,
        )
    if "email" in channels:
        name = invoice.customer.first_name or "there"
        messaging.email_queue(
            to=address,
            subject=f"Invoice {invoice.number} from {business.name}",
            body=f"Hi {name},\n\nThank you for your business. Invoice {invoice.number} for "
            f"{money.format_money(invoice.total)} is {due}; the balance is "
            f"{money.format_money(invoice.balance)}."
            f"\n\nView, download or pay it here:\n{link}\n\n{business.name}"
            + (f"\n{business.phone}" if business.phone else ""),
            customer=invoice.customer,
            actor=actor,
        )
    _record(invoice, "fsm.invoice.sent", actor, f"Invoice {invoice.number} sent by {' and '.join(channels)}")
    return channels


def invoice_void(*, invoice: Invoice, actor, reason: str) -> Invoice:
    reason = " ".join((reason or "").split())
    if not reason:
        raise ApplicationError("Say why the invoice is void.", field="reason", code="required")
    require_money_office(actor)
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update(of=("self",)).get(pk=invoice.pk)
        if invoice.state != Invoice.State.ISSUED or invoice.payments.exists():
            raise ApplicationError(
                "Only an issued invoice without payments can be voided; give money back with a credit note.",
                field="state",
                code="not_voidable",
            )
        invoice.void_reason, invoice.voided_at = reason[:300], timezone.now()
        invoice.public_revoked_at = invoice.voided_at
        invoice.void()
        invoice.save()
        _publish(
            invoice,
            "invoice.voided",
            actor,
            f"Invoice {invoice.number} voided: {reason}",
            reason=reason,
            total=str(invoice.total),
        )
    return invoice


# --- Payments and credit ----------------------------------------------------------------------------------


def payment_record(
    *,
    invoice: Invoice,
    actor,
    method: str,
    amount,
    reference: str = "",
    note: str = "",
    keep_credit: bool = False,
    received_at: datetime | None = None,
    stripe_session_id: str | None = None,
) -> Payment:
    """A payment on an issued invoice. More than the balance is refused unless the rest is kept as the
    customer's credit (`keep_credit`). A Stripe session pays once: a second call returns the first.

    Money already taken online (`stripe_session_id`) on an invoice paid in full meanwhile by other means
    is not refused when `keep_credit`: the whole amount is kept as the customer's credit (a payment with
    nothing applied). A void invoice refuses it like any payment (the caller tells the office)."""
    if method not in Payment.Method.values or method == Payment.Method.CREDIT:
        raise ApplicationError("Choose how the customer paid.", field="method")
    if method == Payment.Method.ONLINE and stripe_session_id is None:
        raise ApplicationError("Online payments are recorded by the card processor.", field="method")
    amount = money_field(amount, "amount", positive=True)
    reference = " ".join((reference or "").split())[:100]
    if method == Payment.Method.CHECK and not reference:
        raise ApplicationError("Give the check number.", field="reference", code="required")
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update(of=("self",)).select_related("job").get(pk=invoice.pk)
        # Looked up under the invoice's lock: a second delivery of the same session waits for the first.
        if stripe_session_id and (
            done := Payment.objects.filter(stripe_session_id=stripe_session_id).first()
        ):
            return done
        if stripe_session_id is None:
            require_invoicer(invoice, actor)
        if not (stripe_session_id and keep_credit and invoice.state == Invoice.State.PAID):
            _require_payable(invoice)
        applied = min(amount, invoice.balance)
        extra = amount - applied
        if extra and not keep_credit:
            raise ApplicationError(
                f"That is {money.format_money(extra)} more than the balance of "
                f"{money.format_money(invoice.balance)}. Take the balance, or keep the rest as credit.",
                field="amount",
                code="overpayment",
            )
        payment = Payment.objects.create(
            invoice=invoice,
            customer_id=invoice.customer_id,
            method=method,
            amount=amount,
            applied=applied,
            reference=reference,
            note=(note or "").strip()[:300],
            received_at=received_at or timezone.now(),
            stripe_session_id=stripe_session_id,
            recorded_by=actor if is_person(actor) else None,
        )
        if extra:
            CustomerCredit.objects.create(
                customer_id=invoice.customer_id,
                amount=extra,
                payment=payment,
                invoice=invoice,
                note=f"Overpayment on {invoice.number}",
            )
        _paid(invoice, payment, actor, credit_kept=extra)
    return payment


NO_TECHNICIAN = {"technician_id": None, "technician_first_name": ""}


def _require_payable(invoice: Invoice) -> None:
    if invoice.state not in Invoice.PAYABLE_STATES:
        text = {
            Invoice.State.DRAFT: "Issue the invoice before taking a payment.",
            Invoice.State.PAID: f"Invoice {invoice.number} is already paid in full.",
            Invoice.State.VOID: f"Invoice {invoice.number} is void: it cannot be paid.",
        }[invoice.state]
        raise ApplicationError(text, field="invoice", code="not_payable")


def _paid(invoice: Invoice, payment: Payment, actor, *, credit_kept: Decimal = ZERO) -> None:
    """Move the invoice's paid amount and state; publish payment.received (and invoice.paid). A payment
    with nothing applied (all kept as credit, on an invoice already paid) leaves the invoice as it is."""
    fully = False
    if payment.applied:
        invoice.amount_paid += payment.applied
        fully = invoice.amount_paid >= invoice.total
        if fully:
            invoice.paid_at = payment.received_at
        invoice.record_payment(fully)
        invoice.save()
    _publish(
        invoice,
        "payment.received",
        actor,
        f"{payment.get_method_display()} payment of {money.format_money(payment.amount)} on {invoice.number}"
        + (f" ({money.format_money(credit_kept)} kept as credit)" if credit_kept else ""),
        payment_id=payment.pk,
        method=payment.method,
        amount=str(payment.amount),
        applied=str(payment.applied),
        credit_kept=str(credit_kept),
        balance=str(invoice.balance),
        reference=payment.reference,
    )
    if fully:
        _publish(
            invoice,
            "invoice.paid",
            actor,
            f"Invoice {invoice.number} paid in full",
            total=str(invoice.total),
            paid_at=invoice.paid_at.isoformat(),
            **(invoice.job.lead_technician() if invoice.job_id else NO_TECHNICIAN),
        )


def credit_balance(customer: Customer) -> Decimal:
    total = CustomerCredit.objects.filter(customer=customer).aggregate(total=Sum("amount"))["total"]
    return total or ZERO


def credit_apply(*, invoice: Invoice, actor, amount=None) -> Payment:
    """Pay (part of) the invoice from the customer's credit: at most the credit and the balance."""
    require_money_office(actor)
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update(of=("self",)).get(pk=invoice.pk)
        Customer.objects.select_for_update().filter(
            pk=invoice.customer_id
        ).first()  # one credit change at a time
        _require_payable(invoice)
        available = credit_balance(invoice.customer)
        if available <= 0:
            raise ApplicationError("The customer has no credit.", field="amount", code="no_credit")
        wanted = (
            min(available, invoice.balance)
            if amount in (None, "")
            else money_field(amount, "amount", positive=True)
        )
        if wanted > available:
            raise ApplicationError(
                f"The customer has {money.format_money(available)} of credit.",
                field="amount",
                code="over_credit",
            )
        if wanted > invoice.balance:
            raise ApplicationError(
                f"The balance is {money.format_money(invoice.balance)}.", field="amount", code="overpayment"
            )
        payment = Payment.objects.create(
            invoice=invoice,
            customer_id=invoice.customer_id,
            method=Payment.Method.CREDIT,
            amount=wanted,
            applied=wanted,
            received_at=timezone.now(),
            recorded_by=actor if is_person(actor) else None,
            note="Customer credit applied",
        )
        CustomerCredit.objects.create(
            customer_id=invoice.customer_id,
            amount=-wanted,
            payment=payment,
            invoice=invoice,
            note=f"Applied to {invoice.number}",
        )
        _paid(invoice, payment, actor)
    return payment


def credit_note_issue(
    *,
    invoice: Invoice,
    actor,
    amount,
    reason: str,
    refund: bool,
    method: str = Payment.Method.CASH,
    reference="",
) -> CreditNote:
    """Money given back on a paid (or partly paid) invoice, at most what was paid and not yet credited.
    `refund`: paid back now (a negative payment by `method`); otherwise kept as the customer's credit."""
    require_money_office(actor)
    amount = money_field(amount, "amount", positive=True)
    reason = " ".join((reason or "").split())
    if not reason:
        raise ApplicationError("Say why the money is given back.", field="reason", code="required")
    if refund and (method not in Payment.Method.values or method == Payment.Method.CREDIT):
        raise ApplicationError("Choose how the money is paid back.", field="method")
    business = Business.current()
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update(of=("self",)).get(pk=invoice.pk)
        room = invoice.amount_paid - invoice.amount_credited
        if invoice.state not in (Invoice.State.PAID, Invoice.State.PARTIALLY_PAID) or room <= 0:
            raise ApplicationError("A credit note is for money already paid on an invoice.", field="invoice")
        if amount > room:
            raise ApplicationError(
                f"At most {money.format_money(room)} was paid and not yet credited.",
                field="amount",
                code="over_paid",
            )
        now = timezone.now()
        note = CreditNote.objects.create(
            number=number_take(business.credit_note_prefix, timezone.localdate(now, business.tzinfo).year),
            invoice=invoice,
            customer_id=invoice.customer_id,
            amount=amount,
            reason=reason[:300],
            refunded=refund,
            issued_at=now,
            issued_by=actor if is_person(actor) else None,
        )
        if refund:
            Payment.objects.create(
                invoice=invoice,
                customer_id=invoice.customer_id,
                method=method,
                amount=-amount,
                applied=ZERO,
                reference=" ".join((reference or "").split())[:100],
                note=f"Refund, credit note {note.number}",
                received_at=now,
                credit_note=note,
                recorded_by=actor if is_person(actor) else None,
            )
        else:
            CustomerCredit.objects.create(
                customer_id=invoice.customer_id,
                amount=amount,
                credit_note=note,
                invoice=invoice,
                note=note.number,
            )
        invoice.amount_credited += amount
        invoice.save(update_fields=["amount_credited", "updated_at"])
        _publish(
            invoice,
            "credit_note.issued",
            actor,
            f"Credit note {note.number} on {invoice.number}: {money.format_money(amount)} "
            + ("refunded" if refund else "kept as credit"),
            credit_note_id=note.pk,
            credit_note_number=note.number,
            amount=str(amount),
            refunded=refund,
            method=method if refund else "",
        )
    return note


# --- Timelines and milestones --------------------------------------------------------------------------


def _links(invoice: Invoice) -> list:
    return [(Customer, invoice.customer_id), (Property, invoice.property_id), (Job, invoice.job_id)]


def _record(invoice: Invoice, code: str, actor, summary: str):
    return events.record(
        code,
        subject=invoice,
        actor=actor,
        links=_links(invoice),
        summary=summary,
        data={"invoice_id": invoice.pk, "invoice_number": invoice.number or ""},
    )


def _publish(invoice: Invoice, milestone: str, actor, summary: str, **data):
    job = invoice.job if invoice.job_id else None
    return events.publish(
        milestone,
        subject=invoice,
        code=f"fsm.{milestone}",
        actor=actor,
        actor_label="" if is_person(actor) else "system",
        links=_links(invoice),
        summary=summary,
        data={
            "invoice_id": invoice.pk,
            "invoice_number": invoice.number or "",
            "customer_id": invoice.customer_id,
            "job_id": invoice.job_id,
            "origin_lead_id": job.origin_lead_id if job else None,
            **data,
        },
    )
