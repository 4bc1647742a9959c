"""The automations pages' forms: they type the input; the rules (merge fields, what a step needs, the
limits) live in the engine and the services, whose refusals come back as these forms' field errors."""

from django import forms

from common.errors import ApplicationError

from .models import WEEKDAYS, Sequence, Step

STEP_FIELDS = {
    Step.Kind.WAIT: ("wait_days", "wait_hours", "at_time", "weekday"),
    Step.Kind.SMS: ("body",),
    Step.Kind.EMAIL: ("subject", "body"),
    Step.Kind.TASK: ("task_title", "task_due_hours", "min_estimate_total"),
}

REQUIRED = {Step.Kind.SMS: ("body",), Step.Kind.EMAIL: ("subject", "body"), Step.Kind.TASK: ("task_title",)}


class ServiceErrorsMixin:
    def add_service_error(self, error: ApplicationError) -> None:
        self.add_error(error.field if error.field in self.fields else None, error.message)


class SequenceForm(ServiceErrorsMixin, forms.Form):
    name = forms.CharField(max_length=120)
    trigger = forms.ChoiceField(label="Starts when", choices=Sequence.Trigger.choices)
    description = forms.CharField(max_length=300, required=False)
    stop_on_booking = forms.BooleanField(
        label="Stop when a job is booked for the customer", required=False, initial=True
    )

    @classmethod
    def for_sequence(cls, sequence: Sequence) -> "SequenceForm":
        fields = ("name", "trigger", "description", "stop_on_booking")
        return cls(initial={name: getattr(sequence, name) for name in fields})


class StepForm(ServiceErrorsMixin, forms.Form):
    """One step; only the fields its kind uses are on the form."""

    wait_days = forms.IntegerField(label="Days", min_value=0, max_value=365, required=False)
    wait_hours = forms.IntegerField(label="Hours", min_value=0, max_value=23, required=False)
    at_time = forms.TimeField(
        label="Then until",
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}),
        help_text="A time of day (the business's clock).",
    )
    weekday = forms.TypedChoiceField(
        label="On a weekday",
        choices=[("", "Any day"), *WEEKDAYS],
        coerce=int,
        empty_value=None,
        required=False,
    )
    subject = forms.CharField(max_length=150, required=False)
    body = forms.CharField(label="Message", widget=forms.Textarea(attrs={"rows": 4}), required=False)
    task_title = forms.CharField(label="Task", max_length=150, required=False)
    task_due_hours = forms.IntegerField(label="Due in (hours)", min_value=0, max_value=720, initial=4)
    min_estimate_total = forms.DecimalField(
        label="Only when the estimate is at least ($)", min_value=0, decimal_places=2, required=False
    )

    def __init__(self, *args, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        for name in list(self.fields):
            if name not in STEP_FIELDS[kind]:
                del self.fields[name]
        if "body" in self.fields and kind == Step.Kind.SMS:
            self.fields["body"].label = "Text"
        for name in REQUIRED.get(kind, ()):
            self.fields[name].required = True

    @classmethod
    def for_step(cls, step: Step, **kwargs) -> "StepForm":
        initial = {name: getattr(step, name) for name in STEP_FIELDS[step.kind]}
        return cls(kind=step.kind, initial=initial, **kwargs)

    def values(self) -> dict:
        """The engine's step_save keyword arguments (blank numbers as zero)."""
        data = dict(self.cleaned_data)
        for name in ("wait_days", "wait_hours", "task_due_hours"):
            if name in data and data[name] is None:
                data[name] = 0
        return {"kind": self.kind, **data}


class AutomationSettingsForm(ServiceErrorsMixin, forms.Form):
    max_per_day = forms.IntegerField(
        label="Most automated messages a customer gets in a day", min_value=1, max_value=50
    )
    max_per_week = forms.IntegerField(
        label="Most automated messages a customer gets in a week", min_value=1, max_value=50
    )
