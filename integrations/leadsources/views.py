"""Lead webhooks. Each authenticates the sender itself (key, google_key or signature), so all are public."""

from functools import partial

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from crm.services import Forbidden
from users.access import public

from . import facebook, generic, google_ads, tasks
from .http import (
    accepted_response,
    bearer_token,
    captured_response,
    json_errors,
    parse_json_object,
    read_body,
    read_json_object,
)


@public
@csrf_exempt
@require_POST
@json_errors
def generic_webhook(request: HttpRequest, slug: str) -> HttpResponse:
    source = generic.generic_source_authenticate(slug=slug, raw_key=bearer_token(request))
    accepted = generic.generic_accept(
        source=source,
        payload=read_json_object(request),
        idempotency_key=request.headers.get("Idempotency-Key", "").strip(),
    )
    return accepted_response(accepted)


@public
@csrf_exempt
@require_POST
@json_errors
def google_ads_webhook(request: HttpRequest, slug: str) -> HttpResponse:
    payload = read_json_object(request)
    source = google_ads.google_ads_source_authenticate(slug=slug, payload=payload)
    captured = google_ads.google_ads_capture(source=source, payload=payload)
    return captured_response(captured, created_status=200)  # Google counts a 200 as delivered


@public
@csrf_exempt
@require_http_methods(["GET", "POST"])
@json_errors
def facebook_webhook(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _facebook_verify(request)
    body = read_body(request)
    if not facebook.signature_valid(body=body, header=request.headers.get("X-Hub-Signature-256", "")):
        raise Forbidden("Invalid signature.", code="invalid_signature")
    notifications = facebook.leadgen_notifications(parse_json_object(body))
    for notification in notifications:
        leadgen_id = notification.pop("leadgen_id")
        transaction.on_commit(partial(tasks.facebook_lead_fetch.delay, leadgen_id, notification))
    return JsonResponse({"queued": len(notifications)})


def _facebook_verify(request: HttpRequest) -> HttpResponse:
    mode, token = request.GET.get("hub.mode", ""), request.GET.get("hub.verify_token", "")
    if not facebook.subscription_verified(mode=mode, token=token):
        raise Forbidden("Verification failed.", code="verification_failed")
    return HttpResponse(request.GET.get("hub.challenge", ""), content_type="text/plain")
