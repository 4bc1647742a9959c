"""The pricebook: what the business sells, at what price. Estimate and invoice lines copy an item's
name, description, price and taxability when added, so a later price change never alters a document."""

from decimal import ROUND_HALF_UP, Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower

MONEY = {"max_digits": 12, "decimal_places": 2}
NOT_NEGATIVE = [MinValueValidator(Decimal("0"))]


class PricebookItem(models.Model):
    class Kind(models.TextChoices):
        SERVICE = "service", "Service"
        MATERIAL = "material", "Material"
        EQUIPMENT = "equipment", "Equipment"

    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.SERVICE)
    code = models.CharField(
        max_length=40, help_text="Short and unique, e.g. WH-50G. Type it in any line editor."
    )
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, help_text="What the customer reads on estimates and invoices.")
    category = models.CharField(max_length=80, blank=True)
    unit = models.CharField(max_length=20, default="each", help_text="each, hour, ft, ...")
    price = models.DecimalField(**MONEY, validators=NOT_NEGATIVE)
    cost = models.DecimalField(**MONEY, default=Decimal("0.00"), validators=NOT_NEGATIVE)
    markup_percent = models.DecimalField(
        max_digits=7,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("10000"))],
        help_text="Materials: price = cost plus this markup. Blank: the price is set by hand.",
    )
    member_price = models.DecimalField(**MONEY, null=True, blank=True, validators=NOT_NEGATIVE)
    taxable = models.BooleanField(default=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        app_label = "fsm"
        ordering = ["category", "name"]
        constraints = [models.UniqueConstraint(Lower("code"), name="pricebook_code_unique_ci")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def margin(self) -> Decimal:
        """What the business keeps per unit: price minus cost."""
        return self.price - self.cost

    @property
    def margin_percent(self) -> Decimal | None:
        """The margin as a share of the price, one decimal (None for a free item)."""
        if not self.price:
            return None
        return (self.margin * 100 / self.price).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
