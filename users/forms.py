"""The owner's settings forms. Forms only parse and check the input; users.services writes it, and a
service's ApplicationError goes back on the field it names (`add_service_error`)."""

from django import forms
from django.core.validators import FileExtensionValidator

from common.errors import ApplicationError

from .models import Business, TaxRate
from .services import BUSINESS_FIELDS


class ServiceErrorsMixin:
    def add_service_error(self, error: ApplicationError) -> None:
        self.add_error(error.field if error.field in self.fields else None, error.message)


class BusinessForm(ServiceErrorsMixin, forms.ModelForm):
    logo = forms.FileField(
        required=False,
        help_text="PNG or JPEG, at most 2 MB. Printed at the top of estimates and invoices.",
        validators=[FileExtensionValidator(["png", "jpg", "jpeg"], "Upload a PNG or JPEG file.")],
        widget=forms.FileInput(attrs={"accept": "image/png,image/jpeg"}),
    )
    remove_logo = forms.BooleanField(required=False, label="Remove the logo")
    website = forms.URLField(required=False, max_length=200, assume_scheme="https")

    class Meta:
        model = Business
        fields = BUSINESS_FIELDS
        widgets = {
            "estimate_terms": forms.Textarea(attrs={"rows": 6}),
            "invoice_terms": forms.Textarea(attrs={"rows": 5}),
            "state": forms.TextInput(attrs={"placeholder": "TX", "maxlength": 2}),
            "phone": forms.TextInput(attrs={"type": "tel"}),
        }
        labels = {
            "name": "Business name",
            "legal_name": "Legal name",
            "license_number": "License number",
            "estimate_prefix": "Estimates",
            "invoice_prefix": "Invoices",
            "credit_note_prefix": "Credit notes",
        }
        help_texts = {
            "name": "The name customers know; shown in the app and on documents.",
            "license_number": "Your state contractor license, e.g. TACLA12345C or M-40123.",
            "time_zone": "Appointments and due dates are shown in this zone.",
        }

    def clean_state(self) -> str:
        return self.cleaned_data["state"].strip().upper()

    def clean(self):
        data = super().clean()
        if data.get("logo") and data.get("remove_logo"):
            self.add_error("remove_logo", "Upload a new logo or remove it, not both.")
        return data

    def _post_clean(self):
        """The service checks the row as a whole (and the logo with Pillow); the form does not touch
        the instance."""

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            **{name: data[name] for name in BUSINESS_FIELDS},
            "logo": data.get("logo") or None,
            "remove_logo": data.get("remove_logo", False),
        }


class TaxRateForm(ServiceErrorsMixin, forms.Form):
    name = forms.CharField(max_length=80, widget=forms.TextInput(attrs={"placeholder": "Texas + Austin"}))
    percent = forms.DecimalField(
        label="Rate (%)",
        min_value=0,
        max_value=30,
        max_digits=6,
        decimal_places=4,
        widget=forms.NumberInput(attrs={"step": "0.0001", "inputmode": "decimal", "placeholder": "8.25"}),
    )
    is_default = forms.BooleanField(required=False, label="Make this the default rate")

    @classmethod
    def for_rate(cls, rate: TaxRate, data=None) -> "TaxRateForm":
        form = cls(data, initial={"name": rate.name, "percent": rate.percent.normalize()})
        del form.fields["is_default"]
        return form
