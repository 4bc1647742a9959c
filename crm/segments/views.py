"""The segment builder: filters on the left, the live count and the first matching customers on the right
(htmx re-counts as the filters change); saved segments for campaigns."""

from django.contrib import messages
from django.db.models import Count, Q
from django.http import Http404, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from common.errors import ApplicationError
from users.access import role_required
from users.roles import Role

from ..automations import engine
from . import outreach as campaigns
from . import services
from .forms import OutreachForm, SegmentForm
from .models import Outreach, OutreachRecipient, Segment
from .services import SegmentSpec

OFFICE = (Role.OWNER, Role.OFFICE)
RECIPIENTS_SHOWN = 50


@role_required(*OFFICE)
def segment_list(request):
    """The saved segments at once; each one's counts arrive after (`segment_counts`, one request per row),
    so ten segments over a large customer base do not hold the page for ten counts in a row."""
    return render(request, "crm/segments/list.html", {"segments": Segment.objects.all()})


@role_required(*OFFICE)
def segment_counts(request, pk: int):
    segment = get_object_or_404(Segment, pk=pk)
    spec = SegmentSpec.from_json(segment.spec)
    context = {
        "segment": segment,
        "count": services.segment_count(spec),
        "reachable": services.segment_count(spec, marketing=True),
    }
    return render(request, "crm/segments/list.html#row", context)


@role_required(*OFFICE)
@require_http_methods(["GET", "POST"])
def segment_builder(request, pk: int | None = None):
    segment = get_object_or_404(Segment, pk=pk) if pk else None
    if request.method == "POST":
        form = SegmentForm(request.POST)
    elif request.GET:
        form = SegmentForm(request.GET)
    else:
        spec = SegmentSpec.from_json(segment.spec) if segment else SegmentSpec()
        form = SegmentForm(_as_query(spec, segment.name if segment else ""))
    context = {"form": form, "segment": segment, "count": None, "preview": []}
    if form.is_valid():
        try:
            spec = form.spec()
            if request.method == "POST":
                saved = services.segment_save(
                    name=form.cleaned_data["name"], spec=spec, actor=request.user, segment=segment
                )
                messages.success(request, f"Segment {saved.name} saved.")
                return redirect("crm:segment", pk=saved.pk)
            context.update(
                count=services.segment_count(spec),
                reachable=services.segment_count(spec, marketing=True),
                preview=services.segment_preview(spec),
            )
        except ApplicationError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
    status = 400 if request.method == "POST" else 200
    template = "crm/segments/builder.html#result" if request.htmx else "crm/segments/builder.html"
    return render(request, template, context, status=status)


def _as_query(spec: SegmentSpec, name: str) -> QueryDict:
    query = QueryDict(mutable=True)
    for key, value in SegmentForm.initial_for(spec, name).items():
        if isinstance(value, list):
            query.setlist(key, value)
        else:
            query[key] = str(value)
    return query


# --- Reactivation campaigns ------------------------------------------------------------------------------


@role_required(*OFFICE)
def outreach_list(request):
    rows = Outreach.objects.select_related("segment").annotate(
        sent=Count("recipients", filter=Q(recipients__state=OutreachRecipient.State.SENT)),
        waiting=Count("recipients", filter=Q(recipients__state=OutreachRecipient.State.PENDING)),
    )
    return render(request, "crm/segments/outreach_list.html", {"rows": rows})


@role_required(*OFFICE)
@require_http_methods(["GET", "POST"])
def outreach_edit(request, pk: int | None = None):
    outreach = get_object_or_404(Outreach, pk=pk) if pk else None
    if outreach and outreach.state not in (Outreach.State.DRAFT, Outreach.State.DONE):
        messages.error(request, "A campaign under way cannot be changed: cancel it first.")
        return redirect("crm:outreach", pk=outreach.pk)
    initial = {"starts_at": timezone.localtime(timezone.now()).replace(second=0, microsecond=0)}
    if request.GET.get("segment"):
        initial["segment"] = request.GET["segment"]
    form = OutreachForm(request.POST or None, instance=outreach, initial=initial)
    if request.method == "POST" and form.is_valid():
        saved = form.save(commit=False)
        if saved.created_by_id is None:
            saved.created_by = request.user
        saved.save()
        messages.success(request, f"{saved.name} saved. See who it reaches, text yourself a test, launch.")
        return redirect("crm:outreach", pk=saved.pk)
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "outreach": outreach}
    return render(request, "crm/segments/outreach_form.html", context, status=status)


@role_required(*OFFICE)
def outreach_detail(request, pk: int):
    outreach = get_object_or_404(Outreach.objects.select_related("segment", "sequence", "campaign"), pk=pk)
    launchable = outreach.state in (Outreach.State.DRAFT, Outreach.State.DONE)
    planned = outreach.state == Outreach.State.DRAFT or (
        outreach.state == Outreach.State.DONE and outreach.repeat == Outreach.Repeat.YEARLY
    )
    recipients = (
        outreach.recipients.filter(run=outreach.run)
        .select_related("customer", "message")
        .order_by("due_at", "pk")
    )
    first = recipients.first() if outreach.run else None
    sample = (
        first.customer
        if first
        else services.segment_queryset(SegmentSpec.from_json(outreach.segment.spec), marketing=True)
        .order_by("pk")
        .first()
    )
    context = {
        "outreach": outreach,
        "sample": sample,
        "rendered": engine.render(outreach.body, customer=sample, context={}) if outreach.body else "",
        "launchable": launchable,
        "plan": campaigns.outreach_plan(outreach) if planned else None,
        "results": campaigns.outreach_results(outreach) if outreach.run else None,
        "waiting": recipients.filter(state=OutreachRecipient.State.PENDING).count() if outreach.run else 0,
        "recipients": recipients[:RECIPIENTS_SHOWN] if outreach.run else [],
        "shown": RECIPIENTS_SHOWN,
    }
    return render(request, "crm/segments/outreach_detail.html", context)


@role_required(*OFFICE)
@require_POST
def outreach_action(request, pk: int, action: str):
    outreach = get_object_or_404(Outreach, pk=pk)
    try:
        if action == "test":
            message = campaigns.outreach_test_send(outreach=outreach, actor=request.user)
            messages.success(request, f"Test text sent to {message.to_number}.")
        elif action == "launch":
            plan = campaigns.outreach_plan(outreach)
            if str(plan.recipients) != request.POST.get("expected", ""):
                raise ApplicationError(
                    f"The segment changed: it now reaches {plan.recipients:,}. "
                    "Check the figures and launch again."
                )
            outreach = campaigns.outreach_launch(outreach=outreach, actor=request.user)
            messages.success(request, f"{outreach.name} launched to {plan.recipients:,} customers.")
        elif action == "cancel":
            campaigns.outreach_cancel(outreach=outreach, actor=request.user)
            messages.success(request, "Campaign canceled: nobody else will get it.")
        else:
            raise Http404
    except ApplicationError as error:
        messages.error(request, error.message)
    return redirect("crm:outreach", pk=outreach.pk)
