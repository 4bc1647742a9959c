"""Leads and the pipeline, where they came from (sources, campaigns, web forms), and imports."""

import builtins
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django_fsm import FSMField, FSMModelMixin, can_proceed, has_transition_perm, transition

from customers.models import Customer, Property
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
    QUALIFIED_WHILE_BOOKING = (State.NEW, State.CONTACTED)  # lead_book qualifies these on the way

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

    def can_be_booked_by(self, user) -> bool:
        """Qualified, or new or contacted (qualified on the way, crm.services.lead_book), by someone
        whose role both qualifies and books when it takes both steps."""
        if self.state == self.State.QUALIFIED:
            return can_proceed(self.book) and has_transition_perm(self.book, user)
        if self.state not in self.QUALIFIED_WHILE_BOOKING:
            return False
        return has_transition_perm(self.qualify, user) and _may(*BOOKING_ROLES)(self, user)

    @builtins.property
    def capture_warnings(self) -> list[str]:
        """What the channel ignored or could not read when the lead came in (unknown fields, an address
        it could not split): stored with the raw payload as `_warnings`."""
        return [str(w) for w in (self.raw_payload or {}).get("_warnings") or []]

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


# Sequences, enrollments and tasks live in crm.automations; Django finds models through this module.
from .automations.models import (  # noqa: E402, F401
    AutomationSettings,
    Enrollment,
    EnrollmentStep,
    Sequence,
    Step,
    Task,
)
from .automations.review_models import ReviewRequest, ReviewSettings  # noqa: E402, F401
from .segments.models import (  # noqa: E402, F401
    CustomerEquipment,
    CustomerHistory,
    CustomerJobType,
    Outreach,
    OutreachRecipient,
    Segment,
)
