from django import forms

from common.errors import ApplicationError
from customers.selectors import tag_names

from ..automations import engine
from ..automations.models import Sequence
from .models import CustomerEquipment, CustomerJobType, Outreach
from .services import SegmentSpec


def _split(value: str) -> list[str]:
    return [part.strip() for part in (value or "").replace("\n", ",").split(",") if part.strip()]


class SegmentForm(forms.Form):
    name = forms.CharField(max_length=120, required=False, help_text="To save it for campaigns.")
    last_job_months = forms.IntegerField(
        label="Last job at least ... months ago", min_value=0, max_value=600, required=False
    )
    job_types = forms.MultipleChoiceField(
        label="Had one of these done", required=False, widget=forms.CheckboxSelectMultiple
    )
    equipment_kind = forms.CharField(label="Has equipment", max_length=80, required=False)
    equipment_min_age_years = forms.IntegerField(
        label="Equipment at least ... years old", min_value=0, max_value=100, required=False
    )
    zip_codes = forms.CharField(label="ZIP codes", required=False, help_text="Separated by commas.")
    min_spend = forms.DecimalField(label="Spent at least ($)", min_value=0, decimal_places=2, required=False)
    max_spend = forms.DecimalField(label="Spent at most ($)", min_value=0, decimal_places=2, required=False)
    not_contacted_days = forms.IntegerField(
        label="Not contacted in ... days", min_value=0, max_value=3650, required=False
    )
    tags = forms.MultipleChoiceField(
        label="Tagged with any of", required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        names = CustomerJobType.objects.order_by("job_type").values_list("job_type", flat=True).distinct()
        self.fields["job_types"].choices = [(name, name) for name in names]
        kinds = CustomerEquipment.objects.order_by("kind").values_list("kind", flat=True).distinct()
        self.equipment_kinds = list(kinds)
        self.fields["equipment_kind"].widget.attrs["list"] = "equipment-kinds"
        chosen = self.data.getlist("tags") if hasattr(self.data, "getlist") else []
        names = tag_names()  # and a saved segment's tags that nobody carries now (they match no one)
        names += [name for name in chosen if name.lower() not in {n.lower() for n in names}]
        self.fields["tags"].choices = [(name, name) for name in names]
        if not self.fields["tags"].choices:
            self.fields["tags"].help_text = "No tags yet: tag customers on their page."

    def clean(self):
        data = super().clean()
        low, high = data.get("min_spend"), data.get("max_spend")
        if low is not None and high is not None and high < low:
            self.add_error("max_spend", "The most is less than the least.")
        return data

    def spec(self) -> SegmentSpec:
        data = self.cleaned_data
        spec = SegmentSpec(
            last_job_months=data.get("last_job_months"),
            job_types=list(data.get("job_types") or []),
            equipment_kind=data.get("equipment_kind") or "",
            equipment_min_age_years=data.get("equipment_min_age_years"),
            zip_codes=_split(data.get("zip_codes", "")),
            min_spend=data.get("min_spend"),
            max_spend=data.get("max_spend"),
            not_contacted_days=data.get("not_contacted_days"),
            tags=list(data.get("tags") or []),
        )
        spec.check()
        return spec

    @classmethod
    def initial_for(cls, spec: SegmentSpec, name: str = "") -> dict:
        data = spec.as_json()
        data["zip_codes"] = ", ".join(spec.zip_codes)
        return {"name": name, **{k: v for k, v in data.items() if v not in (None, "", [])}}


CAMPAIGN_FIELDS = ("first_name", "last_name", "business_name", "business_phone")
NO_MESSAGE = "Write the text, or choose a sequence to enroll them in."
CAMPAIGN_FIELDS_SHOWN = ", ".join("{" + name + "}" for name in CAMPAIGN_FIELDS)


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


class OutreachForm(forms.ModelForm):
    """A reactivation campaign: to whom, what it says (or which sequence), when, how fast."""

    class Meta:
        model = Outreach
        fields = [
            *("name", "segment", "body", "sequence", "starts_at"),
            *("repeat", "rate_per_hour", "attribution_days"),
        ]
        labels = {
            "body": "Text",
            "sequence": "Or enroll them in a sequence",
            "starts_at": "Start sending",
            "rate_per_hour": "Texts per hour",
            "attribution_days": "Count jobs booked within ... days",
        }
        widgets = {
            "body": forms.Textarea(attrs={"rows": 4, "data-sms-counter": ""}),
            "starts_at": DateTimeInput,
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["segment"].empty_label = "Pick a saved segment"
        self.fields["sequence"].queryset = Sequence.objects.filter(active=True).order_by("name")
        self.fields["sequence"].empty_label = "No, send the text"
        self.fields["body"].help_text = "Merge fields: " + CAMPAIGN_FIELDS_SHOWN
        self.fields["starts_at"].help_text = "Texts only go out 9 am to 8 pm, business time."
        self.fields["body"].required = not self.data.get("sequence")  # a sequence sends its own texts
        self.fields["body"].error_messages["required"] = NO_MESSAGE

    def clean_body(self):
        body = self.cleaned_data.get("body", "").strip()
        if body:
            try:
                engine.template_check(body)
            except ApplicationError as error:
                raise forms.ValidationError(error.message) from None
            other = sorted(set(engine.FIELD.findall(body)) - set(CAMPAIGN_FIELDS))
            if other:  # an estimate or a review link belongs to one job, not to a campaign
                raise forms.ValidationError(
                    f"{{{other[0]}}} has no value in a campaign: use {CAMPAIGN_FIELDS_SHOWN}."
                )
        return body

    def clean_rate_per_hour(self):
        rate = self.cleaned_data["rate_per_hour"]
        if not 1 <= rate <= 5000:
            raise forms.ValidationError("Send between 1 and 5,000 an hour.")
        return rate

    def clean_attribution_days(self):
        days = self.cleaned_data["attribution_days"]
        if not 1 <= days <= 365:
            raise forms.ValidationError("Between 1 and 365 days.")
        return days

    def clean(self):
        data = super().clean()
        if not data.get("body") and not data.get("sequence") and "body" not in self.errors:
            self.add_error("body", NO_MESSAGE)
        return data
