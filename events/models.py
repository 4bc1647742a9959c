"""The append-only log of business changes, and the delivery of milestones to subscribers.

One `Event` row per business change, written in the same transaction as the change. It is the timeline
and the audit trail. When `milestone` is set (lead.created, invoice.paid, ...), the event is also delivered
after commit to every subscriber registered for that milestone, one `Delivery` row per (event, subscriber).
"""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone


class Event(models.Model):
    merge_follow_generic = False  # the log is append-only; a merge moves the EventLinks instead

    code = models.CharField(max_length=100, db_index=True, help_text="Dotted, e.g. customers.customer.merged")
    milestone = models.CharField(max_length=60, blank=True, db_index=True, help_text="e.g. customer.merged")
    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(
        max_length=100, blank=True, help_text="An integration, when no user acted."
    )
    subject_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    subject_id = models.CharField(max_length=64)
    subject = GenericForeignKey("subject_type", "subject_id")
    summary = models.CharField(max_length=300, blank=True)
    data = models.JSONField(default=dict, blank=True)
    # Set once every subscriber has a Delivery row (so the sweep knows which events still need fan-out).
    fanned_out_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-pk"]
        indexes = [
            models.Index(fields=["subject_type", "subject_id"]),
            models.Index(
                fields=["milestone", "fanned_out_at"],
                name="event_pending_fanout",
                condition=models.Q(fanned_out_at__isnull=True) & ~models.Q(milestone=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} #{self.pk}"

    def save(self, *args, **kwargs):
        if self.pk and not kwargs.pop("allow_update", False):
            raise ValidationError("Events are append-only; write a new event instead.")
        super().save(*args, **kwargs)

    @property
    def who(self) -> str:
        return str(self.actor) if self.actor_id else (self.actor_label or "System")


class EventLink(models.Model):
    """Puts an event on the timeline of a record (a customer, a lead, a job) besides its subject."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="links")
    target_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    target_id = models.CharField(max_length=64)
    target = GenericForeignKey("target_type", "target_id")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event", "target_type", "target_id"], name="eventlink_unique"),
        ]
        indexes = [models.Index(fields=["target_type", "target_id", "event"])]

    def __str__(self) -> str:
        return f"{self.event_id} -> {self.target_type_id}:{self.target_id}"


class Delivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"
        DISMISSED = "dismissed", "Dismissed"

    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="deliveries")
    subscriber = models.CharField(max_length=200)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "deliveries"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["event", "subscriber"], name="delivery_once_per_subscriber"),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.event} -> {self.subscriber} ({self.status})"


class WorkerHeartbeat(models.Model):
    """Written by a periodic task; /healthz reads how old the last beat is."""

    name = models.CharField(max_length=100, unique=True)
    beat_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} @ {self.beat_at:%Y-%m-%d %H:%M:%S}"
