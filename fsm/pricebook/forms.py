"""The pricebook's forms. They parse input; fsm.pricebook.services checks it (money stays text until the
service reads it, so "12.345" gets the service's message on the price field)."""

import django_filters
from django import forms
from django.conf import settings

from common.errors import ApplicationError

from .models import PricebookItem
from .selectors import categories, items_matching
from .services import ItemIn

Kind = PricebookItem.Kind


def _money_input(placeholder: str = "0.00") -> forms.TextInput:
    return forms.TextInput(attrs={"inputmode": "decimal", "placeholder": placeholder, "autocomplete": "off"})


class ItemForm(forms.Form):
    kind = forms.ChoiceField(choices=Kind.choices, initial=Kind.SERVICE, widget=forms.RadioSelect)
    code = forms.CharField(
        max_length=40,
        help_text="Short and unique, e.g. WH-50G. Type it in any line editor.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
    name = forms.CharField(max_length=200)
    description = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What the customer reads on estimates and invoices.",
    )
    category = forms.CharField(
        max_length=80, required=False, widget=forms.TextInput(attrs={"list": "pricebook-categories"})
    )
    unit = forms.CharField(max_length=20, initial="each", help_text="each, hour, ft, ...")
    cost = forms.CharField(required=False, widget=_money_input(), help_text="What it costs the business.")
    markup_percent = forms.CharField(
        label="Markup %",
        required=False,
        widget=_money_input("e.g. 50"),
        help_text="Price = cost plus this markup. Blank: set the price by hand.",
    )
    price = forms.CharField(
        required=False,
        widget=_money_input(),
        help_text="What the customer pays.",
        error_messages={"required": "Give the price, or a cost and a markup."},
    )
    member_price = forms.CharField(
        required=False, widget=_money_input(""), help_text="For members of a service plan."
    )
    taxable = forms.BooleanField(required=False, initial=True, label="Taxable")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The price is required unless a markup computes it (the service decides; this sets the label).
        self.fields["price"].required = not (self.data.get("markup_percent") or "").strip()

    @classmethod
    def for_item(cls, item: PricebookItem) -> "ItemForm":
        initial = {
            name: getattr(item, name)
            for name in ("kind", "code", "name", "description", "category", "unit", "taxable")
        }
        for name in ("cost", "markup_percent", "price", "member_price"):
            value = getattr(item, name)
            initial[name] = "" if value is None else str(value)
        return cls(initial=initial)

    def item_in(self) -> ItemIn:
        return ItemIn(**self.cleaned_data)

    def add_service_error(self, error: ApplicationError) -> None:
        self.add_error(error.field if error.field in self.fields else None, error.message)

    def categories(self) -> list[str]:
        return categories()


class ItemFilter(django_filters.FilterSet):
    """The list page's filters (the same as the API's, with labels for people)."""

    q = django_filters.CharFilter(
        method="search",
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Code or name"}),
    )
    kind = django_filters.ChoiceFilter(choices=Kind.choices, empty_label="Any kind")
    category = django_filters.ChoiceFilter(
        choices=lambda: [(c, c) for c in categories()], empty_label="Any category", method="in_category"
    )
    status = django_filters.ChoiceFilter(
        choices=[("inactive", "Inactive"), ("all", "Active and inactive")],
        empty_label="Active",
        method="by_status",
        label="Status",
    )

    class Meta:
        model = PricebookItem
        fields = ["q", "kind", "category", "status"]

    def search(self, queryset, name, value):
        return items_matching(queryset, value)

    def in_category(self, queryset, name, value):
        return queryset.filter(category__iexact=value)

    def by_status(self, queryset, name, value):
        return queryset  # filter_queryset applies it, also when it is left at "Active"

    def filter_queryset(self, queryset):
        status = self.form.cleaned_data.get("status")
        if status != "all":
            queryset = queryset.filter(active=status != "inactive")
        return super().filter_queryset(queryset)


class UploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        error_messages={"empty": "The file is empty.", "required": "Choose the CSV file to import."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].widget.attrs.update({"accept": ".csv,text/csv"})
        self.fields["file"].help_text = (
            f"A .csv file up to {settings.IMPORT_MAX_UPLOAD_MB} MB with the column names in its first row, "
            "such as the pricebook's own export. In Excel: File, Save As, CSV UTF-8."
        )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(".csv"):
            raise forms.ValidationError("Upload a .csv file (in Excel: File, Save As, CSV UTF-8).")
        if upload.size > settings.IMPORT_MAX_UPLOAD_MB * 1024 * 1024:
            raise forms.ValidationError(f"The file is over {settings.IMPORT_MAX_UPLOAD_MB} MB.")
        return upload

    def add_service_error(self, error: ApplicationError) -> None:
        self.add_error(error.field if error.field in self.fields else None, error.message)
