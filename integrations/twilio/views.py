"""Twilio's four webhooks. Each checks the signature first (403, nothing stored), answers TwiML, and
turns bad input into a 400, never a 500. The work is in services; texts leave through the outbox."""

import logging
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import VoiceResponse

from common.errors import ApplicationError
from crm import phone
from messaging import calls
from messaging.models import MessagingSettings
from users.access import public
from users.models import Business

from . import services
from .signature import signature_valid

logger = logging.getLogger(__name__)

MAX_MEDIA = 10


def twilio_webhook(view: Callable) -> Callable:
    """public, csrf-exempt, POST only; the signature before anything else; bad input -> 400."""

    @wraps(view)
    def wrapper(request: HttpRequest) -> HttpResponse:
        if not signature_valid(request):
            logger.warning("Refused an unsigned or badly signed Twilio request to %s.", request.path)
            return HttpResponseForbidden("Invalid Twilio signature.")
        try:
            return view(request)
        except ApplicationError as error:
            logger.info("Refused a Twilio request to %s: %s", request.path, error.message)
            return HttpResponse(error.message, status=400, content_type="text/plain")

    return public(csrf_exempt(require_POST(wrapper)))


def _required(request: HttpRequest, name: str) -> str:
    value = request.POST.get(name, "").strip()
    if not value:
        raise ApplicationError(f"{name} is missing.", field=name)
    return value


def _twiml(response) -> HttpResponse:
    return HttpResponse(str(response), content_type="text/xml")


@twilio_webhook
def voice(request: HttpRequest) -> HttpResponse:
    phone.call_receive(
        call_sid=_required(request, "CallSid"),
        from_number=_required(request, "From"),
        to_number=request.POST.get("To", ""),
    )
    return _twiml(_ring_through_twiml())


def _ring_through_twiml() -> VoiceResponse:
    """Ring the team's phones; with none configured, take a voicemail. Both report to voice/status/."""
    rules = MessagingSettings.current()
    action = settings.PUBLIC_BASE_URL.rstrip("/") + reverse("twilio:voice_status")
    response = VoiceResponse()
    if rules.ring_through_numbers:
        dial = response.dial(timeout=rules.ring_seconds, action=action, method="POST")
        for number in rules.ring_through_numbers:
            dial.number(number)
        return response
    response.say(f"Thanks for calling {Business.current().name}. Please leave a message after the tone.")
    response.record(action=action, method="POST", max_length=120, play_beep=True)
    return response


@twilio_webhook
def voice_status(request: HttpRequest) -> HttpResponse:
    calls.call_status_update(
        call_sid=_required(request, "CallSid"),
        call_status=request.POST.get("CallStatus", "").strip().lower(),
        dial_status=request.POST.get("DialCallStatus", "").strip().lower(),
        recording_url=request.POST.get("RecordingUrl", "").strip(),
    )
    return _twiml(VoiceResponse())


@twilio_webhook
def sms(request: HttpRequest) -> HttpResponse:
    phone.sms_receive(
        from_number=_required(request, "From"),
        to_number=request.POST.get("To", ""),
        body=request.POST.get("Body", ""),
        message_sid=_required(request, "MessageSid"),
        media_urls=_media_urls(request),
    )
    return _twiml(MessagingResponse())


def _media_urls(request: HttpRequest) -> list[str]:
    try:
        count = int(request.POST.get("NumMedia") or 0)
    except ValueError:
        raise ApplicationError("NumMedia is not a number.", field="NumMedia") from None
    urls = (request.POST.get(f"MediaUrl{i}", "").strip() for i in range(max(0, min(count, MAX_MEDIA))))
    return [url for url in urls if url]


@twilio_webhook
def message_status(request: HttpRequest) -> HttpResponse:
    services.message_status_update(
        message_sid=_required(request, "MessageSid"),
        status=request.POST.get("MessageStatus", "").strip(),
        error_code=request.POST.get("ErrorCode", "").strip(),
    )
    return _twiml(MessagingResponse())
