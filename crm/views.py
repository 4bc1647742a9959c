"""The pipeline pages: board, list, a lead, manual entry, marketing setup and the attribution report."""

from datetime import timedelta

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST
from django_fsm import can_proceed, has_transition_perm

from common.errors import ApplicationError
from events.selectors import timeline_for
from messaging.models import MessagingSettings
from users.access import role_required
from users.roles import STAFF_ROLES, Role

from . import selectors, services
from .automations.selectors import active_enrollments, sequences_to_enroll
from .forms import (
    AssignForm,
    BookForm,
    CampaignForm,
    LeadEntryForm,
    LoseForm,
    MessagingSettingsForm,
    PipelineSettingsForm,
    ReportForm,
    SourceForm,
)
from .models import Campaign, Lead, LostReason, PipelineSettings, Source, SourceKey

ACTIONS = [
    ("mark_contacted", "Mark contacted"),
    ("qualify", "Qualify"),
    ("book", "Book"),
    ("win", "Mark won"),
    ("lose", "Mark lost"),
    ("mark_spam", "Spam"),
    ("reopen", "Reopen"),
]


@role_required(*STAFF_ROLES)
def board(request):
    rules = PipelineSettings.current()
    context = {
        "columns": selectors.board_columns(user=request.user),
        "closed": selectors.closed_counts(user=request.user),
        "threshold_seconds": rules.speed_to_lead_minutes * 60,
        "threshold_minutes": rules.speed_to_lead_minutes,
        "lost_reasons": LostReason.choices,
        "now": timezone.now(),
    }
    return render(request, "crm/board.html", context)


@role_required(*STAFF_ROLES)
def lead_list(request):
    lead_filter = selectors.lead_list(user=request.user, data=request.GET or None)
    page = Paginator(lead_filter.qs, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"filter": lead_filter, "page": page, "querystring": query.urlencode()}
    return render(request, "crm/list.html#results" if request.htmx else "crm/list.html", context)


@role_required(*STAFF_ROLES)
@require_http_methods(["GET", "POST"])
def lead_create(request):
    form = LeadEntryForm(request.POST or None, initial={"source": _default_manual_source()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        contact = services.LeadIn(
            **{
                k: data[k] or ""
                for k in (
                    "name",
                    "phone",
                    "email",
                    "street",
                    "unit",
                    "city",
                    "state",
                    "zip_code",
                    "service",
                    "message",
                )
            },
            service_type=data["service_type"],
        )
        try:
            captured = services.lead_capture(
                source=data["source"],
                contact=contact,
                campaign=data["campaign"],
                actor=request.user,
                raw_payload={"entered_by": request.user.pk},
            )
        except ApplicationError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            lead = captured.lead
            messages.success(request, f"Lead added for {lead.customer.display_name}.")
            return redirect("crm:detail", pk=lead.pk)
    return render(request, "crm/lead_form.html", {"form": form})


def _default_manual_source():
    return Source.objects.filter(kind=Source.Kind.MANUAL, is_active=True).order_by("pk").first()


def _available_actions(lead: Lead, user) -> list[tuple[str, str]]:
    """The buttons for this lead and user; Book also on a new or contacted lead (qualified on the way)."""
    return [
        (name, label)
        for name, label in ACTIONS
        if (lead.can_be_booked_by(user) if name == "book" else _can(lead, name, user))
    ]


def _can(lead: Lead, name: str, user) -> bool:
    return can_proceed(getattr(lead, name)) and has_transition_perm(getattr(lead, name), user)


@role_required(*STAFF_ROLES)
def lead_detail(request, pk: int):
    lead = selectors.get_lead_for_user(request.user, pk)
    return render(request, "crm/detail.html", _detail_context(request, lead))


def _detail_context(request, lead: Lead, book_form: BookForm | None = None) -> dict:
    return {
        "lead": lead,
        "actions": _available_actions(lead, request.user),
        "timeline": timeline_for(lead),
        "book_form": book_form or BookForm(initial={"service": lead.service}),
        "lose_form": LoseForm(),
        "assign_form": AssignForm(initial={"assigned_to": lead.assigned_to_id}),
        "sequences": sequences_to_enroll() if lead.customer_id else [],
        "enrollments": active_enrollments(customer_id=lead.customer_id) if lead.customer_id else [],
        "other_leads": lead.customer.leads.exclude(pk=lead.pk).select_related("source")[:10]
        if lead.customer_id
        else [],
    }


@role_required(*STAFF_ROLES)
@require_POST
def lead_act(request, pk: int):
    """The detail page's buttons: the button's name says which transition (or assignment)."""
    lead = selectors.get_lead_for_user(request.user, pk)
    action = request.POST.get("action", "")
    if action == "book":
        return _book(request, lead)
    try:
        done = _act(request, lead, action)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        if done:
            messages.success(request, done)
    return redirect("crm:detail", pk=lead.pk)


def _act(request, lead: Lead, action: str) -> str | None:
    user = request.user
    simple = {
        "mark_contacted": services.lead_mark_contacted,
        "qualify": services.lead_qualify,
        "mark_spam": services.lead_mark_spam,
        "reopen": services.lead_reopen,
    }
    if action in simple:
        lead = simple[action](lead=lead, actor=user)
    elif action == "win":
        lead = services.lead_win(lead=lead, actor=user)
    elif action in ("lose", "assign"):
        return _act_with_form(request, lead, action)
    else:
        raise ApplicationError("Unknown action.")
    return f"Lead is now {lead.get_state_display().lower()}."


def _book(request, lead: Lead):
    """Book: a refusal that names a field shows on the page's Book form (nothing is saved)."""
    form = BookForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.lead_book(
                lead=lead,
                actor=request.user,
                service=data["service"],
                window_start=data["window_start"],
                window_end=data["window_end"],
                notes=data["notes"],
                slot_technician_id=data["slot_technician"],
                slot_start=data["slot_start"],
                slot_end=data["slot_end"],
            )
        except ApplicationError as error:
            if error.field not in form.fields:
                messages.error(request, error.message)
                return redirect("crm:detail", pk=lead.pk)
            form.add_error(error.field, error.message)
        else:
            messages.success(request, "Booked: the job is handed to dispatch.")
            return redirect("crm:detail", pk=lead.pk)
    return render(request, "crm/detail.html", _detail_context(request, lead, book_form=form))


def _act_with_form(request, lead: Lead, action: str) -> str | None:
    form_class = {"lose": LoseForm, "assign": AssignForm}[action]
    form = form_class(request.POST)
    if not form.is_valid():
        errors = "; ".join(
            f"{form.fields[f].label or f}: {' '.join(e)}" if f != "__all__" else " ".join(e)
            for f, e in form.errors.items()
        )
        raise ApplicationError(errors)
    data = form.cleaned_data
    if action == "lose":
        services.lead_lose(lead=lead, actor=request.user, reason=data["reason"], note=data["note"])
        return "Lead marked lost."
    services.lead_assign(lead=lead, assignee=data["assigned_to"], actor=request.user)
    return "Assignment saved."


@role_required(*STAFF_ROLES)
@require_POST
def lead_move(request, pk: int):
    """The board's drag and drop. JSON in the answer: the new card, or why the move is refused."""
    lead = selectors.get_lead_for_user(request.user, pk)
    to_state = request.POST.get("state", "")
    kwargs = {}
    if to_state == Lead.State.LOST:
        kwargs = {"reason": request.POST.get("reason", ""), "note": request.POST.get("note", "")}
    try:
        lead = services.lead_move(lead=lead, to_state=to_state, actor=request.user, **kwargs)
    except services.Forbidden as error:
        return JsonResponse({"detail": error.message}, status=403)
    except ApplicationError as error:
        status = 409 if error.code == "illegal_transition" else 400
        return JsonResponse({"detail": error.message, "field": error.field}, status=status)
    lead = selectors.get_lead_for_user(request.user, lead.pk)
    rules = PipelineSettings.current()
    card = render_to_string(
        "crm/_card.html",
        {"lead": lead, "threshold_seconds": rules.speed_to_lead_minutes * 60, "now": timezone.now()},
        request=request,
    )
    return JsonResponse({"state": lead.state, "card": card})


@role_required(*STAFF_ROLES)
def attribution_report(request):
    today = timezone.localdate()
    form = ReportForm(request.GET or None, initial={"start": today - timedelta(days=29), "end": today})
    start, end = today - timedelta(days=29), today
    if form.is_bound and form.is_valid():
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    rows = selectors.attribution_report(start=start, end=end, tz=request.business.tzinfo)
    return render(request, "crm/report.html", {"form": form, "rows": rows, "start": start, "end": end})


@role_required(*STAFF_ROLES)
def marketing(request):
    context = {
        "sources": Source.objects.count(),
        "campaigns": Campaign.objects.filter(is_active=True).count(),
        "web_forms": Source.objects.filter(kind=Source.Kind.WEB_FORM).count(),
    }
    return render(request, "crm/marketing.html", context)


@role_required(*STAFF_ROLES)
@require_http_methods(["GET", "POST"])
def source_list(request):
    form = SourceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        source = form.save()
        messages.success(request, f"Source {source.name} added.")
        return redirect("crm:source", pk=source.pk)
    sources = Source.objects.order_by("name")
    return render(request, "crm/sources.html", {"form": form, "sources": sources})


@role_required(*STAFF_ROLES)
@require_http_methods(["GET", "POST"])
def source_detail(request, pk: int):
    source = get_object_or_404(Source, pk=pk)
    form = SourceForm(instance=source)
    new_key = None
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "save":
            form = SourceForm(request.POST, instance=source)
            if form.is_valid():
                form.save()
                messages.success(request, "Source saved.")
                return redirect("crm:source", pk=source.pk)
        elif action == "create_key":
            _, new_key = services.source_key_create(
                source=source, actor=request.user, label=request.POST.get("label", "")
            )
        elif action == "revoke_key":
            key = get_object_or_404(SourceKey, pk=request.POST.get("key"), source=source)
            services.source_key_revoke(key=key, actor=request.user)
            messages.success(request, f"Key {key.prefix}… revoked: requests with it now get 403.")
            return redirect("crm:source", pk=source.pk)
    context = {
        "source": source,
        "form": form,
        "new_key": new_key,
        "keys": source.keys.all(),
        "webhook_url": request.build_absolute_uri(f"/integrations/leads/{source.slug}/"),
        "google_url": request.build_absolute_uri(f"/integrations/leads/{source.slug}/google-ads/"),
    }
    return render(request, "crm/source_detail.html", context)


@role_required(*STAFF_ROLES)
@require_http_methods(["GET", "POST"])
def campaign_list(request):
    form = CampaignForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        campaign = form.save()
        messages.success(request, f"Campaign {campaign.name} added.")
        return redirect("crm:campaigns")
    campaigns = Campaign.objects.select_related("source")
    return render(request, "crm/campaigns.html", {"form": form, "campaigns": campaigns})


@role_required(*STAFF_ROLES)
@require_http_methods(["GET", "POST"])
def campaign_edit(request, pk: int):
    campaign = get_object_or_404(Campaign, pk=pk)
    form = CampaignForm(request.POST or None, instance=campaign)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Campaign saved.")
        return redirect("crm:campaigns")
    return render(request, "crm/campaign_form.html", {"form": form, "campaign": campaign})


@role_required(Role.OWNER)
@require_http_methods(["GET", "POST"])
def messaging_settings(request):
    """The owner's phones and texts: ring-through numbers, automatic texts, quiet hours."""
    form = MessagingSettingsForm(request.POST or None, instance=MessagingSettings.current())
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Messaging settings saved.")
        return redirect("crm:messaging-settings")
    return render(request, "crm/messaging_settings.html", {"form": form})


@role_required(*STAFF_ROLES)
@require_http_methods(["GET", "POST"])
def pipeline_settings(request):
    form = PipelineSettingsForm(request.POST or None, instance=PipelineSettings.current())
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Pipeline settings saved.")
        return redirect("crm:settings")
    return render(request, "crm/settings.html", {"form": form})
