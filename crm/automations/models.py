"""Sequences: ordered steps (wait, text, e-mail, a task for the office) a customer is enrolled in, by a
milestone, by hand or by a campaign, and taken through by the scheduler (crm.automations.engine).

An enrollment stores its next due time; the scheduler takes what is due under row locks and runs one step
per enrollment in the transaction that advances it, so a step is done once whatever dies mid-way."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from customers.models import Customer


class AutomationSettings(models.Model):
    """The owner's limits on automated messages, across every sequence and campaign (one row)."""

    max_per_day = models.PositiveSmallIntegerField(
        default=2, help_text="Automated messages one customer may get in 24 hours."
    )
    max_per_week = models.PositiveSmallIntegerField(
        default=4, help_text="Automated messages one customer may get in 7 days."
    )

    class Meta:
        app_label = "crm"
        verbose_name_plural = "automation settings"

    def __str__(self) -> str:
        return "Automation settings"

    @classmethod
    def current(cls) -> "AutomationSettings":
        return cls.objects.order_by("pk").first() or cls.objects.create()


class Sequence(models.Model):
    class Trigger(models.TextChoices):
        MANUAL = "manual", "By hand only"
        ESTIMATE_SENT = "estimate.sent", "An estimate is sent"
        LEAD_CREATED = "lead.created", "A new lead arrives"
        JOB_CANCELED = "job.canceled", "An appointment is canceled"

    name = models.CharField(max_length=120)
    key = models.SlugField(
        max_length=60, unique=True, null=True, blank=True, help_text="Set on the default sequences."
    )
    description = models.CharField(max_length=300, blank=True)
    trigger = models.CharField(max_length=20, choices=Trigger.choices, default=Trigger.MANUAL)
    active = models.BooleanField(default=False, help_text="Off: nobody new is enrolled and nothing is sent.")
    stop_on_booking = models.BooleanField(
        default=True, help_text="Stop when a job is booked for the customer."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        app_label = "crm"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


WEEKDAYS = [(0, "Monday"), (1, "Tuesday"), (2, "Wednesday"), (3, "Thursday"), (4, "Friday")]
WEEKDAYS += [(5, "Saturday"), (6, "Sunday")]


class Step(models.Model):
    class Kind(models.TextChoices):
        WAIT = "wait", "Wait"
        SMS = "sms", "Send a text"
        EMAIL = "email", "Send an e-mail"
        TASK = "task", "Create a task"

    sequence = models.ForeignKey(Sequence, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=8, choices=Kind.choices)
    wait_days = models.PositiveSmallIntegerField(default=0)
    wait_hours = models.PositiveSmallIntegerField(default=0)
    at_time = models.TimeField(
        null=True, blank=True, help_text="Then until this time of day (the business's clock)."
    )
    weekday = models.PositiveSmallIntegerField(
        null=True, blank=True, choices=WEEKDAYS, help_text="Then until this weekday (at the time, or 9:00)."
    )
    subject = models.CharField(max_length=150, blank=True)
    body = models.TextField(blank=True)
    task_title = models.CharField(max_length=150, blank=True)
    task_due_hours = models.PositiveSmallIntegerField(default=4)
    min_estimate_total = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Only when the estimate is at least this much (e.g. a call for big jobs).",
    )

    class Meta:
        app_label = "crm"
        ordering = ["sequence", "position", "pk"]

    def __str__(self) -> str:
        return f"{self.sequence}: {self.position + 1}. {self.get_kind_display()}"


class Enrollment(models.Model):
    class State(models.TextChoices):
        ACTIVE = "active", "In progress"
        DONE = "done", "Finished"
        STOPPED = "stopped", "Stopped"

    sequence = models.ForeignKey(Sequence, on_delete=models.PROTECT, related_name="enrollments")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="enrollments")
    lead = models.ForeignKey("crm.Lead", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # What the enrollment is about: "estimate:12", "lead:4", "job:7"; one active enrollment per subject.
    subject_key = models.CharField(max_length=40, blank=True)
    context = models.JSONField(default=dict, blank=True, help_text="Merge fields the trigger knew.")
    origin = models.CharField(max_length=60, help_text="estimate.sent, by hand, campaign:3, ...")
    state = models.CharField(max_length=8, choices=State.choices, default=State.ACTIVE)
    position = models.PositiveSmallIntegerField(default=0, help_text="The next step.")
    due_at = models.DateTimeField(null=True, blank=True)
    waiting_reason = models.CharField(max_length=200, blank=True)
    stop_reason = models.CharField(max_length=200, blank=True)
    enrolled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(help_text="When the trigger happened: the exit rules look after it.")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "crm"
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["due_at"], condition=Q(state="active"), name="enrollment_due"),
            models.Index(fields=["subject_key", "state"], name="enrollment_subject"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["sequence", "customer", "subject_key"],
                condition=Q(state="active"),
                name="enrollment_active_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.customer} in {self.sequence}"

    @classmethod
    def merge_conflict(cls, row: "Enrollment", values: dict) -> None:
        """A merged customer's enrollment the survivor already has: it stops and moves (never doubles)."""
        cls.objects.filter(pk=row.pk).update(
            state=cls.State.STOPPED, stop_reason="Customer merged: already enrolled", due_at=None, **values
        )


class EnrollmentStep(models.Model):
    """The enrollment's timeline: each step done, each wait for a cap, and why it stopped."""

    class Outcome(models.TextChoices):
        ENROLLED = "enrolled", "Enrolled"
        SENT = "sent", "Sent"
        HELD = "held", "Held for quiet hours"
        SUPPRESSED = "suppressed", "Not sent (consent)"
        TASK = "task", "Task created"
        SKIPPED = "skipped", "Skipped"
        WAITING = "waiting", "Waiting"
        CAPPED = "capped", "Waiting for the message limit"
        STOPPED = "stopped", "Stopped"
        DONE = "done", "Finished"

    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="log")
    position = models.PositiveSmallIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=12, choices=Outcome.choices)
    note = models.CharField(max_length=300, blank=True)
    message = models.ForeignKey(
        "messaging.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField()

    class Meta:
        app_label = "crm"
        ordering = ["at", "pk"]
        constraints = [  # a step acts once, whatever a worker retries
            models.UniqueConstraint(
                fields=["enrollment", "position"],
                condition=Q(outcome__in=["sent", "held", "suppressed", "task", "skipped"]),
                name="enrollment_step_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.enrollment_id} step {self.position}: {self.outcome}"


class Task(models.Model):
    """Something an office user must do: call this customer, by when."""

    title = models.CharField(max_length=150)
    notes = models.TextField(blank=True)
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.CASCADE, related_name="tasks"
    )
    lead = models.ForeignKey("crm.Lead", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    enrollment = models.ForeignKey(
        Enrollment, null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks"
    )
    due_at = models.DateTimeField()
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "crm"
        ordering = ["due_at", "pk"]
        indexes = [models.Index(fields=["assignee", "done_at", "due_at"], name="task_list")]

    def __str__(self) -> str:
        return self.title
