"""The technician's phone: my day, the job, the state buttons, notes, photos, signature, time.

Every action is a POST that calls one fsm service. A plain form post is answered with a redirect (to the
job page, or to My day for the clock); an htmx post (checklist, notes) gets the named partial of the job
page back. A refusal (the ApplicationError family) re-renders the page, or the partial, with the message
next to the field and the error's status (400; Forbidden 403; a conflict 409); a request that accepts
only JSON gets the error's JSON body. Services run in one transaction, so a refusal saves nothing.

A technician reaches only the jobs they are on: every view loads the job through `get_job_for_user`
(or `jobs_visible_to`), which answers 404 for anybody else's job.
"""

from collections.abc import Callable

from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from common.errors import ApplicationError
from fsm import selectors, services, tech
from fsm.invoices.selectors import job_money
from fsm.models import Job, JobPhoto, JobSignature
from fsm.views import stored_file_response
from users.access import role_required
from users.roles import Role

TEMPLATE = "fsm/tech_job.html"
FORM_FIELDS = {
    "completion_note",
    "requirements",
    "text",
    "image",
    "caption",
    "data_url",
    "signer_name",
    "item",
}
BUTTONS = {  # action -> (label, url name, style)
    "on_my_way": ("On my way", "tech-job-on-my-way", "primary"),
    "arrive": ("Arrived", "tech-job-arrive", "primary"),
    "complete": ("Completed", "tech-job-complete", "ok"),
    "pause": ("Pause", "tech-job-pause", "secondary"),
    "resume": ("Resume", "tech-job-resume", "primary"),
}


# --- My day -----------------------------------------------------------------------------------------


@role_required(Role.TECHNICIAN)
def my_day(request):
    return _render_my_day(request)


def _render_my_day(request, *, error: str = "", status: int = 200):
    now = timezone.localtime()
    today = now.date()
    day = tech.parse_day(request.GET.get("day"), today)
    plan = selectors.my_day(technician=request.user, day=day)
    current = plan.current if day == today else None
    yesterday, tomorrow = tech.neighbour_days(day)
    context = {
        "now": now,
        "greeting": _greeting(now.hour),
        "day": day,
        "is_today": day == today,
        "yesterday": yesterday,
        "tomorrow": tomorrow,
        "current": tech.visit_card(current) if current else None,
        "cards": tech.visit_cards(v for v in plan.visits if v != current),
        "visit_count": len(plan.visits),
        "shift": tech.shift_clock(technician=request.user, day=today),
        "clock_error": error,
    }
    return render(request, "fsm/my_day.html", context, status=status)


def _greeting(hour: int) -> str:
    return "Good morning" if hour < 12 else "Good afternoon" if hour < 17 else "Good evening"


@role_required(Role.TECHNICIAN)
@require_POST
def clock_in(request):
    return _clock(request, services.clock_in, "Clocked in. Have a good day.")


@role_required(Role.TECHNICIAN)
@require_POST
def clock_out(request):
    return _clock(request, services.clock_out, "Clocked out.")


def _clock(request, service: Callable, done: str):
    try:
        service(technician=request.user, actor=request.user)
    except ApplicationError as error:
        if _wants_json(request):
            return JsonResponse(error.as_dict(), status=error.status_code)
        return _render_my_day(request, error=error.message, status=error.status_code)
    if _wants_json(request):
        return JsonResponse({"detail": done})
    messages.success(request, done)
    return redirect("my-day")


# --- The job page -----------------------------------------------------------------------------------


@role_required(Role.TECHNICIAN)
def job_page(request, pk: int):
    return _render_job(request, selectors.get_job_for_user(request.user, pk))


def _render_job(request, job: Job, *, errors=None, values=None, status: int = 200, partial: str = ""):
    template = f"{TEMPLATE}#{partial}" if partial else TEMPLATE
    return render(request, template, _job_context(request.user, job, errors, values), status=status)


def _job_context(user, job: Job, errors: dict | None, values) -> dict:
    visit = tech.my_visit(job, user)
    history = selectors.property_history(prop=job.property) if job.property_id else None
    checklist = selectors.job_checklist(job)
    missing = selectors.job_completion_missing(job) if job.state == Job.State.ON_SITE else []
    return {
        "job": job,
        "visit": visit,
        "window": tech.visit_window(visit) if visit else None,
        "buttons": _buttons(user, job),
        "phone": tech.primary_phone(job),
        "sms_phone": tech.textable_phone(job),
        "maps_url": tech.maps_url(job.property),
        "checklist": checklist,
        "checklist_done": sum(1 for _, result in checklist if result and result.done),
        "completion_missing": missing,
        "completion_missing_text": selectors.and_list(missing) if missing else "",
        "equipment": history.equipment if history else [],
        "history": tech.history_jobs(history.jobs, job) if history else [],
        "job_time": tech.job_time(job=job, technician=user),
        "money": job_money(job),
        "errors": errors or {},
        "values": values or {},
    }


def _buttons(user, job: Job) -> list[dict]:
    allowed = selectors.job_actions_for(user, job)
    return [
        {"action": action, "label": label, "url": reverse(url_name, args=[job.pk]), "style": style}
        for action, (label, url_name, style) in BUTTONS.items()
        if action in allowed
    ]


# --- Actions ----------------------------------------------------------------------------------------


def _perform(request, pk: int, run: Callable[[Job], str], *, partial: str = ""):
    """Load the job (404 when it is not the user's), run the service, answer in the request's way."""
    job = selectors.get_job_for_user(request.user, pk)
    try:
        done = run(job)
    except ApplicationError as error:
        return _refused(request, pk, error, partial)
    if _wants_json(request):
        return JsonResponse({"detail": done, "state": Job.objects.get(pk=pk).state})
    if request.htmx and partial:
        return _render_job(request, selectors.get_job_for_user(request.user, pk), partial=partial)
    messages.success(request, done)
    return redirect("tech-job", pk=pk)


def _refused(request, pk: int, error: ApplicationError, partial: str):
    if _wants_json(request):
        return JsonResponse(error.as_dict(), status=error.status_code)
    field = error.field if error.field in FORM_FIELDS else "actions"
    job = selectors.get_job_for_user(request.user, pk)  # re-read: show what is saved, nothing more
    return _render_job(
        request,
        job,
        errors={field: error.message},
        values=request.POST,
        status=error.status_code,
        partial=partial if request.htmx else "",
    )


def _wants_json(request) -> bool:
    accept = request.headers.get("Accept", "")
    return accept.startswith("application/json") and not request.htmx


@role_required(Role.TECHNICIAN)
@require_POST
def job_on_my_way(request, pk: int):
    def run(job: Job) -> str:
        services.job_on_my_way(job=job, actor=request.user)
        if tech.textable_phone(job):
            return "On your way. The customer gets a text with your arrival time."
        return "On your way. There is no mobile number to text: call the customer if needed."

    return _perform(request, pk, run)


@role_required(Role.TECHNICIAN)
@require_POST
def job_arrive(request, pk: int):
    def run(job: Job) -> str:
        services.job_arrive(job=job, actor=request.user)
        return "Arrived. Time on the job is running."

    return _perform(request, pk, run)


@role_required(Role.TECHNICIAN)
@require_POST
def job_complete(request, pk: int):
    def run(job: Job) -> str:
        note = request.POST.get("completion_note", "")
        services.job_complete(job=job, actor=request.user, completion_note=note)
        return "Job completed."

    return _perform(request, pk, run)


@role_required(Role.TECHNICIAN)
@require_POST
def job_pause(request, pk: int):
    def run(job: Job) -> str:
        services.job_pause(job=job, actor=request.user, reason=request.POST.get("reason", ""))
        return "Paused. Time on the job has stopped."

    return _perform(request, pk, run)


@role_required(Role.TECHNICIAN)
@require_POST
def job_resume(request, pk: int):
    def run(job: Job) -> str:
        services.job_resume(job=job, actor=request.user)
        return "Back to work."

    return _perform(request, pk, run)


@role_required(Role.TECHNICIAN)
@require_POST
def note_add(request, pk: int):
    def run(job: Job) -> str:
        services.note_add(job=job, actor=request.user, text=request.POST.get("text", ""))
        return "Note added."

    return _perform(request, pk, run, partial="notes")


@role_required(Role.TECHNICIAN)
@require_POST
def photo_add(request, pk: int):
    def run(job: Job) -> str:
        upload = request.FILES.get("image")
        if upload is None:
            raise ApplicationError("Take or choose a photo first.", field="image", code="required")
        caption = request.POST.get("caption", "")
        services.photo_add(job=job, actor=request.user, file=upload, caption=caption)
        return "Photo added."

    return _perform(request, pk, run)


@role_required(Role.TECHNICIAN)
@require_POST
def signature_add(request, pk: int):
    def run(job: Job) -> str:
        data_url = request.POST.get("data_url", "")
        if not data_url.strip():
            raise ApplicationError(
                "Ask the customer to sign in the box first.", field="data_url", code="required"
            )
        signer = request.POST.get("signer_name", "")
        signature = services.signature_add(job=job, actor=request.user, data_url=data_url, signer_name=signer)
        return f"Signature of {signature.signer_name} saved."

    return _perform(request, pk, run)


@role_required(Role.TECHNICIAN)
@require_POST
def checklist_toggle(request, pk: int):
    def run(job: Job) -> str:
        done = request.POST.getlist("done")
        flag = done[-1] in ("1", "true", "on") if done else None  # no value: flip it
        result = services.checklist_toggle(
            job=job, actor=request.user, item=request.POST.get("item", ""), done=flag
        )
        return f"{'Done' if result.done else 'Not done'}: {result.item}"

    return _perform(request, pk, run, partial="checklist")


# --- Files (photos and signatures are not public media: they are served to the job's crew only) -----


@role_required(Role.TECHNICIAN)
def photo_file(request, pk: int, file_pk: int):
    photo = _job_file(JobPhoto, request.user, pk, file_pk)
    return stored_file_response(photo.file_for(request.GET.get("size", "")))


@role_required(Role.TECHNICIAN)
def signature_file(request, pk: int, file_pk: int):
    return stored_file_response(_job_file(JobSignature, request.user, pk, file_pk).image)


def _job_file(model, user, pk: int, file_pk: int):
    return get_object_or_404(model, pk=file_pk, job_id=pk, job__in=selectors.jobs_visible_to(user))


urlpatterns = [
    path("my-day/", my_day, name="my-day"),
    path("my-day/clock-in/", clock_in, name="tech-clock-in"),
    path("my-day/clock-out/", clock_out, name="tech-clock-out"),
    path("my-day/jobs/<int:pk>/", job_page, name="tech-job"),
    path("my-day/jobs/<int:pk>/on-my-way/", job_on_my_way, name="tech-job-on-my-way"),
    path("my-day/jobs/<int:pk>/arrive/", job_arrive, name="tech-job-arrive"),
    path("my-day/jobs/<int:pk>/complete/", job_complete, name="tech-job-complete"),
    path("my-day/jobs/<int:pk>/pause/", job_pause, name="tech-job-pause"),
    path("my-day/jobs/<int:pk>/resume/", job_resume, name="tech-job-resume"),
    path("my-day/jobs/<int:pk>/notes/", note_add, name="tech-job-note"),
    path("my-day/jobs/<int:pk>/photos/", photo_add, name="tech-job-photo"),
    path("my-day/jobs/<int:pk>/photos/<int:file_pk>/", photo_file, name="tech-job-photo-file"),
    path("my-day/jobs/<int:pk>/signature/", signature_add, name="tech-job-signature"),
    path("my-day/jobs/<int:pk>/signatures/<int:file_pk>/", signature_file, name="tech-job-signature-file"),
    path("my-day/jobs/<int:pk>/checklist/", checklist_toggle, name="tech-job-checklist"),
]
