"""The office's web form pages: the list, and a create/edit page that hands out the embed code."""

from django.contrib import messages
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import escape
from django.views.decorators.http import require_http_methods

from common.errors import ApplicationError
from users.access import role_required
from users.roles import STAFF_ROLES

from ..models import Lead, WebForm
from . import services
from .forms import WebFormSettingsForm
from .services import origin_normalize


@role_required(*STAFF_ROLES)
def webform_list(request):
    spam = Q(leads__state=Lead.State.SPAM)
    web_forms = (
        WebForm.objects.select_related("source", "campaign")
        .annotate(lead_count=Count("leads", filter=~spam), spam_count=Count("leads", filter=spam))
        .order_by("-is_active", "name")
    )
    return render(request, "crm/webforms/list.html", {"web_forms": web_forms})


@role_required(*STAFF_ROLES)
@require_http_methods(["GET", "POST"])
def webform_create(request):
    form = WebFormSettingsForm(request.POST or None, web_form=_new_form_defaults(request))
    if request.method == "POST" and form.is_valid():
        try:
            web_form = services.web_form_create(data=form.service_input(), actor=request.user)
        except ApplicationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, f"“{web_form.name}” created. Copy the code below into your website.")
            return redirect("crm:webform-edit", pk=web_form.pk)
    return render(request, "crm/webforms/form.html", {"form": form})


@role_required(*STAFF_ROLES)
@require_http_methods(["GET", "POST"])
def webform_edit(request, pk: int):
    web_form = get_object_or_404(WebForm.objects.select_related("source"), pk=pk)
    form = WebFormSettingsForm(request.POST or None, web_form=web_form)
    if request.method == "POST" and form.is_valid():
        try:
            web_form = services.web_form_update(
                web_form=web_form, data=form.service_input(), actor=request.user
            )
        except ApplicationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, "Changes saved.")
            return redirect("crm:webform-edit", pk=web_form.pk)
    context = {"form": form, "web_form": web_form, **embed_code(request, web_form)}
    return render(request, "crm/webforms/form.html", context)


def _new_form_defaults(request) -> WebForm:
    """An unsaved form with the model's defaults; its allowed site is the business's own website."""
    web_form = WebForm(name="Website request form")
    website = request.business.website
    try:
        web_form.allowed_origins = [origin_normalize(website)] if website else []
    except ApplicationError:  # a website with a path is not an origin: leave the list to the office
        web_form.allowed_origins = []
    return web_form


def embed_code(request, web_form: WebForm) -> dict:
    """What the office pastes into its website (the browser test pastes the same into its fake site)."""
    public_url = request.build_absolute_uri(reverse("webform-public", args=[web_form.public_id]))
    script_url = request.build_absolute_uri(reverse("webform-embed-js", args=[web_form.public_id]))
    height = _iframe_height(web_form)
    return {
        "public_url": public_url,
        "iframe_height": height,
        "script_snippet": (
            f'<div id="lead-form-{web_form.public_id}"></div>\n<script src="{script_url}" async></script>'
        ),
        "iframe_snippet": (
            f'<iframe src="{public_url}" title="{escape(web_form.headline)}" width="100%" height="{height}" '
            f'loading="lazy" style="border:0;max-width:640px"></iframe>'
        ),
    }


def _iframe_height(web_form: WebForm) -> int:
    """Roughly how tall the form is on a phone, so an iframe does not need its own scrollbar."""
    height = 440  # headline, name, phone, button, consent
    height += 90 if web_form.ask_email else 0
    height += 280 if web_form.ask_address else 0  # street; city; state and ZIP
    height += 90 if web_form.services.exists() else 0
    height += 150 if web_form.ask_message else 0
    return height
