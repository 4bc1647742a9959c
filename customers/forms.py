"""The customer form: the customer's own fields plus formsets of phones, e-mails and properties.

Forms only parse and validate input; `CustomerFormBundle.service_kwargs()` hands clean values to
customers.services, and `add_service_error()` puts a service's ApplicationError back on the right field.
"""

import re

from django import forms
from phonenumber_field.formfields import PhoneNumberField

from common.errors import ApplicationError

from .models import Customer, PhoneNumber
from .services import CUSTOMER_FIELDS, EmailIn, PhoneIn, PropertyIn


class CustomerForm(forms.Form):
    kind = forms.ChoiceField(choices=Customer.Kind.choices, initial=Customer.Kind.RESIDENTIAL)
    first_name = forms.CharField(max_length=100, required=False)
    last_name = forms.CharField(max_length=100, required=False)
    company_name = forms.CharField(max_length=200, required=False)
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    tax_exempt = forms.BooleanField(required=False, label="Tax exempt")
    tax_exempt_certificate = forms.CharField(max_length=80, required=False, label="Exemption certificate #")

    def clean(self):
        data = super().clean()
        if not any(data.get(k) for k in ("first_name", "last_name", "company_name")):
            self.add_error("last_name", "Give a name or a company name.")
        return data


class PhoneForm(forms.Form):
    id = forms.IntegerField(widget=forms.HiddenInput, required=False)
    number = PhoneNumberField(
        region="US",
        label="Phone",
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
        error_messages={"invalid": "Enter a valid US phone number, e.g. (512) 555-0123."},
    )
    kind = forms.ChoiceField(choices=PhoneNumber.Kind.choices, initial=PhoneNumber.Kind.MOBILE)
    is_primary = forms.BooleanField(required=False, label="Primary")


class EmailForm(forms.Form):
    id = forms.IntegerField(widget=forms.HiddenInput, required=False)
    email = forms.EmailField(label="E-mail")
    is_primary = forms.BooleanField(required=False, label="Primary")


class PropertyForm(forms.Form):
    id = forms.IntegerField(widget=forms.HiddenInput, required=False)
    label = forms.CharField(
        max_length=60, required=False, widget=forms.TextInput(attrs={"placeholder": "Home"})
    )
    street = forms.CharField(max_length=200)
    unit = forms.CharField(max_length=40, required=False)
    city = forms.CharField(max_length=100)
    state = forms.CharField(max_length=2, min_length=2, widget=forms.TextInput(attrs={"placeholder": "TX"}))
    zip_code = forms.RegexField(
        regex=r"^\d{5}(-\d{4})?$", label="ZIP", error_messages={"invalid": "Use a 5-digit ZIP code."}
    )
    access_notes = forms.CharField(max_length=500, required=False, label="Access notes")
    is_primary = forms.BooleanField(required=False, label="Primary")
    tax_exempt = forms.BooleanField(required=False, label="Tax exempt")
    tax_exempt_certificate = forms.CharField(max_length=80, required=False, label="Exemption certificate #")

    def clean_state(self):
        state = self.cleaned_data["state"].upper()
        if not re.fullmatch(r"[A-Z]{2}", state):
            raise forms.ValidationError("Use the two-letter state code.")
        return state


def _formset(form_class, *, new: bool):
    # A new customer starts with one blank row of each; blank extra rows are skipped, not required.
    return forms.formset_factory(form_class, extra=1 if new else 0, can_delete=True)


class CustomerFormBundle:
    def __init__(self, data=None, *, customer: Customer | None = None):
        initial = _initial(customer)
        self.customer = customer
        self.form = CustomerForm(data, initial=initial["customer"])
        new = customer is None
        self.phones = _formset(PhoneForm, new=new)(data, prefix="phones", initial=initial["phones"])
        self.emails = _formset(EmailForm, new=new)(data, prefix="emails", initial=initial["emails"])
        self.properties = _formset(PropertyForm, new=new)(
            data, prefix="properties", initial=initial["properties"]
        )

    @property
    def formsets(self):
        return {"phones": self.phones, "emails": self.emails, "properties": self.properties}

    def is_valid(self) -> bool:
        return all([self.form.is_valid(), *(fs.is_valid() for fs in self.formsets.values())])

    def _kept(self, formset) -> list[dict]:
        return [f.cleaned_data for f in formset.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]

    def phone_numbers(self) -> list[str]:
        return [d["number"].as_e164 for d in self._kept(self.phones)]

    def email_addresses(self) -> list[str]:
        return [d["email"] for d in self._kept(self.emails)]

    def service_kwargs(self) -> dict:
        fields = {k: self.form.cleaned_data[k] for k in CUSTOMER_FIELDS}
        return {
            **fields,
            "phones": [
                PhoneIn(number=d["number"].as_e164, kind=d["kind"], is_primary=d["is_primary"], id=d["id"])
                for d in self._kept(self.phones)
            ],
            "emails": [
                EmailIn(email=d["email"], is_primary=d["is_primary"], id=d["id"])
                for d in self._kept(self.emails)
            ],
            "properties": [
                PropertyIn(**{k: v for k, v in d.items() if k != "DELETE"})
                for d in self._kept(self.properties)
            ],
        }

    def add_service_error(self, error: ApplicationError) -> None:
        """Show a service's error on the field it names, e.g. `phones[1].number`."""
        match = re.fullmatch(r"(phones|emails|properties)\[(\d+)\]\.(\w+)", error.field or "")
        if match:
            formset = self.formsets[match[1]]
            kept = [f for f in formset.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
            kept[int(match[2])].add_error(match[3], error.message)
        elif error.field in self.form.fields:
            self.form.add_error(error.field, error.message)
        else:
            self.form.add_error(None, error.message)


def _initial(customer: Customer | None) -> dict:
    if customer is None:
        return {"customer": {}, "phones": [], "emails": [], "properties": []}
    return {
        "customer": {k: getattr(customer, k) for k in CUSTOMER_FIELDS},
        "phones": [
            {"id": p.pk, "number": p.number, "kind": p.kind, "is_primary": p.is_primary}
            for p in customer.phones.all()
        ],
        "emails": [{"id": e.pk, "email": e.email, "is_primary": e.is_primary} for e in customer.emails.all()],
        "properties": [
            {
                "id": p.pk,
                "label": p.label,
                "street": p.street,
                "unit": p.unit,
                "city": p.city,
                "state": p.state,
                "zip_code": p.zip_code,
                "access_notes": p.access_notes,
                "is_primary": p.is_primary,
                "tax_exempt": p.tax_exempt,
                "tax_exempt_certificate": p.tax_exempt_certificate,
            }
            for p in customer.properties.all()
        ],
    }
