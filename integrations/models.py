"""Inbound deliveries from lead sources, accepted fast and processed by a worker (an inbox)."""

from django.db import models
from django.utils import timezone

from crm.models import Lead, Source


class InboundLead(models.Model):
    """A lead a webhook delivered: stored in the request (validated, deduplicated), captured by a worker."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DONE = "done", "Captured"
        FAILED = "failed", "Failed"

    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(max_length=60, help_text="Who delivered it, e.g. Zapier webhook.")
    external_id = models.CharField(max_length=200, blank=True)
    idempotency_key = models.CharField(max_length=200, blank=True)
    contact = models.JSONField(default=dict, help_text="The parsed contact (crm.services.LeadIn fields).")
    attribution = models.JSONField(default=dict, blank=True)
    raw_payload = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    lead = models.ForeignKey(Lead, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"],
                condition=~models.Q(external_id=""),
                name="inbound_once_per_external_id",
            ),
            models.UniqueConstraint(
                fields=["source", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="inbound_once_per_idempotency_key",
            ),
        ]
        indexes = [models.Index(fields=["status", "received_at"])]

    def __str__(self) -> str:
        return f"{self.channel} #{self.pk} ({self.status})"


class StripeEvent(models.Model):
    """A Stripe webhook event, handled once: its id is unique, so a replay (Stripe retries, or anyone
    resending a captured request) finds the row and changes nothing. What it led to is kept for the office."""

    class Outcome(models.TextChoices):
        RECORDED = "recorded", "Payment recorded"
        ALREADY = "already", "Session already recorded"
        REFUSED = "refused", "Not applied: the office was told"
        IGNORED = "ignored", "Ignored"

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    session_id = models.CharField(max_length=255, blank=True, db_index=True)
    invoice = models.ForeignKey(
        "fsm.Invoice", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    payment = models.ForeignKey(
        "fsm.Payment", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.IGNORED)
    detail = models.CharField(max_length=300, blank=True)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id} ({self.outcome})"
