"""Leads and the pipeline, where they came from (sources, campaigns, web forms), and imports."""

import builtins
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import models
from django.utils import timezone
from django_fsm import FSMField, FSMModelMixin, transition

from customers.models import Customer, Property
from users.models import current_memo
from users.roles import Role

WORKING_ROLES = (Role.OWNER, Role.OFFICE)
BOOKING_ROLES = (Role.OWNER, Role.OFFICE, Role.DISPATCHER)


def _may(*roles):
    def check(instance, user) -> bool:
        return user is None or not user.is_authenticated or user.has_role(*roles)

    return check


class ServiceType(models.Model):
    """What a customer asks for (AC repair, water heater, drain cleaning...); offered on web forms."""

    name = models.CharField(max_length=100, unique=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Source(models.Model):
    class Kind(models.TextChoices):
        WEB_FORM = "web_form", "Website form"
        WEBHOOK = "webhook", "Lead webhook (Zapier, Angi, Thumbtack...)"
        GOOGLE_ADS = "google_ads", "Google Ads lead form"
        GOOGLE_LSA = "google_lsa", "Google Local Services"
        FACEBOOK = "facebook", "Facebook lead ads"
        PHONE = "phone", "Phone call"
        SMS = "sms", "Text message"
        MANUAL = "manual", "Entered by staff"
        IMPORT = "import", "Import"
        REFERRAL = "referral", "Referral"
        OTHER = "other", "Other"

    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=60, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.OTHER)
    is_active = models.BooleanField(default=True)
    instant_reply_enabled = models.BooleanField(
        default=True, help_text="Text new leads from this source at once (web forms, webhooks, ads)."
    )
    instant_reply_template = models.TextField(
        blank=True, help_text="Blank: the business's instant reply (Messaging settings)."
    )
    google_key = models.CharField(
        max_length=200, blank=True, help_text="The key set in the Google Ads lead form."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SourceKey(models.Model):
    """An API key for a lead webhook. Only its hash is stored; the key is shown once."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="keys")
    prefix = models.CharField(max_length=12, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    label = models.CharField(max_length=100, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.source})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class Campaign(models.Model):
    class CostType(models.TextChoices):
        MONTHLY = "monthly", "Per month"
        TOTAL = "total", "Total"

    name = models.CharField(max_length=150)
    source = models.ForeignKey(
        Source, null=True, blank=True, on_delete=models.SET_NULL, related_name="campaigns"
    )
    utm_campaign = models.CharField(
        max_length=150,
        blank=True,
        db_index=True,
        help_text="Leads whose utm_campaign (or ad campaign id) equals this join it.",
    )
    cost_type = models.CharField(max_length=10, choices=CostType.choices, default=CostType.MONTHLY)
    cost = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    starts_on = models.DateField(default=timezone.localdate)
    ends_on = models.DateField(null=True, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["-is_active", "name"]

    def __str__(self) -> str:
        return self.name


class LostReason(models.TextChoices):
    PRICE = "price", "Price too high"
    COMPETITOR = "competitor", "Went with a competitor"
    NO_RESPONSE = "no_response", "Never answered"
    OUT_OF_AREA = "out_of_area", "Outside the service area"
    NOT_A_FIT = "not_a_fit", "Not a service we offer"
    TIMING = "timing", "Timing did not work"
    OTHER = "other", "Other"


class LeadQuerySet(models.QuerySet):
    def open(self) -> "LeadQuerySet":
        return self.filter(state__in=Lead.OPEN_STATES)


class Lead(FSMModelMixin, models.Model):
    class State(models.TextChoices):
        NEW = "new", "New"
        CONTACTED = "contacted", "Contacted"
        QUALIFIED = "qualified", "Qualified"
        BOOKED = "booked", "Booked"
        WON = "won", "Won"
        LOST = "lost", "Lost"
        SPAM = "spam", "Spam"

    OPEN_STATES = (State.NEW, State.CONTACTED, State.QUALIFIED, State.BOOKED)

    customer = models.ForeignKey(
        Customer,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="leads",
        help_text="Empty only for spam, which never creates or changes a customer.",
    )
    property = models.ForeignKey(
        Property, null=True, blank=True, on_delete=models.PROTECT, related_name="leads"
    )
    state = FSMField(default=State.NEW, choices=State.choices, protected=True, db_index=True)
    # What the lead said, as captured (the customer record may know more or differ).
    name = models.CharField(max_length=200, blank=True)
    phone = models.CharField(max_length=20, blank=True, help_text="E.164")
    email = models.EmailField(blank=True)
    service_type = models.ForeignKey(
        ServiceType, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    service = models.CharField(max_length=200, blank=True, help_text="The service asked for, as written.")
    message = models.TextField(blank=True)
    # Where it came from.
    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="leads")
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="leads"
    )
    first_touch_source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="+")
    first_touch_campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    attribution = models.JSONField(
        default=dict, blank=True, help_text="utm_*, gclid, fbclid, landing page, referrer, ad ids."
    )
    web_form = models.ForeignKey(
        "WebForm", null=True, blank=True, on_delete=models.SET_NULL, related_name="leads"
    )
    external_id = models.CharField(max_length=200, blank=True, help_text="The source's own lead id.")
    idempotency_key = models.CharField(max_length=200, blank=True)
    raw_payload = models.JSONField(default=dict, blank=True)
    # Working it.
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_leads",
    )
    arrived_at = models.DateTimeField(default=timezone.now, db_index=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    first_response_channel = models.CharField(max_length=20, blank=True)
    lost_reason = models.CharField(max_length=20, choices=LostReason.choices, blank=True)
    lost_note = models.TextField(blank=True)
    requested_window_start = models.DateTimeField(null=True, blank=True)
    requested_window_end = models.DateTimeField(null=True, blank=True)
    booking_notes = models.TextField(blank=True)
    booked_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = LeadQuerySet.as_manager()

    class Meta:
        ordering = ["-arrived_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"],
                condition=~models.Q(external_id=""),
                name="lead_once_per_source_external_id",
            ),
            models.UniqueConstraint(
                fields=["source", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="lead_once_per_idempotency_key",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "arrived_at"]),
            models.Index(fields=["source", "arrived_at"]),
        ]

    def __str__(self) -> str:
        return f"Lead #{self.pk} {self.name}".strip()

    @builtins.property  # `property` is a field of this model
    def is_open(self) -> bool:
        return self.state in self.OPEN_STATES

    @builtins.property
    def response_seconds(self) -> float | None:
        if self.first_response_at is None:
            return None
        return max((self.first_response_at - self.arrived_at).total_seconds(), 0.0)

    # The state machine. Transitions only change state; crm.services saves, logs and publishes.
    @transition(field=state, source=State.NEW, target=State.CONTACTED, permission=_may(*WORKING_ROLES))
    def mark_contacted(self):
        pass

    @transition(
        field=state,
        source=[State.NEW, State.CONTACTED],
        target=State.QUALIFIED,
        permission=_may(*WORKING_ROLES),
    )
    def qualify(self):
        pass

    @transition(field=state, source=State.QUALIFIED, target=State.BOOKED, permission=_may(*BOOKING_ROLES))
    def book(self):
        pass

    @transition(
        field=state, source=[State.QUALIFIED, State.BOOKED], target=State.WON, permission=_may(*WORKING_ROLES)
    )
    def win(self):
        pass

    @transition(field=state, source=list(OPEN_STATES), target=State.LOST, permission=_may(*WORKING_ROLES))
    def lose(self):
        pass

    @transition(
        field=state,
        source=[State.NEW, State.CONTACTED, State.QUALIFIED],
        target=State.SPAM,
        permission=_may(*WORKING_ROLES),
    )
    def mark_spam(self):
        pass

    @transition(
        field=state, source=[State.LOST, State.SPAM], target=State.NEW, permission=_may(*WORKING_ROLES)
    )
    def reopen(self):
        pass


class PipelineSettings(models.Model):
    """Per-business pipeline rules: the speed-to-lead threshold and round-robin assignment."""

    speed_to_lead_minutes = models.PositiveIntegerField(default=5)
    round_robin_enabled = models.BooleanField(default=False)
    round_robin_users = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    round_robin_last = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name_plural = "pipeline settings"

    def __str__(self) -> str:
        return "Pipeline settings"

    @classmethod
    def current(cls) -> "PipelineSettings":
        return cls.objects.order_by("pk").first() or cls.objects.create()


class WebForm(models.Model):
    """A lead form for the business's website, embedded by a script tag or an iframe."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=150)
    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="web_forms")
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    services = models.ManyToManyField(ServiceType, blank=True, related_name="+")
    ask_address = models.BooleanField(default=True)
    ask_email = models.BooleanField(default=True)
    require_email = models.BooleanField(default=False)
    ask_message = models.BooleanField(default=True)
    headline = models.CharField(max_length=200, default="Request service")
    submit_label = models.CharField(max_length=60, default="Send request")
    thank_you_text = models.TextField(default="Thanks! We'll text you back within minutes.")
    consent_text = models.TextField(
        blank=True,
        default="By submitting, you agree to receive texts about your request. Msg & data rates may apply. "
        "Reply STOP to opt out.",
    )
    allowed_origins = models.JSONField(
        default=list, blank=True, help_text='Sites allowed to post to it, e.g. ["https://example.com"].'
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PastJob(models.Model):
    """Work done before this system (imported), kept on the customer for reactivation and history."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="past_jobs")
    property = models.ForeignKey(Property, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    service_date = models.DateField(null=True, blank=True)
    total = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    description = models.CharField(max_length=300, blank=True)
    external_id = models.CharField(max_length=100, blank=True)
    import_job = models.ForeignKey(
        "ImportJob", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-service_date"]

    def __str__(self) -> str:
        return f"{self.service_date} {self.description}"


class ImportJob(models.Model):
    class Kind(models.TextChoices):
        CUSTOMERS = "customers", "Customers"
        LEADS = "leads", "Open leads"

    class Status(models.TextChoices):
        UPLOADED = "uploaded", "Uploaded"
        MAPPED = "mapped", "Columns mapped"
        DRY_RUN = "dry_run", "Dry run done"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Importing"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=12, choices=Kind.choices)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.UPLOADED)
    file = models.FileField(upload_to="imports/")
    original_name = models.CharField(max_length=255)
    file_sha256 = models.CharField(max_length=64, db_index=True)
    mapping = models.JSONField(default=dict, blank=True, help_text="Our field -> the file's column.")
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    report = models.FileField(upload_to="imports/reports/", blank=True)
    summary = models.JSONField(default=dict, blank=True)
    source = models.ForeignKey(Source, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} import {self.original_name}"

    @property
    def percent(self) -> int:
        return int(100 * self.processed_rows / self.total_rows) if self.total_rows else 0


class ImportRowKey(models.Model):
    """Each row an import has applied (by a hash of its content): re-running a file creates nothing new."""

    kind = models.CharField(max_length=12)
    row_hash = models.CharField(max_length=64)
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    import_job = models.ForeignKey(ImportJob, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "row_hash"], name="import_row_once")]

    def __str__(self) -> str:
        return self.row_hash[:12]


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
        ordering = ["-last_message_at", "-pk"]

    def __str__(self) -> str:
        return f"Conversation with {self.customer}"


class Message(models.Model):
    """A text (or e-mail, or chat line) in or out. Outbound rows are the outbox: committed before any send."""

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
    lead = models.ForeignKey(Lead, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages")
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
    status = models.CharField(max_length=12, choices=Status.choices, db_index=True)
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
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(fields=["status", "created_at"]),
            models.Index(fields=["to_number", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.direction} {self.channel} {self.to_number or self.from_number}: {self.body[:40]}"


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
    lead = models.ForeignKey(Lead, null=True, blank=True, on_delete=models.SET_NULL, related_name="calls")
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
