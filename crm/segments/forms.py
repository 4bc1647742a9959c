from django import forms

from .models import CustomerEquipment, CustomerJobType
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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        names = CustomerJobType.objects.order_by("job_type").values_list("job_type", flat=True).distinct()
        self.fields["job_types"].choices = [(name, name) for name in names]
        kinds = CustomerEquipment.objects.order_by("kind").values_list("kind", flat=True).distinct()
        self.equipment_kinds = list(kinds)
        self.fields["equipment_kind"].widget.attrs["list"] = "equipment-kinds"

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
        )
        spec.check()
        return spec

    @classmethod
    def initial_for(cls, spec: SegmentSpec, name: str = "") -> dict:
        data = spec.as_json()
        data["zip_codes"] = ", ".join(spec.zip_codes)
        return {"name": name, **{k: v for k, v in data.items() if v not in (None, "", [])}}
