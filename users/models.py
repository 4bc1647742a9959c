import time
import zoneinfo
from functools import cached_property

from django.contrib.auth.models import AbstractUser
from django.core.cache import cache
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from phonenumber_field.modelfields import PhoneNumberField

from .roles import Role

MEMO_SECONDS = 10


class ProcessMemo:
    """A few seconds' copy, in this process, of the rows every request reads and that rarely change
    (Business.current, crm's MessagingSettings.current): saves a cache round trip per read. A save
    forgets its own entry here; other processes see the change within `seconds`."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self._entries: dict[str, tuple[float, object]] = {}

    def get(self, key: str):
        entry = self._entries.get(key)
        if entry and time.monotonic() - entry[0] < self.seconds:
            return entry[1]
        return None

    def put(self, key: str, value) -> None:
        self._entries[key] = (time.monotonic(), value)

    def forget(self, key: str | None = None) -> None:
        """One entry, or all of them (tests start each case with none)."""
        if key is None:
            self._entries.clear()
        else:
            self._entries.pop(key, None)


current_memo = ProcessMemo(MEMO_SECONDS)

TIME_ZONE_CHOICES = [(tz, tz) for tz in sorted(zoneinfo.available_timezones()) if "/" in tz]


class User(AbstractUser):
    """A person who logs in. The role comes from the user's group (see users.roles)."""

    phone = PhoneNumberField(blank=True)

    class Meta:
        ordering = ["first_name", "last_name", "username"]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @cached_property
    def role(self) -> str | None:
        if not self.is_active:
            return None
        names = {group.name for group in self.groups.all()}
        for role in Role:
            if role.value in names:
                return role.value
        return Role.OWNER.value if self.is_superuser else None

    def has_role(self, *roles: str) -> bool:
        return self.role is not None and self.role in roles


class PaymentTerms(models.IntegerChoices):
    DUE_ON_RECEIPT = 0, "Due on receipt"
    NET_15 = 15, "Net 15"
    NET_30 = 30, "Net 30"


PREFIX = RegexValidator(r"^[A-Z][A-Z0-9]{0,7}$", "Capital letters and digits, starting with a letter.")


class Business(models.Model):
    """The company this installation runs. One row; `Business.current()` reads it."""

    name = models.CharField(max_length=200)
    time_zone = models.CharField(max_length=64, choices=TIME_ZONE_CHOICES, default="America/Chicago")
    phone = PhoneNumberField(blank=True)
    email = models.EmailField(blank=True)
    website = models.URLField(blank=True)
    service_area_zip_codes = models.JSONField(default=list, blank=True, help_text="ZIP codes served.")
    created_at = models.DateTimeField(auto_now_add=True)

    # What the customer's documents (estimates, invoices) carry: fsm reads these.
    legal_name = models.CharField(
        max_length=200, blank=True, help_text="As registered, if different from the name customers know."
    )
    logo = models.ImageField(upload_to="business/", blank=True, help_text="PNG or JPEG, shown on documents.")
    license_number = models.CharField(max_length=80, blank=True)
    street = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=2, blank=True)
    zip_code = models.CharField("ZIP code", max_length=10, blank=True)
    estimate_terms = models.TextField(blank=True, help_text="Printed under every estimate.")
    invoice_terms = models.TextField(blank=True, help_text="Printed under every invoice.")
    payment_terms_days = models.PositiveSmallIntegerField(
        "payment terms", choices=PaymentTerms.choices, default=PaymentTerms.DUE_ON_RECEIPT
    )
    estimate_valid_days = models.PositiveSmallIntegerField(
        "estimates valid for (days)", default=30, validators=[MinValueValidator(1), MaxValueValidator(365)]
    )
    estimate_prefix = models.CharField(max_length=8, default="EST", validators=[PREFIX])
    invoice_prefix = models.CharField(max_length=8, default="INV", validators=[PREFIX])
    credit_note_prefix = models.CharField(max_length=8, default="CN", validators=[PREFIX])

    class Meta:
        verbose_name_plural = "business"

    def __str__(self) -> str:
        return self.name

    CACHE_KEY = "users.business.current"

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        cache.delete(self.CACHE_KEY)
        current_memo.forget("business")

    def delete(self, *args, **kwargs):
        cache.delete(self.CACHE_KEY)
        current_memo.forget("business")
        return super().delete(*args, **kwargs)

    @classmethod
    def current(cls) -> "Business":
        """The business: every request reads it and it changes rarely, so it is kept in this process for a
        few seconds and in the shared cache for five minutes (a save clears the shared copy)."""
        memo = current_memo.get("business")
        if memo is not None:
            return memo
        business = cls._current_shared()
        if business.pk:
            current_memo.put("business", business)
        return business

    @classmethod
    def _current_shared(cls) -> "Business":
        business = cache.get(cls.CACHE_KEY)
        if business is None:
            business = cls.objects.order_by("pk").first()
            if business is None:
                return cls(name="Your company")
            cache.set(cls.CACHE_KEY, business, 300)
        return business

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    @property
    def address_lines(self) -> list[str]:
        """The mailing address as printed: street, then "City, ST 78701"; empty lines left out."""
        place = ", ".join(part for part in (self.city, f"{self.state} {self.zip_code}".strip()) if part)
        return [line for line in (self.street, place) if line]


class TaxRate(models.Model):
    """A sales tax rate the business charges (e.g. "Austin 8.25%"). One is the default; a customer or a
    property may be exempt (customers.Customer.tax_exempt, Property.tax_exempt)."""

    name = models.CharField(max_length=80)
    percent = models.DecimalField(
        max_digits=6,
        decimal_places=4,
        validators=[MinValueValidator(0), MaxValueValidator(30)],
        help_text="8.25 for 8.25%.",
    )
    is_default = models.BooleanField("default", default=False)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-is_default", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="one_default_tax"
            ),
            models.CheckConstraint(
                condition=Q(is_default=False) | Q(active=True), name="default_tax_is_active"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.percent.normalize():f}%)"

    @classmethod
    def default(cls) -> "TaxRate | None":
        return cls.objects.filter(is_default=True).first()
