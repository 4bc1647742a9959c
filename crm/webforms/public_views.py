"""The public side of a web form, no login: the iframe page, embed.js, and the endpoint both post to.

POST /forms/<id>/ takes JSON (embed.js, API clients) or a url-encoded form (the iframe page). In order:
origin allowed? (403) -> body small enough? (413) -> readable? (400) -> over the per-IP rate? (held as spam,
429) -> honeypot filled? (held as spam, answered like a success) -> valid? (400 with field errors) -> lead.
"""

import json
import logging
from urllib.parse import urlsplit

from csp.constants import SELF
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.safestring import mark_safe
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from common.errors import ApplicationError
from common.ratelimit import rate_exceeded, rate_parse
from users.access import public
from users.models import Business

from ..models import WebForm
from .forms import ATTRIBUTION_FIELDS, HONEYPOT, LeadForm, lead_form_for
from .services import web_form_submit

log = logging.getLogger(__name__)

PREFLIGHT_MAX_AGE = 60 * 60 * 24
EMBED_MAX_AGE = 60 * 5
JS_ESCAPES = {
    ord("<"): "\\u003C",
    ord(">"): "\\u003E",
    ord("&"): "\\u0026",
    0x2028: "\\u2028",
    0x2029: "\\u2029",
}


class BadBody(Exception):
    """The request body could not be read as a form submission (the view answers 400)."""


def active_form(public_id) -> WebForm:
    return get_object_or_404(WebForm.objects.select_related("source"), public_id=public_id, is_active=True)


# --- The iframe page and the endpoint -------------------------------------------------------------------


@public
@csrf_exempt
@xframe_options_exempt
@require_http_methods(["GET", "POST", "OPTIONS"])
def webform_public(request: HttpRequest, public_id) -> HttpResponse:
    web_form = active_form(public_id)
    if request.method == "OPTIONS":
        response = _preflight(request, web_form)
    elif request.method == "POST":
        response = _submit(request, web_form)
    else:
        initial = {name: request.GET.get(name, "") for name in ATTRIBUTION_FIELDS}
        initial["landing_page"] = initial["landing_page"] or request.headers.get("Referer", "")
        response = _page(request, web_form, lead_form_for(web_form), attribution=initial)
    return _with_cors(request, web_form, response)


def _page(request, web_form, form: LeadForm, *, attribution: dict, sent=False, detail="", status=200):
    """The standalone form (what the iframe shows), framable by the form's allowed sites only."""
    context = {
        "web_form": web_form,
        "form": form,
        "sent": sent,
        "detail": detail,
        "attribution": [(k, str(v)) for k, v in attribution.items() if k in ATTRIBUTION_FIELDS and v],
    }
    response = render(request, "crm/webforms/public.html", context, status=status)
    # What @csp_replace does, with this form's own sites: only they (and our own pages) may frame it.
    response._csp_replace = {"frame-ancestors": [SELF, *web_form.allowed_origins]}
    return response


def origin_allowed(request, web_form) -> bool:
    """No Origin (a server, curl) or our own host (the iframe page) is fine; other sites must be listed.

    Our own host is compared without the scheme: behind a TLS proxy Django may see http while the browser
    sends https.
    """
    origin = request.headers.get("Origin")
    if not origin or origin in web_form.allowed_origins:
        return True
    return urlsplit(origin).netloc == request.get_host()


def _with_cors(request, web_form, response: HttpResponse) -> HttpResponse:
    origin = request.headers.get("Origin")
    if origin and origin in web_form.allowed_origins:
        response["Access-Control-Allow-Origin"] = origin
    patch_vary_headers(response, ["Origin"])
    return response


def _preflight(request, web_form) -> HttpResponse:
    if not origin_allowed(request, web_form):
        return _forbidden_origin()
    response = HttpResponse(status=204)
    response["Access-Control-Allow-Methods"] = "POST"
    response["Access-Control-Allow-Headers"] = "Content-Type"
    response["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE)
    return response


def _forbidden_origin() -> JsonResponse:
    return JsonResponse({"detail": "origin not allowed"}, status=403)


def _submit(request, web_form) -> HttpResponse:
    if not origin_allowed(request, web_form):
        return _forbidden_origin()
    if too_large(request):
        return JsonResponse({"detail": "The request is too large."}, status=413)
    try:
        data = parse_submission(request)
    except BadBody as error:
        return JsonResponse(
            {"detail": "The request could not be read.", "errors": {"body": [str(error)]}}, status=400
        )
    form = lead_form_for(web_form, data)
    if rate_exceeded(
        key=f"webform:{web_form.public_id}:{client_ip(request)}", rate=settings.WEB_FORM_RATE_LIMIT
    ):
        _hold_as_spam(web_form, form, data, reason="rate_limited")
        return _too_many(request, web_form, form, data)
    if data.get(HONEYPOT):
        _hold_as_spam(web_form, form, data, reason="honeypot")
        return _thanks(request, web_form, form, data)
    if form.is_valid():
        contact = form.contact()
        try:
            web_form_submit(
                web_form=web_form,
                contact=contact,
                attribution=_attribution(data),
                raw_payload=data,
                visitor_ip=client_ip(request),
            )
        except ApplicationError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            return _thanks(request, web_form, form, data, warnings=contact.warnings)
    return _invalid(request, web_form, form, data)


def too_large(request) -> bool:
    # The declared length is what is read: WSGI never hands Django more than CONTENT_LENGTH bytes.
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0) > settings.LEADS_MAX_BODY_BYTES
    except ValueError:
        return True


def parse_submission(request) -> dict:
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"null")
        except (ValueError, UnicodeDecodeError):
            raise BadBody("The body is not valid JSON.") from None
        if not isinstance(data, dict):
            raise BadBody('Send one JSON object, e.g. {"name": ..., "phone": ...}.')
        return data
    return {key: values[0] if len(values) == 1 else values for key, values in request.POST.lists()}


def client_ip(request) -> str:
    # REMOTE_ADDR only: behind a proxy, the proxy must set it to the visitor's address (docs/channels).
    return request.META.get("REMOTE_ADDR", "")


def _attribution(data: dict) -> dict:
    return {key: data.get(key) for key in ATTRIBUTION_FIELDS if isinstance(data.get(key), str | int | float)}


def _hold_as_spam(web_form, form: LeadForm, data: dict, *, reason: str) -> None:
    """Keep it out of the board but on record; a bot's junk without a usable contact is dropped."""
    try:
        web_form_submit(
            web_form=web_form,
            contact=form.contact(),
            attribution=_attribution(data),
            raw_payload={**data, "_spam": reason},
            spam=True,
        )
    except ApplicationError as error:
        log.info("Web form %s: %s submission dropped (%s)", web_form.public_id, reason, error.message)


# --- The replies: JSON for scripts, the page again for the iframe --------------------------------------


def _wants_json(request) -> bool:
    return request.content_type == "application/json" or "application/json" in request.headers.get(
        "Accept", ""
    )


def _thanks(request, web_form, form, data, warnings=()) -> HttpResponse:
    """201, with `warnings` naming what was ignored (unknown fields, an address that could not be read)."""
    if _wants_json(request):
        body = {"ok": True, "message": web_form.thank_you_text, "warnings": list(warnings)}
        return JsonResponse(body, status=201)
    return _page(request, web_form, form, attribution=data, sent=True)


def _invalid(request, web_form, form, data) -> HttpResponse:
    if _wants_json(request):
        errors = {("non_field_errors" if k == "__all__" else k): list(v) for k, v in form.errors.items()}
        return JsonResponse({"detail": "Please check the highlighted fields.", "errors": errors}, status=400)
    return _page(request, web_form, form, attribution=data, status=400)


def _too_many(request, web_form, form, data) -> HttpResponse:
    phone = Business.current().phone
    detail = "Too many requests from your network. Please wait a minute and try again" + (
        f", or call us at {phone.as_national}." if phone else "."
    )
    if _wants_json(request):
        response = JsonResponse({"detail": detail}, status=429)
    else:
        response = _page(request, web_form, form, attribution=data, detail=detail, status=429)
    response["Retry-After"] = str(rate_parse(settings.WEB_FORM_RATE_LIMIT)[1])
    return response


# --- embed.js ------------------------------------------------------------------------------------------


@public
@require_GET
def webform_embed_js(request: HttpRequest, public_id) -> HttpResponse:
    """The script a customer's site loads: it builds the form in the page and posts JSON to us."""
    web_form = active_form(public_id)
    response = render(
        request,
        "crm/webforms/embed.js",
        {"config": mark_safe(js_literal(_embed_config(request, web_form)))},  # noqa: S308
        content_type="application/javascript; charset=utf-8",
    )
    patch_cache_control(response, public=True, max_age=EMBED_MAX_AGE)
    return response


def _embed_config(request, web_form: WebForm) -> dict:
    phone = Business.current().phone
    return {
        "id": str(web_form.public_id),
        "action": request.build_absolute_uri(reverse("webform-public", args=[web_form.public_id])),
        "stylesheet": request.build_absolute_uri(static("css/webform.css")),
        "headline": web_form.headline,
        "submitLabel": web_form.submit_label,
        "consentText": web_form.consent_text,
        "thankYou": web_form.thank_you_text,
        "phone": phone.as_national if phone else "",
        "honeypot": HONEYPOT,
        "fields": lead_form_for(web_form).fields_for_script(),
    }


def js_literal(value) -> str:
    """JSON that is also safe inside any JavaScript source (no `</script>`, no raw line separators)."""
    return json.dumps(value, ensure_ascii=False).translate(JS_ESCAPES)
