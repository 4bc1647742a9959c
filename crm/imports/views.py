"""The import pages: the list, the upload, the columns and preview, the job (dry run, import, report).

htmx requests render a named partial of the page's own template: the preview while columns change, the
job's status while it runs (polled every second).
"""

from pathlib import Path

from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from common.errors import ApplicationError
from crm.models import ImportJob
from users.access import role_required
from users.roles import STAFF_ROLES

from . import columns, services
from .forms import MappingForm, UploadForm, max_upload_bytes
from .selectors import get_import_job, import_jobs

LIST_SIZE = 100


@role_required(*STAFF_ROLES)
def import_list(request):
    return render(request, "crm/imports/list.html", {"jobs": import_jobs()[:LIST_SIZE]})


@role_required(*STAFF_ROLES)
@require_http_methods(["GET", "POST"])
def import_upload(request):
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = services.import_upload(
                kind=form.cleaned_data["kind"],
                data=upload.read(),
                original_name=Path(upload.name).name,
                actor=request.user,
                source=form.cleaned_data["source"],
            )
        except ApplicationError as error:
            form.add_service_error(error)
        else:
            return redirect("crm:import-mapping", pk=job.pk)
    return render(request, "crm/imports/upload.html", {"form": form, "max_bytes": max_upload_bytes()})


@role_required(*STAFF_ROLES)
@require_http_methods(["GET", "POST"])
def import_mapping(request, pk: int):
    job = get_import_job(pk)
    if not services.job_can(job, "map"):
        return redirect("crm:import-detail", pk=job.pk)
    head = services.job_head(job)
    form = MappingForm(request.POST or None, job=job, samples=services.column_samples(head))
    mapping = job.mapping
    if request.method == "POST" and form.is_valid():
        mapping = form.mapping()
        try:
            services.mapping_validate(job=job, mapping=mapping)
            if not request.htmx:  # htmx posts only refresh the preview
                return _save_mapping(request, job, mapping)
        except ApplicationError as error:
            form.add_service_error(error)
    context = {
        "job": job,
        "form": form,
        "preview": services.import_preview(job=job, mapping=mapping, table=head),
        "not_imported": columns.unmapped(job.summary.get("headers", []), mapping),
        "is_leads": job.kind == ImportJob.Kind.LEADS,
    }
    template = "crm/imports/mapping.html#preview" if request.htmx else "crm/imports/mapping.html"
    return render(request, template, context)


def _save_mapping(request, job: ImportJob, mapping: dict[str, str]):
    job = services.import_map(job=job, mapping=mapping, actor=request.user)
    if request.POST.get("action") == "check":
        services.import_check(job=job, actor=request.user)
    else:
        messages.success(request, "Columns saved.")
    return redirect("crm:import-detail", pk=job.pk)


@role_required(*STAFF_ROLES)
@require_http_methods(["GET", "POST"])
def import_detail(request, pk: int):
    job = get_import_job(pk)
    if request.method == "POST":
        actions = {"check": services.import_check, "start": services.import_start}
        action = actions.get(request.POST.get("action", ""))
        try:
            if action is None:
                raise ApplicationError("Unknown action.")
            action(job=job, actor=request.user)
        except ApplicationError as error:
            messages.error(request, error.message)
        return redirect("crm:import-detail", pk=job.pk)
    template = "crm/imports/detail.html#status" if request.htmx else "crm/imports/detail.html"
    return render(request, template, _detail_context(job))


def _detail_context(job: ImportJob) -> dict:
    fields = {f.name: f.label for f in columns.fields_for(job.kind)}
    return {
        "job": job,
        "busy": services.job_is_busy(job),
        "phase": job.summary.get("phase", ""),
        "dry_run": job.summary.get("dry_run"),
        "can_map": services.job_can(job, "map"),
        "can_check": services.job_can(job, "check"),
        "can_start": services.job_can(job, "start"),
        "mapped": [(fields.get(name, name), header) for name, header in job.mapping.items()],
        "not_imported": columns.unmapped(job.summary.get("headers", []), job.mapping),
        "is_leads": job.kind == ImportJob.Kind.LEADS,
        "problem_rows": (job.summary.get("dry_run") or {}).get("problem_rows")
        if job.status == ImportJob.Status.DRY_RUN
        else job.summary.get("problem_rows"),
        "duration": _duration(job),
    }


def _duration(job: ImportJob) -> str:
    if not (job.started_at and job.finished_at):
        return ""
    seconds = max(round((job.finished_at - job.started_at).total_seconds()), 1)
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes} min {seconds} s" if minutes else f"{seconds} s"


@role_required(*STAFF_ROLES)
def import_report(request, pk: int):
    job = get_import_job(pk)
    if not job.report:
        raise Http404("This import has no problem rows.")
    name = f"{Path(job.original_name).stem or 'import'}-problems.csv"
    return FileResponse(job.report.open("rb"), as_attachment=True, filename=name, content_type="text/csv")
