"""The automations pages: sequences and their steps (the owner edits, the office reads), a preview for a
real customer, the enrollments with their timelines, enrolling and stopping from a customer's or a lead's
page, the office's tasks and the owner's message limits."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from common.errors import ApplicationError
from customers.selectors import get_customer_for_user
from users.access import role_required
from users.roles import STAFF_ROLES, Role

from . import engine, selectors, services
from .forms import AutomationSettingsForm, SequenceForm, StepForm
from .models import AutomationSettings, Enrollment, Sequence, Step, Task

OWNER = (Role.OWNER,)
STATE_TABS = [("active", "In progress"), ("stopped", "Stopped"), ("done", "Finished"), ("", "All")]
TASK_TABS = [("mine", "Mine"), ("overdue", "Overdue"), ("done", "Done")]


# --- Sequences ------------------------------------------------------------------------------------------


@role_required(*STAFF_ROLES)
def sequence_list(request):
    context = {"sequences": selectors.sequence_rows(), "can_edit": request.user.has_role(*OWNER)}
    return render(request, "crm/automations/list.html", context)


@role_required(*OWNER)
@require_http_methods(["GET", "POST"])
def sequence_create(request):
    form = SequenceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            sequence = services.sequence_save(actor=request.user, **form.cleaned_data)
        except ApplicationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, f"Sequence {sequence.name} created: add its steps, then switch it on.")
            return redirect("automations:detail", pk=sequence.pk)
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "crm/automations/new.html", {"form": form}, status=status)


@role_required(*STAFF_ROLES)
def sequence_detail(request, pk: int):
    sequence = get_object_or_404(Sequence, pk=pk)
    context = _detail_context(request, sequence)
    if request.htmx and request.htmx.target == "preview-result":
        return render(request, "crm/automations/detail.html#preview", context)
    return render(request, "crm/automations/detail.html", context)


def _detail_context(request, sequence: Sequence, status_error: str = "", **forms) -> dict:
    steps = list(sequence.steps.all())
    editing = _int(request.GET.get("edit"))
    adding = request.GET.get("add") if request.GET.get("add") in Step.Kind.values else ""
    can_edit = request.user.has_role(*OWNER)
    rows = []
    for step in steps:
        form = forms.get("step_forms", {}).get(step.pk)
        if form is None and can_edit and editing == step.pk:
            form = StepForm.for_step(step, prefix=f"step{step.pk}")
        summary = selectors.wait_summary(step) if step.kind == Step.Kind.WAIT else ""
        rows.append({"step": step, "form": form, "summary": summary})
    add_form = forms.get("add_form")
    if add_form is None and can_edit and adding:
        add_form = StepForm(kind=adding, prefix="new")
    return {
        "sequence": sequence,
        "rows": rows,
        "can_edit": can_edit,
        "form": forms.get("form") or SequenceForm.for_sequence(sequence),
        "add_form": add_form,
        "kinds": Step.Kind.choices,
        "status_error": status_error,
        "merge_fields": engine.MERGE_FIELDS.items(),
        "trigger_only": selectors.trigger_fields(sequence),
        "active_count": sequence.enrollments.filter(state=Enrollment.State.ACTIVE).count(),
        **_preview_context(request, sequence),
    }


def _preview_context(request, sequence: Sequence) -> dict:
    query = request.GET.get("q", "").strip()
    customers = selectors.preview_customers(query=query)
    chosen = _int(request.GET.get("customer"))
    customer = next((c for c in customers if c.pk == chosen), None)
    if customer is None and chosen:
        customer = selectors.preview_customer(pk=chosen)
    previews = engine.preview(sequence, customer) if customer else []
    return {"query": query, "customers": customers, "preview_customer": customer, "previews": previews}


@role_required(*OWNER)
@require_POST
def sequence_edit(request, pk: int):
    sequence = get_object_or_404(Sequence, pk=pk)
    form = SequenceForm(request.POST)
    if form.is_valid():
        try:
            services.sequence_save(sequence=sequence, actor=request.user, **form.cleaned_data)
        except ApplicationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, "Sequence saved.")
            return redirect("automations:detail", pk=sequence.pk)
    context = _detail_context(request, sequence, form=form)
    return render(request, "crm/automations/detail.html", context, status=400)


@role_required(*OWNER)
@require_POST
def sequence_switch(request, pk: int):
    """Switch on or pause; a refusal (no message or task, an unknown merge field) shows on the page."""
    sequence = get_object_or_404(Sequence, pk=pk)
    on = request.POST.get("action") == "activate"
    try:
        sequence = services.sequence_switch(sequence=sequence, on=on, actor=request.user)
    except ApplicationError as error:
        context = _detail_context(request, sequence, status_error=error.message)
        return render(request, "crm/automations/detail.html", context, status=400)
    if sequence.active:
        messages.success(request, f"{sequence.name} is on.")
    else:
        messages.success(request, f"{sequence.name} is paused: nothing is sent until it is back on.")
    return redirect("automations:detail", pk=sequence.pk)


@role_required(*OWNER)
@require_POST
def step_add(request, pk: int):
    sequence = get_object_or_404(Sequence, pk=pk)
    kind = request.POST.get("kind", "")
    if kind not in Step.Kind.values:
        messages.error(request, "Choose what the step does.")
        return redirect("automations:detail", pk=sequence.pk)
    form = StepForm(request.POST, kind=kind, prefix="new")
    if _save_step(request, form, sequence=sequence):
        messages.success(request, "Step added.")
        return redirect("automations:detail", pk=sequence.pk)
    context = _detail_context(request, sequence, add_form=form)
    return render(request, "crm/automations/detail.html", context, status=400)


@role_required(*OWNER)
@require_POST
def step_edit(request, pk: int, step_pk: int):
    step = get_object_or_404(Step, pk=step_pk, sequence_id=pk)
    form = StepForm(request.POST, kind=step.kind, prefix=f"step{step.pk}")
    if _save_step(request, form, sequence=step.sequence, step=step):
        messages.success(request, "Step saved.")
        return redirect("automations:detail", pk=pk)
    context = _detail_context(request, step.sequence, step_forms={step.pk: form})
    return render(request, "crm/automations/detail.html", context, status=400)


def _save_step(request, form: StepForm, *, sequence: Sequence, step: Step | None = None) -> bool:
    if not form.is_valid():
        return False
    try:
        engine.step_save(sequence=sequence, step=step, actor=request.user, **form.values())
    except ApplicationError as error:
        form.add_service_error(error)
        return False
    return True


@role_required(*OWNER)
@require_POST
def step_move(request, pk: int, step_pk: int):
    """The step's buttons: up, down or remove (the button's value says which)."""
    step = get_object_or_404(Step, pk=step_pk, sequence_id=pk)
    action = request.POST.get("action", "")
    if action in ("up", "down"):
        try:
            engine.step_move(step=step, by=-1 if action == "up" else 1, actor=request.user)
        except ApplicationError as exc:
            messages.error(request, exc.message)
    elif action == "remove":
        engine.step_remove(step=step, actor=request.user)
        messages.success(request, "Step removed.")
    return redirect(reverse("automations:detail", args=[pk]) + "#steps")


@role_required(*STAFF_ROLES)
def sequence_enrollments(request, pk: int):
    sequence = get_object_or_404(Sequence, pk=pk)
    state = request.GET.get("state", "active")
    state = state if state in dict(STATE_TABS) else "active"
    enrollments = selectors.sequence_enrollments(sequence=sequence, state=state)[:100]
    context = {"sequence": sequence, "enrollments": enrollments, "state": state, "tabs": STATE_TABS}
    return render(request, "crm/automations/enrollments.html", context)


# --- A customer's enrollments (the customer page's card and the lead page's form) -----------------------


@role_required(*STAFF_ROLES)
def customer_card(request, pk: int):
    """htmx fragment on the customer page: the customer's enrollments, their timelines, Enroll in…"""
    customer = get_customer_for_user(request.user, pk)
    return render(request, "crm/automations/customer_card.html", _card_context(customer))


def _card_context(customer, error: str = "") -> dict:
    return {
        "customer": customer,
        "enrollments": selectors.customer_enrollments(customer=customer),
        "sequences": selectors.sequences_to_enroll(),
        "enroll_error": error,
    }


@role_required(*STAFF_ROLES)
@require_POST
def customer_enroll(request, pk: int):
    customer = get_customer_for_user(request.user, pk)
    lead = _lead(request.POST.get("lead"), customer)
    error = _enroll(
        request,
        lambda sequence: services.enroll_by_hand(
            sequence=sequence, customer=customer, actor=request.user, lead=lead
        ),
    )
    if request.htmx:
        return render(request, "crm/automations/customer_card.html", _card_context(customer, error))
    if error:
        messages.error(request, error)
    if lead is not None:
        return redirect("crm:detail", pk=lead.pk)
    return redirect("customers:detail", pk=customer.pk)


@role_required(*STAFF_ROLES)
def estimate_card(request, pk: int):
    """htmx fragment on an estimate's page: its follow-ups (how each went) and Follow up with…"""
    return render(request, "crm/automations/estimate_card.html", _estimate_context(pk))


def _estimate_context(estimate_id: int, error: str = "") -> dict:
    sent, ended = selectors.estimate_story(estimate_id)
    enrollments = list(selectors.estimate_enrollments(estimate_id=estimate_id))
    running = {e.sequence_id for e in enrollments if e.state == Enrollment.State.ACTIVE}
    sequences = selectors.sequences_to_enroll(knowing=selectors.ESTIMATE_FIELDS)
    return {
        "estimate_id": estimate_id,
        "sent": sent,
        "ended": engine.STOP_REASONS.get(ended, ""),
        "enrollments": enrollments,
        "sequences": [sequence for sequence in sequences if sequence.pk not in running],
        "enroll_error": error,
    }


@role_required(*STAFF_ROLES)
@require_POST
def estimate_enroll(request, pk: int):
    error = _enroll(
        request,
        lambda sequence: services.enroll_for_estimate(sequence=sequence, estimate_id=pk, actor=request.user),
    )
    if request.htmx:
        return render(request, "crm/automations/estimate_card.html", _estimate_context(pk, error))
    if error:
        messages.error(request, error)
    return redirect("estimate-detail", pk=pk)


def _enroll(request, start) -> str:
    """A card's Enroll button: the sequence chosen, started by `start(sequence)`. The error to show on the
    card, or '' (with a message for the reloaded page when it was not an htmx request)."""
    sequence = Sequence.objects.filter(pk=_int(request.POST.get("sequence"))).first()
    if sequence is None:
        return "Choose a sequence."
    try:
        enrollment = start(sequence)
    except ApplicationError as exc:
        return exc.message
    if not request.htmx:
        messages.success(request, f"{enrollment.customer} is enrolled in {sequence.name}.")
    return ""


def _lead(value, customer):
    from ..models import Lead

    lead_pk = _int(value)
    return Lead.objects.filter(pk=lead_pk, customer=customer).first() if lead_pk else None


@role_required(*STAFF_ROLES)
@require_POST
def enrollment_stop(request, pk: int):
    enrollment = get_object_or_404(Enrollment.objects.select_related("customer"), pk=pk)
    services.enrollment_stop(enrollment=enrollment, actor=request.user)
    kind, _, ident = enrollment.subject_key.partition(":")
    on_estimate = request.POST.get("card") == "estimate" and kind == "estimate" and ident.isdigit()
    if request.htmx and on_estimate:
        return render(request, "crm/automations/estimate_card.html", _estimate_context(int(ident)))
    if request.htmx:
        return render(request, "crm/automations/customer_card.html", _card_context(enrollment.customer))
    messages.success(request, "Enrollment stopped: nothing more is sent.")
    if on_estimate:
        return redirect("estimate-detail", pk=int(ident))
    return redirect("customers:detail", pk=enrollment.customer_id)


# --- Tasks ----------------------------------------------------------------------------------------------


@role_required(*STAFF_ROLES)
def task_list(request):
    tabs = TASK_TABS + ([("all", "Everyone's")] if request.user.has_role(*OWNER) else [])
    tab = request.GET.get("tab", "mine")
    tab = tab if tab in dict(tabs) else "mine"
    context = {
        "tasks": selectors.task_list(user=request.user, tab=tab)[:200],
        "tab": tab,
        "tabs": tabs,
        "now": timezone.now(),
    }
    return render(request, "crm/automations/tasks.html", context)


@role_required(*STAFF_ROLES)
@require_POST
def task_done(request, pk: int):
    task = get_object_or_404(Task, pk=pk)
    task = services.task_complete(task=task, actor=request.user)
    messages.success(request, f"Done: {task.title}")
    tab = request.POST.get("tab", "mine")
    tab = tab if tab in ("mine", "overdue", "done", "all") else "mine"
    return redirect(f"{reverse('tasks')}?tab={tab}")


@role_required(*STAFF_ROLES)
def task_count(request):
    """The navigation's open-task count, fetched after the page (so no page pays a query for it)."""
    count = selectors.open_task_count(user=request.user)
    if not count:
        return HttpResponse("")
    return HttpResponse(f'<span class="nav-count" title="Open tasks">{count}</span>')


# --- The owner's limits ---------------------------------------------------------------------------------


@role_required(*OWNER)
@require_http_methods(["GET", "POST"])
def automation_settings(request):
    rules = AutomationSettings.current()
    initial = {"max_per_day": rules.max_per_day, "max_per_week": rules.max_per_week}
    form = AutomationSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.automation_settings_update(actor=request.user, **form.cleaned_data)
        except ApplicationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, "Message limits saved.")
            return redirect("automation-settings")
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "crm/automations/settings.html", {"form": form}, status=status)


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
