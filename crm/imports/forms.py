"""The upload form and the column-mapping form. They parse input; crm.imports.services decides."""

from django import forms
from django.conf import settings

from common.errors import ApplicationError
from crm.models import ImportJob, Source

from .columns import fields_for

NOT_IMPORTED = "— not imported —"


def max_upload_bytes() -> int:
    return settings.IMPORT_MAX_UPLOAD_MB * 1024 * 1024


class UploadForm(forms.Form):
    kind = forms.ChoiceField(
        choices=ImportJob.Kind.choices,
        initial=ImportJob.Kind.CUSTOMERS,
        widget=forms.RadioSelect,
        label="What the file holds",
    )
    file = forms.FileField(
        label="CSV file",
        error_messages={"empty": "The file is empty.", "required": "Choose the CSV file to import."},
    )
    source = forms.ModelChoiceField(
        queryset=Source.objects.filter(is_active=True),
        required=False,
        empty_label="CSV import",
        label="Where the leads came from",
        help_text="Open leads only: the source their attribution shows.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].widget.attrs.update(
            {"accept": ".csv,text/csv", "data-max-bytes": max_upload_bytes()}
        )
        self.fields["file"].help_text = (
            f"A .csv file up to {settings.IMPORT_MAX_UPLOAD_MB} MB, with the column names in its first row. "
            "In Excel: File, Save As, CSV UTF-8."
        )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(".csv"):
            raise forms.ValidationError("Upload a .csv file (in Excel: File, Save As, CSV UTF-8).")
        if upload.size > max_upload_bytes():
            size = upload.size / 1024 / 1024
            raise forms.ValidationError(
                f"The file is {size:.1f} MB; the limit is {settings.IMPORT_MAX_UPLOAD_MB} MB. "
                "Split it into smaller files."
            )
        return upload

    def add_service_error(self, error: ApplicationError) -> None:
        self.add_error(error.field if error.field in self.fields else None, error.message)


def _with_sample(header: str, sample: str) -> str:
    if not sample:
        return header
    return f"{header} (e.g. {sample[:28]}{'…' if len(sample) > 28 else ''})"


class MappingForm(forms.Form):
    """One select per field of ours, offering the file's columns."""

    def __init__(self, *args, job: ImportJob, samples: dict[str, str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        samples = samples or {}
        headers = job.summary.get("headers", [])
        choices = [("", NOT_IMPORTED), *((h, _with_sample(h, samples.get(h, ""))) for h in headers)]
        self.groups: dict[str, list[str]] = {}
        for field in fields_for(job.kind):
            self.fields[field.name] = forms.ChoiceField(
                choices=choices, required=False, label=field.label, initial=job.mapping.get(field.name, "")
            )
            self.groups.setdefault(field.group, []).append(field.name)

    def grouped(self) -> list[tuple[str, list]]:
        return [(group, [self[name] for name in names]) for group, names in self.groups.items()]

    def mapping(self) -> dict[str, str]:
        return {name: self.cleaned_data.get(name, "") for name in self.fields}

    def add_service_error(self, error: ApplicationError) -> None:
        self.add_error(error.field if error.field in self.fields else None, error.message)
