"""What the segment builder filters on: each customer's work history as fsm's milestones told it (crm
never reads fsm's tables), and saved segments.

CustomerHistory, CustomerJobType and CustomerEquipment are kept by crm.segments.subscribers from
job.completed, invoice.paid, credit_note.issued and equipment.saved; `manage.py events_replay` fills them
from the past for a new install."""

from django.conf import settings
from django.db import models

from customers.models import Customer


class CustomerHistory(models.Model):
    customer = models.OneToOneField(
        Customer, on_delete=models.CASCADE, primary_key=True, related_name="history"
    )
    jobs_completed = models.PositiveIntegerField(default=0)
    first_job_at = models.DateTimeField(null=True, blank=True)
    last_job_at = models.DateTimeField(null=True, blank=True, db_index=True)
    lifetime_spend = models.DecimalField(max_digits=14, decimal_places=2, default=0)

    class Meta:
        app_label = "crm"
        verbose_name_plural = "customer histories"

    def __str__(self) -> str:
        return f"History of customer {self.customer_id}"

    @classmethod
    def merge_conflict(cls, row: "CustomerHistory", values: dict) -> None:
        """The survivor has its own history: add the duplicate's to it."""
        survivor = cls.objects.select_for_update().get(customer=values["customer"])
        survivor.jobs_completed += row.jobs_completed
        survivor.lifetime_spend += row.lifetime_spend
        firsts = [t for t in (survivor.first_job_at, row.first_job_at) if t]
        lasts = [t for t in (survivor.last_job_at, row.last_job_at) if t]
        survivor.first_job_at = min(firsts) if firsts else None
        survivor.last_job_at = max(lasts) if lasts else None
        survivor.save()
        row.delete()


class CustomerJobType(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="job_types_done")
    job_type = models.CharField(max_length=100)
    last_at = models.DateTimeField()

    class Meta:
        app_label = "crm"
        constraints = [
            models.UniqueConstraint(fields=["customer", "job_type"], name="customer_job_type_once")
        ]
        indexes = [models.Index(fields=["job_type", "customer"], name="job_type_customers")]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.job_type}"

    @classmethod
    def merge_conflict(cls, row: "CustomerJobType", values: dict) -> None:
        survivor = cls.objects.get(customer=values["customer"], job_type=row.job_type)
        if row.last_at > survivor.last_at:
            cls.objects.filter(pk=survivor.pk).update(last_at=row.last_at)
        row.delete()


class CustomerEquipment(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="equipment_known")
    equipment_id = models.PositiveBigIntegerField(unique=True, help_text="fsm's Equipment id.")
    kind = models.CharField(max_length=80)
    installed_on = models.DateField(null=True, blank=True)

    class Meta:
        app_label = "crm"
        indexes = [models.Index(fields=["kind", "installed_on"], name="equipment_kind_age")]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.kind}"


class Segment(models.Model):
    """A saved set of filters (crm.segments.services.SegmentSpec as JSON); counted live, never frozen."""

    name = models.CharField(max_length=120, unique=True)
    spec = models.JSONField(default=dict)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        app_label = "crm"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Outreach(models.Model):
    """A reactivation campaign: one text (or a sequence) to a segment's customers, now, at a set time or
    every year on a date, throttled to a rate per hour; its results counted from what followed."""

    class State(models.TextChoices):
        DRAFT = "draft", "Draft"
        SCHEDULED = "scheduled", "Scheduled"
        SENDING = "sending", "Sending"
        DONE = "done", "Done"
        CANCELED = "canceled", "Canceled"

    class Repeat(models.TextChoices):
        ONCE = "once", "Once"
        YEARLY = "yearly", "Every year on that date"

    name = models.CharField(max_length=120)
    segment = models.ForeignKey(Segment, on_delete=models.PROTECT, related_name="outreaches")
    body = models.TextField(blank=True, help_text="The text; or enroll them into a sequence instead.")
    sequence = models.ForeignKey(
        "crm.Sequence", null=True, blank=True, on_delete=models.PROTECT, related_name="outreaches"
    )
    starts_at = models.DateTimeField(help_text="When the first texts go (quiet hours still apply).")
    repeat = models.CharField(max_length=8, choices=Repeat.choices, default=Repeat.ONCE)
    rate_per_hour = models.PositiveIntegerField(default=100)
    attribution_days = models.PositiveSmallIntegerField(
        default=30, help_text="A job booked by a recipient within this many days counts for the campaign."
    )
    campaign = models.OneToOneField(
        "crm.Campaign",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="outreach",
        help_text="Its attribution source in the lead reports.",
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.DRAFT)
    run = models.PositiveSmallIntegerField(default=0, help_text="Which year's send (yearly ones).")
    test_sent_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    launched_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "crm"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name


class OutreachRecipient(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", "Waiting"
        SENT = "sent", "Sent"
        SKIPPED = "skipped", "Skipped"

    outreach = models.ForeignKey(Outreach, on_delete=models.CASCADE, related_name="recipients")
    run = models.PositiveSmallIntegerField(default=0)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="outreach_received")
    state = models.CharField(max_length=8, choices=State.choices, default=State.PENDING)
    due_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=200, blank=True)
    message = models.ForeignKey(
        "messaging.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        app_label = "crm"
        constraints = [
            models.UniqueConstraint(fields=["outreach", "run", "customer"], name="outreach_recipient_once")
        ]
        indexes = [models.Index(fields=["due_at"], condition=models.Q(state="pending"), name="outreach_due")]

    def __str__(self) -> str:
        return f"{self.outreach_id} -> {self.customer_id}"
