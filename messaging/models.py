"""Conversations and the unified inbox's data, messages (the outbox) and calls, and the business's
messaging settings. Peers (crm, fsm, later apps) send through messaging.services; messaging imports
customers, events and users only (a message's and a call's lead is a string reference to crm.Lead).

The tables keep their crm_ names (they were crm's before messaging became its own app).
"""

import textwrap
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import models
from django.utils import timezone
from django_fsm import RETURN_VALUE, FSMField, FSMModelMixin, transition

from customers.models import Customer
from customers.selectors import phone_national
from users.models import current_memo


class MessagingSettings(models.Model):
    """The business's phones and texts, editable by the owner (one row: `MessagingSettings.current()`)."""

    ring_through_numbers = models.JSONField(
        default=list, blank=True, help_text="E.164 numbers that ring before a call counts as missed."
    )
    ring_seconds = models.PositiveIntegerField(default=20)
    missed_call_text_enabled = models.BooleanField(default=True)
    missed_call_template = models.TextField(
        default="Sorry we missed your call! This is {business_name}. How can we help? "
        "Reply here and we'll text you right back."
    )
    missed_call_window_minutes = models.PositiveIntegerField(
        default=30, help_text="No second text-back within."
    )
    instant_reply_enabled = models.BooleanField(default=True)
    instant_reply_template = models.TextField(
        default="Hi {first_name}, thanks for reaching out to {business_name}! "
        "We got your request and will text you shortly."
    )
    help_template = models.TextField(
        default="{business_name}: {business_phone}. Reply STOP to opt out, START to opt back in."
    )
    saved_replies = models.JSONField(
        default=list, blank=True, help_text='Canned replies for the inbox: [{"title": ..., "body": ...}].'
    )
    quiet_hours_start = models.TimeField(default="21:00", help_text="No automated texts from this time...")
    quiet_hours_end = models.TimeField(
        default="08:00", help_text="...until this time (customer's time zone)."
    )
    # Appointment texts (crm.subscribers): fsm's milestones fill the merge fields below.
    confirmation_text_enabled = models.BooleanField(default=True)
    confirmation_template = models.TextField(
        blank=True,
        default="Hi {first_name}, you're booked with {business_name} on {date}, arriving {window}. "
        "Reply here with any questions.",
    )
    reminder_text_enabled = models.BooleanField(default=True)
    reminder_template = models.TextField(
        blank=True,
        default="Hi {first_name}, a reminder from {business_name}: we'll see you tomorrow, {date}, "
        "arriving {window}. Need to change it? Just reply.",
    )
    on_my_way_text_enabled = models.BooleanField(default=True)
    on_my_way_template = models.TextField(
        blank=True,
        default="Hi {first_name}, {technician} from {business_name} is on the way and should arrive {eta}.",
    )
    completed_text_enabled = models.BooleanField(default=True)
    completed_template = models.TextField(
        blank=True,
        default="Thanks for choosing {business_name}, {first_name}! Your job {job_number} is done. "
        "Questions about the work? Just reply to this text.",
    )

    # The merge fields each appointment text may use (besides MERGE_FIELDS, which every template has).
    MERGE_FIELDS = ("first_name", "last_name", "business_name", "business_phone")
    APPOINTMENT_TEXTS = {
        "confirmation_template": ("date", "window", "job_number"),
        "reminder_template": ("date", "window", "job_number"),
        "on_my_way_template": ("technician", "eta", "job_number"),
        "completed_template": ("job_number",),
    }

    class Meta:
        db_table = "crm_messagingsettings"
        verbose_name_plural = "messaging settings"

    def __str__(self) -> str:
        return "Messaging settings"

    CACHE_KEY = "crm.messaging_settings.current"

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        cache.delete(self.CACHE_KEY)
        current_memo.forget(self.CACHE_KEY)

    @classmethod
    def current(cls) -> "MessagingSettings":
        """Read on every call and text: kept in this process for a few seconds (as Business.current)
        and in the shared cache for five minutes (a save clears the shared copy)."""
        memo = current_memo.get(cls.CACHE_KEY)
        if memo is not None:
            return memo
        found = cache.get(cls.CACHE_KEY)
        if found is None:
            found = cls.objects.order_by("pk").first() or cls.objects.create()
            cache.set(cls.CACHE_KEY, found, 300)
        current_memo.put(cls.CACHE_KEY, found)
        return found


class Conversation(models.Model):
    """One thread per customer across SMS, e-mail and chat: the unified inbox."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DONE = "done", "Done"

    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="conversation")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN, db_index=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    unread_count = models.PositiveIntegerField(default=0)
    last_message_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_message_preview = models.CharField(max_length=160, blank=True)

    class Meta:
        db_table = "crm_conversation"
        ordering = ["-last_message_at", "-pk"]

    def __str__(self) -> str:
        return f"Conversation with {self.customer}"


class Message(FSMModelMixin, models.Model):
    """A text (or e-mail, or chat line) in or out. Outbound rows are the outbox: committed before any send.

    An outbound message is born queued, held (quiet hours), sending (claimed by the worker that created
    it) or suppressed, and moves only through the transitions below (messaging.outbox calls them, with
    the row locked): queued -> sending -> sent -> delivered | undelivered | failed; a failed attempt goes
    back to queued (or stays sending when it may have gone out) until it runs out of attempts."""

    class Direction(models.TextChoices):
        INBOUND = "in", "Inbound"
        OUTBOUND = "out", "Outbound"

    class Channel(models.TextChoices):
        SMS = "sms", "SMS"
        EMAIL = "email", "E-mail"
        CHAT = "chat", "Chat"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        HELD = "held", "Held (quiet hours)"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        DELIVERED = "delivered", "Delivered"
        UNDELIVERED = "undelivered", "Undelivered"
        FAILED = "failed", "Failed"
        SUPPRESSED = "suppressed", "Not sent (opted out)"
        RECEIVED = "received", "Received"

    class Purpose(models.TextChoices):
        CARE = "care", "Customer care"
        MARKETING = "marketing", "Marketing"
        AUTOMATED = "automated", "Automated reply"
        KEYWORD = "keyword", "Keyword confirmation"

    conversation = models.ForeignKey(
        Conversation, null=True, blank=True, on_delete=models.CASCADE, related_name="messages"
    )
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    # A string reference: messaging never imports crm; the lead a message belongs to, when crm knows one.
    lead = models.ForeignKey(
        "crm.Lead", null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    direction = models.CharField(max_length=3, choices=Direction.choices)
    channel = models.CharField(max_length=6, choices=Channel.choices, default=Channel.SMS)
    purpose = models.CharField(max_length=10, choices=Purpose.choices, default=Purpose.CARE)
    to_number = models.CharField(max_length=20, blank=True)
    from_number = models.CharField(max_length=20, blank=True)
    # E-mail: the addresses and the subject are fields; `body` is the text alone.
    to_email = models.EmailField(blank=True)
    from_email = models.EmailField(blank=True)
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    media_urls = models.JSONField(default=list, blank=True)
    status = FSMField(max_length=12, choices=Status.choices, protected=True, db_index=True)
    send_key = models.UUIDField(
        default=uuid.uuid4,
        unique=True,
        editable=False,
        help_text="Our idempotency key for the send: a retry never texts twice.",
    )
    provider_sid = models.CharField(max_length=64, null=True, blank=True, unique=True)
    error_code = models.CharField(max_length=10, blank=True)
    error_message = models.CharField(max_length=300, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    template = models.CharField(max_length=40, blank=True, help_text="Which automation wrote it, if any.")
    not_before = models.DateTimeField(null=True, blank=True, help_text="Held until (quiet hours).")
    hold_rule = models.CharField(
        max_length=200, blank=True, help_text="The quiet-hours rule that held it, and where the recipient is."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "crm_message"
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(fields=["status", "created_at"]),
            models.Index(fields=["to_number", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.direction} {self.channel} {self.to_number or self.from_number}: {self.body[:40]}"

    @property
    def party(self) -> str:
        """Who it is to (outbound) or from (inbound): a national number, an address, or '' (a chat line
        with no number)."""
        outbound = self.direction == self.Direction.OUTBOUND
        if self.channel == self.Channel.EMAIL:
            return self.to_email if outbound else self.from_email
        return phone_national(self.to_number if outbound else self.from_number)

    def gist(self, width: int = 120) -> str:
        """The text (an e-mail's subject first) cut at a word to `width` characters."""
        text = (
            f"{self.subject}: {self.body}"
            if self.channel == self.Channel.EMAIL and self.subject
            else self.body
        )
        return textwrap.shorten(text, width, placeholder=" …")

    # Delivery receipts only move forward: a late "sent" never undoes "delivered".
    RANK = {"queued": 0, "held": 0, "sending": 1, "sent": 2, "delivered": 3, "undelivered": 3, "failed": 3}

    # --- Transitions: the only places an outbound message's status changes --------------------------

    @transition(field=status, source=Status.HELD, target=RETURN_VALUE(Status.HELD, Status.QUEUED))
    def release(self, *, hold: tuple | None = None) -> str:
        """Quiet hours ended: queued, or held again until `hold` = (until, rule) when the rules say so."""
        if hold:
            self.not_before, self.hold_rule = hold
            return self.Status.HELD
        self.error_message = ""
        return self.Status.QUEUED

    @transition(field=status, source=[Status.QUEUED, Status.HELD], target=Status.SUPPRESSED)
    def suppress(self, *, reason: str) -> None:
        """The recipient may not get it (opted out, a landline): never sent."""
        self.not_before, self.error_code, self.error_message = None, "suppressed", f"Not sent: {reason}"[:300]

    @transition(field=status, source=[Status.QUEUED, Status.SENDING], target=Status.SENDING)
    def claim(self, *, lease_until) -> None:
        """A worker starts an attempt: committed before the provider is called, so a crash leaves a
        trace; past `lease_until` the row is taken to belong to a dead worker."""
        self.attempts += 1
        self.not_before = lease_until

    @transition(field=status, source=Status.SENDING, target=Status.SENDING)
    def extend_lease(self, *, lease_until) -> None:
        """A worker takes over an interrupted send, to ask the provider whether it went out."""
        self.not_before = lease_until

    @transition(field=status, source=[Status.QUEUED, Status.SENDING], target=Status.SENT)
    def mark_sent(self, *, sid: str, at) -> None:
        """The provider accepted it (or had it already: an interrupted send, adopted)."""
        self.provider_sid, self.sent_at, self.not_before = sid, at, None
        self.error_code = self.error_message = ""

    @transition(field=status, source=Status.SENDING, target=RETURN_VALUE(Status.QUEUED, Status.SENDING))
    def retry_later(self, *, at, code: str, reason: str, maybe_sent: bool) -> str:
        """An attempt failed and a later one may succeed, at `at`. Maybe sent (a timeout): it stays
        sending, so the next attempt asks the provider before it sends."""
        self.not_before, self.error_code, self.error_message = at, code[:10], reason[:300]
        return self.Status.SENDING if maybe_sent else self.Status.QUEUED

    @transition(field=status, source=[Status.QUEUED, Status.HELD, Status.SENDING], target=Status.FAILED)
    def fail(self, *, code: str, reason: str) -> None:
        self.not_before, self.error_code, self.error_message = None, code[:10], reason[:300]

    @transition(
        field=status,
        source=[Status.QUEUED, Status.SENDING, Status.SENT, Status.DELIVERED],
        target=RETURN_VALUE(Status.SENDING, Status.SENT, Status.DELIVERED, Status.UNDELIVERED, Status.FAILED),
    )
    def receipt(self, *, status: str, at, error_code: str = "", error_message: str = "") -> str:
        """The provider's delivery receipt; the caller asks `can_receive` first (forward only)."""
        if status == self.Status.DELIVERED and self.delivered_at is None:
            self.delivered_at = at
        if error_code:
            self.error_code, self.error_message = (
                error_code[:10],
                (error_message or f"error {error_code}")[:300],
            )
        return status

    def can_receive(self, status: str) -> bool:
        return status in self.RANK and self.RANK[status] > self.RANK.get(self.status, 3)


class Call(models.Model):
    """An inbound call, by Twilio's CallSid (a retried webhook changes nothing)."""

    call_sid = models.CharField(max_length=64, unique=True)
    from_number = models.CharField(max_length=20)
    to_number = models.CharField(max_length=20)
    status = models.CharField(max_length=20, default="ringing")
    dial_status = models.CharField(max_length=20, blank=True)
    missed = models.BooleanField(default=False)
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="calls"
    )
    lead = models.ForeignKey(
        "crm.Lead", null=True, blank=True, on_delete=models.SET_NULL, related_name="calls"
    )
    recording_url = models.URLField(blank=True)
    text_back = models.ForeignKey(Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    started_at = models.DateTimeField(default=timezone.now, db_index=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    # Work a worker does after the webhook answered; the sweep re-queues what a lost task left undone.
    identified_at = models.DateTimeField(null=True, blank=True, help_text="Caller put on a customer or lead.")
    text_back_decided_at = models.DateTimeField(
        null=True, blank=True, help_text="Missed call: the text-back was queued, or decided against."
    )

    class Meta:
        db_table = "crm_call"
        ordering = ["-started_at"]
        indexes = [
            models.Index(
                fields=["started_at"],
                name="call_unidentified",
                condition=models.Q(identified_at__isnull=True),
            ),
            models.Index(
                fields=["started_at"],
                name="call_text_back_undecided",
                condition=models.Q(missed=True, text_back_decided_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"Call {self.call_sid} from {self.from_number}"
