"""Estimates: one to three options (Good / Better / Best) of priced lines, sent to the customer by a
public link, accepted with a name and a drawn signature or declined with a reason.

    send      draft -> sent              (the link goes out by text and e-mail; the expiry starts)
    view      sent -> viewed             (the customer opened the public page)
    accept    sent, viewed -> accepted   (an option chosen, name + signature)
    decline   sent, viewed -> declined   (with a reason)
    expire    sent, viewed -> expired    (past its expiry date; the nightly sweep)
    renew     expired -> draft           (a new expiry when it is sent again)

Transitions only change state; `fsm.estimates.services` locks, saves, records and publishes.
"""

import builtins
from decimal import Decimal

from django.conf import settings
from django.db import models
from django_fsm import FSMField, FSMModelMixin, transition

from customers.models import Customer, Property
from fsm.documents.models import MONEY, ZERO, PricedLine, PublicLink
from users.models import TaxRate


class Estimate(FSMModelMixin, PublicLink, models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", "Draft"
        SENT = "sent", "Sent"
        VIEWED = "viewed", "Viewed"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        EXPIRED = "expired", "Expired"

    OPEN_STATES = (State.SENT, State.VIEWED)
    MAX_OPTIONS = 3

    number = models.CharField(max_length=30, unique=True, editable=False)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="estimates")
    property = models.ForeignKey(Property, on_delete=models.PROTECT, related_name="estimates")
    job = models.ForeignKey(
        "fsm.Job", null=True, blank=True, on_delete=models.PROTECT, related_name="estimates"
    )
    origin_lead_id = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="The crm lead it was made for (no FK: fsm ≠ crm)."
    )
    title = models.CharField(max_length=200, help_text="e.g. Water heater replacement")
    message = models.TextField(blank=True, help_text="For the customer, above the options.")
    internal_notes = models.TextField(blank=True, help_text="The office's and the crew's only.")
    state = FSMField(default=State.DRAFT, choices=State.choices, protected=True, db_index=True)
    tax_rate = models.ForeignKey(TaxRate, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    tax_percent = models.DecimalField(max_digits=6, decimal_places=4, default=Decimal("0"))
    tax_exempt_reason = models.CharField(max_length=120, blank=True)
    expires_on = models.DateField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    viewed_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    accepted_option = models.ForeignKey(
        "fsm.EstimateOption", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    accepted_total = models.DecimalField(**MONEY, null=True, blank=True)
    signer_name = models.CharField(max_length=150, blank=True)
    signature = models.ImageField(upload_to="estimates/signatures/%Y/%m/", blank=True)
    accepted_in_person = models.BooleanField(default=False, help_text="Signed on the technician's phone.")
    decline_reason = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        app_label = "fsm"
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["state", "expires_on"])]

    def __str__(self) -> str:
        return self.number

    @builtins.property  # `property` is a field of this model
    def is_editable(self) -> bool:
        return self.state == self.State.DRAFT

    @transition(field=state, source=State.DRAFT, target=State.SENT)
    def send(self):
        """The link went out."""

    @transition(field=state, source=State.SENT, target=State.VIEWED)
    def view(self):
        """The customer opened it."""

    @transition(field=state, source=list(OPEN_STATES), target=State.ACCEPTED)
    def accept(self):
        """An option chosen and signed."""

    @transition(field=state, source=list(OPEN_STATES), target=State.DECLINED)
    def decline(self):
        """Not this time."""

    @transition(field=state, source=list(OPEN_STATES), target=State.EXPIRED)
    def expire(self):
        """Past its expiry date, undecided."""

    @transition(field=state, source=State.EXPIRED, target=State.DRAFT)
    def renew(self):
        """Editable and sendable again, with a new expiry when sent."""


class EstimateOption(models.Model):
    """One of the estimate's options; its totals are kept current by the services."""

    estimate = models.ForeignKey(Estimate, on_delete=models.CASCADE, related_name="options")
    position = models.PositiveSmallIntegerField(default=0)
    name = models.CharField(max_length=80, help_text="Good, Better, Best, ...")
    description = models.TextField(blank=True)
    discount = models.DecimalField(**MONEY, default=ZERO)
    subtotal = models.DecimalField(**MONEY, default=ZERO, editable=False)
    tax = models.DecimalField(**MONEY, default=ZERO, editable=False)
    total = models.DecimalField(**MONEY, default=ZERO, editable=False, help_text="Without add-ons.")

    class Meta:
        app_label = "fsm"
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.name

    @builtins.property
    def main_lines(self) -> list:
        """The lines in the option's price (prefetch `lines` to read them once)."""
        return [line for line in self.lines.all() if not line.is_addon]

    @builtins.property
    def addons(self) -> list:
        return [line for line in self.lines.all() if line.is_addon]


class EstimateLine(PricedLine):
    option = models.ForeignKey(EstimateOption, on_delete=models.CASCADE, related_name="lines")
    is_addon = models.BooleanField(default=False, help_text="Optional: the customer may tick it.")
    addon_selected = models.BooleanField(default=False, help_text="Ticked by the customer when accepting.")

    class Meta(PricedLine.Meta):
        app_label = "fsm"


class EstimatePhoto(models.Model):
    """A photo from the job shown with the estimate."""

    estimate = models.ForeignKey(Estimate, on_delete=models.CASCADE, related_name="attachments")
    photo = models.ForeignKey("fsm.JobPhoto", on_delete=models.CASCADE, related_name="+")

    class Meta:
        app_label = "fsm"
        constraints = [models.UniqueConstraint(fields=["estimate", "photo"], name="estimate_photo_once")]

    def __str__(self) -> str:
        return f"{self.estimate} photo {self.photo_id}"
