"""Field service: technicians and skills, job types, jobs and their visits, what technicians record on
site (notes, photos, signatures, checklists, time), equipment at a property, and the dispatch settings.

The job's state machine lives here (django-fsm). Transitions only change state; `fsm.services` locks,
saves, records the activity row and publishes the milestone.

    schedule     unscheduled -> scheduled              (the first visit is put on the board)
    unschedule   scheduled, dispatched -> unscheduled  (its last open visit was canceled)
    dispatch     scheduled -> dispatched
    on_my_way    scheduled, dispatched -> en_route
    arrive       scheduled, dispatched, en_route -> on_site
    complete     on_site -> completed
    pause        on_site -> on_hold                     (the crew; the visit stays open)
    hold         every working state -> on_hold         (the office; a visit under way ends)
    resume       on_hold -> on_site / en_route if a paused visit is still open, else dispatched /
                 scheduled if an open visit remains (dispatched if it was), else unscheduled
    cancel       every open state, on_hold included -> canceled
"""

import builtins
import re
import uuid
from datetime import date, time
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django_fsm import RETURN_VALUE, FSMField, FSMModelMixin, transition

from customers.models import Customer, Property
from users.roles import Role

DISPATCH_ROLES = (Role.OWNER, Role.OFFICE, Role.DISPATCHER)
SETUP_ROLES = (Role.OWNER, Role.OFFICE)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # index = date.weekday()
DEFAULT_WORKING_HOURS = {
    day: ["08:00", "17:00"] for day in WEEKDAYS[:5]
}  # also: a technician with no profile


def default_working_hours() -> dict:
    return {day: list(span) for day, span in DEFAULT_WORKING_HOURS.items()}


HH_MM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def parse_working_hours(value) -> dict[str, tuple[time, time]]:
    """{"mon": ["07:00", "16:00"], ...} -> {"mon": (time(7), time(16))}. A day left out is a day off.

    Raises ValueError with a message for people when the value is malformed.
    """
    if not isinstance(value, dict):
        raise ValueError('Give working hours as {"mon": ["07:00", "16:00"], ...}.')
    parsed = {}
    for day, span in value.items():
        if day not in WEEKDAYS:
            raise ValueError(f"{day!r} is not a weekday (use {', '.join(WEEKDAYS)}).")
        if not (isinstance(span, list | tuple) and len(span) == 2 and all(HH_MM.match(str(s)) for s in span)):
            raise ValueError(f'{day}: give a start and an end as HH:MM, e.g. ["07:00", "16:00"].')
        start, end = (time.fromisoformat(s) for s in span)
        if end <= start:
            raise ValueError(f"{day}: the day must end after it starts.")
        parsed[day] = (start, end)
    return parsed


def validate_working_hours(value) -> None:
    try:
        parse_working_hours(value)
    except ValueError as error:
        raise ValidationError(str(error)) from None


class Skill(models.Model):
    """What a technician can do (HVAC repair, plumbing, electrical...). The owner keeps the list."""

    name = models.CharField(max_length=80, unique=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TechnicianProfile(models.Model):
    """A technician's skills, week, home base and board colour. `user.technician` reaches it."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="technician")
    skills = models.ManyToManyField(Skill, blank=True, related_name="technicians")
    working_hours = models.JSONField(
        default=default_working_hours,
        blank=True,
        validators=[validate_working_hours],
        help_text='Business time zone: {"mon": ["07:00", "16:00"], ...}; a day left out is a day off.',
    )
    home_latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    home_longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    color = models.CharField(
        max_length=7,
        default="#2563eb",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", "Use a hex colour like #2563eb.")],
    )
    is_active = models.BooleanField(default=True, help_text="Off: not offered by the board or availability.")

    class Meta:
        ordering = ["user__first_name", "user__last_name"]

    def __str__(self) -> str:
        return str(self.user)

    def hours_on(self, day: date) -> tuple[time, time] | None:
        """(start, end) of this technician's working day on `day`, or None on a day off."""
        return parse_working_hours(self.working_hours).get(WEEKDAYS[day.weekday()])

    @property
    def home_point(self) -> tuple[float, float] | None:
        if self.home_latitude is None or self.home_longitude is None:
            return None
        return float(self.home_latitude), float(self.home_longitude)


class JobType(models.Model):
    """What kind of work a job is: its usual length, the skill it needs and the on-site checklist."""

    name = models.CharField(max_length=100, unique=True)
    default_duration_minutes = models.PositiveIntegerField(default=60, validators=[MinValueValidator(5)])
    required_skill = models.ForeignKey(
        Skill, null=True, blank=True, on_delete=models.PROTECT, related_name="job_types"
    )
    checklist = models.JSONField(default=list, blank=True, help_text="Item texts, in order.")
    is_active = models.BooleanField(default=True)
    # What completing a job of this type requires (the owner chooses; the office may complete without,
    # with a reason on the job's timeline).
    requires_checklist = models.BooleanField(default=False, help_text="Every checklist item ticked.")
    requires_signature = models.BooleanField(default=False, help_text="The customer's signature.")
    requires_photo = models.BooleanField(default=False, help_text="At least one photo.")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Priority(models.TextChoices):
    EMERGENCY = "emergency", "Emergency"
    HIGH = "high", "High"
    NORMAL = "normal", "Normal"


PRIORITY_RANK = {Priority.EMERGENCY: 0, Priority.HIGH: 1, Priority.NORMAL: 2}


def _may_dispatch(instance, user) -> bool:
    return user is None or not user.is_authenticated or user.has_role(*DISPATCH_ROLES)


def _may_work(instance, user) -> bool:
    """The office, or a technician on one of the job's open visits."""
    if _may_dispatch(instance, user):
        return True
    return user.has_role(Role.TECHNICIAN) and instance.is_crew(user)


class Job(FSMModelMixin, models.Model):
    class State(models.TextChoices):
        UNSCHEDULED = "unscheduled", "Unscheduled"
        SCHEDULED = "scheduled", "Scheduled"
        DISPATCHED = "dispatched", "Dispatched"
        EN_ROUTE = "en_route", "On the way"
        ON_SITE = "on_site", "On site"
        ON_HOLD = "on_hold", "On hold"
        COMPLETED = "completed", "Completed"
        CANCELED = "canceled", "Canceled"

    class HoldKind(models.TextChoices):
        PAUSE = "pause", "Paused by the crew"
        HOLD = "hold", "Put on hold by the office"

    WORKING_STATES = (State.UNSCHEDULED, State.SCHEDULED, State.DISPATCHED, State.EN_ROUTE, State.ON_SITE)
    OPEN_STATES = (*WORKING_STATES, State.ON_HOLD)

    number = models.CharField(
        max_length=20, unique=True, null=True, editable=False, help_text="J-1042; set when created."
    )
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="jobs")
    property = models.ForeignKey(
        Property,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="jobs",
        help_text="Empty only when the job was booked before the service address was known.",
    )
    job_type = models.ForeignKey(
        JobType, null=True, blank=True, on_delete=models.PROTECT, related_name="jobs"
    )
    service = models.CharField(max_length=200, blank=True, help_text="What the customer asked for.")
    description = models.TextField(blank=True)
    office_notes = models.TextField(blank=True)
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    origin_lead_id = models.PositiveBigIntegerField(
        null=True, blank=True, unique=True, help_text="The crm lead it was booked from (no FK: fsm ≠ crm)."
    )
    requested_window_start = models.DateTimeField(null=True, blank=True)
    requested_window_end = models.DateTimeField(null=True, blank=True)
    state = FSMField(default=State.UNSCHEDULED, choices=State.choices, protected=True, db_index=True)
    held_from = models.CharField(max_length=20, choices=State.choices, blank=True)
    hold_kind = models.CharField(max_length=10, choices=HoldKind.choices, blank=True)
    hold_reason = models.CharField(max_length=300, blank=True)
    cancel_reason = models.CharField(max_length=300, blank=True)
    completion_note = models.TextField(blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    canceled_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(requested_window_end__isnull=True)
                | Q(requested_window_start__isnull=True)
                | Q(requested_window_end__gt=F("requested_window_start")),
                name="job_requested_window_ends_after_start",
            ),
        ]
        indexes = [models.Index(fields=["state", "priority", "created_at"])]

    def __str__(self) -> str:
        return self.number or f"Job #{self.pk}"

    @builtins.property  # `property` is a field of this model
    def is_open(self) -> bool:
        return self.state in self.OPEN_STATES

    def is_crew(self, user) -> bool:
        """True when `user` is on one of this job's open visits."""
        return self.visits.filter(state__in=Visit.OPEN_STATES, technicians=user).exists()

    def lead_technician(self) -> dict:
        """Who did the work, for the customer's texts (a review request's {technician}): the first of the
        crew of the last completed visit, else of the last visit. {"technician_id", "technician_first_name"}
        with None and "" for a job nobody was sent to."""
        visits = self.visits.order_by("-completed_at", "-start", "-pk")
        visit = visits.filter(state=Visit.State.COMPLETED).first() or visits.first()
        technician = visit.technicians.order_by("pk").first() if visit else None
        return {
            "technician_id": technician.pk if technician else None,
            "technician_first_name": (technician.first_name or technician.username) if technician else "",
        }

    def resume_target(self, open_visit_states: set[str]) -> str:
        """Where `resume` goes, given the states of the job's open visits."""
        for state in (Visit.State.ON_SITE, Visit.State.EN_ROUTE):
            if state in open_visit_states:
                return state
        if Visit.State.SCHEDULED in open_visit_states:
            return self.State.DISPATCHED if self.held_from == self.State.DISPATCHED else self.State.SCHEDULED
        return self.State.UNSCHEDULED

    # The state machine. Transitions only change state; fsm.services saves, logs and publishes.
    @transition(field=state, source=State.UNSCHEDULED, target=State.SCHEDULED, permission=_may_dispatch)
    def schedule(self):
        """A first visit is on the board."""

    @transition(
        field=state,
        source=[State.SCHEDULED, State.DISPATCHED],
        target=State.UNSCHEDULED,
        permission=_may_dispatch,
    )
    def unschedule(self):
        """Its last open visit is gone: back to the queue."""

    @transition(field=state, source=State.SCHEDULED, target=State.DISPATCHED, permission=_may_dispatch)
    def dispatch(self):
        """Sent to the crew's phones."""

    @transition(
        field=state, source=[State.SCHEDULED, State.DISPATCHED], target=State.EN_ROUTE, permission=_may_work
    )
    def on_my_way(self):
        """The technician heads out."""

    @transition(
        field=state,
        source=[State.SCHEDULED, State.DISPATCHED, State.EN_ROUTE],
        target=State.ON_SITE,
        permission=_may_work,
    )
    def arrive(self):
        """The crew is on site."""

    @transition(field=state, source=State.ON_SITE, target=State.COMPLETED, permission=_may_work)
    def complete(self):
        """The work is done."""

    @transition(field=state, source=State.ON_SITE, target=State.ON_HOLD, permission=_may_work)
    def pause(self):
        """The technician stops for now (parts, the customer away)."""

    @transition(field=state, source=list(WORKING_STATES), target=State.ON_HOLD, permission=_may_dispatch)
    def hold(self):
        """The office puts the job on hold."""

    @transition(field=state, source=State.ON_HOLD, target=RETURN_VALUE(*WORKING_STATES), permission=_may_work)
    def resume(self, target: str) -> str:
        return target

    @transition(field=state, source=list(OPEN_STATES), target=State.CANCELED, permission=_may_dispatch)
    def cancel(self):
        """The job will not be done."""


class Visit(FSMModelMixin, models.Model):
    """One trip to the property: when, who, and what the crew did on it.

    Its state mirrors the crew on this visit, moved only by its transitions below (the job services
    call them, stamp the time and save): scheduled -> en_route -> on_site -> completed, or canceled.
    A visit with no technician is allowed (it waits on the board).
    """

    class State(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        EN_ROUTE = "en_route", "On the way"
        ON_SITE = "on_site", "On site"
        COMPLETED = "completed", "Completed"
        CANCELED = "canceled", "Canceled"

    OPEN_STATES = (State.SCHEDULED, State.EN_ROUTE, State.ON_SITE)

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="visits")
    start = models.DateTimeField(db_index=True)
    end = models.DateTimeField(db_index=True)
    arrival_window_start = models.DateTimeField(
        null=True, blank=True, help_text="The arrival window promised to the customer."
    )
    arrival_window_end = models.DateTimeField(null=True, blank=True)
    technicians = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="visits")
    state = FSMField(
        max_length=12, choices=State.choices, default=State.SCHEDULED, protected=True, db_index=True
    )
    en_route_at = models.DateTimeField(null=True, blank=True)
    arrived_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    canceled_at = models.DateTimeField(null=True, blank=True)
    reminder_sent_at = models.DateTimeField(
        null=True, blank=True, help_text="When visit.reminder_due was published (fsm.tasks): once per visit."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["start", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="visit_ends_after_start"),
            models.CheckConstraint(
                condition=Q(arrival_window_end__isnull=True)
                | Q(arrival_window_start__isnull=True)
                | Q(arrival_window_end__gt=F("arrival_window_start")),
                name="visit_arrival_window_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"Visit {self.job_id} at {self.start:%Y-%m-%d %H:%M}"

    @builtins.property
    def is_open(self) -> bool:
        return self.state in self.OPEN_STATES

    # --- Transitions (who may move the job, and so its visits, is checked on the job) ------------------

    @transition(field=state, source=State.SCHEDULED, target=State.EN_ROUTE)
    def depart(self) -> None:
        """A technician on this visit headed out."""

    @transition(field=state, source=[State.SCHEDULED, State.EN_ROUTE], target=State.ON_SITE)
    def arrive(self) -> None:
        """The crew is at the property (straight from scheduled when nobody pressed "on my way")."""

    @transition(field=state, source=State.ON_SITE, target=State.COMPLETED)
    def complete(self) -> None:
        """The crew finished here (the job completed, or held while they were on site)."""

    @transition(field=state, source=list(OPEN_STATES), target=State.CANCELED)
    def cancel(self) -> None:
        """Taken off the board, or ended by the job's cancel, completion or hold before work began."""


class Equipment(models.Model):
    """A unit at a property (furnace, condenser, water heater, panel): what the crew finds on site."""

    property = models.ForeignKey(Property, on_delete=models.CASCADE, related_name="equipment")
    kind = models.CharField(max_length=80, help_text="Type: furnace, condenser, water heater...")
    brand = models.CharField(max_length=80, blank=True)
    model_number = models.CharField(max_length=80, blank=True)
    serial_number = models.CharField(max_length=80, blank=True)
    installed_on = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "equipment"
        ordering = ["kind", "pk"]

    def __str__(self) -> str:
        return " ".join(p for p in (self.brand, self.kind, self.model_number) if p)


class JobNote(models.Model):
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return self.text[:60]


def _photo_path(instance: "JobPhoto", filename: str) -> str:
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else "jpg"
    return f"jobs/{instance.job_id}/photos/{uuid.uuid4().hex}.{ext}"


def _signature_path(instance: "JobSignature", filename: str) -> str:
    return f"jobs/{instance.job_id}/signatures/{uuid.uuid4().hex}.png"


class JobPhoto(models.Model):
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(upload_to=_photo_path, width_field="width", height_field="height")
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    # A small JPEG for the lists (a phone on mobile data should not load 10 MB photos to show a grid).
    thumbnail = models.ImageField(upload_to=_photo_path, blank=True)
    caption = models.CharField(max_length=200, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return self.caption or self.image.name

    def file_for(self, size: str = ""):
        """The small JPEG for size "thumb" when there is one (older photos have none), else the photo."""
        return self.thumbnail if size == "thumb" and self.thumbnail else self.image


class JobSignature(models.Model):
    """The customer's signature, drawn on the technician's phone (a PNG from the canvas)."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="signatures")
    image = models.ImageField(upload_to=_signature_path)
    signer_name = models.CharField(max_length=150)
    collected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"Signed by {self.signer_name}"


class ChecklistResult(models.Model):
    """One ticked (or unticked) item of the job type's checklist, by item text."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="checklist_results")
    item = models.CharField(max_length=200)
    done = models.BooleanField(default=False)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [models.UniqueConstraint(fields=["job", "item"], name="checklist_item_once_per_job")]

    def __str__(self) -> str:
        return f"{'[x]' if self.done else '[ ]'} {self.item}"


class TimeEntry(models.Model):
    """Clocked time: a shift (clock in/out) or time on a job (arrive -> complete or pause)."""

    class Kind(models.TextChoices):
        SHIFT = "shift", "Shift"
        JOB = "job", "On a job"

    technician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="time_entries"
    )
    kind = models.CharField(max_length=5, choices=Kind.choices)
    job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.PROTECT, related_name="time_entries")
    visit = models.ForeignKey(
        Visit, null=True, blank=True, on_delete=models.SET_NULL, related_name="time_entries"
    )
    started_at = models.DateTimeField(db_index=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "time entries"
        ordering = ["-started_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=F("started_at")),
                name="time_entry_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(kind="shift") | Q(job__isnull=False), name="job_time_entry_has_job"
            ),
            models.UniqueConstraint(
                fields=["technician", "kind"],
                condition=Q(ended_at__isnull=True),
                name="one_open_time_entry_per_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.technician} {self.kind} from {self.started_at:%Y-%m-%d %H:%M}"

    @builtins.property
    def minutes(self) -> int | None:
        if self.ended_at is None:
            return None
        return int((self.ended_at - self.started_at).total_seconds() // 60)


class FieldServiceSettings(models.Model):
    """Dispatch rules the owner edits (one row: `FieldServiceSettings.current()`)."""

    road_factor = models.DecimalField(
        max_digits=4,
        decimal_places=2,
        default=Decimal("1.30"),
        validators=[MinValueValidator(Decimal("1.00"))],
        help_text="Road distance / straight-line distance.",
    )
    average_speed_kmh = models.PositiveIntegerField(default=50, validators=[MinValueValidator(5)])
    slot_step_minutes = models.PositiveIntegerField(
        default=30, validators=[MinValueValidator(5)], help_text="Offered start times are this far apart."
    )

    class Meta:
        verbose_name_plural = "field service settings"

    def __str__(self) -> str:
        return "Field service settings"

    CACHE_KEY = "fsm.settings.current"

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        cache.delete(self.CACHE_KEY)

    @classmethod
    def current(cls) -> "FieldServiceSettings":
        found = cache.get(cls.CACHE_KEY)
        if found is None:
            found = cls.objects.order_by("pk").first() or cls.objects.create()
            cache.set(cls.CACHE_KEY, found, 300)
        return found


# The sub-packages' models belong to this app: imported here so Django finds them when the app loads.
from fsm.documents.models import DocumentSequence  # noqa: E402,F401
from fsm.estimates.models import Estimate, EstimateLine, EstimateOption, EstimatePhoto  # noqa: E402,F401
from fsm.invoices.models import CreditNote, CustomerCredit, Invoice, InvoiceLine, Payment  # noqa: E402,F401
from fsm.pricebook.models import PricebookItem  # noqa: E402,F401
