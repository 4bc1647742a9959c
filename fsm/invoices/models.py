"""Invoices, payments, credit notes and customer credit.

    issue           draft -> issued                   (numbered now: gapless per series, e.g. INV-2026-000123)
    record_payment  issued, partially_paid -> partially_paid | paid
    void            issued -> void                    (no payment on it; with a reason)
    credit          paid, partially_paid -> (same)    (a credit note: money given back, its own series)

An issued invoice is never edited: changes go through void and a new invoice, or a credit note.
Transitions only change state; `fsm.invoices.services` locks, saves, records and publishes.
"""

import builtins
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django_fsm import RETURN_VALUE, FSMField, FSMModelMixin, transition

from customers.models import Customer, Property
from fsm.documents.models import MONEY, ZERO, PricedLine, PublicLink
from users.models import TaxRate


class Invoice(FSMModelMixin, PublicLink, models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", "Draft"
        ISSUED = "issued", "Issued"
        PARTIALLY_PAID = "partially_paid", "Partly paid"
        PAID = "paid", "Paid"
        VOID = "void", "Void"

    PAYABLE_STATES = (State.ISSUED, State.PARTIALLY_PAID)

    number = models.CharField(max_length=30, unique=True, null=True, blank=True, editable=False)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="invoices")
    property = models.ForeignKey(Property, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    job = models.ForeignKey(
        "fsm.Job", null=True, blank=True, on_delete=models.PROTECT, related_name="invoices"
    )
    estimate = models.ForeignKey(
        "fsm.Estimate", null=True, blank=True, on_delete=models.PROTECT, related_name="invoices"
    )
    state = FSMField(default=State.DRAFT, choices=State.choices, protected=True, db_index=True)
    message = models.TextField(blank=True, help_text="For the customer, above the lines.")
    internal_notes = models.TextField(blank=True)
    terms = models.TextField(blank=True)
    payment_terms_days = models.PositiveSmallIntegerField(default=0)
    tax_rate = models.ForeignKey(TaxRate, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    tax_percent = models.DecimalField(max_digits=6, decimal_places=4, default=Decimal("0"))
    tax_exempt_reason = models.CharField(max_length=120, blank=True)
    discount = models.DecimalField(**MONEY, default=ZERO)
    subtotal = models.DecimalField(**MONEY, default=ZERO, editable=False)
    tax = models.DecimalField(**MONEY, default=ZERO, editable=False)
    total = models.DecimalField(**MONEY, default=ZERO, editable=False)
    amount_paid = models.DecimalField(**MONEY, default=ZERO, editable=False)
    amount_credited = models.DecimalField(**MONEY, default=ZERO, editable=False)
    issued_on = models.DateField(null=True, blank=True)
    due_on = models.DateField(null=True, blank=True, db_index=True)
    issued_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    void_reason = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        app_label = "fsm"
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["state", "due_on"])]
        constraints = [
            models.CheckConstraint(condition=Q(amount_paid__gte=0), name="invoice_paid_not_negative"),
            models.CheckConstraint(
                condition=Q(state="draft") | Q(state="void") | Q(amount_paid__lte=models.F("total")),
                name="invoice_paid_at_most_total",
            ),
            models.CheckConstraint(
                condition=Q(state="draft") | Q(number__isnull=False), name="invoice_numbered_when_issued"
            ),
        ]

    def __str__(self) -> str:
        return self.number or f"Draft invoice #{self.pk}"

    @builtins.property  # `property` is a field of this model
    def balance(self) -> Decimal:
        """What the customer still owes (0 for a draft or a void invoice)."""
        if self.state in (self.State.DRAFT, self.State.VOID):
            return ZERO
        return self.total - self.amount_paid

    @builtins.property  # `property` is a field of this model
    def is_editable(self) -> bool:
        return self.state == self.State.DRAFT

    @transition(field=state, source=State.DRAFT, target=State.ISSUED)
    def issue(self):
        """Numbered, dated and sent; from now on it never changes."""

    @transition(
        field=state, source=list(PAYABLE_STATES), target=RETURN_VALUE(State.PARTIALLY_PAID, State.PAID)
    )
    def record_payment(self, fully_paid: bool) -> str:
        return self.State.PAID if fully_paid else self.State.PARTIALLY_PAID

    @transition(field=state, source=State.ISSUED, target=State.VOID)
    def void(self):
        """Canceled before any payment."""


class InvoiceLine(PricedLine):
    class Origin(models.TextChoices):
        ESTIMATE = "estimate", "From the accepted estimate"
        ONSITE = "onsite", "Added on site"
        MANUAL = "manual", "Added by the office"

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    origin = models.CharField(max_length=10, choices=Origin.choices, default=Origin.MANUAL)

    class Meta(PricedLine.Meta):
        app_label = "fsm"


class Payment(models.Model):
    """Money in (or, negative, a refund out) on an invoice. Never edited; a mistake is refunded."""

    class Method(models.TextChoices):
        CASH = "cash", "Cash"
        CHECK = "check", "Check"
        CARD = "card", "Card (in person)"
        ONLINE = "online", "Card online"
        CREDIT = "credit", "Customer credit"
        OTHER = "other", "Other"

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payments")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="payments")
    method = models.CharField(max_length=10, choices=Method.choices)
    amount = models.DecimalField(**MONEY, help_text="Negative for a refund.")
    applied = models.DecimalField(**MONEY, help_text="The part that paid the invoice (the rest: credit).")
    reference = models.CharField(max_length=100, blank=True, help_text="Check number, card reference, ...")
    note = models.CharField(max_length=300, blank=True)
    received_at = models.DateTimeField(db_index=True)
    stripe_session_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    refund_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="refunds"
    )
    credit_note = models.ForeignKey(
        "fsm.CreditNote", null=True, blank=True, on_delete=models.PROTECT, related_name="refunds"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "fsm"
        ordering = ["-received_at", "-pk"]
        constraints = [models.CheckConstraint(condition=~Q(amount=0), name="payment_not_zero")]

    def __str__(self) -> str:
        return f"{self.get_method_display()} {self.amount}"


class CreditNote(models.Model):
    """Money given back after payment: its own gapless series (CN-2026-000007). Either refunded (a
    negative Payment) or kept as customer credit."""

    number = models.CharField(max_length=30, unique=True, editable=False)
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="credit_notes")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="credit_notes")
    amount = models.DecimalField(**MONEY)
    reason = models.CharField(max_length=300)
    refunded = models.BooleanField(default=False, help_text="Paid back; otherwise kept as customer credit.")
    issued_at = models.DateTimeField()
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        app_label = "fsm"
        ordering = ["-issued_at", "-pk"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="credit_note_positive")]

    def __str__(self) -> str:
        return self.number


class CustomerCredit(models.Model):
    """The customer's credit, as movements: + an overpayment kept or a credit note kept as credit,
    - credit applied to an invoice. The balance is the sum, never below zero (checked under a lock)."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="credit_movements")
    amount = models.DecimalField(**MONEY)
    payment = models.ForeignKey(Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    credit_note = models.ForeignKey(
        CreditNote, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    invoice = models.ForeignKey(Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "fsm"
        ordering = ["-created_at", "-pk"]
        constraints = [models.CheckConstraint(condition=~Q(amount=0), name="credit_movement_not_zero")]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.amount}"
