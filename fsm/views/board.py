"""The dispatcher's board: technicians by the hours of a day (or by the days of a week), the unassigned
queue, drag and drop that schedules, moves and resizes visits through fsm.services, and a live refresh.

    GET  /dispatch/                    the page: ?date=YYYY-MM-DD, ?view=week, ?skill=<id>, ?state=<state>;
                                       an htmx request gets the board region only
    GET  /dispatch/changes/?since=S    polled every 5 s: 204 while the change stamp is S, else the region
    GET  /dispatch/visits/<pk>/        a visit's detail panel (htmx partial)
    GET  /dispatch/jobs/<pk>/          a job's detail panel
    GET  /dispatch/jobs/<pk>/suggest/  the best open slots for the job over the next five days
    POST /dispatch/check/              dry run of a drop: {"conflicts": [...], "blocking": bool}
    POST /dispatch/schedule/           a job onto a technician at a time (visit_schedule)
    POST /dispatch/move/               a visit to another time, technician or length (visit_move)

The three POSTs take form fields: `job` or `visit` (id), `start` (business time "2030-06-03T09:15", or
ISO with an offset), `minutes` (length; default: the job type's, or the visit's), `technician` (the row
dropped on), `from_technician` (the row a visit was dragged from), `confirm` (1: save despite an
overlap). They answer JSON: 200 with the visit and its warnings, 409 {"detail", "conflicts"} for an
unconfirmed overlap, 400 {"detail", "errors"} for bad input, 403 for a role that may not.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import wraps
from urllib.parse import urlencode

from django import forms
from django.db.models import Prefetch
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_POST

from common.errors import ApplicationError
from customers.models import PhoneNumber
from users.access import role_required

from .. import board as layout
from .. import services
from ..availability import open_slots
from ..models import DISPATCH_ROLES, Job, Visit

SUGGESTION_DAYS = 5
SUGGESTIONS = 8
REGION = "fsm/board.html#region"


# --- The page -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BoardQuery:
    """What the board shows, from the query string; anything unreadable falls back to the default."""

    day: date
    week: bool = False
    filters: layout.Filters = field(default_factory=layout.Filters)

    @classmethod
    def from_request(cls, request) -> "BoardQuery":
        params = request.GET
        state = params.get("state", "")
        filters = layout.Filters(
            skill=_int_or_none(params.get("skill")),
            state=state if state in dict(layout.STATE_FILTERS) else "",
        )
        day = _date_or_none(params.get("date")) or timezone.localdate()
        return cls(day=day, week=params.get("view") == "week", filters=filters)

    @property
    def start(self) -> date:
        """The first day shown: the day, or the Monday of its week."""
        return self.day - timedelta(days=self.day.weekday()) if self.week else self.day

    def string(self, **changes) -> str:
        """This query as a query string, with `changes` applied (day, week, skill, state)."""
        values = {
            "date": self.day,
            "view": "week" if self.week else "",
            "skill": self.filters.skill,
            "state": self.filters.state,
        }
        values.update(changes)
        return urlencode({k: v for k, v in values.items() if v})

    def nav(self) -> dict[str, str]:
        step = timedelta(days=7 if self.week else 1)
        return {
            "prev": self.string(date=self.day - step),
            "next": self.string(date=self.day + step),
            "today": self.string(date=timezone.localdate()),
            "day": self.string(view=""),
            "week": self.string(view="week"),
        }


def _int_or_none(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _date_or_none(value) -> date | None:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        return None


def _board_context(request) -> dict:
    query = BoardQuery.from_request(request)
    now = timezone.now()
    data = layout.board_read(day=query.start, days=7 if query.week else 1)
    if query.week:
        view = layout.week_board(data, week_start=query.start, now=now, filters=query.filters)
    else:
        view = layout.day_board(data, day=query.day, now=now, filters=query.filters)
    return {
        "query": query,
        "nav": query.nav(),
        "board": view,
        "queue": layout.queue(data, now=now, filters=query.filters),
        "counts": layout.today_counts(now=now, queued=len(data.queue)),
        "stamp": layout.board_stamp(now=now),
        "skills": layout.board_skills(data),
        "states": layout.STATE_FILTERS,
        "today": timezone.localdate(now),
        "day_links": [(d, query.string(date=d, view="")) for d in view.days] if query.week else [],
    }


@role_required(*DISPATCH_ROLES)
def dispatch_board(request):
    partial = request.htmx and not request.htmx.history_restore_request
    return render(request, REGION if partial else "fsm/board.html", _board_context(request))


@role_required(*DISPATCH_ROLES)
def board_changes(request):
    """The live refresh: nothing (204) while the change stamp is the one the page has, else the region."""
    if request.GET.get("since") == layout.board_stamp(now=timezone.now()):
        return HttpResponse(status=204)
    return render(request, REGION, _board_context(request))


# --- Detail panels and suggestions --------------------------------------------------------------------


def _jobs_with_contact():
    return Job.objects.select_related("customer", "property", "job_type").prefetch_related(
        Prefetch("customer__phones", queryset=PhoneNumber.objects.order_by("-is_primary", "pk"))
    )


@role_required(*DISPATCH_ROLES)
def board_visit(request, pk: int):
    visit = get_object_or_404(Visit.objects.prefetch_related("technicians"), pk=pk)
    job = _jobs_with_contact().get(pk=visit.job_id)
    context = {"job": job, "visit": visit, "late": layout.is_late(visit, timezone.now())}
    return render(request, "fsm/board_detail.html", context)


@role_required(*DISPATCH_ROLES)
def board_job(request, pk: int):
    job = get_object_or_404(_jobs_with_contact(), pk=pk)
    queued = layout.QueuedJob(job=job, now=timezone.now(), tz=request.business.tzinfo)
    return render(request, "fsm/board_detail.html", {"job": job, "queued": queued})


@role_required(*DISPATCH_ROLES)
def board_suggest(request, pk: int):
    """open_slots over the next five days, best first; the best slot of each technician on each day."""
    job = get_object_or_404(Job.objects.select_related("customer", "property", "job_type"), pk=pk)
    slots = []
    if job.job_type_id:
        found = open_slots(
            job_type=job.job_type,
            property=job.property,
            start_date=timezone.localdate(),
            days=SUGGESTION_DAYS,
        )
        slots = _best_per_technician_day(found)[:SUGGESTIONS]
    return render(request, "fsm/board_suggest.html", {"job": job, "slots": slots, "days": SUGGESTION_DAYS})


def _best_per_technician_day(slots: list) -> list:
    seen, best = set(), []
    for slot in slots:
        key = (slot.technician.pk, timezone.localtime(slot.start).date())
        if key not in seen:
            seen.add(key)
            best.append(slot)
    return best


# --- Drops: the dry run, schedule, move ---------------------------------------------------------------


class DropForm(forms.Form):
    start = forms.DateTimeField(label="Start")
    minutes = forms.IntegerField(label="Length (minutes)", min_value=5, max_value=24 * 60, required=False)
    technician = forms.IntegerField(label="Technician", min_value=1, required=False)
    from_technician = forms.IntegerField(label="Dragged from", min_value=1, required=False)
    confirm = forms.BooleanField(required=False)


def _job_field(required: bool = True) -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        Job.objects.select_related("job_type"),
        required=required,
        error_messages={"invalid_choice": "That job does not exist (any more)."},
    )


def _visit_field(required: bool = True) -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        Visit.objects.select_related("job", "job__job_type").prefetch_related("technicians"),
        required=required,
        error_messages={"invalid_choice": "That visit does not exist (any more)."},
    )


class ScheduleForm(DropForm):
    job = _job_field()


class MoveForm(DropForm):
    visit = _visit_field()


class CheckForm(DropForm):
    job = _job_field(required=False)
    visit = _visit_field(required=False)

    def clean(self):
        data = super().clean()
        if bool(data.get("job")) == bool(data.get("visit")):
            raise forms.ValidationError("Say which job or which visit is dropped.")
        return data


def _answers_json(view):
    """Domain errors become their JSON body and status (400, 403, 409), never a 500."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except ApplicationError as error:
            return JsonResponse(error.as_dict(), status=error.status_code)

    return wrapper


def _cleaned(form: forms.Form) -> dict:
    if form.is_valid():
        return form.cleaned_data
    name, errors = next(iter(form.errors.items()))
    label = form.fields[name].label if name in form.fields else None
    message = f"{label}: {errors[0]}" if label else errors[0]
    raise ApplicationError(message, field=name if name in form.fields else None, code="invalid")


def _end(data: dict, default_minutes: int | None) -> datetime | None:
    minutes = data["minutes"] or default_minutes
    return data["start"] + timedelta(minutes=minutes) if minutes else None


def _visit_minutes(visit: Visit) -> int:
    return int((visit.end - visit.start).total_seconds() // 60)


def _crew(visit: Visit, data: dict) -> list[int]:
    """The visit's technicians after the drop: the row it lands on replaces the row it came from."""
    crew = [t.pk for t in visit.technicians.all()]
    target, source = data["technician"], data["from_technician"]
    if target is None or target == source:
        return crew
    crew = [pk for pk in crew if pk != source]
    return crew if target in crew else [*crew, target]


def _saved(result: services.VisitResult, verb: str) -> JsonResponse:
    visit = result.visit
    start, end = timezone.localtime(visit.start), timezone.localtime(visit.end)
    when = f"{start:%a %b} {start.day}, {layout.clock_span(start, end)}"
    return JsonResponse(
        {
            "visit_id": visit.pk,
            "job_id": visit.job_id,
            "start": visit.start.isoformat(),
            "end": visit.end.isoformat(),
            "warnings": [w.as_dict() for w in result.warnings],
            "detail": f"{visit.job} {verb}: {when}.",
        }
    )


@role_required(*DISPATCH_ROLES)
@require_POST
@_answers_json
def board_check(request):
    """The dry run before a drop is saved: every conflict it would have (visit_conflicts), nothing saved."""
    data = _cleaned(CheckForm(request.POST))
    visit, job = data["visit"], data["job"]
    if visit is not None:
        conflicts = services.visit_conflicts(
            job=visit.job,
            start=data["start"],
            end=_end(data, _visit_minutes(visit)),
            technicians=_crew(visit, data),
            arrival_window_end=visit.arrival_window_end,
            exclude_visit=visit,
        )
    else:
        conflicts = services.visit_conflicts(
            job=job,
            start=data["start"],
            end=_end(data, layout.job_minutes(job)),
            technicians=[data["technician"]] if data["technician"] else [],
            arrival_window_end=job.requested_window_end,
        )
    body = {"conflicts": [c.as_dict() for c in conflicts], "blocking": any(c.blocking for c in conflicts)}
    return JsonResponse(body)


@role_required(*DISPATCH_ROLES)
@require_POST
@_answers_json
def board_schedule(request):
    data = _cleaned(ScheduleForm(request.POST))
    result = services.visit_schedule(
        job=data["job"],
        start=data["start"],
        end=_end(data, None),
        technicians=[data["technician"]] if data["technician"] else [],
        actor=request.user,
        confirm=data["confirm"],
    )
    return _saved(result, "scheduled")


@role_required(*DISPATCH_ROLES)
@require_POST
@_answers_json
def board_move(request):
    data = _cleaned(MoveForm(request.POST))
    visit = data["visit"]
    result = services.visit_move(
        visit=visit,
        start=data["start"],
        end=_end(data, _visit_minutes(visit)),
        technicians=_crew(visit, data),
        actor=request.user,
        confirm=data["confirm"],
    )
    return _saved(result, "moved")


urlpatterns = [
    path("dispatch/", dispatch_board, name="dispatch-board"),
    path("dispatch/changes/", board_changes, name="dispatch-changes"),
    path("dispatch/visits/<int:pk>/", board_visit, name="dispatch-visit"),
    path("dispatch/jobs/<int:pk>/", board_job, name="dispatch-job"),
    path("dispatch/jobs/<int:pk>/suggest/", board_suggest, name="dispatch-suggest"),
    path("dispatch/check/", board_check, name="dispatch-check"),
    path("dispatch/schedule/", board_schedule, name="dispatch-schedule"),
    path("dispatch/move/", board_move, name="dispatch-move"),
]
