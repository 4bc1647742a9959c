"""The office's job pages: list, detail, booking from a customer, equipment.

Every write calls fsm.services (and customers.services for a new address); a service's ApplicationError
lands on the form field it names. htmx serves the small pieces: the suggested times, filling the visit
fields from one, the customer page's jobs, the equipment blocks and the lead handoff's wait.
"""

from datetime import date, datetime

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import dateformat, timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from common.errors import ApplicationError
from customers.models import Customer, Property
from customers.selectors import customers_visible_to, get_customer_for_user, properties_visible_to
from customers.services import PropertyIn
from events.selectors import timeline_for
from users.access import role_required
from users.roles import Role

from .. import services
from ..errors import SchedulingConflict
from ..forms import (
    AddressForm,
    EquipmentForm,
    JobDetailsForm,
    JobForm,
    VisitForm,
    show_service_error,
)
from ..invoices.selectors import customer_money, job_money
from ..jobs import (
    customer_field_service,
    job_list,
    job_page,
    office_actions_for,
    property_equipment,
    suggest_slots,
    technician_choices,
)
from ..models import DISPATCH_ROLES, Equipment, Job, JobPhoto, JobSignature, JobType
from ..selectors import (
    and_list,
    get_job_for_user,
    job_checklist,
    job_completion_missing,
    jobs_visible_to,
    property_history,
)
from . import stored_file_response

LEAD_POLL_TRIES = 30  # every 2 s: a minute, then the page says where to look


def _usual_minutes(job_type: JobType | None) -> int:
    return job_type.default_duration_minutes if job_type else 60


def _today(request) -> date:
    return timezone.localdate(timezone=request.business.tzinfo)


# --- The list ------------------------------------------------------------------------------------------


@role_required(Role.OWNER)
def job_types_view(request):
    """The owner's job types: what completing a job of each type requires (checklist, signature, photo)."""
    if request.method == "POST":
        job_type = get_object_or_404(JobType, pk=_int(request.POST.get("job_type")) or 0)
        try:
            services.job_type_requirements_set(
                actor=request.user,
                job_type=job_type,
                checklist="requires_checklist" in request.POST,
                signature="requires_signature" in request.POST,
                photo="requires_photo" in request.POST,
            )
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"{job_type.name}: saved.")
        return redirect(reverse("job-types") + f"#job-type-{job_type.pk}")
    job_types = JobType.objects.select_related("required_skill").order_by("-is_active", "name")
    return render(request, "fsm/job_types.html", {"job_types": job_types})


@role_required(*DISPATCH_ROLES)
def job_list_view(request):
    job_filter = job_list(user=request.user, data=request.GET or None)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "filter": job_filter,
        "page": job_page(job_filter, request.GET.get("page")),
        "querystring": query.urlencode(),
        "filtered": any(query.values()),
    }
    return render(request, "fsm/job_list.html#results" if request.htmx else "fsm/job_list.html", context)


# --- The job page --------------------------------------------------------------------------------------


def _blank_visit_form(job: Job, today: date) -> VisitForm:
    initial = {"date": today, "duration": _usual_minutes(job.job_type)}
    window = job.requested_window_start, job.requested_window_end
    if window[0] and timezone.localdate(window[0]) >= today:
        local = timezone.localtime(window[0])
        initial |= {"date": local.date(), "start_time": local.time(), "arrival_from": local.time()}
        if window[1] and timezone.localdate(window[1]) == local.date():
            initial["arrival_to"] = timezone.localtime(window[1]).time()
    return VisitForm(prefix="visit", initial=initial)


def _completion_missing(job: Job) -> list[str]:
    return job_completion_missing(job) if job.state == Job.State.ON_SITE else []


def _render_job(request, pk: int, *, visit_form=None, details_form=None, conflicts=()):
    job = get_job_for_user(request.user, pk)
    context = {
        "job": job,
        "actions": office_actions_for(request.user, job),
        "visit_form": visit_form or _blank_visit_form(job, _today(request)),
        "details_form": details_form or JobDetailsForm.for_job(job),
        "overlaps": [c for c in conflicts if c.blocking],
        "other_conflicts": [c for c in conflicts if not c.blocking],
        "checklist": job_checklist(job),
        "completion_missing": and_list(missing) if (missing := _completion_missing(job)) else "",
        "timeline": timeline_for(job),
        "history": property_history(prop=job.property) if job.property_id else None,
        "money": job_money(job),
        "can_invoice": request.user.has_role(Role.OWNER, Role.OFFICE),
    }
    if job.property_id:
        context |= _equipment_context(job.property, context["history"].equipment)
    return render(request, "fsm/job_detail.html", context)


@role_required(*DISPATCH_ROLES)
def job_detail(request, pk: int):
    return _render_job(request, pk)


def _flash_visit(request, result: services.VisitResult) -> None:
    when = dateformat.format(timezone.localtime(result.visit.start), "D M j, g:i A")
    messages.success(request, f"Visit booked for {when}.")
    for warning in result.warnings:
        messages.warning(request, warning.message)


@role_required(*DISPATCH_ROLES)
@require_POST
def job_schedule(request, pk: int):
    """The job page's "Schedule a visit": an overlap comes back for an explicit "Book anyway"."""
    job = get_job_for_user(request.user, pk)
    form = VisitForm(request.POST, prefix="visit")
    conflicts = []
    if form.is_valid():
        kwargs = form.service_kwargs(default_minutes=_usual_minutes(job.job_type))
        try:
            result = services.visit_schedule(job=job, actor=request.user, **kwargs)
        except SchedulingConflict as error:
            conflicts = error.conflicts
        except ApplicationError as error:
            show_service_error(form, error, VisitForm.SERVICE_FIELDS)
        else:
            _flash_visit(request, result)
            return redirect(reverse("job-detail", args=[job.pk]) + "#visits")
    return _render_job(request, job.pk, visit_form=form, conflicts=conflicts)


SIMPLE_ACTIONS = {"dispatch": services.job_dispatch, "resume": services.job_resume}
REASON_ACTIONS = {"hold": services.job_hold, "cancel": services.job_cancel}


def _act(request, job: Job, action: str) -> str:
    if action in SIMPLE_ACTIONS:
        job = SIMPLE_ACTIONS[action](job=job, actor=request.user)
    elif action in REASON_ACTIONS:
        job = REASON_ACTIONS[action](job=job, actor=request.user, reason=request.POST.get("reason", ""))
    elif action == "complete":
        job = services.job_complete(
            job=job,
            actor=request.user,
            completion_note=request.POST.get("completion_note", ""),
            override_reason=request.POST.get("override_reason", ""),
        )
    elif action == "cancel_visit":
        visit = get_object_or_404(job.visits, pk=request.POST.get("visit") or 0)
        services.visit_cancel(visit=visit, actor=request.user, reason=request.POST.get("reason", ""))
        return "Visit canceled."
    else:
        raise ApplicationError("Unknown action.")
    return f"{job.number} is now {job.get_state_display().lower()}."


@role_required(*DISPATCH_ROLES)
@require_POST
def job_act(request, pk: int):
    """The job page's buttons; the button's value says which (dispatch, hold, cancel, resume...)."""
    job = get_job_for_user(request.user, pk)
    try:
        done = _act(request, job, request.POST.get("action", ""))
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, done)
    return redirect("job-detail", pk=job.pk)


@role_required(*DISPATCH_ROLES)
@require_POST
def job_edit(request, pk: int):
    """The job page's "Edit details" (job type, priority, description, the customer's window)."""
    job = get_job_for_user(request.user, pk)
    form = JobDetailsForm.for_job(job, request.POST)
    if form.is_valid():
        try:
            services.job_update(job=job, actor=request.user, **form.cleaned_data)
        except ApplicationError as error:
            show_service_error(form, error)
        else:
            messages.success(request, "Details saved.")
            return redirect("job-detail", pk=job.pk)
    return _render_job(request, job.pk, details_form=form)


@role_required(*DISPATCH_ROLES)
@require_POST
def job_notes(request, pk: int):
    job = get_job_for_user(request.user, pk)
    try:
        services.job_update(job=job, actor=request.user, office_notes=request.POST.get("office_notes", ""))
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Office notes saved.")
    return redirect(reverse("job-detail", args=[job.pk]) + "#office-notes")


@role_required(*DISPATCH_ROLES)
def job_photo(request, pk: int, photo_pk: int):
    photo = get_object_or_404(JobPhoto, job__in=jobs_visible_to(request.user), job_id=pk, pk=photo_pk)
    return stored_file_response(photo.file_for(request.GET.get("size", "")))


@role_required(*DISPATCH_ROLES)
def job_signature(request, pk: int, signature_pk: int):
    signature = get_object_or_404(
        JobSignature, job__in=jobs_visible_to(request.user), job_id=pk, pk=signature_pk
    )
    return stored_file_response(signature.image)


# --- Booking from a customer ---------------------------------------------------------------------------


def _booking_customer(request) -> Customer | None:
    pk = request.POST.get("customer") or request.GET.get("customer")
    return get_customer_for_user(request.user, pk) if pk else None


def _booking_valid(form: JobForm, address_form: AddressForm, visit_form: VisitForm) -> bool:
    valid = form.is_valid()
    if form.wants_new_address():
        valid = address_form.is_valid() and valid
    if form.data.get("schedule_now"):
        valid = visit_form.is_valid() and valid
    return valid


def _book(request, customer: Customer, form: JobForm, address_form: AddressForm, visit_form: VisitForm):
    """The forms' values to fsm.services.job_book (all or nothing)."""
    visit = None
    if form.cleaned_data["schedule_now"]:
        visit = visit_form.service_kwargs(default_minutes=_usual_minutes(form.cleaned_data["job_type"]))
    return services.job_book(
        customer=customer,
        actor=request.user,
        property=form.chosen_property(),
        address=PropertyIn(**address_form.cleaned_data) if form.wants_new_address() else None,
        job=form.service_kwargs(),
        visit=visit,
    )


def _show_booking_error(error: ApplicationError, form, address_form, visit_form) -> None:
    """On the form of the part that refused it (job_book says which)."""
    part = error.extra.get("part")
    if part == "address":
        address_form.show_service_error(error)
    elif part == "visit":
        show_service_error(visit_form, error, VisitForm.SERVICE_FIELDS)
    else:
        show_service_error(form, error, JobForm.SERVICE_FIELDS)


@role_required(*DISPATCH_ROLES)
@require_http_methods(["GET", "POST"])
def job_create(request):
    """New job for a customer (the customer page's "New job"), optionally with its first visit."""
    customer = _booking_customer(request)
    if customer is None:
        messages.info(request, "Open the customer the job is for, then press New job.")
        return redirect("customers:list")
    if customer.is_merged:
        return redirect(f"{reverse('job-create')}?customer={customer.merged_into_id}")
    data = request.POST if request.method == "POST" else None
    form = JobForm(data, customer=customer)
    address_form = AddressForm(data, prefix="address")
    visit_form = VisitForm(data, prefix="visit", initial={"date": _today(request)})
    conflicts = []
    if data is not None and _booking_valid(form, address_form, visit_form):
        try:
            booking = _book(request, customer, form, address_form, visit_form)
        except SchedulingConflict as error:
            conflicts = error.conflicts
        except ApplicationError as error:  # nothing was saved
            _show_booking_error(error, form, address_form, visit_form)
        else:
            messages.success(request, f"{booking.job.number} booked for {customer.display_name}.")
            if booking.visit is not None:
                _flash_visit(request, booking.visit)
            return redirect("job-detail", pk=booking.job.pk)
    context = {
        "customer": customer,
        "form": form,
        "address_form": address_form,
        "visit_form": visit_form,
        "overlaps": [c for c in conflicts if c.blocking],
        "other_conflicts": [c for c in conflicts if not c.blocking],
    }
    return render(request, "fsm/job_form.html", context)


# --- Suggestions and filling the visit fields from one -------------------------------------------------


def _suggest_target(request) -> tuple[JobType | None, Property | None]:
    """From the job page: the job's type and address. From the booking form: what is picked there."""
    if request.GET.get("job"):
        job = get_job_for_user(request.user, request.GET["job"])
        return job.job_type, job.property
    job_type = JobType.objects.filter(pk=_int(request.GET.get("job_type")), is_active=True).first()
    prop = properties_visible_to(request.user).filter(pk=_int(request.GET.get("property"))).first()
    return job_type, prop


def _int(value) -> int | None:
    return int(value) if str(value or "").isdigit() else None


def _date(value) -> date | None:
    try:
        return parse_date(value or "")
    except ValueError:
        return None


@role_required(*DISPATCH_ROLES)
def job_suggest(request):
    """htmx: the best open times for the visit being booked (availability.open_slots, top five)."""
    job_type, prop = _suggest_target(request)
    suggestions = suggest_slots(
        job_type=job_type,
        prop=prop,
        start_date=_date(request.GET.get("visit-date")),
        duration_minutes=_int(request.GET.get("visit-duration")),
    )
    return render(request, "fsm/partials/job_slots.html", {"suggestions": suggestions})


@role_required(*DISPATCH_ROLES)
def job_visit_fields(request):
    """htmx: the visit fields filled from a chosen suggestion (the arrival window typed is kept)."""
    names = ("date", "start_time", "duration", "arrival_from", "arrival_to")
    initial = {name: request.GET.get(f"visit-{name}", "") for name in names}
    initial["technicians"] = request.GET.getlist("visit-technicians")
    form = VisitForm(prefix="visit", initial=initial)
    return render(request, "fsm/partials/job_visit_fields.html", {"visit_form": form, "filled": True})


# --- The lead page's "Find a time" (crm's Book form) ----------------------------------------------------

BOOKING_SLOTS = "fsm/partials/booking_slots.html"


@role_required(*DISPATCH_ROLES)
def booking_slots(request):
    """htmx, inside crm's Book form: open times for what is being booked (job type and address picked as
    fsm.job_from_lead will pick them); `choose` shows one with the form's hidden slot_* fields filled,
    `clear` empties them. The form's container is the target (hx-target="this", inherited)."""
    if "choose" in request.GET:
        chosen = _chosen_slot(request.GET)
        return render(request, BOOKING_SLOTS, {"chosen": chosen, "unusable": chosen is None})
    if "clear" in request.GET:
        return render(request, BOOKING_SLOTS, {"cleared": True})
    service = request.GET.get("service", "").strip()
    job_type = services.job_type_for_service(service)
    prop = _booking_property(request)
    context = {"service": service, "job_type": job_type, "problem": _booking_problem(service, job_type, prop)}
    if not context["problem"]:
        context["suggestions"] = suggest_slots(job_type=job_type, prop=prop, start_date=None)
    return render(request, BOOKING_SLOTS, context)


def _booking_property(request) -> Property | None:
    customer = customers_visible_to(request.user).filter(pk=_int(request.GET.get("customer"))).first()
    if customer is None:
        return properties_visible_to(request.user).filter(pk=_int(request.GET.get("property"))).first()
    return services.booking_property(customer=customer, property_id=_int(request.GET.get("property")))


def _booking_problem(service: str, job_type: JobType | None, prop: Property | None) -> str:
    later = "Book it without a time: it waits in dispatch's queue."
    if not service:
        return "Say what service is booked first: its job type decides how long the visit takes and who fits."
    if job_type is None:
        return f"No job type is called “{service}”, so no times can be suggested. {later}"
    if prop is None:
        return f"The customer has no address yet, so no times can be suggested. {later}"
    return ""


def _chosen_slot(query) -> dict | None:
    start, end = _datetime(query.get("slot_start")), _datetime(query.get("slot_end"))
    technician = technician_choices().filter(pk=_int(query.get("slot_technician"))).first()
    if technician is None or start is None or end is None or end <= start:
        return None
    return {"technician": technician, "start": start, "end": end}


def _datetime(value) -> datetime | None:
    try:
        moment = parse_datetime(value or "")
    except ValueError:
        return None
    return moment if moment is not None and timezone.is_aware(moment) else None


# --- The customer page's jobs and the lead handoff ------------------------------------------------------


@role_required(*DISPATCH_ROLES)
def customer_jobs(request, pk: int):
    """htmx fragment on the customer page: jobs, and per address its equipment and job history."""
    customer = get_customer_for_user(request.user, pk)
    data = customer_field_service(customer=customer)
    for record in data.properties:
        record.equipment_form = EquipmentForm(auto_id=f"eq{record.property.pk}-%s")
    context = {
        "customer": customer,
        "data": data,
        "money": customer_money(customer),
        "can_invoice": request.user.has_role(Role.OWNER, Role.OFFICE),
    }
    return render(request, "fsm/partials/job_customer.html", context)


@role_required(*DISPATCH_ROLES)
def job_from_lead(request, lead_id: int):
    """The lead page's link: the job booked from this lead, or a short wait while lead.booked is
    delivered (htmx polls every 2 s, for a minute)."""
    job = jobs_visible_to(request.user).filter(origin_lead_id=lead_id).first()
    if job is not None:
        url = reverse("job-detail", args=[job.pk])
        return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    tries = min(_int(request.GET.get("try")) or 0, LEAD_POLL_TRIES)
    context = {"lead_id": lead_id, "next_try": tries + 1, "polling": tries < LEAD_POLL_TRIES}
    template = "fsm/job_from_lead.html#waiting" if request.htmx else "fsm/job_from_lead.html"
    return render(request, template, context)


# --- Equipment -----------------------------------------------------------------------------------------


def _equipment_context(prop: Property, items, *, form=None, editing=None, edit_form=None, saved=None) -> dict:
    return {
        "prop": prop,
        "items": items,
        "add_form": form or EquipmentForm(auto_id=f"eq{prop.pk}-%s"),
        "add_open": form is not None,
        "editing": editing,
        "edit_form": edit_form,
        "saved": saved,
    }


def _equipment_save(request, prop: Property, editing: Equipment | None):
    form = EquipmentForm(request.POST, auto_id=f"eq{prop.pk}-{'edit-' if editing else ''}%s")
    if form.is_valid():
        try:
            saved = services.equipment_save(
                property=prop, actor=request.user, equipment=editing, **form.cleaned_data
            )
        except ApplicationError as error:
            show_service_error(form, error)
        else:
            return _equipment_context(prop, property_equipment(prop), saved=saved)
    if editing:
        return _equipment_context(prop, property_equipment(prop), editing=editing, edit_form=form)
    return _equipment_context(prop, property_equipment(prop), form=form)


@role_required(*DISPATCH_ROLES)
@require_http_methods(["GET", "POST"])
def equipment_block(request, pk: int):
    """htmx: a property's equipment with its add / edit forms (on the job page and the customer page)."""
    prop = get_object_or_404(properties_visible_to(request.user), pk=pk)
    items = property_equipment(prop)
    editing_pk = _int(request.POST.get("equipment") or request.GET.get("edit"))
    editing = next((item for item in items if item.pk == editing_pk), None)
    if request.method == "POST":
        context = _equipment_save(request, prop, editing)
    elif editing is not None:
        edit_form = EquipmentForm.for_item(editing, auto_id=f"eq{prop.pk}-edit-%s")
        context = _equipment_context(prop, items, editing=editing, edit_form=edit_form)
    else:
        context = _equipment_context(prop, items)
    return render(request, "fsm/partials/job_equipment.html", context)


urlpatterns = [
    path("jobs/", job_list_view, name="job-list"),
    path("jobs/types/", job_types_view, name="job-types"),
    path("jobs/new/", job_create, name="job-create"),
    path("jobs/suggest/", job_suggest, name="job-suggest"),
    path("jobs/visit-fields/", job_visit_fields, name="job-visit-fields"),
    path("jobs/slots-for-booking/", booking_slots, name="booking-slots"),
    path("jobs/<int:pk>/", job_detail, name="job-detail"),
    path("jobs/<int:pk>/visits/", job_schedule, name="job-schedule"),
    path("jobs/<int:pk>/act/", job_act, name="job-act"),
    path("jobs/<int:pk>/edit/", job_edit, name="job-edit"),
    path("jobs/<int:pk>/notes/", job_notes, name="job-notes"),
    path("jobs/<int:pk>/photos/<int:photo_pk>/", job_photo, name="job-photo"),
    path("jobs/<int:pk>/signatures/<int:signature_pk>/", job_signature, name="job-signature"),
    path("jobs/for-customer/<int:pk>/", customer_jobs, name="customer-jobs"),
    path("jobs/from-lead/<int:lead_id>/", job_from_lead, name="job-from-lead"),
    path("jobs/properties/<int:pk>/equipment/", equipment_block, name="property-equipment"),
]
