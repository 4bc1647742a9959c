"""The public side of the web chat, no login: chat.js, starting a chat, and its messages.

Same rules as the web form (crm.webforms.public_views), on the same WebForm row: CORS for the form's
allowed origins only, 413 over LEADS_MAX_BODY_BYTES, per-IP rate limit, honeypot. In order for a POST:
form active? (404) -> origin allowed? (403) -> body small enough? (413) -> readable? (400) -> token
valid? (403) -> over the rate? (429) -> honeypot? (answered like a success, nothing stored) -> valid? (400
naming the field) -> stored.
"""

import logging
import secrets

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from common.errors import ApplicationError
from common.ratelimit import rate_exceeded, rate_parse
from users.access import public
from users.models import Business

from ..webforms.forms import HONEYPOT
from ..webforms.public_views import (
    EMBED_MAX_AGE,
    PREFLIGHT_MAX_AGE,
    BadBody,
    active_form,
    client_ip,
    js_literal,
    origin_allowed,
    parse_submission,
    too_large,
)
from . import services

log = logging.getLogger(__name__)

MESSAGE_RATE_LIMIT = "30/m"  # a visitor's messages in one chat, per IP


def _cors(request, web_form, response: HttpResponse) -> HttpResponse:
    origin = request.headers.get("Origin")
    if origin and origin in web_form.allowed_origins:
        response["Access-Control-Allow-Origin"] = origin
    patch_vary_headers(response, ["Origin"])
    return response


def _error(status: int, detail: str, field: str | None = None) -> JsonResponse:
    body = {"detail": detail}
    if field:
        body["errors"] = {field: [detail]}
    return JsonResponse(body, status=status)


def _preflight(request, web_form) -> HttpResponse:
    if not origin_allowed(request, web_form):
        return _error(403, "origin not allowed")
    response = HttpResponse(status=204)
    response["Access-Control-Allow-Methods"] = "GET, POST"
    response["Access-Control-Allow-Headers"] = "Content-Type"
    response["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE)
    return response


def _read(request, web_form) -> dict | JsonResponse:
    """The JSON body of a POST, or the error answer (origin, size, unreadable)."""
    if not origin_allowed(request, web_form):
        return _error(403, "origin not allowed")
    if too_large(request):
        return _error(413, "The request is too large.")
    try:
        return parse_submission(request)
    except BadBody as error:
        return _error(400, str(error), "body")


def _too_many() -> JsonResponse:
    phone = Business.current().phone
    detail = "Too many messages from your network. Please wait a minute and try again" + (
        f", or call us at {phone.as_national}." if phone else "."
    )
    response = _error(429, detail)
    response["Retry-After"] = str(rate_parse(settings.WEB_FORM_RATE_LIMIT)[1])
    return response


def _str(data: dict, name: str) -> str:
    value = data.get(name, "")
    return value if isinstance(value, str) else ""


# --- Start a chat ---------------------------------------------------------------------------------------


@public
@csrf_exempt
@never_cache
@require_http_methods(["POST", "OPTIONS"])
def chat_start_view(request: HttpRequest, public_id) -> HttpResponse:
    web_form = active_form(public_id)
    if request.method == "OPTIONS":
        return _cors(request, web_form, _preflight(request, web_form))
    return _cors(request, web_form, _start(request, web_form))


def _start(request, web_form) -> HttpResponse:
    data = _read(request, web_form)
    if isinstance(data, HttpResponse):
        return data
    ip = client_ip(request)
    if rate_exceeded(key=f"webchat:{web_form.public_id}:{ip}", rate=settings.WEB_FORM_RATE_LIMIT):
        return _too_many()
    if data.get(HONEYPOT):
        log.info("Web chat %s: honeypot filled, dropped", web_form.public_id)
        return JsonResponse({"ok": True, "token": secrets.token_urlsafe(24)}, status=201)
    try:
        started = services.chat_start(
            web_form=web_form,
            name=_str(data, "name"),
            phone=_str(data, "phone"),
            message=_str(data, "message"),
            landing_page=_str(data, "landing_page"),
            visitor_ip=ip,
        )
    except ApplicationError as error:
        return _error(400, error.message, error.field or "non_field_errors")
    services.chat_seen(conversation=started.conversation)
    return JsonResponse({"ok": True, "token": started.token}, status=201)


# --- A chat's messages ----------------------------------------------------------------------------------


@public
@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST", "OPTIONS"])
def chat_messages_view(request: HttpRequest, public_id, token: str) -> HttpResponse:
    web_form = active_form(public_id)
    if request.method == "OPTIONS":
        return _cors(request, web_form, _preflight(request, web_form))
    if request.method == "POST":
        return _cors(request, web_form, _post(request, web_form, token))
    return _cors(request, web_form, _poll(request, web_form, token))


def _conversation(web_form, token):
    try:
        return services.chat_token_read(token=token, web_form=web_form)
    except services.BadToken as error:
        return _error(403, error.message, "token")


def _poll(request, web_form, token) -> HttpResponse:
    if not origin_allowed(request, web_form):
        return _error(403, "origin not allowed")
    conversation = _conversation(web_form, token)
    if isinstance(conversation, HttpResponse):
        return conversation
    try:
        after = max(int(request.GET.get("after") or 0), 0)
    except ValueError:
        return _error(400, "after must be a message id.", "after")
    services.chat_seen(conversation=conversation)
    return JsonResponse({"messages": services.chat_messages(conversation=conversation, after=after)})


def _post(request, web_form, token) -> HttpResponse:
    data = _read(request, web_form)
    if isinstance(data, HttpResponse):
        return data
    conversation = _conversation(web_form, token)
    if isinstance(conversation, HttpResponse):
        return conversation
    key = f"webchat-msg:{conversation.pk}:{client_ip(request)}"
    if rate_exceeded(key=key, rate=MESSAGE_RATE_LIMIT):
        return _too_many()
    if data.get(HONEYPOT):
        return JsonResponse({"ok": True}, status=201)
    try:
        message = services.chat_post(conversation=conversation, body=data.get("message"))
    except ApplicationError as error:
        return _error(400, error.message, error.field or "message")
    services.chat_seen(conversation=conversation)
    line = {
        "id": message.pk,
        "body": message.body,
        "direction": message.direction,
        "time": message.created_at.isoformat(),
    }
    return JsonResponse({"ok": True, "message": line}, status=201)


# --- chat.js --------------------------------------------------------------------------------------------


@public
@require_GET
def chat_js(request: HttpRequest, public_id) -> HttpResponse:
    """The script a customer's site loads: a "Chat with us" button and the chat panel, built in the page."""
    web_form = active_form(public_id)
    response = render(
        request,
        "crm/webchat/chat.js",
        {"config": mark_safe(js_literal(_config(request, web_form)))},  # noqa: S308
        content_type="application/javascript; charset=utf-8",
    )
    patch_cache_control(response, public=True, max_age=EMBED_MAX_AGE)
    return response


def _config(request, web_form) -> dict:
    business = Business.current()
    start = reverse("webchat-start", args=[web_form.public_id])
    messages = reverse("webchat-messages", args=[web_form.public_id, "TOKEN"])
    return {
        "id": str(web_form.public_id),
        "start": request.build_absolute_uri(start),
        "messages": request.build_absolute_uri(messages),
        "stylesheet": request.build_absolute_uri(static("css/webchat.css")),
        "business": business.name,
        "consentText": web_form.consent_text,
        "phone": business.phone.as_national if business.phone else "",
        "honeypot": HONEYPOT,
        "pollMs": 3000,
    }
