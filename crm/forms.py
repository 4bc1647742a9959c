import re
from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.text import slugify

from messaging.models import MessagingSettings

from .models import Campaign, Lead, LostReason, PipelineSettings, ServiceType, Source
from .selectors import office_users


class LeadEntryForm(forms.Form):
    """A lead office staff take on the phone."""

    name = forms.CharField(max_length=200)
    phone = forms.CharField(max_length=40, required=False, widget=forms.TextInput(attrs={"type": "tel"}))
    email = forms.EmailField(required=False)
    street = forms.CharField(max_length=200, required=False)
    unit = forms.CharField(max_length=40, required=False)
    city = forms.CharField(max_length=100, required=False)
    state = forms.CharField(max_length=2, required=False, widget=forms.TextInput(attrs={"placeholder": "TX"}))
    zip_code = forms.CharField(max_length=10, required=False, label="ZIP")
    service_type = forms.ModelChoiceField(
        queryset=ServiceType.objects.filter(is_active=True), required=False, empty_label="(pick a service)"
    )
    service = forms.CharField(max_length=200, required=False, label="Service details")
    message = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, label="Notes from the call"
    )
    source = forms.ModelChoiceField(queryset=Source.objects.filter(is_active=True), empty_label=None)
    campaign = forms.ModelChoiceField(
        queryset=Campaign.objects.filter(is_active=True), required=False, empty_label="(none)"
    )

    def clean(self):
        data = super().clean()
        if not data.get("phone") and not data.get("email"):
            self.add_error("phone", "Give a phone number or an e-mail address.")
        address = [data.get(k) for k in ("street", "city", "state", "zip_code")]
        if any(address) and not all(address):
            self.add_error("street", "Give the whole address (street, city, state, ZIP) or none of it.")
        return data


class BookForm(forms.Form):
    service = forms.CharField(max_length=200)
    window_start = forms.DateTimeField(
        required=False, label="Preferred from", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    window_end = forms.DateTimeField(
        required=False, label="Preferred until", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    # Filled by "Find a time" (fsm's open times); crm.services.lead_book checks them.
    slot_technician = forms.IntegerField(required=False, widget=forms.HiddenInput, label="Technician")
    slot_start = forms.DateTimeField(required=False, widget=forms.HiddenInput, label="Chosen start")
    slot_end = forms.DateTimeField(required=False, widget=forms.HiddenInput, label="Chosen end")

    SLOT_FIELDS = ("slot_technician", "slot_start", "slot_end")

    def slot_errors(self) -> list[str]:
        """The chosen time's errors (its fields are hidden: the page shows them by the choice)."""
        return [error for name in self.SLOT_FIELDS for error in self.errors.get(name, [])]

    def clean(self):
        data = super().clean()
        start, end = data.get("window_start"), data.get("window_end")
        if start and end and end <= start:
            self.add_error("window_end", "The window must end after it starts.")
        if start and start < timezone.now() - timedelta(hours=1):
            self.add_error("window_start", "That time has passed.")
        return data


class LoseForm(forms.Form):
    reason = forms.ChoiceField(choices=[("", "Why was it lost?"), *LostReason.choices])
    note = forms.CharField(max_length=500, required=False)


class AssignForm(forms.Form):
    assigned_to = forms.ModelChoiceField(queryset=office_users(), required=False, empty_label="Nobody")


class SourceForm(forms.ModelForm):
    class Meta:
        model = Source
        fields = ["name", "kind", "slug", "google_key", "is_active"]
        help_texts = {"slug": "Used in the webhook URL. Leave blank to make one from the name."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slug"].required = False

    def clean_slug(self):
        slug = self.cleaned_data.get("slug") or slugify(self.cleaned_data.get("name", ""))
        if not slug:
            raise forms.ValidationError("Give a name or a slug.")
        if Source.objects.filter(slug=slug).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError("Another source uses this slug.")
        return slug


class CampaignForm(forms.ModelForm):
    class Meta:
        model = Campaign
        fields = ["name", "source", "utm_campaign", "cost_type", "cost", "starts_on", "ends_on", "is_active"]
        widgets = {
            "starts_on": forms.DateInput(attrs={"type": "date"}),
            "ends_on": forms.DateInput(attrs={"type": "date"}),
        }
        labels = {"utm_campaign": "utm_campaign / ad campaign id"}

    def clean(self):
        data = super().clean()
        if data.get("cost") is not None and data["cost"] < 0:
            self.add_error("cost", "Cost cannot be negative.")
        if data.get("ends_on") and data.get("starts_on") and data["ends_on"] < data["starts_on"]:
            self.add_error("ends_on", "The campaign must end after it starts.")
        return data


class PipelineSettingsForm(forms.ModelForm):
    class Meta:
        model = PipelineSettings
        fields = ["speed_to_lead_minutes", "round_robin_enabled", "round_robin_users"]
        labels = {
            "speed_to_lead_minutes": "Turn unanswered leads red after (minutes)",
            "round_robin_enabled": "Assign new leads in turn",
            "round_robin_users": "Among",
        }
        widgets = {"round_robin_users": forms.CheckboxSelectMultiple}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["round_robin_users"].queryset = office_users()

    def clean_speed_to_lead_minutes(self):
        value = self.cleaned_data["speed_to_lead_minutes"]
        if not 1 <= value <= 1440:
            raise forms.ValidationError("Between 1 minute and 1 day.")
        return value


class ReportForm(forms.Form):
    start = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            self.add_error("end", "The end is before the start.")
        return data


LEAD_STATES = Lead.State
MERGE_FIELD = re.compile(r"\{(\w+)\}")  # as messaging.services.render_template reads them


class MessagingSettingsForm(forms.ModelForm):
    ring_through = forms.CharField(
        required=False,
        label="Ring-through numbers",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line. These phones ring first; an unanswered call gets the missed-call text.",
    )

    saved = forms.CharField(
        required=False,
        label="Saved replies",
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="One per line as Title | text, e.g. On my way | Hi {first_name}, your tech is on the way.",
    )

    class Meta:
        model = MessagingSettings
        fields = [
            "ring_seconds",
            "missed_call_text_enabled",
            "missed_call_template",
            "missed_call_window_minutes",
            "instant_reply_enabled",
            "instant_reply_template",
            "help_template",
            "quiet_hours_start",
            "quiet_hours_end",
            "confirmation_text_enabled",
            "confirmation_template",
            "reminder_text_enabled",
            "reminder_template",
            "on_my_way_text_enabled",
            "on_my_way_template",
            "completed_text_enabled",
            "completed_template",
        ]
        widgets = {
            "missed_call_template": forms.Textarea(attrs={"rows": 3}),
            "instant_reply_template": forms.Textarea(attrs={"rows": 3}),
            "help_template": forms.Textarea(attrs={"rows": 2}),
            "quiet_hours_start": forms.TimeInput(attrs={"type": "time"}),
            "quiet_hours_end": forms.TimeInput(attrs={"type": "time"}),
            "confirmation_template": forms.Textarea(attrs={"rows": 3}),
            "reminder_template": forms.Textarea(attrs={"rows": 3}),
            "on_my_way_template": forms.Textarea(attrs={"rows": 3}),
            "completed_template": forms.Textarea(attrs={"rows": 3}),
        }
        labels = {
            "confirmation_text_enabled": "Text a confirmation when a job is scheduled",
            "confirmation_template": "Confirmation",
            "reminder_text_enabled": "Text a reminder the day before",
            "reminder_template": "Reminder",
            "on_my_way_text_enabled": "Text when the technician is on the way",
            "on_my_way_template": "On my way",
            "completed_text_enabled": "Text a thank-you when the job is completed",
            "completed_template": "Completed",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["ring_through"].initial = "\n".join(self.instance.ring_through_numbers or [])
        self.fields["saved"].initial = "\n".join(
            f"{r['title']} | {r['body']}" for r in self.instance.saved_replies or []
        )
        for name, extra in MessagingSettings.APPOINTMENT_TEXTS.items():
            fields = ", ".join(f"{{{field}}}" for field in (*MessagingSettings.MERGE_FIELDS, *extra))
            self.fields[name].help_text = f"Merge fields: {fields}."

    def clean(self):
        data = super().clean()
        for name, extra in MessagingSettings.APPOINTMENT_TEXTS.items():
            switch = name.replace("_template", "_text_enabled")
            if name in data:
                data[name] = data[name].strip()
                self._check_appointment_text(name, data[name], data.get(switch), extra)
        return data

    def _check_appointment_text(self, name: str, template: str, enabled: bool, extra: tuple) -> None:
        """An appointment text that is switched on needs words, and only the merge fields it can fill."""
        if enabled and not template:
            self.add_error(name, "Write the text, or switch it off.")
        unknown = sorted(set(MERGE_FIELD.findall(template)) - {*MessagingSettings.MERGE_FIELDS, *extra})
        if unknown:
            names = ", ".join(f"{{{field}}}" for field in unknown)
            self.add_error(name, f"Unknown merge field{'s' if len(unknown) > 1 else ''}: {names}.")

    def clean_saved(self):
        replies = []
        for number, line in enumerate(self.cleaned_data["saved"].splitlines(), start=1):
            if not line.strip():
                continue
            title, sep, body = line.partition("|")
            if not sep or not title.strip() or not body.strip():
                raise forms.ValidationError(f"Line {number}: write it as Title | text.")
            replies.append({"title": title.strip()[:60], "body": body.strip()[:1600]})
        return replies

    def clean_ring_through(self):
        from common.errors import ApplicationError
        from customers.services import phone_normalize

        numbers = []
        for line in self.cleaned_data["ring_through"].splitlines():
            if line.strip():
                try:
                    numbers.append(phone_normalize(line))
                except ApplicationError as error:
                    raise forms.ValidationError(error.message) from None
        return numbers

    def clean_ring_seconds(self):
        value = self.cleaned_data["ring_seconds"]
        if not 5 <= value <= 60:
            raise forms.ValidationError("Between 5 and 60 seconds.")
        return value

    def save(self, commit=True):
        self.instance.ring_through_numbers = self.cleaned_data["ring_through"]
        self.instance.saved_replies = self.cleaned_data["saved"]
        return super().save(commit)
