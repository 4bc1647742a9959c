"""What estimates, invoices and credit notes share: priced lines, gapless numbers, public links."""

import secrets
from datetime import datetime
from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone

from common import money

MONEY = {"max_digits": 12, "decimal_places": 2}
ZERO = Decimal("0.00")


class DocumentSequence(models.Model):
    """The last number given in one series ("INV-2026"). Numbers are taken inside the document's own
    transaction with this row locked, so a rolled-back issue gives its number back: no gaps, no repeats."""

    series = models.CharField(max_length=40, unique=True)
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        app_label = "fsm"

    def __str__(self) -> str:
        return f"{self.series}: {self.last_number}"


class PricedLine(models.Model):
    """A line of a document: copied from a pricebook item (or typed), then the document's own."""

    item = models.ForeignKey(
        "fsm.PricebookItem", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    position = models.PositiveSmallIntegerField(default=0)
    code = models.CharField(max_length=40, blank=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    quantity = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        default=Decimal("1.00"),
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    unit = models.CharField(max_length=20, blank=True)
    unit_price = models.DecimalField(**MONEY, validators=[MinValueValidator(ZERO)])
    unit_cost = models.DecimalField(**MONEY, default=ZERO)
    discount = models.DecimalField(**MONEY, default=ZERO, validators=[MinValueValidator(ZERO)])
    taxable = models.BooleanField(default=True)
    amount = models.DecimalField(
        **MONEY, default=ZERO, editable=False, help_text="After the line's discount."
    )

    class Meta:
        abstract = True
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.name

    def as_line(self) -> money.Line:
        return money.Line(
            quantity=self.quantity, unit_price=self.unit_price, discount=self.discount, taxable=self.taxable
        )


def new_token() -> str:
    """A stored random token for a public link: 192 bits, URL-safe."""
    return secrets.token_urlsafe(24)


class PublicLink(models.Model):
    """A document the customer opens without logging in: by a stored random token (not a signed id),
    which expires and can be revoked."""

    public_token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    public_expires_at = models.DateTimeField(null=True, blank=True)
    public_revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    def public_link_open(self, now: datetime | None = None) -> bool:
        now = now or timezone.now()
        if self.public_revoked_at is not None:
            return False
        return self.public_expires_at is None or now < self.public_expires_at
