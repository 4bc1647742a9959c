"""Review requests: after the work is paid for (or done), the customer is asked for a Google review.

One text (or an e-mail when the customer has no number that takes texts) carries the review link and,
optionally, asks for a 1-5 score as a reply. The link is in that first message whatever the customer
scores: a score never decides whether the link is sent (no review gating: Google's policy and the FTC
rule on consumer reviews forbid it). A low score alerts the owner, nothing more.

The rules (crm.automations.reviews) and the owner's settings are here; imported by crm/models.py."""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q

from customers.models import Customer

GOOGLE_WRITE_REVIEW = "https://search.google.com/local/writereview?placeid="

DEFAULT_SMS = (
    "Hi {first_name}, thanks for choosing {business_name}! If {technician} did a good job, a Google review "
    "helps us a lot: {review_link}"
)
DEFAULT_EMAIL = (
    "Hi {first_name},\n\nThank you for choosing {business_name}. If you have a minute, a Google review "
    "of the work {technician} did helps other homeowners find us:\n\n{review_link}\n\nThank you!"
)
DEFAULT_REMINDER = (
    "Hi {first_name}, a quick reminder from {business_name}: your review would mean a lot to us. "
    "{review_link}"
)
SCORE_QUESTION = "Optional: reply with a score from 1 to 5."


def review_token() -> str:
    return secrets.token_urlsafe(16)


class ReviewSettings(models.Model):
    """The owner's review requests (one row)."""

    EDITABLE = [  # what the owner's settings page changes (and the demo sets)
        "enabled",
        "trigger",
        "delay_hours",
        "google_place_id",
        "google_review_url",
        "ask_score",
        "low_score_threshold",
        "reminder_days",
        "min_days_between",
        "sms_template",
        "email_subject",
        "email_template",
        "reminder_template",
    ]

    class Trigger(models.TextChoices):
        INVOICE_PAID = "invoice.paid", "The invoice is paid in full"
        JOB_COMPLETED = "job.completed", "The job is completed"

    enabled = models.BooleanField(default=False, help_text="Off: no new request is made or sent.")
    trigger = models.CharField(max_length=20, choices=Trigger.choices, default=Trigger.INVOICE_PAID)
    delay_hours = models.PositiveSmallIntegerField(
        default=2, help_text="Hours after that moment (quiet hours still apply to the text)."
    )
    google_review_url = models.URLField(
        max_length=500, blank=True, help_text="Your Google review link, or leave blank and give the place ID."
    )
    google_place_id = models.CharField(
        max_length=200, blank=True, help_text="Google's place ID for the business (e.g. ChIJ...)."
    )
    ask_score = models.BooleanField(
        default=True, help_text=f"Add “{SCORE_QUESTION}” to the request. The link is sent either way."
    )
    low_score_threshold = models.PositiveSmallIntegerField(
        default=3, help_text="A score at or below this makes a task for the owner to call the customer."
    )
    reminder_days = models.PositiveSmallIntegerField(
        default=3, help_text="One reminder this many days later if the link was not opened; 0: none."
    )
    min_days_between = models.PositiveSmallIntegerField(
        default=90, help_text="Never ask the same customer more than once in this many days."
    )
    sms_template = models.TextField(default=DEFAULT_SMS)
    email_subject = models.CharField(max_length=150, default="How did we do, {first_name}?")
    email_template = models.TextField(default=DEFAULT_EMAIL)
    reminder_template = models.TextField(default=DEFAULT_REMINDER)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        app_label = "crm"
        verbose_name_plural = "review settings"

    def __str__(self) -> str:
        return "Review settings"

    @classmethod
    def current(cls) -> "ReviewSettings":
        return cls.objects.order_by("pk").first() or cls.objects.create()

    @property
    def review_url(self) -> str:
        """Where /r/<token> sends the customer: the link given, else Google's page for the place ID."""
        if self.google_review_url:
            return self.google_review_url
        return f"{GOOGLE_WRITE_REVIEW}{self.google_place_id}" if self.google_place_id else ""


class ReviewRequest(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", "Waiting to send"
        SENT = "sent", "Sent"
        CLICKED = "clicked", "Link opened"
        NOT_SENT = "not_sent", "Not sent"

    class Channel(models.TextChoices):
        SMS = "sms", "Text"
        EMAIL = "email", "E-mail"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="review_requests")
    # What it is about, once per milestone subject: "invoice:12", "job:7".
    subject_key = models.CharField(max_length=40, unique=True)
    milestone = models.CharField(max_length=20)
    job_id = models.PositiveIntegerField(null=True, blank=True)
    invoice_id = models.PositiveIntegerField(null=True, blank=True)
    technician = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    technician_first_name = models.CharField(max_length=150, blank=True)
    token = models.CharField(max_length=64, unique=True, default=review_token)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    # The next thing to do: the request (pending), the reminder (sent), nothing (None).
    due_at = models.DateTimeField(null=True, blank=True)
    waiting_reason = models.CharField(max_length=200, blank=True)
    channel = models.CharField(max_length=8, choices=Channel.choices, blank=True)
    message = models.ForeignKey(
        "messaging.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    reminder_message = models.ForeignKey(
        "messaging.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    clicked_at = models.DateTimeField(null=True, blank=True)
    click_count = models.PositiveIntegerField(default=0)
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    score_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=200, blank=True, help_text="Why it was not sent.")
    alert_task = models.ForeignKey(
        "crm.Task",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="A low score's call.",
    )
    created_at = models.DateTimeField()

    class Meta:
        app_label = "crm"
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["due_at"], condition=Q(due_at__isnull=False), name="review_due"),
            models.Index(fields=["customer", "created_at"], name="review_customer"),
            models.Index(fields=["sent_at"], name="review_sent"),
        ]

    def __str__(self) -> str:
        return f"Review request {self.subject_key} to {self.customer_id}"
