"""THE customer master: customers, their service addresses, phone numbers and e-mail addresses."""

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from phonenumber_field.modelfields import PhoneNumberField


class CustomerQuerySet(models.QuerySet):
    def active(self) -> "CustomerQuerySet":
        return self.filter(merged_into__isnull=True)


class Tag(models.Model):
    """A label the office puts on customers ("Member", "Rental owner", "VIP"): shown on the customer, a
    filter on the customer list and in segments. One per name, whatever the case."""

    name = models.CharField(max_length=40)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = [Lower("name")]
        constraints = [models.UniqueConstraint(Lower("name"), name="customers_tag_name_unique_ci")]

    def __str__(self) -> str:
        return self.name


class Customer(models.Model):
    class Kind(models.TextChoices):
        RESIDENTIAL = "residential", "Residential"
        COMMERCIAL = "commercial", "Commercial"

    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.RESIDENTIAL)
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    company_name = models.CharField(max_length=200, blank=True)
    notes = models.TextField(blank=True)
    tax_exempt = models.BooleanField(default=False, help_text="No sales tax on this customer's documents.")
    tax_exempt_certificate = models.CharField("exemption certificate number", max_length=80, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_from"
    )
    merged_at = models.DateTimeField(null=True, blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="customers")
    # Lower-cased names, company, e-mails and addresses; and the digits of every phone number.
    # Kept current by customers.services; trigram-indexed on PostgreSQL (see migration 0002).
    search_text = models.TextField(blank=True, editable=False)
    search_digits = models.TextField(blank=True, editable=False)
    sort_name = models.CharField(max_length=200, blank=True, editable=False, db_index=True)

    objects = CustomerQuerySet.as_manager()

    class Meta:
        ordering = ["sort_name", "pk"]
        permissions = [("merge_customer", "Can merge two customers")]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        person = " ".join(p for p in (self.first_name, self.last_name) if p)
        if self.kind == self.Kind.COMMERCIAL and self.company_name:
            return self.company_name
        return person or self.company_name or f"Customer #{self.pk}"

    @property
    def is_merged(self) -> bool:
        return self.merged_into_id is not None


class Property(models.Model):
    """A service address. Jobs, equipment and visits hang off a property."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="properties")
    label = models.CharField(max_length=60, blank=True, help_text="e.g. Home, Rental on Oak St.")
    street = models.CharField(max_length=200)
    unit = models.CharField(max_length=40, blank=True)
    city = models.CharField(max_length=100)
    state = models.CharField(max_length=2)
    zip_code = models.CharField(max_length=10)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    time_zone = models.CharField(max_length=64, blank=True, help_text="Blank: the business's time zone.")
    access_notes = models.TextField(blank=True, help_text="Gate codes, pets, parking.")
    is_primary = models.BooleanField(default=False)
    tax_exempt = models.BooleanField(default=False, help_text="No sales tax on work at this address.")
    tax_exempt_certificate = models.CharField("exemption certificate number", max_length=80, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "properties"
        ordering = ["-is_primary", "pk"]

    def __str__(self) -> str:
        return self.one_line

    @property
    def one_line(self) -> str:
        street = f"{self.street} {self.unit}".strip()
        return f"{street}, {self.city}, {self.state} {self.zip_code}"


class PhoneNumber(models.Model):
    class Kind(models.TextChoices):
        MOBILE = "mobile", "Mobile"
        HOME = "home", "Home"
        WORK = "work", "Work"
        OTHER = "other", "Other"

    class Consent(models.TextChoices):
        UNKNOWN = "unknown", "Unknown"
        OPTED_IN = "opted_in", "Opted in"
        OPTED_OUT = "opted_out", "Opted out"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="phones")
    number = PhoneNumberField(db_index=True, help_text="Stored in E.164.")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.MOBILE)
    is_primary = models.BooleanField(default=False)
    sms_consent = models.CharField(max_length=10, choices=Consent.choices, default=Consent.UNKNOWN)
    consent_changed_at = models.DateTimeField(null=True, blank=True)
    consent_method = models.CharField(
        max_length=100, blank=True, help_text="How: web form, STOP keyword, staff..."
    )
    textable = models.BooleanField(default=True, help_text="False once the provider says it is a landline.")
    revocation_flagged_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Asked to stop in a sentence: automated texts held until staff clear it.",
    )

    class Meta:
        ordering = ["-is_primary", "pk"]
        constraints = [models.UniqueConstraint(fields=["customer", "number"], name="phone_once_per_customer")]

    def __str__(self) -> str:
        return self.number.as_national if self.number else ""

    @staticmethod
    def merge_conflict(row: "PhoneNumber", values: dict) -> None:
        """Both customers have this number: keep the survivor's row with the latest consent change."""
        kept = PhoneNumber.objects.get(number=row.number, **values)
        newer = row.consent_changed_at and (
            kept.consent_changed_at is None or row.consent_changed_at > kept.consent_changed_at
        )
        if newer:
            kept.sms_consent, kept.consent_changed_at = row.sms_consent, row.consent_changed_at
            kept.consent_method = row.consent_method
            kept.save(update_fields=["sms_consent", "consent_changed_at", "consent_method"])
        row.delete()


class EmailAddress(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="emails")
    email = models.EmailField(db_index=True)
    is_primary = models.BooleanField(default=False)

    class Meta:
        verbose_name_plural = "e-mail addresses"
        ordering = ["-is_primary", "pk"]
        constraints = [models.UniqueConstraint(fields=["customer", "email"], name="email_once_per_customer")]

    def __str__(self) -> str:
        return self.email


class ConsentEvent(models.Model):
    """The consent ledger: every change of a number's SMS consent, with when, how, why and the evidence.

    Consent belongs to the number (E.164), not to one customer row: an opt-out applies to every customer
    that lists the number. Rows are never edited; the latest row per number is its current state.
    """

    class State(models.TextChoices):
        OPTED_IN = "opted_in", "Opted in"
        OPTED_OUT = "opted_out", "Opted out"
        REVOCATION_FLAGGED = "revocation_flagged", "Asked to stop (in a sentence): automated texts held"
        REVOCATION_CLEARED = "revocation_cleared", "Flag cleared by staff"
        NOT_TEXTABLE = "not_textable", "Not a mobile number"

    class Method(models.TextChoices):
        KEYWORD = "keyword", "Keyword reply (STOP / START)"
        WEB_FORM = "web_form", "Website form"
        STAFF = "staff", "Staff"
        CARRIER = "carrier", "Carrier (error 21610)"
        PROVIDER = "provider", "Provider error (landline)"
        MESSAGE = "message", "Message text"
        IMPORT = "import", "Import"

    class Purpose(models.TextChoices):
        ALL = "all", "All messages"
        MARKETING = "marketing", "Marketing"
        CARE = "care", "Customer care"

    number = PhoneNumberField(db_index=True)
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="consent_events"
    )
    state = models.CharField(max_length=20, choices=State.choices)
    method = models.CharField(max_length=20, choices=Method.choices)
    purpose = models.CharField(max_length=10, choices=Purpose.choices, default=Purpose.ALL)
    evidence = models.JSONField(default=dict, blank=True, help_text="Message sid, form and IP, text, user...")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.number} {self.state} ({self.method})"
