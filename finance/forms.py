"""The finance pages' inputs: a date range or an as-of date for the reports, a manual entry, an account."""

import uuid
from datetime import date, timedelta

from django import forms

from common.errors import ApplicationError

from .models import Account

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
LONGEST_RANGE = timedelta(days=3660)


class ServiceErrorsMixin:
    def add_service_error(self, error: ApplicationError) -> None:
        self.add_error(error.field if error.field in self.fields else None, error.message)


class RangeForm(forms.Form):
    start = forms.DateField(widget=DATE, label="From")
    end = forms.DateField(widget=DATE, label="To")

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            raise forms.ValidationError("The range ends before it starts: pick a To date on or after From.")
        if start and end and end - start > LONGEST_RANGE:
            raise forms.ValidationError("Pick a range of at most ten years.")
        return data


class AsOfForm(forms.Form):
    as_of = forms.DateField(widget=DATE, label="As of")


def range_form(params, today: date, *, start: date | None = None) -> RangeForm:
    """A bound form: the query's dates, or this month to date."""
    initial = {"start": (start or today.replace(day=1)).isoformat(), "end": today.isoformat()}
    data = {key: params.get(key) or value for key, value in initial.items()}
    return RangeForm(data)


def as_of_form(params, today: date) -> AsOfForm:
    return AsOfForm({"as_of": params.get("as_of") or today.isoformat()})


class ManualEntryForm(ServiceErrorsMixin, forms.Form):
    date = forms.DateField(widget=DATE)
    memo = forms.CharField(max_length=300, widget=forms.TextInput(attrs={"placeholder": "What it is for"}))
    key = forms.CharField(widget=forms.HiddenInput, initial=lambda: uuid.uuid4().hex, max_length=64)


class LineForm(forms.Form):
    account = forms.ModelChoiceField(queryset=Account.objects.all(), required=False)
    debit = forms.DecimalField(required=False, min_value=0, max_digits=14, decimal_places=2)
    credit = forms.DecimalField(required=False, min_value=0, max_digits=14, decimal_places=2)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Inactive accounts are listed too, so that the service's refusal is what the owner reads.
        self.fields["account"].label_from_instance = lambda a: f"{a}{'' if a.active else ' (inactive)'}"
        for name in ("debit", "credit"):
            self.fields[name].widget.attrs.update({"step": "0.01", "inputmode": "decimal"})

    @property
    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return not data.get("account") and not data.get("debit") and not data.get("credit")


LineFormSet = forms.formset_factory(LineForm, extra=4, min_num=0, max_num=40)


class AccountForm(ServiceErrorsMixin, forms.Form):
    code = forms.CharField(max_length=12)
    name = forms.CharField(max_length=120)
    kind = forms.ChoiceField(choices=Account.Kind.choices)
    parent = forms.ModelChoiceField(queryset=Account.objects.filter(parent=None), required=False)


class AccountNameForm(ServiceErrorsMixin, forms.Form):
    name = forms.CharField(max_length=120)


class MonthForm(forms.Form):
    month = forms.DateField()


class LineIdsField(forms.TypedMultipleChoiceField):
    """The ticked payment lines' ids: the service, not a stale choice list, says which are still there."""

    def __init__(self, **kwargs):
        super().__init__(coerce=int, **kwargs)

    def valid_value(self, value) -> bool:
        return str(value).isdigit()


class DepositForm(ServiceErrorsMixin, forms.Form):
    cleared = forms.ChoiceField(
        choices=[("undeposited", "Undeposited funds"), ("card_clearing", "Card clearing")],
        widget=forms.HiddenInput,
    )
    lines = LineIdsField(required=False, widget=forms.CheckboxSelectMultiple, label="Payments on the slip")
    account = forms.ModelChoiceField(queryset=Account.objects.none(), label="Bank account", empty_label=None)
    date = forms.DateField(widget=DATE, label="Deposited on")
    fees = forms.DecimalField(
        required=False,
        min_value=0,
        max_digits=14,
        decimal_places=2,
        label="Fees withheld",
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal", "placeholder": "0.00"}),
    )
    memo = forms.CharField(
        required=False,
        max_length=300,
        widget=forms.TextInput(attrs={"placeholder": "Deposit slip number, bank reference"}),
    )
    key = forms.CharField(widget=forms.HiddenInput, initial=lambda: uuid.uuid4().hex, max_length=64)

    def __init__(self, *args, accounts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = accounts


class DepositUndoForm(ServiceErrorsMixin, forms.Form):
    reason = forms.CharField(
        max_length=300,
        label="Why undo it",
        error_messages={"required": "Say why the deposit is undone (wrong bank, wrong payments, ...)."},
        widget=forms.TextInput(attrs={"placeholder": "Wrong bank account, wrong checks ticked, ..."}),
    )
    key = forms.CharField(widget=forms.HiddenInput, initial=lambda: uuid.uuid4().hex, max_length=64)
