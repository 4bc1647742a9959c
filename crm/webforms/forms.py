"""Forms for web forms: the office's settings form, and the public lead form a visitor fills in.

Forms only parse and validate. `WebFormSettingsForm.service_input()` hands clean values to
crm.webforms.services; `lead_form_for(web_form)` builds the public form from the web form's settings, and
the same form validates the iframe page's POST and embed.js's JSON.
"""

import re
from dataclasses import dataclass

from django import forms

from common.errors import ApplicationError
from customers.services import phone_normalize

from ..models import Campaign, ServiceType, Source, WebForm
from ..services import LeadIn, contact_address_line, unknown_fields_warnings
from .services import NEW_SOURCE_NAME, SETTINGS, WebFormIn, origin_normalize

NEW_SOURCE = "new"
HONEYPOT = "website"
SCRIPT_ATTRS = ("autocomplete", "placeholder", "inputmode", "maxlength", "rows")
# Phone is not marked optional (an e-mail may stand in for it, but a phone is what the office wants);
# city, state and ZIP go with the street.
OPTIONAL_HINTS = ("email", "street", "service", "message")


class OriginsField(forms.CharField):
    """One site per line in a textarea; a list of normalized origins in `cleaned_data`."""

    widget = forms.Textarea(
        attrs={"rows": 3, "placeholder": "https://www.example.com", "spellcheck": "false"}
    )

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, list) else value

    def to_python(self, value) -> list[str]:
        lines = [line.strip() for line in (super().to_python(value) or "").splitlines() if line.strip()]
        origins, errors = [], []
        for line in lines:
            try:
                origin = origin_normalize(line)
            except ApplicationError as error:
                errors.append(forms.ValidationError(error.message, code=error.code))
                continue
            if origin not in origins:
                origins.append(origin)
        if errors:
            raise forms.ValidationError(errors)
        return origins


class WebFormSettingsForm(forms.Form):
    name = forms.CharField(max_length=150, help_text="For you; visitors do not see it.")
    is_active = forms.BooleanField(required=False, initial=True, label="Active (accepting requests)")
    source = forms.ChoiceField(help_text="Leads from this form are counted under this source.")
    campaign = forms.ModelChoiceField(
        queryset=Campaign.objects.filter(is_active=True),
        required=False,
        empty_label="No campaign",
        help_text="Used when the visit carries no utm_campaign of a known campaign.",
    )
    services = forms.ModelMultipleChoiceField(
        queryset=ServiceType.objects.filter(is_active=True),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Services offered",
        help_text="Visitors pick one. None ticked: no service question.",
    )
    new_services = forms.CharField(
        max_length=300,
        required=False,
        label="Add service types",
        help_text="Comma separated, e.g. Water heater repair, Drain cleaning.",
    )
    ask_address = forms.BooleanField(required=False, label="Ask for the service address")
    ask_email = forms.BooleanField(required=False, label="Ask for an e-mail address")
    require_email = forms.BooleanField(required=False, label="E-mail is required")
    ask_message = forms.BooleanField(required=False, label="Ask what is going on (message)")
    headline = forms.CharField(max_length=200)
    submit_label = forms.CharField(max_length=60, label="Button label")
    thank_you_text = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), label="Thank-you text")
    consent_text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        label="Consent text",
        help_text="Shown under the button.",
    )
    allowed_origins = OriginsField(
        required=False,
        label="Sites allowed to embed it",
        help_text="One per line, e.g. https://www.example.com or http://localhost:8080. No path.",
    )

    def __init__(self, *args, web_form: WebForm | None = None, **kwargs):
        if web_form is not None:
            kwargs.setdefault("initial", _initial(web_form))
        super().__init__(*args, **kwargs)
        sources = list(Source.objects.filter(kind=Source.Kind.WEB_FORM, is_active=True))
        if web_form is not None and web_form.source_id and web_form.source not in sources:
            sources.insert(0, web_form.source)
        choices = [(str(s.pk), s.name) for s in sources]
        if not any(s.name.lower() == NEW_SOURCE_NAME.lower() for s in sources):
            choices.append((NEW_SOURCE, f"Create a new “{NEW_SOURCE_NAME}” source"))
        self.fields["source"].choices = choices
        self.sources = {str(s.pk): s for s in sources}

    def clean_source(self) -> Source | None:
        value = self.cleaned_data["source"]
        return None if value == NEW_SOURCE else self.sources[value]

    def clean_new_services(self) -> list[str]:
        names = [" ".join(n.split()) for n in self.cleaned_data["new_services"].split(",")]
        return list(dict.fromkeys(n[:100] for n in names if n))

    def clean(self):
        data = super().clean()
        if data.get("require_email") and not data.get("ask_email"):
            self.add_error("require_email", "Ask for the e-mail address to require it.")
        return data

    def service_input(self) -> WebFormIn:
        return WebFormIn(**self.cleaned_data)

    def add_service_error(self, error: ApplicationError) -> None:
        self.add_error(error.field if error.field in self.fields else None, error.message)


def _initial(web_form: WebForm) -> dict:
    initial = {name: getattr(web_form, name) for name in SETTINGS}
    initial["source"] = str(web_form.source_id) if web_form.source_id else None
    initial["services"] = list(web_form.services.all()) if web_form.pk else []
    return initial


# --- The public lead form -----------------------------------------------------------------------------

ATTRIBUTION_FIELDS = (
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "gclid",
    "fbclid",
    "landing_page",
    "referrer",
)


def _input(autocomplete: str, **attrs) -> forms.TextInput:
    return forms.TextInput(attrs={"autocomplete": autocomplete, **attrs})


class LeadForm(forms.Form):
    """What a visitor sends. The questions the web form does not ask are removed (`_shape`)."""

    name = forms.CharField(max_length=200, label="Your name", widget=_input("name"))
    phone = forms.CharField(
        max_length=40,
        required=False,
        label="Mobile phone",
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}),
    )
    email = forms.EmailField(
        max_length=254,
        required=False,
        label="E-mail",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    street = forms.CharField(
        max_length=200, required=False, label="Service address", widget=_input("street-address")
    )
    city = forms.CharField(max_length=100, required=False, widget=_input("address-level2"))
    state = forms.CharField(max_length=2, required=False, widget=_input("address-level1", maxlength="2"))
    zip = forms.RegexField(
        regex=r"^\d{5}(-\d{4})?$",
        required=False,
        label="ZIP",
        error_messages={"invalid": "Use a 5-digit ZIP code."},
        widget=_input("postal-code", inputmode="numeric", maxlength="10"),
    )
    service = forms.ChoiceField(required=False, label="What do you need?")
    message = forms.CharField(
        max_length=5000,
        required=False,
        label="Tell us what is going on",
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    # The honeypot: hidden from people by a CSS class, filled in by naive bots.
    website = forms.CharField(
        required=False,
        label="Leave this field empty",
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    def __init__(self, *args, web_form: WebForm, **kwargs):
        super().__init__(*args, **kwargs)
        self.web_form = web_form
        self.service_types = {s.name.lower(): s for s in web_form.services.filter(is_active=True)}
        _shape(self, web_form)
        for form_field in self.fields.values():
            form_field.widget.attrs["class"] = "lf-input"

    def clean_phone(self) -> str:
        raw = self.cleaned_data["phone"].strip()
        if not raw:
            return ""
        try:
            return phone_normalize(raw)
        except ApplicationError:
            raise forms.ValidationError("Enter a valid phone number, e.g. (512) 555-0123.") from None

    def clean_state(self) -> str:
        state = self.cleaned_data["state"].strip().upper()
        if state and not re.fullmatch(r"[A-Z]{2}", state):
            raise forms.ValidationError("Use the two-letter state code.")
        return state

    def clean(self):
        data = super().clean()
        no_contact = not (data.get("phone") or data.get("email"))
        if no_contact and not {"phone", "email"} & set(self.errors):
            self.add_error("phone", "Give a phone number or an e-mail address.")
        if data.get("street"):
            for name in ("city", "state", "zip"):
                if not data.get(name) and name not in self.errors:
                    self.add_error(name, "Needed with the address.")
        return data

    def contact(self) -> LeadIn:
        """The valid part of what was sent (all of it when the form is valid), for `lead_capture`, with a
        warning for each field the form does not read; a one-line `address` fills the address fields."""
        self.is_valid()
        data = self.cleaned_data
        service = data.get("service") or ""
        contact = LeadIn(
            name=data.get("name") or "",
            phone=data.get("phone") or "",
            email=data.get("email") or "",
            street=data.get("street") or "",
            city=data.get("city") or "",
            state=data.get("state") or "",
            zip_code=data.get("zip") or "",
            service=service,
            service_type=self.service_types.get(service.lower()),
            message=data.get("message") or "",
            warnings=unknown_fields_warnings(self.data, self.known_fields()),
        )
        if "street" in self.fields:
            contact_address_line(contact, str(self.data.get("address") or ""))
        return contact

    def known_fields(self) -> set[str]:
        """What this form reads: its questions (the address ones only when it asks them, then also a
        one-line `address`), the honeypot and the visit's attribution."""
        one_line = {"address"} if "street" in self.fields else set()
        return set(self.fields) | set(ATTRIBUTION_FIELDS) | one_line

    def rows(self) -> list["Row"]:
        """The visible fields in order, each with its box's layout class and whether to say "optional"."""
        both = {"phone", "email"} <= set(self.fields)
        return [
            Row(
                field=bound,
                css=f"lf-field lf-f-{bound.name}"
                + (" lf-half" if both and bound.name in ("phone", "email") else ""),
                optional=not bound.field.required and bound.name in OPTIONAL_HINTS,
            )
            for bound in self
            if bound.name != HONEYPOT
        ]

    def fields_for_script(self) -> list[dict]:
        """The visible fields, described for embed.js (which builds the same form in the host page)."""
        return [{**_describe(row.field), "css": row.css, "optional": row.optional} for row in self.rows()]


@dataclass
class Row:
    field: forms.BoundField
    css: str
    optional: bool


def _shape(form: LeadForm, web_form: WebForm) -> None:
    if not web_form.ask_email:
        del form.fields["email"]
    elif web_form.require_email:
        form.fields["email"].required = True
    if not web_form.ask_address:
        for name in ("street", "city", "state", "zip"):
            del form.fields[name]
    if not web_form.ask_message:
        del form.fields["message"]
    if form.service_types:
        names = [s.name for s in form.service_types.values()]
        form.fields["service"].choices = [("", "Choose one"), *((n, n) for n in names)]
    else:
        del form.fields["service"]
    if "email" not in form.fields:
        form.fields["phone"].required = True
        form.fields["phone"].error_messages["required"] = "Give a phone number."


def _describe(bound) -> dict:
    widget = bound.field.widget
    kind = "textarea" if isinstance(widget, forms.Textarea) else getattr(widget, "input_type", "text")
    described = {
        "name": bound.html_name,
        "label": str(bound.label),
        "type": kind,
        "required": bound.field.required,
        "attrs": {k: str(v) for k, v in widget.attrs.items() if k in SCRIPT_ATTRS},
    }
    if kind == "select":
        described["options"] = [[str(v), str(label)] for v, label in bound.field.choices]
    return described


def lead_form_for(web_form: WebForm, data=None) -> LeadForm:
    return LeadForm(data, web_form=web_form)
