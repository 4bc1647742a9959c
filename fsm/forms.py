"""The office's job forms. Forms only parse input; fsm.services decide and validate the business rules,
and `show_service_error` puts a service's ApplicationError back on the field it names."""

from datetime import date, datetime, time, timedelta

from django import forms

from common.errors import ApplicationError
from customers.models import Customer, Property
from users.models import Business

from .jobs import technician_choices
from .models import Equipment, JobType, Priority

NEW_ADDRESS = "new"


class DateInput(forms.DateInput):
    input_type = "date"


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%H:%M")


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


def show_service_error(
    form: forms.Form, error: ApplicationError, fields: dict[str, str] | None = None
) -> None:
    """Put the service's error on the form field it names (through `fields`), else on the form."""
    name = (fields or {}).get(error.field, error.field)
    form.add_error(name if name in form.fields else None, error.message)


def _aware(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=Business.current().tzinfo)


# --- A job ---------------------------------------------------------------------------------------------


class JobForm(forms.Form):
    """Booking a job for a customer: where, what, how urgent, when the customer would like us."""

    property = forms.ChoiceField(label="Service address")
    job_type = forms.ModelChoiceField(
        queryset=JobType.objects.filter(is_active=True), required=False, empty_label="Pick a job type"
    )
    priority = forms.ChoiceField(choices=Priority.choices, initial=Priority.NORMAL)
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "What the customer told us"}), required=False
    )
    requested_window_start = forms.DateTimeField(
        required=False, label="Customer prefers from", widget=DateTimeInput
    )
    requested_window_end = forms.DateTimeField(
        required=False, label="Customer prefers until", widget=DateTimeInput
    )
    office_notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    schedule_now = forms.BooleanField(required=False, label="Schedule a visit now")

    SERVICE_FIELDS = {"customer": None}

    def __init__(self, *args, customer: Customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.properties = {str(p.pk): p for p in customer.properties.order_by("-is_primary", "pk")}
        choices = [(pk, p.one_line) for pk, p in self.properties.items()]
        self.fields["property"].choices = [*choices, (NEW_ADDRESS, "A new address…")]
        self.fields["property"].initial = next(iter(self.properties), NEW_ADDRESS)

    def clean(self):
        data = super().clean()
        if not (data.get("job_type") or (data.get("description") or "").strip()):
            self.add_error("description", "Say what the job is.")  # as job_create would, but with the rest
        return data

    def wants_new_address(self) -> bool:
        return self.data.get(self.add_prefix("property")) == NEW_ADDRESS

    def chosen_property(self) -> Property | None:
        return self.properties.get(self.cleaned_data["property"])

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        names = ("job_type", "priority", "description", "office_notes")
        names += ("requested_window_start", "requested_window_end")
        return {name: data[name] for name in names}


class JobDetailsForm(forms.Form):
    """The job page's "Edit details": what fsm.services.job_update takes besides the notes."""

    job_type = forms.ModelChoiceField(
        queryset=JobType.objects.filter(is_active=True), required=False, empty_label="No job type"
    )
    priority = forms.ChoiceField(choices=Priority.choices)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    requested_window_start = forms.DateTimeField(
        required=False, label="Customer prefers from", widget=DateTimeInput
    )
    requested_window_end = forms.DateTimeField(
        required=False, label="Customer prefers until", widget=DateTimeInput
    )

    @classmethod
    def for_job(cls, job, data=None) -> "JobDetailsForm":
        initial = {name: getattr(job, name) for name in cls.base_fields}
        return cls(data, initial=initial, prefix="details")


class AddressForm(forms.Form):
    """A new service address typed on the booking form (customers.services.property_find_or_add)."""

    street = forms.CharField(max_length=200)
    unit = forms.CharField(max_length=40, required=False)
    city = forms.CharField(max_length=100)
    state = forms.CharField(max_length=2, min_length=2, widget=forms.TextInput(attrs={"placeholder": "TX"}))
    zip_code = forms.RegexField(
        regex=r"^\d{5}(-\d{4})?$", label="ZIP", error_messages={"invalid": "Use a 5-digit ZIP code."}
    )
    access_notes = forms.CharField(max_length=500, required=False, label="Access notes")

    def show_service_error(self, error: ApplicationError) -> None:
        """customers.services names fields like `properties[0].zip_code`."""
        name = (error.field or "").rsplit(".", 1)[-1]
        self.add_error(name if name in self.fields else None, error.message)


# --- A visit -------------------------------------------------------------------------------------------


class VisitForm(forms.Form):
    """When and who. Times are the business's; a blank length is the job type's usual length."""

    SERVICE_FIELDS = {
        "start": "start_time",
        "end": "duration",
        "arrival_window_start": "arrival_from",
        "arrival_window_end": "arrival_to",
        "job": None,
        "visit": None,
    }

    date = forms.DateField(widget=DateInput)
    start_time = forms.TimeField(label="Start", widget=TimeInput)
    duration = forms.IntegerField(
        required=False,
        label="Length (minutes)",
        widget=forms.NumberInput(attrs={"step": 15, "placeholder": "usual"}),
    )
    arrival_from = forms.TimeField(required=False, label="Arrival window from", widget=TimeInput)
    arrival_to = forms.TimeField(required=False, label="Arrival window to", widget=TimeInput)
    technicians = forms.ModelMultipleChoiceField(
        queryset=technician_choices(), required=False, widget=forms.CheckboxSelectMultiple
    )
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def clean(self):
        data = super().clean()
        minutes = data.get("duration")
        if minutes is not None and minutes <= 0:
            self.add_error("duration", "The visit must end after it starts.")
        elif minutes is not None and minutes > 24 * 60:
            self.add_error("duration", "A visit lasts a day at most; book another visit for the next day.")
        arrival = data.get("arrival_from"), data.get("arrival_to")
        if arrival[0] and arrival[1] and arrival[1] <= arrival[0]:
            self.add_error("arrival_to", "The arrival window must end after it starts.")
        return data

    def service_kwargs(self, *, default_minutes: int) -> dict:
        data = self.cleaned_data
        start = _aware(data["date"], data["start_time"])
        arrival = data["arrival_from"], data["arrival_to"]
        return {
            "start": start,
            "end": start + timedelta(minutes=data["duration"] or default_minutes),
            "technicians": list(data["technicians"]),
            "arrival_window_start": _aware(data["date"], arrival[0]) if arrival[0] else None,
            "arrival_window_end": _aware(data["date"], arrival[1]) if arrival[1] else None,
            "confirm": data["confirm"],
        }


# --- Equipment -----------------------------------------------------------------------------------------


class EquipmentForm(forms.Form):
    kind = forms.CharField(
        max_length=80, label="Type", widget=forms.TextInput(attrs={"placeholder": "Furnace, water heater…"})
    )
    brand = forms.CharField(max_length=80, required=False)
    model_number = forms.CharField(max_length=80, required=False, label="Model")
    serial_number = forms.CharField(max_length=80, required=False, label="Serial")
    installed_on = forms.DateField(
        required=False,
        label="Installed",
        widget=DateInput,
        error_messages={"invalid": "Enter a date like 2019-06-30."},
    )

    @classmethod
    def for_item(cls, item: Equipment, **kwargs) -> "EquipmentForm":
        names = ("kind", "brand", "model_number", "serial_number", "installed_on")
        return cls(initial={name: getattr(item, name) for name in names}, **kwargs)
